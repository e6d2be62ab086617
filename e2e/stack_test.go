package e2e

import (
	"bytes"
	"context"
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

	"github.com/funcredis/funcredis/emulator/host"
	"github.com/funcredis/funcredis/emulator/localstack"
	"github.com/funcredis/funcredis/emulator/tokenservice"
	"github.com/funcredis/funcredis/internal/redistest"
)

// functionKey is the key the host requires for authLevel function.
const functionKey = "e2e-function-key"

// noPolicyClientID is a user-assigned identity the token service knows but the gateway has no
// access policy for.
const (
	noPolicyClientID = "0b0b0000-0000-4000-8000-00000000c1d0"
	noPolicyObjectID = "0b0b0000-0000-4000-8000-0000000000b2"
)

var (
	// st is what TestMain starts once for the package: a private redis-server behind the TLS
	// gateway, and the token service issuing 4-second tokens.
	st *localstack.Stack
	// handlerBin is the built bin/handler.
	handlerBin string
)

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
	handlerBin = filepath.Join(dir, "handler")
	build := exec.Command("go", "build", "-o", handlerBin, "github.com/funcredis/funcredis/cmd/handler")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return 0, fmt.Errorf("build handler: %w", err)
	}
	backend, err := redistest.StartReal(redistest.Options{Password: "random"})
	if err != nil {
		return 0, err
	}
	defer backend.Close()
	if st, err = localstack.Start(context.Background(), localstack.Config{Backend: backend.Server, TokenLifetime: 4 * time.Second, TLS: true}); err != nil {
		return 0, err
	}
	defer st.Close()
	st.Tokens.AddIdentity(tokenservice.Identity{ClientID: noPolicyClientID, ObjectID: noPolicyObjectID})
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

// startApp makes a script root (host.json with forwarding as asked, every function folder, the
// binary) in a temp dir and starts the host on it with the stack's settings, reached directly as
// with Core Tools. env adds or overrides settings.
func startApp(t testing.TB, forwarding bool, env ...string) *app {
	t.Helper()
	return startAppBehind(t, forwarding, false, env...)
}

// startAppBehind is startApp with, when frontEnd is true, App Service's front end before the
// host, as in Azure.
func startAppBehind(t testing.TB, forwarding, frontEnd bool, env ...string) *app {
	t.Helper()
	root := t.TempDir()
	if err := localstack.CopyScriptRoot(root, "..", handlerBin, forwarding); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	h, err := host.New(host.Config{
		Root: root,
		Addr: "127.0.0.1:0",
		Env: append(append(st.Env(),
			"LOG_LEVEL=debug",
			"CACHE_MAX_VALUE_BYTES=4096",
			"CACHE_MAX_BATCH=5",
			"CACHE_MAX_TTL=1h",
		), env...),
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
	if strings.Contains(logs, "eyJ") || strings.Contains(logs, st.Tokens.Secret()) {
		t.Fatal("a log line holds a token or the identity secret")
	}
}
