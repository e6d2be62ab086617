package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/funcredis/funcredis/emulator/gateway"
	"github.com/funcredis/funcredis/emulator/redisserver"
	"github.com/funcredis/funcredis/emulator/tokenservice"
	"github.com/redis/go-redis/v9"
)

// warmLifetime is the token lifetime for phases that must see no rotation.
const warmLifetime = time.Hour

// stack is the shared backend of every phase: one redis-server, the Entra token service and the
// TLS Azure Managed Redis gateway, all on loopback.
type stack struct {
	dir     string // scratch directory: logs, script roots
	bin     string // bin/handler
	repo    string // repository root (script root with forwarding on)
	backend *redisserver.Server
	ts      *tokenservice.Service
	gw      *gateway.Gateway
	oid     string // the system-assigned identity's object ID, which has the access policy
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
	if s.backend, err = redisserver.Start(context.Background(), redisserver.Options{Password: "bench-backend-pw"}); err != nil {
		return nil, fmt.Errorf("redis-server: %w", err)
	}
	if s.ts, err = tokenservice.New(tokenservice.Config{Lifetime: warmLifetime}); err != nil {
		return nil, fmt.Errorf("token service: %w", err)
	}
	if err = s.ts.Start("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("token service: %w", err)
	}
	s.oid = s.ts.SystemAssigned().ObjectID
	s.gw, err = gateway.New(gateway.Config{Backend: s.backend.Addr, BackendPassword: s.backend.Password,
		Issuer: s.ts.Issuer(), Keys: s.ts.PublicKeys(), TLS: true, CAFile: filepath.Join(s.dir, "gateway-ca.pem")})
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if err = s.gw.Start("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if err = s.gw.AssignPolicy(s.oid, ""); err != nil {
		return nil, fmt.Errorf("gateway policy: %w", err)
	}
	ca, err := os.ReadFile(s.gw.CAFile())
	if err != nil {
		return nil, fmt.Errorf("gateway CA: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	s.tlsConf = &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return s, nil
}

// Close stops everything the stack started.
func (s *stack) Close() {
	if s.gw != nil {
		_ = s.gw.Close()
	}
	if s.ts != nil {
		_ = s.ts.Close()
	}
	if s.backend != nil {
		_ = s.backend.Close()
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// backendClient talks to redis-server directly with its password: the absolute floor, and the
// reader that checks acknowledged writes.
func (s *stack) backendClient(poolSize int) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.backend.Addr, Password: s.backend.Password, PoolSize: poolSize})
}

// gatewayClient talks to the gateway over TLS with one token fetched once (user name = oid,
// password = token), as the baseline does.
func (s *stack) gatewayClient(poolSize int) (*redis.Client, error) {
	tok, _, err := s.ts.Token(s.oid)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	return redis.NewClient(&redis.Options{Addr: s.gw.Addr(), Username: s.oid, Password: tok,
		TLSConfig: s.tlsConf.Clone(), PoolSize: poolSize}), nil
}

// handlerEnv is the environment of bin/handler against the gateway and token service.
func (s *stack) handlerEnv(extra ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"REDIS_HOST=" + s.gw.Addr(),
		"REDIS_TLS_CA_FILE=" + s.gw.CAFile(),
		"REDIS_CLUSTER=none",
		"IDENTITY_ENDPOINT=" + s.ts.Endpoint(),
		"IDENTITY_HEADER=" + s.ts.Secret(),
		"WARMUP_TIMEOUT=10s",
	}, extra...)
}

// payloadRoot makes a script root whose host.json turns forwarding off (the handler reads
// host.json too), with every function folder and a copy of bin/handler.
func (s *stack) payloadRoot() (string, error) {
	root := filepath.Join(s.dir, "payload-root")
	b, err := os.ReadFile(filepath.Join(s.repo, "host.json"))
	if err != nil {
		return "", fmt.Errorf("host.json: %w", err)
	}
	var hj map[string]any
	if err := json.Unmarshal(b, &hj); err != nil {
		return "", fmt.Errorf("host.json: %w", err)
	}
	ch, ok := hj["customHandler"].(map[string]any)
	if !ok {
		return "", fmt.Errorf("host.json has no customHandler")
	}
	ch["enableForwardingHttpRequest"] = false
	if b, err = json.Marshal(hj); err != nil {
		return "", fmt.Errorf("host.json: %w", err)
	}
	if err := writeFile(filepath.Join(root, "host.json"), b, 0o644); err != nil {
		return "", err
	}
	fjs, err := filepath.Glob(filepath.Join(s.repo, "*", "function.json"))
	if err != nil || len(fjs) == 0 {
		return "", fmt.Errorf("no function folders under %s: %v", s.repo, err)
	}
	for _, fj := range fjs {
		if err := copyFile(fj, filepath.Join(root, filepath.Base(filepath.Dir(fj)), "function.json"), 0o644); err != nil {
			return "", err
		}
	}
	if err := copyFile(s.bin, filepath.Join(root, "bin", "handler"), 0o755); err != nil {
		return "", err
	}
	return root, nil
}

func copyFile(from, to string, mode os.FileMode) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return fmt.Errorf("copy %s: %w", from, err)
	}
	return writeFile(to, b, mode)
}

func writeFile(to string, b []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return fmt.Errorf("mkdir %s: %w", filepath.Dir(to), err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		return fmt.Errorf("write %s: %w", to, err)
	}
	return nil
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

// seed writes the values the GET phases read, under the cache function's layout.
func (s *stack) seed(ctx context.Context) error {
	rdb := s.backendClient(2)
	defer rdb.Close()
	for key, v := range map[string][]byte{keySmall: valueSmall, keyLarge: valueLarge} {
		if err := rdb.Set(ctx, valueKey(key), v, 0).Err(); err != nil {
			return fmt.Errorf("seed %s: %w", key, err)
		}
	}
	return nil
}
