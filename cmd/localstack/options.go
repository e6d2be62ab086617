package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// options are the command-line flags.
type options struct {
	tokenLifetime time.Duration
	tls           bool
	redisAddr     string
	redisPassword string
	handler       bool
	azure         bool
	root          string
	addr          string
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("localstack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.tokenLifetime, "token-lifetime", time.Hour, "lifetime of the tokens the Entra token service issues (e.g. 90s to watch refreshes live)")
	fs.BoolVar(&o.tls, "tls", true, "serve the Redis gateway over TLS (the path Azure Managed Redis uses)")
	fs.StringVar(&o.redisAddr, "redis-addr", "", "use this existing Redis (host:port) behind the gateway instead of starting a redis-server")
	fs.StringVar(&o.redisPassword, "redis-password", "", "default user's password (requirepass) of the -redis-addr server; the gateway uses it to create ACL users (env REDIS_BACKEND_PASSWORD)")
	fs.BoolVar(&o.handler, "handler", true, "also run bin/handler under the Functions host emulator; false: emulators only")
	fs.BoolVar(&o.azure, "azure", false, "skip the emulators: run the host emulator against the real Azure Managed Redis in $REDIS_HOST with your Azure CLI login")
	fs.StringVar(&o.root, "root", ".", "script root: host.json, the function folders and bin/handler")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:7071", "listen address of the Functions host emulator")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.tokenLifetime < time.Second {
		return o, errors.New("-token-lifetime must be at least 1s")
	}
	if o.azure && !o.handler {
		return o, errors.New("-azure runs the handler against Azure: it cannot be combined with -handler=false")
	}
	return o, nil
}
