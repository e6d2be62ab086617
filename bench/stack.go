package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/funcredis/funcredis/cache"
	"github.com/funcredis/funcredis/emulator/localstack"
	"github.com/redis/go-redis/v9"
)

// warmLifetime is the token lifetime for phases that must see no rotation.
const warmLifetime = time.Hour

// stack is the shared backend of every phase: the local stack (one redis-server, the Entra token
// service and the TLS Azure Managed Redis gateway, all on loopback) and the bench's scratch space.
type stack struct {
	*localstack.Stack
	dir     string // scratch directory: logs, script roots
	bin     string // bin/handler
	repo    string // repository root (script root with forwarding on)
	tlsConf *tls.Config
}

// startStack starts redis-server, the token service and the gateway.
func startStack(repo string) (_ *stack, err error) {
	s := &stack{repo: repo, bin: filepath.Join(repo, "bin", "handler")}
	if _, err := os.Stat(s.bin); err != nil {
		return nil, fmt.Errorf("bin/handler missing (run make build): %w", err)
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.dir, err = os.MkdirTemp("", "funcredis-bench-"); err != nil {
		return nil, fmt.Errorf("scratch dir: %w", err)
	}
	if s.Stack, err = localstack.Start(context.Background(), localstack.Config{TokenLifetime: warmLifetime, TLS: true}); err != nil {
		return nil, err
	}
	if s.tlsConf, err = localstack.ClientTLS(s.Gateway.CAFile()); err != nil {
		return nil, err
	}
	return s, nil
}

// Close stops everything the stack started.
func (s *stack) Close() {
	if s.Stack != nil {
		_ = s.Stack.Close()
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// backendClient talks to redis-server directly with its password: the absolute floor, and the
// reader that checks acknowledged writes.
func (s *stack) backendClient(poolSize int) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.Backend.Addr, Password: s.Backend.Password, PoolSize: poolSize})
}

// gatewayClient talks to the gateway over TLS with one token fetched once (user name = oid,
// password = token), as the baseline does.
func (s *stack) gatewayClient(poolSize int) (*redis.Client, error) {
	tok, _, err := s.Tokens.Token(localstack.AppObjectID)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	return redis.NewClient(&redis.Options{Addr: s.Gateway.Addr(), Username: localstack.AppObjectID, Password: tok,
		TLSConfig: s.tlsConf.Clone(), PoolSize: poolSize}), nil
}

// handlerEnv is the environment of bin/handler (and of the -serve modes) against the stack.
func (s *stack) handlerEnv(extra ...string) []string {
	return append(append(processEnv(), s.Env()...), extra...)
}

// processEnv is what every process the bench starts inherits: PATH and HOME, nothing else.
func processEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
}

// payloadRoot makes a script root whose host.json turns forwarding off (the handler reads
// host.json too), with every function folder and a copy of bin/handler.
func (s *stack) payloadRoot() (string, error) {
	root := filepath.Join(s.dir, "payload-root")
	return root, localstack.CopyScriptRoot(root, s.repo, s.bin, false)
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// seed stores the values the GET phases read through the cache function itself (in process,
// straight to redis-server), so that they carry the metadata a PUT writes.
func (s *stack) seed(ctx context.Context) error {
	rdb := s.backendClient(2)
	defer rdb.Close()
	h := cache.New(rdb, cache.DefaultConfig())
	for key, v := range map[string][]byte{keySmall: valueSmall, keyLarge: valueLarge} {
		req := httptest.NewRequestWithContext(ctx, http.MethodPut, "/api/cache/"+key, bytes.NewReader(v))
		req.SetPathValue("key", key)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code/100 != 2 {
			return fmt.Errorf("seed %s: %d %s", key, w.Code, w.Body)
		}
	}
	return nil
}
