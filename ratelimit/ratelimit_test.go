package ratelimit

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcredis/funcredis/handler"
	"github.com/funcredis/funcredis/internal/redistest"
	"github.com/funcredis/funcredis/pool"
	"github.com/redis/go-redis/v9"
)

// newClient returns the client of a pool on a private Redis without authentication.
func newClient(t *testing.T, addr string, size int) redis.UniversalClient {
	t.Helper()
	p, err := pool.New(context.Background(), pool.Config{
		Addr: addr, Auth: pool.AuthNone, Cluster: pool.ClusterNone, PoolSize: size, DialTimeout: time.Second,
	}, pool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p.Client()
}

// app serves the function through handler.App with this folder's
// function.json, so the route and its {key} are the ones the host uses.
func app(t *testing.T, h http.Handler) http.Handler {
	t.Helper()
	root := t.TempDir()
	fj, err := os.ReadFile("function.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "ratelimit"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "ratelimit", "function.json"), fj, 0o644); err != nil {
		t.Fatal(err)
	}
	hj := `{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"bin/handler"},"enableForwardingHttpRequest":true}}`
	if err := os.WriteFile(filepath.Join(root, "host.json"), []byte(hj), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := handler.New(handler.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	a.HandleHTTP("ratelimit", h)
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
	return a
}

func post(h http.Handler, target string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, target, nil))
	return w
}

func TestSequential(t *testing.T) {
	srv := redistest.Must(t, redistest.Options{})
	cfg := DefaultConfig()
	cfg.Limit = 3
	h := app(t, New(newClient(t, srv.Addr, 0), cfg))
	for i := range 3 {
		w := post(h, "/api/ratelimit/user-1")
		var got answer
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, w.Code, w.Body)
		}
		if want := 2 - i; got.Remaining != want || w.Header().Get("RateLimit-Remaining") != strconv.Itoa(want) ||
			got.Limit != 3 || w.Header().Get("RateLimit-Limit") != "3" || got.Key != "user-1" {
			t.Errorf("request %d: %+v, headers %v; want remaining %d of 3", i, got, w.Header(), want)
		}
		if got.ResetMS <= 0 || got.ResetMS > time.Minute.Milliseconds() {
			t.Errorf("request %d: reset_ms = %d, want within the 1m window", i, got.ResetMS)
		}
	}
	w := post(h, "/api/ratelimit/user-1")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("4th request: %d %s, want a 429 problem", w.Code, w.Body)
	}
	var p handler.Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Type != handler.ProblemType("rate-limited") {
		t.Errorf("problem = %+v (%v)", p, err)
	}
	if ra, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Errorf("Retry-After = %q, want 1..60 seconds", w.Header().Get("Retry-After"))
	}
	if w.Header().Get("RateLimit-Remaining") != "0" {
		t.Errorf("RateLimit-Remaining = %q on 429", w.Header().Get("RateLimit-Remaining"))
	}
	if w := post(h, "/api/ratelimit/user-2"); w.Code != http.StatusOK {
		t.Errorf("another key: %d, want its own budget", w.Code)
	}
	if n, err := newClient(t, srv.Addr, 0).ZCard(context.Background(), "ratelimit:user-1").Result(); err != nil || n != 3 {
		t.Errorf("ZCARD ratelimit:user-1 = %d, %v; want the 3 admitted requests", n, err)
	}
}

