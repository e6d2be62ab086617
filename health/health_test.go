package health

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/funcredis/funcredis/internal/redistest"
	"github.com/funcredis/funcredis/pool"
)

func TestHealth(t *testing.T) {
	rs := redistest.Must(t, redistest.Options{})
	cases := []struct {
		name   string
		addr   string
		status int
	}{
		{"warm", rs.Addr, 200},
		{"redis unreachable", "127.0.0.1:1", 503},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// One idle connection: Warm then dials once, which keeps clear of a data race in
			// go-redis v9.23 between concurrent first dials (maint-notifications fallback).
			p, err := pool.New(context.Background(), pool.Config{Addr: c.addr, Auth: pool.AuthNone, Cluster: pool.ClusterNone,
				MinIdleConns: 1, DialTimeout: 200 * time.Millisecond}, pool.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = p.Warm(ctx)
			rec := httptest.NewRecorder()
			New(p).ServeHTTP(rec, httptest.NewRequest("GET", "/api/health", nil))
			var h pool.Health
			if rec.Code != c.status || json.Unmarshal(rec.Body.Bytes(), &h) != nil || h.State == "" {
				t.Fatalf("got %d %s", rec.Code, rec.Body)
			}
			if c.status == 503 && rec.Header().Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
		})
	}
	t.Run("wrong method", func(t *testing.T) {
		rec := httptest.NewRecorder()
		New(nil).ServeHTTP(rec, httptest.NewRequest("POST", "/api/health", strings.NewReader("")))
		if rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Fatalf("got %d %v", rec.Code, rec.Header())
		}
	})
}
