// Command localstack runs the whole funcredis flow on one machine: a Redis
// backend (a private redis-server, or the embedded miniredis when none is
// installed), the Entra token service, the Azure Managed Redis gateway (TLS
// on by default) and, unless -handler=false, the Functions host emulator
// running bin/handler on http://127.0.0.1:7071 with the settings of
// local.settings.sample.json. `make run` starts it.
//
// It serves any script root (-root, default the working directory): this
// repository, or an app made by `funcredis new`, which declares this command
// as a tool of its module (go tool localstack) instead of copying it.
//
// It prints the settings a client needs as `export NAME=value` lines, then a
// line `ready`, then curl lines for the root's functions, and stops everything
// on Ctrl-C or SIGTERM. Logs go to stderr.
//
// With -redis-addr the gateway fronts an existing Redis instead. The gateway
// manages ACL users through the server's default user, so give that user's
// password with -redis-password (or REDIS_BACKEND_PASSWORD); a password-less
// server works too, but then a client that dials it directly bypasses Entra.
//
// With -azure no emulator starts: the host emulator runs bin/handler against
// the real Azure Managed Redis named by $REDIS_HOST, authenticating with the
// Azure CLI login (REDIS_CREDENTIAL=azurecli), as before a deployment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "localstack:", err)
		}
		stop()
		os.Exit(2)
	}
}

// run starts the stack that args describe, prints the exports, `ready` and
// the curl lines to stdout, and stops everything when ctx ends.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parseOptions(args, os.Stderr)
	if err != nil {
		return err
	}
	log := newLogger(os.Stderr)
	if o.azure {
		return runAzure(ctx, o, stdout, log)
	}
	s, err := startEmulators(ctx, o, log)
	if err != nil {
		return err
	}
	defer s.Close()
	if o.handler {
		env := s.exports
		if o.tokenLifetime < time.Hour {
			// Short tokens are asked for to watch refreshes: the pool logs each one at debug.
			env = append(env[:len(env):len(env)], "LOG_LEVEL=debug")
			s.notes = append(s.notes, "tokens live "+o.tokenLifetime.String()+": the handler logs every refresh (LOG_LEVEL=debug); "+
				"/api/health shows token_expires_on, reauthentications and connection_drops")
		}
		if err := s.startHost(ctx, o, env, log); err != nil {
			return err
		}
	}
	printNotes(stdout, s.notes)
	printExports(stdout, s.exports)
	fmt.Fprintln(stdout, "ready")
	if o.handler {
		if err := printCurls(stdout, o, s.host.Load().URL()); err != nil {
			return err
		}
	}
	<-ctx.Done()
	log.Info("stopping")
	return s.Close()
}

// runAzure runs the handler under the host emulator against a real Azure
// Managed Redis with the developer's Azure CLI login.
func runAzure(ctx context.Context, o options, stdout io.Writer, log *slog.Logger) error {
	redisHost := os.Getenv("REDIS_HOST")
	if redisHost == "" {
		return errors.New("-azure needs REDIS_HOST=<name>.<region>.redis.azure.net:10000 and an `az login`")
	}
	s := &stack{}
	defer s.Close()
	env := []string{
		"REDIS_HOST=" + redisHost,
		"REDIS_TLS=true",
		"REDIS_AUTH=entra",
		"REDIS_CREDENTIAL=azurecli",
	}
	if err := s.startHost(ctx, o, env, log); err != nil {
		return err
	}
	printExports(stdout, env)
	fmt.Fprintln(stdout, "ready")
	if err := printCurls(stdout, o, s.host.Load().URL()); err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("stopping")
	return s.Close()
}
