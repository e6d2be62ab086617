package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/funcredis/funcredis/emulator/gateway"
	"github.com/funcredis/funcredis/emulator/host"
	"github.com/funcredis/funcredis/emulator/tokenservice"
	"github.com/funcredis/funcredis/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// functionKey is the key the host requires for authLevel function.
const functionKey = "e2e-function-key"

// noPolicyClientID is a user-assigned identity the token service knows but the gateway has no
// access policy for.
const (
	noPolicyClientID = "0b0b0000-0000-4000-8000-00000000c1d0"
	noPolicyObjectID = "0b0b0000-0000-4000-8000-0000000000b2"
)

// stack is what TestMain starts once for the package.
type stack struct {
	bin     string // the built bin/handler
	backend *redistest.Server
	ts      *tokenservice.Service
	gw      *gateway.Gateway
	// bare is a redis-server with no gateway in front: the token service
	// installs each token it issues there as the identity's ACL password.
	bare *redistest.Server
}

var st stack

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "funcredis-e2e-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	st.bin = filepath.Join(dir, "handler")
	build := exec.Command("go", "build", "-o", st.bin, "github.com/funcredis/funcredis/cmd/handler")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return 0, fmt.Errorf("build handler: %w", err)
	}
	if st.backend, err = redistest.StartReal(redistest.Options{Password: "e2e-backend-pw"}); err != nil {
		return 0, err
	}
	defer st.backend.Close()
	if st.bare, err = redistest.StartReal(redistest.Options{}); err != nil {
		return 0, err
	}
	defer st.bare.Close()
	bare := redis.NewClient(&redis.Options{Addr: st.bare.Addr})
	defer bare.Close()
	st.ts, err = tokenservice.New(tokenservice.Config{
		Lifetime:   4 * time.Second,
		Identities: []tokenservice.Identity{{ClientID: noPolicyClientID, ObjectID: noPolicyObjectID}},
		OnIssue: func(oid, token string, _ time.Time) {
			if err := bare.Do(context.Background(), "ACL", "SETUSER", oid, "on", ">"+token, "~*", "&*", "+@all").Err(); err != nil {
				fmt.Fprintln(os.Stderr, "e2e: install token on the bare server:", err)
			}
		},
	})
	if err != nil {
		return 0, err
	}
	if err := st.ts.Start("127.0.0.1:0"); err != nil {
		return 0, err
	}
	defer st.ts.Close()
	st.gw, err = gateway.New(gateway.Config{Backend: st.backend.Addr, BackendPassword: st.backend.Password,
		Issuer: st.ts.Issuer(), Keys: st.ts.PublicKeys(), TLS: true})
	if err != nil {
		return 0, err
	}
	if err := st.gw.Start("127.0.0.1:0"); err != nil {
		return 0, err
	}
	defer st.gw.Close()
	if err := st.gw.AssignPolicy(st.ts.SystemAssigned().ObjectID, ""); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// logBuffer collects the host's log lines (handler stdout and stderr included).
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// app is one host emulator running bin/handler.
type app struct {
	h    *host.Host
	logs *logBuffer
}

// startApp copies the script root (host.json, every function folder, the binary) to a temp dir
// and starts the host on it, reached directly as with Core Tools. env adds or overrides settings.
func startApp(t testing.TB, forwarding bool, env ...string) *app {
	t.Helper()
	return startAppBehind(t, forwarding, false, env...)
}

// startAppBehind is startApp with, when frontEnd is true, App Service's front end before the
// host, as in Azure.
func startAppBehind(t testing.TB, forwarding, frontEnd bool, env ...string) *app {
	t.Helper()
	root := t.TempDir()
	writeHostJSON(t, filepath.Join(root, "host.json"), forwarding)
	fjs, err := filepath.Glob("../*/function.json")
	if err != nil || len(fjs) == 0 {
		t.Fatalf("no function folders: %v", err)
	}
	for _, fj := range fjs {
		copyFile(t, fj, filepath.Join(root, filepath.Base(filepath.Dir(fj)), "function.json"))
	}
	copyFile(t, st.bin, filepath.Join(root, "bin", "handler"))
	logs := &logBuffer{}
	h, err := host.New(host.Config{
		Root: root,
		Addr: "127.0.0.1:0",
		Env: append([]string{
			"REDIS_HOST=" + st.gw.Addr(),
			"REDIS_TLS_CA_FILE=" + st.gw.CAFile(),
			"REDIS_CLUSTER=none",
			"IDENTITY_ENDPOINT=" + st.ts.Endpoint(),
			"IDENTITY_HEADER=" + st.ts.Secret(),
			"WARMUP_TIMEOUT=10s",
			"LOG_LEVEL=debug",
			"CACHE_MAX_VALUE_BYTES=4096",
			"CACHE_MAX_BATCH=5",
			"CACHE_MAX_TTL=1h",
		}, env...),
		Forwarding:      &forwarding,
		InitTimeout:     20 * time.Second,
		FunctionTimeout: 20 * time.Second,
		FunctionKey:     functionKey,
		FrontEnd:        frontEnd,
		Logger:          slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = h.Close()
		if t.Failed() {
			t.Logf("host logs:\n%s", logs.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.Start(ctx); err != nil {
		t.Fatalf("host start: %v\n%s", err, logs.String())
	}
	return &app{h: h, logs: logs}
}

// writeHostJSON writes the repository's host.json with enableForwardingHttpRequest set as asked:
// the handler reads host.json too, so payload mode is a host.json without forwarding, as a user
// would configure it.
func writeHostJSON(t testing.TB, to string, forwarding bool) {
	t.Helper()
	b, err := os.ReadFile("../host.json")
	if err != nil {
		t.Fatal(err)
	}
	var hj map[string]any
	if err := json.Unmarshal(b, &hj); err != nil {
		t.Fatal(err)
	}
	ch, ok := hj["customHandler"].(map[string]any)
	if !ok {
		t.Fatal("host.json has no customHandler")
	}
	ch["enableForwardingHttpRequest"] = forwarding
	if b, err = json.Marshal(hj); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// client is shared by every request: bounded by a timeout, keep-alive on.
var client = &http.Client{Timeout: 15 * time.Second}

// do sends a request with the function key; hdr are "Name: value" pairs.
func (a *app) do(t testing.TB, method, path, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	res, b, err := a.try(method, path, body, hdr...)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// try is do without failing the test.
func (a *app) try(method, path, body string, hdr ...string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(method, a.h.URL()+path, strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("x-functions-key", functionKey)
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil && bytes.Contains(b, []byte("eyJ")) {
		err = fmt.Errorf("%s %s: response body holds something shaped like a JWT", method, path)
	}
	return res, b, err
}

// assertNoTokenInLogs fails when a log line holds something shaped like a JWT or the
// identity header secret.
func (a *app) assertNoTokenInLogs(t testing.TB) {
	t.Helper()
	logs := a.logs.String()
	if strings.Contains(logs, "eyJ") || strings.Contains(logs, st.ts.Secret()) {
		t.Fatal("a log line holds a token or the identity secret")
	}
}