// TestConcurrent fires many callers at once, from several pools as several
// app instances would: exactly limit of them are admitted.
func TestConcurrent(t *testing.T) {
	srv := redistest.Must(t, redistest.Options{})
	cfg := DefaultConfig()
	const callers, limit = 200, 37
	var handlers []http.Handler
	for range 4 {
		handlers = append(handlers, app(t, New(newClient(t, srv.Addr, 16), cfg)))
	}
	var ok, limited, other atomic.Int64
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			<-start
			w := post(handlers[i%len(handlers)], "/api/ratelimit/burst?limit="+strconv.Itoa(limit)+"&window=1h")
			switch w.Code {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusTooManyRequests:
				limited.Add(1)
			default:
				other.Add(1)
				t.Errorf("status %d: %s", w.Code, w.Body)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != limit || limited.Load() != callers-limit {
		t.Errorf("admitted %d, limited %d, other %d; want exactly %d admitted of %d", ok.Load(), limited.Load(), other.Load(), limit, callers)
	}
}

// TestWindowSlides uses a short real window: a refused key is admitted again
// once Retry-After's worth of the window has passed.
func TestWindowSlides(t *testing.T) {
	srv := redistest.Must(t, redistest.Options{})
	l := newLimiter(newClient(t, srv.Addr, 0), DefaultConfig())
	ctx := context.Background()
	const window = 300 * time.Millisecond
	if d, err := l.take(ctx, "slide", 1, window); err != nil || !d.Allowed {
		t.Fatalf("first Take = %+v, %v", d, err)
	}
	d, err := l.take(ctx, "slide", 1, window)
	if err != nil || d.Allowed {
		t.Fatalf("second Take = %+v, %v; want refused", d, err)
	}
	if d.Reset <= 0 || d.Reset > window {
		t.Fatalf("Reset = %v, want within the window", d.Reset)
	}
	time.Sleep(d.Reset + 10*time.Millisecond)
	if d, err := l.take(ctx, "slide", 1, window); err != nil || !d.Allowed {
		t.Errorf("Take after Reset = %+v, %v; want admitted", d, err)
	}
}

func TestBadRequests(t *testing.T) {
	srv := redistest.Must(t, redistest.Options{})
	h := app(t, New(newClient(t, srv.Addr, 0), DefaultConfig()))
	for target, slug := range map[string]string{
		"/api/ratelimit/a%7Bb%7D":          "invalid-key",
		"/api/ratelimit/x?limit=0":         "invalid-limit",
		"/api/ratelimit/x?limit=1001":      "invalid-limit",
		"/api/ratelimit/x?limit=two":       "invalid-limit",
		"/api/ratelimit/x?window=0s":       "invalid-window",
		"/api/ratelimit/x?window=25h":      "invalid-window",
		"/api/ratelimit/x?window=sometime": "invalid-window",
	} {
		w := post(h, target)
		var p handler.Problem
		_ = json.Unmarshal(w.Body.Bytes(), &p)
		if w.Code != http.StatusBadRequest || p.Type != handler.ProblemType(slug) {
			t.Errorf("%s: %d %s, want 400 %s", target, w.Code, w.Body, slug)
		}
	}
	w := httptest.NewRecorder()
	New(newClient(t, srv.Addr, 0), DefaultConfig()).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/ratelimit/x", nil))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "POST" {
		t.Errorf("GET: %d, Allow %q", w.Code, w.Header().Get("Allow"))
	}
}

func TestRedisDown(t *testing.T) {
	h := app(t, New(newClient(t, "127.0.0.1:1", 0), DefaultConfig()))
	w := post(h, "/api/ratelimit/x")
	var p handler.Problem
	_ = json.Unmarshal(w.Body.Bytes(), &p)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || p.Type != handler.ProblemType("redis-unavailable") {
		t.Errorf("got %d %s (Retry-After %q), want a 503 redis-unavailable problem", w.Code, w.Body, w.Header().Get("Retry-After"))
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	for name, mutate := range map[string]func(*Config){
		"limit 0":          func(c *Config) { c.Limit = 0 },
		"limit over max":   func(c *Config) { c.Limit = c.MaxLimit + 1 },
		"max limit 0":      func(c *Config) { c.MaxLimit = 0 },
		"window 0":         func(c *Config) { c.Window = 0 },
		"window 25h":       func(c *Config) { c.Window = 25 * time.Hour },
		"prefix with tags": func(c *Config) { c.KeyPrefix = "{rl}:" },
	} {
		c := DefaultConfig()
		mutate(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	got, err := LoadConfig()
	if err != nil || got != DefaultConfig() {
		t.Errorf("LoadConfig() with nothing set = %+v, %v; want DefaultConfig()", got, err)
	}
	for name, value := range map[string]string{"RATELIMIT_WINDOW": "soon", "RATELIMIT_LIMIT": "0"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, value)
			if _, err := LoadConfig(); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("LoadConfig() with %s=%q: %v, want an error naming it", name, value, err)
			}
		})
	}
}
