// Package pooltest gives a function's test a pool.Pool of its own, as net/http/httptest gives it a
// server: on a private Redis server started for the test, without authentication (the pool's
// Entra path is tested in package pool and through the local stack, not in every function).
//
// The server is a real redis-server on a free loopback port when one is on PATH, otherwise an
// embedded miniredis, and the test's output says so. With FUNCREDIS_REQUIRE_REDIS_SERVER=1 (as in
// CI) a missing redis-server fails the test instead.
//
// Part of funcredis's stable public API (README, "Public API"): apps made by funcredis new
// compile against it.
package pooltest

import (
	"context"
	"testing"
	"time"

	"github.com/funcredis/funcredis/internal/redistest"
	"github.com/funcredis/funcredis/pool"
)

// New starts a private Redis server and returns a pool connected to it; both are closed when the
// test ends. Hand the function p.Client(), as register does in the app.
func New(tb testing.TB) *pool.Pool {
	tb.Helper()
	srv := redistest.Must(tb, redistest.Options{})
	p, err := pool.New(context.Background(), pool.Config{
		Addr: srv.Addr, Auth: pool.AuthNone, Cluster: pool.ClusterNone, DialTimeout: time.Second,
	}, pool.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}
