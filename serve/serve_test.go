package serve

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/funcredis/funcredis/handler"
	"github.com/funcredis/funcredis/internal/redistest"
	"github.com/funcredis/funcredis/pool"
	"github.com/funcredis/funcredis/redisproblem"
)

// scriptRoot makes a script root with host.json (forwarding on) and one HTTP function, ping, and
// points the handler's environment at it, at a free port and at redisAddr without authentication.
// It returns the base URL the handler will serve.
func scriptRoot(t *testing.T, redisAddr string) string {
	t.Helper()
	root := t.TempDir()
	write := func(name, body string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("host.json", `{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"bin/handler"},"enableForwardingHttpRequest":true}}`)
	write("ping/function.json", `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","methods":["get"],"route":"ping"},{"type":"http","direction":"out","name":"res"}]}`)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	for k, v := range map[string]string{
		"FUNCTIONS_APP_ROOT_PATH": root, "FUNCTIONS_CUSTOMHANDLER_PORT": strconv.Itoa(port),
		"REDIS_HOST": redisAddr, "REDIS_AUTH": "none", "REDIS_TLS": "false", "REDIS_CLUSTER": "none",
		"REDIS_MIN_IDLE_CONNS": "1", "LOG_LEVEL": "error", "WARMUP_TIMEOUT": "5s",
	} {
		t.Setenv(k, v)
	}
	return "http://127.0.0.1:" + strconv.Itoa(port)
}

// ping registers the ping function: it PINGs Redis through the pool.
func ping(app *handler.App, p *pool.Pool) error {
	app.HandleHTTP("ping", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pong, err := p.Client().Ping(r.Context()).Result()
		if err != nil {
			redisproblem.Write(r.Context(), w, err)
			return
		}
		_, _ = io.WriteString(w, pong)
	}))
	return nil
}

// TestServes runs the handler as Main does: it answers the readiness probe once warm, serves the
// registered function through the pool, and returns nil when its context ends.
func TestServes(t *testing.T) {
	srv := redistest.Must(t, redistest.Options{})
	base := scriptRoot(t, srv.Addr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, ping) }()
	get := func(path string) (int, string, error) {
		resp, err := http.Get(base + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	var status int
	var body string
	var err error
	for range 200 { // until the handler listens
		if status, body, err = get("/"); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("run returned %v before serving", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err != nil || status != http.StatusOK || !strings.Contains(body, `"ready"`) {
		t.Fatalf("GET / = %d %q, %v; want 200 ready", status, body, err)
	}
	if status, body, err = get("/api/ping"); err != nil || status != http.StatusOK || body != "PONG" {
		t.Errorf("GET /api/ping = %d %q, %v; want 200 PONG", status, body, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run after cancel: %v", err)
	}
}

// TestStartErrors: a bad setting, a failing register and a folder without a handler stop the
// handler before it serves, with an error that names the cause.
func TestStartErrors(t *testing.T) {
	errRegister := errors.New("ORDERS_LIMIT must be a number")
	for _, c := range []struct {
		name     string
		env      map[string]string
		register func(*handler.App, *pool.Pool) error
		want     string
	}{
		{"log level", map[string]string{"LOG_LEVEL": "loud"}, ping, "LOG_LEVEL"},
		{"port", map[string]string{"FUNCTIONS_CUSTOMHANDLER_PORT": "http"}, ping, "FUNCTIONS_CUSTOMHANDLER_PORT"},
		{"pool setting", map[string]string{"REDIS_AUTH": "kerberos"}, ping, "REDIS_AUTH"},
		// A function's setting is named even when the port is bad too: register runs first.
		{"register fails", map[string]string{"FUNCTIONS_CUSTOMHANDLER_PORT": "0"}, func(*handler.App, *pool.Pool) error { return errRegister }, errRegister.Error()},
		{"no handler", nil, func(*handler.App, *pool.Pool) error { return nil }, `"ping" has no handler`},
	} {
		t.Run(c.name, func(t *testing.T) {
			scriptRoot(t, "127.0.0.1:1")
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			err := run(context.Background(), c.register)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("run = %v, want an error naming %s", err, c.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	scriptRoot(t, "127.0.0.1:1")
	root := os.Getenv("FUNCTIONS_APP_ROOT_PATH")
	if err := Check(root, ping); err != nil {
		t.Errorf("Check with ping registered: %v", err)
	}
	err := Check(root, func(app *handler.App, p *pool.Pool) error {
		app.HandleHTTP("pong", http.NotFoundHandler())
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), `"ping" has no handler`) || !strings.Contains(err.Error(), `"pong" has no function folder`) {
		t.Errorf("Check with pong registered = %v, want both mismatches named", err)
	}
}
