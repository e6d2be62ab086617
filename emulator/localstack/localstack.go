// Package localstack starts the local stand-in for Azure in one call: a Redis backend (a private
// redis-server, one the caller runs, or the embedded miniredis), the Entra token service with the
// app's user-assigned managed identity, and the Azure Managed Redis gateway (TLS or not) in front
// of the backend with the default access policy for that identity (or, bare, no gateway: the
// token service installs its tokens on the backend). It gives the handler's
// environment (Env) and a script root (CopyScriptRoot).
//
// It is the one wiring of the emulators: make run (cmd/localstack), the end-to-end tests, the
// benchmark and the pool's integration tests use it.
package localstack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/funcredis/funcredis/emulator/gateway"
	"github.com/funcredis/funcredis/emulator/redisserver"
	"github.com/funcredis/funcredis/emulator/tokenservice"
	"github.com/redis/go-redis/v9"
)

// The app's user-assigned managed identity: AZURE_CLIENT_ID in Env selects it, and the gateway
// gives it the default access policy.
const (
	AppClientID = "10ca1000-0000-4000-8000-00000000c11e"
	AppObjectID = "10ca1000-0000-4000-8000-0000000000b1"
)

// Config says what to start. The zero value starts a private redis-server behind a plaintext
// gateway with 1-hour tokens.
type Config struct {
	// Backend is a running Redis to put behind the gateway; the gateway manages its ACL users
	// through the default user, whose password is Backend.Password. The stack leaves it running.
	// Nil: the stack starts a private redis-server with a random password.
	Backend *redisserver.Server
	// Embedded lets the stack start the embedded miniredis when Backend is nil and no
	// redis-server is installed (without it that is redisserver.ErrNotInstalled). miniredis has
	// no ACL users, so it cannot sit behind the gateway: the handler then talks to it directly,
	// without TLS or Entra (REDIS_AUTH=none). An embedded Backend is used the same way.
	Embedded bool
	// TokenLifetime is the lifetime of the tokens the token service issues; default 1h.
	TokenLifetime time.Duration
	// TLS makes the gateway serve TLS with a certificate of a CA it generates
	// (REDIS_TLS_CA_FILE in Env).
	TLS bool
	// Bare leaves the gateway out: the handler talks to the backend (a redis-server) straight,
	// and each token the token service issues becomes the app identity's ACL password there, so
	// Entra authentication works with nothing between go-redis and Redis. The gateway closes a
	// malformed stream, which would hide a bug on the wire; a bare server executes it.
	Bare bool
}

// Stack is the running stand-in. Close stops it.
type Stack struct {
	// Backend is the Redis behind the gateway.
	Backend *redisserver.Server
	// Tokens is the Entra token service (App Service managed-identity protocol).
	Tokens *tokenservice.Service
	// Gateway is the Azure Managed Redis gateway; nil with an embedded backend.
	Gateway *gateway.Gateway

	tls         bool
	bare        *redis.Client // installs tokens on a bare backend; nil otherwise
	ownsBackend bool
	closeOnce   sync.Once
	closeErr    error
}

// Start starts the stack. On error everything already started is stopped.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	s := &Stack{Backend: cfg.Backend, tls: cfg.TLS}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.Backend == nil {
		s.ownsBackend = true
		if cfg.Embedded && !redisserver.Installed() {
			s.Backend, err = redisserver.StartEmbedded(redisserver.Options{})
		} else {
			s.Backend, err = redisserver.Start(ctx, redisserver.Options{Password: "random"})
		}
		if err != nil {
			return nil, fmt.Errorf("localstack: redis backend: %w", err)
		}
	}
	tsCfg := tokenservice.Config{Lifetime: cfg.TokenLifetime, Identities: []tokenservice.Identity{{ClientID: AppClientID, ObjectID: AppObjectID}}}
	if cfg.Bare {
		if s.Backend.Embedded {
			return nil, errors.New("localstack: a bare backend needs a real redis-server (ACL users)")
		}
		s.bare = redis.NewClient(&redis.Options{Addr: s.Backend.Addr, Password: s.Backend.Password})
		tsCfg.OnIssue = s.installToken
	}
	s.Tokens, err = tokenservice.New(tsCfg)
	if err != nil {
		return nil, fmt.Errorf("localstack: token service: %w", err)
	}
	if err := s.Tokens.Start("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("localstack: token service: %w", err)
	}
	if s.Backend.Embedded || cfg.Bare {
		return s, nil
	}
	s.Gateway, err = gateway.New(gateway.Config{Backend: s.Backend.Addr, BackendPassword: s.Backend.Password,
		Issuer: s.Tokens.Issuer(), Keys: s.Tokens.PublicKeys(), TLS: cfg.TLS})
	if err != nil {
		return nil, fmt.Errorf("localstack: %w", err)
	}
	if err := s.Gateway.Start("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("localstack: %w", err)
	}
	if err := s.Gateway.AssignPolicy(AppObjectID, "default"); err != nil {
		return nil, fmt.Errorf("localstack: %w", err)
	}
	return s, nil
}

