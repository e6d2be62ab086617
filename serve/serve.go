// Package serve is the main of a funcredis custom handler: it reads the settings, builds the
// process-wide Entra-authenticated Redis pool, warms it, has the app register its functions, and
// serves them to the Azure Functions host on 127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT until
// SIGTERM or SIGINT. An app's cmd/handler is one line:
//
//	func main() { serve.Main(register) }
//
// where register gives every function folder its handler (see Main).
//
// Settings it reads besides the pool's (pool.LoadConfig): WARMUP_TIMEOUT (default
// handler.DefaultWarmupTimeout), LOG_LEVEL (debug, info, warn, error; default info), LOG_FORMAT
// (json or text; default json), FUNCTIONS_CUSTOMHANDLER_PORT (else FUNCTIONS_HTTPWORKER_PORT,
// else 8080) and FUNCTIONS_APP_ROOT_PATH (the script root; default the working directory).
//
// A start-up error ends the process with exit code 1 and a message on stderr naming the setting
// or the function folder: the host restarts a process that fails, never one that exits 0.
//
// Part of funcredis's stable public API (README, "Public API"): apps made by funcredis new
// compile against it.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/funcredis/funcredis/handler"
	"github.com/funcredis/funcredis/pool"
	"github.com/kelseyhightower/envconfig"
)

// config is the process's own settings.
type config struct {
	// WarmupTimeout bounds building and warming the pool, and GET /'s wait for it (WARMUP_TIMEOUT);
	// default handler.DefaultWarmupTimeout.
	WarmupTimeout time.Duration `envconfig:"WARMUP_TIMEOUT"`
	LogLevel      string        `envconfig:"LOG_LEVEL" default:"info"`
	LogFormat     string        `envconfig:"LOG_FORMAT" default:"json"`
}

// Main runs the custom handler until SIGTERM or SIGINT, then returns; on an error it ends the
// process with exit code 1. register is called once at start, after the pool is built and before
// it warms: it gives every function folder under the script root its
// handler (app.HandleHTTP, app.HandleInvocation), handing each function p.Client(), and may read
// the functions' own settings; an error it returns (name the setting) stops the process. Main
// then checks that folders and handlers match (handler.App.Check) before serving.
func Main(register func(app *handler.App, p *pool.Pool) error) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := run(ctx, register)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "handler: fatal:", err)
		os.Exit(1)
	}
}

// Check builds the function registry of the script root at root as Main does, with a pool that
// is never dialed, and returns handler.App.Check's error: every function folder without a
// handler, every handler without a folder. Call it in a test of the app's register, so a
// mismatch fails there rather than at start-up.
func Check(root string, register func(app *handler.App, p *pool.Pool) error) error {
	app, err := handler.New(handler.Options{Root: root})
	if err != nil {
		return fmt.Errorf("function folders under %s: %w", root, err)
	}
	p, err := pool.New(context.Background(), pool.Config{Addr: "127.0.0.1:1", Auth: pool.AuthNone, Cluster: pool.ClusterNone}, pool.Options{})
	if err != nil {
		return fmt.Errorf("serve: an undialed pool: %w", err)
	}
	defer p.Close()
	if err := register(app, p); err != nil {
		return fmt.Errorf("register the functions: %w", err)
	}
	return app.Check()
}

// run starts everything and serves until ctx ends; any error it returns is fatal.
func run(ctx context.Context, register func(*handler.App, *pool.Pool) error) error {
	var cfg config
	if err := envconfig.Process("", &cfg); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	if cfg.WarmupTimeout == 0 {
		cfg.WarmupTimeout = handler.DefaultWarmupTimeout
	}
	logger, err := newLogger(cfg)
	if err != nil {
		return err
	}
	slog.SetDefault(logger)
	pcfg, err := pool.LoadConfig()
	if err != nil {
		return err
	}
	root, err := appRoot()
	if err != nil {
		return err
	}

	newCtx, cancel := context.WithTimeout(ctx, cfg.WarmupTimeout)
	p, err := pool.New(newCtx, pcfg, pool.Options{Logger: logger})
	cancel()
	if err != nil {
		return fmt.Errorf("redis pool: %w", err)
	}
	defer p.Close()

	// Functions are registered, and read their settings, before warm-up starts: a bad setting
	// stops the process before it asks for a token.
	ready := make(chan struct{})
	app, err := handler.New(handler.Options{Root: root, Logger: logger, Ready: ready, WarmupTimeout: cfg.WarmupTimeout})
	if err != nil {
		return fmt.Errorf("function folders under %s: %w", root, err)
	}
	if err := register(app, p); err != nil {
		return fmt.Errorf("register the functions: %w", err)
	}
	if err := app.Check(); err != nil {
		return fmt.Errorf("function folders and handlers disagree: %w", err)
	}
	addr, err := listenAddr()
	if err != nil {
		return err
	}

	go func() {
		defer close(ready)
		wctx, cancel := context.WithTimeout(ctx, cfg.WarmupTimeout)
		defer cancel()
		if err := p.Warm(wctx); err != nil {
			logger.Warn("warm-up incomplete; serving anyway, health reports degraded", "class", pool.ClassOf(err).String(), "error", err)
			return
		}
		logger.Info("pool warm", "state", p.Health().State)
	}()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("FUNCTIONS_CUSTOMHANDLER_PORT: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: app, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("serving", "addr", ln.Addr().String(), "root", root)
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// newLogger builds the slog logger LOG_LEVEL and LOG_FORMAT ask for, writing to stdout.
func newLogger(cfg config) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("LOG_LEVEL %q: want debug, info, warn or error", cfg.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(cfg.LogFormat) {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stdout, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(os.Stdout, opts)), nil
	}
	return nil, fmt.Errorf("LOG_FORMAT %q: want json or text", cfg.LogFormat)
}

// listenAddr is 127.0.0.1 and FUNCTIONS_CUSTOMHANDLER_PORT, else FUNCTIONS_HTTPWORKER_PORT,
// else 8080 for local runs.
func listenAddr() (string, error) {
	for _, name := range []string{"FUNCTIONS_CUSTOMHANDLER_PORT", "FUNCTIONS_HTTPWORKER_PORT"} {
		if v := os.Getenv(name); v != "" {
			var port int
			if _, err := fmt.Sscanf(v, "%d", &port); err != nil || port < 1 || port > 65535 || fmt.Sprint(port) != v {
				return "", fmt.Errorf("%s %q: want a port number", name, v)
			}
			return net.JoinHostPort("127.0.0.1", v), nil
		}
	}
	return "127.0.0.1:8080", nil
}

// appRoot is FUNCTIONS_APP_ROOT_PATH, else the working directory.
func appRoot() (string, error) {
	if v := os.Getenv("FUNCTIONS_APP_ROOT_PATH"); v != "" {
		return v, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("FUNCTIONS_APP_ROOT_PATH unset and no working directory: %w", err)
	}
	return wd, nil
}
