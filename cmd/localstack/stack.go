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
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/funcredis/funcredis/emulator/gateway"
	"github.com/funcredis/funcredis/emulator/host"
	"github.com/funcredis/funcredis/emulator/redisserver"
	"github.com/funcredis/funcredis/emulator/tokenservice"
)

// The local app's user-assigned managed identity: what AZURE_CLIENT_ID selects
// and what the gateway's access policy is assigned to.
const (
	localClientID = "10ca1000-0000-4000-8000-00000000c11e"
	localObjectID = "10ca1000-0000-4000-8000-0000000000b1"
)

// stack is everything localstack runs. Fields are nil for parts not started.
type stack struct {
	backend *redisserver.Server
	tokens  *tokenservice.Service
	gateway *gateway.Gateway
	admin   *http.Server
	host    atomic.Pointer[host.Host] // set once the host is created; read by the admin API
	// exports are the settings a client needs, in print order.
	exports []setting
	// notes are plain-language remarks printed as comments before the exports.
	notes []string

	closeOnce sync.Once
	closeErr  error
}

// setting is one environment variable a client needs.
type setting struct{ name, value string }

// startEmulators starts the Redis backend, the token service, the gateway
// and the admin endpoint. On error everything already started is stopped.
func startEmulators(ctx context.Context, o options, log *slog.Logger) (_ *stack, err error) {
	s := &stack{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if o.redisAddr != "" {
		pw := o.redisPassword
		if pw == "" {
			pw = os.Getenv("REDIS_BACKEND_PASSWORD")
		}
		if err := redisserver.Ping(o.redisAddr, pw); err != nil {
			return nil, fmt.Errorf("existing Redis at %s (-redis-addr): %w", o.redisAddr, err)
		}
		s.backend = &redisserver.Server{Addr: o.redisAddr, Password: pw}
		if pw == "" {
			s.notes = append(s.notes, "the Redis at "+o.redisAddr+" has no password: clients that dial it directly skip Entra; only the gateway enforces it")
		}
	} else {
		if s.backend, err = startBackend(ctx); err != nil {
			return nil, err
		}
	}
	log.Info("redis backend", "addr", s.backend.Addr, "embedded", s.backend.Embedded)

	s.tokens, err = tokenservice.New(tokenservice.Config{
		Lifetime:   o.tokenLifetime,
		Identities: []tokenservice.Identity{{ClientID: localClientID, ObjectID: localObjectID}},
	})
	if err != nil {
		return nil, fmt.Errorf("token service: %w", err)
	}
	if err := s.tokens.Start("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("token service: %w", err)
	}
	log.Info("entra token service", "endpoint", s.tokens.Endpoint(), "token_lifetime", o.tokenLifetime.String())

	redisHost, tls, auth := s.backend.Addr, false, "none"
	if s.backend.Embedded {
		s.notes = append(s.notes,
			"redis-server is not installed: using the embedded miniredis WITHOUT the Entra gateway (REDIS_AUTH=none, no TLS)",
			"install redis-server (apt-get install redis-server) to run the Entra token and TLS path")
	} else {
		s.gateway, err = gateway.New(gateway.Config{
			Backend:         s.backend.Addr,
			BackendPassword: s.backend.Password,
			Issuer:          s.tokens.Issuer(),
			Keys:            s.tokens.PublicKeys(),
			TLS:             o.tls,
		})
		if err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
		if err := s.gateway.Start("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
		if err := s.gateway.AssignPolicy(localObjectID, "default"); err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
		redisHost, tls, auth = s.gateway.Addr(), o.tls, "entra"
		log.Info("azure managed redis gateway", "addr", redisHost, "tls", tls)
	}

	adminURL, err := s.startAdmin()
	if err != nil {
		return nil, err
	}
	caFile := ""
	if s.gateway != nil {
		caFile = s.gateway.CAFile()
	}
	s.exports = []setting{
		{"REDIS_HOST", redisHost},
		{"REDIS_TLS", strconv.FormatBool(tls)},
		{"REDIS_TLS_CA_FILE", caFile},
		{"REDIS_AUTH", auth},
		{"REDIS_CREDENTIAL", "managedidentity"},
		{"REDIS_CLUSTER", "none"},
		{"IDENTITY_ENDPOINT", s.tokens.Endpoint()},
		{"IDENTITY_HEADER", s.tokens.Secret()},
		{"AZURE_CLIENT_ID", localClientID},
		{"EMULATOR_ADMIN", adminURL},
	}
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
// sample settings overlaid by env, and returns once the handler is ready.
func (s *stack) startHost(ctx context.Context, o options, env []setting, log *slog.Logger) error {
	exe := filepath.Join(o.root, "bin", "handler")
	if _, err := os.Stat(exe); err != nil {
		return fmt.Errorf("%s is missing: build it with `make build` (make run does): %w", exe, err)
	}
	settings, err := sampleSettings(o.root)
	if err != nil {
		return err
	}
	for _, e := range env {
		settings = append(settings, e.name+"="+e.value)
	}
	root, err := filepath.Abs(o.root)
	if err != nil {
		return fmt.Errorf("script root: %w", err)
	}
	h, err := host.New(host.Config{Root: root, Addr: o.addr, Env: settings, Logger: log})
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
	if s.gateway != nil {
		errs = append(errs, s.gateway.Close())
	}
	if s.tokens != nil {
		errs = append(errs, s.tokens.Close())
	}
	if s.backend != nil {
		s.backend.Close()
	}
	return errors.Join(errs...)
}
