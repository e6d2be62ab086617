package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/funcredis/funcredis/emulator/host"
	"github.com/funcredis/funcredis/emulator/localstack"
	"github.com/funcredis/funcredis/emulator/redisserver"
)

// stack is everything localstack runs. Fields are nil for parts not started.
type stack struct {
	emulators *localstack.Stack
	admin     *http.Server
	host      atomic.Pointer[host.Host] // set once the host is created; read by the admin API
	// exports are the settings a client needs ("NAME=value"), in print order.
	exports []string
	// notes are plain-language remarks printed as comments before the exports.
	notes []string

	closeOnce sync.Once
	closeErr  error
}

// startEmulators starts the Redis backend, the token service, the gateway
// and the admin endpoint. On error everything already started is stopped.
func startEmulators(ctx context.Context, o options, log *slog.Logger) (_ *stack, err error) {
	s := &stack{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	cfg := localstack.Config{Embedded: true, TokenLifetime: o.tokenLifetime, TLS: o.tls}
	if o.redisAddr != "" {
		pw := o.redisPassword
		if pw == "" {
			pw = os.Getenv("REDIS_BACKEND_PASSWORD")
		}
		if err := redisserver.Ping(o.redisAddr, pw); err != nil {
			return nil, fmt.Errorf("existing Redis at %s (-redis-addr): %w", o.redisAddr, err)
		}
		cfg.Backend = &redisserver.Server{Addr: o.redisAddr, Password: pw}
		if pw == "" {
			s.notes = append(s.notes, "the Redis at "+o.redisAddr+" has no password: clients that dial it directly skip Entra; only the gateway enforces it")
		}
	}
	if s.emulators, err = localstack.Start(ctx, cfg); err != nil {
		return nil, err
	}
	e := s.emulators
	log.Info("redis backend", "addr", e.Backend.Addr, "embedded", e.Backend.Embedded)
	log.Info("entra token service", "endpoint", e.Tokens.Endpoint(), "token_lifetime", o.tokenLifetime.String())
	if e.Gateway == nil {
		s.notes = append(s.notes,
			"redis-server is not installed: using the embedded miniredis WITHOUT the Entra gateway (REDIS_AUTH=none, no TLS)",
			"install redis-server (apt-get install redis-server) to run the Entra token and TLS path")
	} else {
		log.Info("azure managed redis gateway", "addr", e.Gateway.Addr(), "tls", o.tls)
	}

	adminURL, err := s.startAdmin()
	if err != nil {
		return nil, err
	}
	s.exports = append(e.Env(), "EMULATOR_ADMIN="+adminURL)
	return s, nil
}

// startAdmin serves the emulators' admin APIs under one loopback address.
func (s *stack) startAdmin() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("admin endpoint: %w", err)
	}
	s.admin = &http.Server{Handler: s.adminHandler()}
	go func() { _ = s.admin.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// startHost runs the handler under the Functions host emulator with the
// sample settings overlaid by env ("NAME=value"), and returns once the
// handler is ready.
func (s *stack) startHost(ctx context.Context, o options, env []string, log *slog.Logger) error {
	exe := filepath.Join(o.root, "bin", "handler")
	if _, err := os.Stat(exe); err != nil {
		return fmt.Errorf("%s is missing: build it with `make build` (make run does): %w", exe, err)
	}
	settings, err := sampleSettings(o.root)
	if err != nil {
		return err
	}
	root, err := filepath.Abs(o.root)
	if err != nil {
		return fmt.Errorf("script root: %w", err)
	}
	h, err := host.New(host.Config{Root: root, Addr: o.addr, Env: append(settings, env...), Logger: log})
	if err != nil {
		return fmt.Errorf("functions host: %w", err)
	}
	s.host.Store(h)
	if err := h.Start(ctx); err != nil {
		return fmt.Errorf("functions host: %w", err)
	}
	return nil
}

// Close stops everything in the reverse order of starting; the host's Close
// kills the handler process. It is idempotent.
func (s *stack) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *stack) close() error {
	var errs []error
	if h := s.host.Load(); h != nil {
		errs = append(errs, h.Close())
	}
	if s.admin != nil {
		errs = append(errs, s.admin.Close())
	}
	if s.emulators != nil {
		errs = append(errs, s.emulators.Close())
	}
	return errors.Join(errs...)
}