// installToken makes a token the token service issued the app identity's password on a bare
// backend (a new user with it, or one more password of the user). The token service serves the
// token only after this returns.
func (s *Stack) installToken(objectID, token string, _ time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.bare.Do(ctx, "ACL", "SETUSER", objectID, "on", ">"+token, "~*", "&*", "+@all").Err(); err != nil {
		fmt.Fprintln(os.Stderr, "localstack: install a token on the bare backend:", err)
	}
}

// Env is the handler's environment for the stack, as "NAME=value" in a stable order: Redis
// through the gateway (or straight to a bare backend) with Entra tokens from the token service
// for the app's identity, or straight to an embedded backend without authentication.
func (s *Stack) Env() []string {
	redisHost, tlsOn, caFile, auth := s.Backend.Addr, false, "", "none"
	switch {
	case s.Gateway != nil:
		redisHost, tlsOn, caFile, auth = s.Gateway.Addr(), s.tls, s.Gateway.CAFile(), "entra"
	case s.bare != nil:
		auth = "entra"
	}
	return []string{
		"REDIS_HOST=" + redisHost,
		"REDIS_TLS=" + strconv.FormatBool(tlsOn),
		"REDIS_TLS_CA_FILE=" + caFile,
		"REDIS_AUTH=" + auth,
		"REDIS_CREDENTIAL=managedidentity",
		"REDIS_CLUSTER=none",
		"IDENTITY_ENDPOINT=" + s.Tokens.Endpoint(),
		"IDENTITY_HEADER=" + s.Tokens.Secret(),
		"AZURE_CLIENT_ID=" + AppClientID,
	}
}

// Close stops everything the stack started, in the reverse order; a Backend the caller gave is
// left running. It is idempotent.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.Gateway != nil {
			errs = append(errs, s.Gateway.Close())
		}
		if s.Tokens != nil {
			errs = append(errs, s.Tokens.Close())
		}
		if s.bare != nil {
			errs = append(errs, s.bare.Close())
		}
		if s.ownsBackend && s.Backend != nil {
			errs = append(errs, s.Backend.Close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// ClientTLS is the TLS configuration of a client of the gateway (SNI 127.0.0.1) that trusts the
// CA in caFile, the gateway's REDIS_TLS_CA_FILE.
func ClientTLS(caFile string) (*tls.Config, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("localstack: gateway CA: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("localstack: gateway CA %s: no certificate", caFile)
	}
	return &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}, nil
}

// CopyScriptRoot makes the script root dir from the repository at repo: its host.json with
// customHandler.enableForwardingHttpRequest set to forwarding (the handler reads host.json too,
// so payload mode is a host.json without forwarding, as a user would configure it), every
// function folder's function.json, and handlerBin as bin/handler.
func CopyScriptRoot(dir, repo, handlerBin string, forwarding bool) error {
	b, err := os.ReadFile(filepath.Join(repo, "host.json"))
	if err != nil {
		return fmt.Errorf("localstack: %w", err)
	}
	var hj map[string]any
	if err := json.Unmarshal(b, &hj); err != nil {
		return fmt.Errorf("localstack: host.json: %w", err)
	}
	ch, ok := hj["customHandler"].(map[string]any)
	if !ok {
		return errors.New("localstack: host.json has no customHandler")
	}
	ch["enableForwardingHttpRequest"] = forwarding
	if b, err = json.Marshal(hj); err != nil {
		return fmt.Errorf("localstack: host.json: %w", err)
	}
	if err := writeFile(filepath.Join(dir, "host.json"), b, 0o644); err != nil {
		return err
	}
	fjs, err := filepath.Glob(filepath.Join(repo, "*", "function.json"))
	if err != nil || len(fjs) == 0 {
		return fmt.Errorf("localstack: no function folders under %s (%v)", repo, err)
	}
	for _, fj := range fjs {
		if err := copyFile(fj, filepath.Join(dir, filepath.Base(filepath.Dir(fj)), "function.json"), 0o644); err != nil {
			return err
		}
	}
	return copyFile(handlerBin, filepath.Join(dir, "bin", "handler"), 0o755)
}

func copyFile(from, to string, mode os.FileMode) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return fmt.Errorf("localstack: copy: %w", err)
	}
	return writeFile(to, b, mode)
}

func writeFile(to string, b []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return fmt.Errorf("localstack: %w", err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		return fmt.Errorf("localstack: %w", err)
	}
	return nil
}
