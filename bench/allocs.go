package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"

	"github.com/funcredis/funcredis/cache"
	"github.com/funcredis/funcredis/handler"
	"github.com/funcredis/funcredis/pool"
)

// allocRow is the heap allocations of one request, in process.
type allocRow struct {
	Target string  `json:"target"`
	Op     string  `json:"op"`
	Allocs float64 `json:"allocs_per_request"`
	Bytes  float64 `json:"bytes_per_request"`
}

// runAllocs measures the heap allocations per request of (b), (b-fn) and (c), in this process,
// straight to redis-server (the gateway runs in this process and would count too): (c) is the
// handler.App over the repository's function folders with the cache function on a pool.Pool,
// as bin/handler builds it, logging JSON at Info to nowhere. A request is the handler's
// ServeHTTP, not net/http's reading and writing of it, which is the same for all three.
func runAllocs(ctx context.Context, s *stack, cfg config) ([]allocRow, error) {
	rdb := s.backendClient(0)
	defer rdb.Close()
	baseline, baseFn := http.NewServeMux(), http.NewServeMux()
	handleBaseline(baseline, rdb)
	handleBaselineFn(baseFn, rdb)
	discard := slog.New(slog.NewJSONHandler(io.Discard, nil))
	p, err := pool.New(ctx, pool.Config{Addr: s.Backend.Addr, Auth: pool.AuthPassword, Password: s.Backend.Password,
		Cluster: pool.ClusterNone}, pool.Options{Logger: discard})
	if err != nil {
		return nil, fmt.Errorf("allocs: %w", err)
	}
	defer p.Close()
	if err := p.Warm(ctx); err != nil {
		return nil, fmt.Errorf("allocs: %w", err)
	}
	app, err := handler.New(handler.Options{Root: s.repo, Logger: discard})
	if err != nil {
		return nil, fmt.Errorf("allocs: %w", err)
	}
	app.HandleHTTP("cache", cache.New(p.Client(), cache.DefaultConfig()))
	var rows []allocRow
	for _, op := range opKinds {
		for _, t := range []struct {
			name string
			h    http.Handler
		}{{targetBaseline, baseline}, {targetBaseFn, baseFn}, {targetHandler, app}} {
			row, err := allocsOf(t.h, op, cfg.allocRuns)
			if err != nil {
				return nil, fmt.Errorf("allocs, %s %s: %w", t.name, op, err)
			}
			row.Target = t.name
			rows = append(rows, row)
		}
		logf("allocs %-9s  b %.0f  b-fn %.0f  c %.0f per request", op, rows[len(rows)-3].Allocs, rows[len(rows)-2].Allocs, rows[len(rows)-1].Allocs)
	}
	return rows, nil
}

// allocsOf serves runs requests of kind op with h and returns the allocations per request: the
// fewest of three rounds, so that a background goroutine's allocation does not count.
func allocsOf(h http.Handler, op string, runs int) (allocRow, error) {
	key, value := keySmall, valueSmall
	if op == "GET 64KiB" || op == "PUT 64KiB" {
		key, value = keyLarge, valueLarge
	}
	get := op == "GET small" || op == "GET 64KiB"
	newRequest := func() *http.Request {
		if get {
			return httptest.NewRequest(http.MethodGet, "/api/cache/"+key, nil)
		}
		r := httptest.NewRequest(http.MethodPut, "/api/cache/put-"+key, bytes.NewReader(value))
		r.Header.Set("Content-Type", "application/octet-stream")
		return r
	}
	w := &discardWriter{header: http.Header{}}
	serve := func(r *http.Request) error {
		clear(w.header)
		w.status = 0
		h.ServeHTTP(w, r)
		if w.status/100 != 2 {
			return fmt.Errorf("status %d", w.status)
		}
		return nil
	}
	for range 50 {
		if err := serve(newRequest()); err != nil {
			return allocRow{}, err
		}
	}
	row := allocRow{Op: op, Allocs: -1}
	reqs := make([]*http.Request, runs)
	for range 3 {
		for i := range reqs {
			reqs[i] = newRequest()
		}
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		for _, r := range reqs {
			if err := serve(r); err != nil {
				return allocRow{}, err
			}
		}
		runtime.ReadMemStats(&m1)
		if a := float64(m1.Mallocs-m0.Mallocs) / float64(runs); row.Allocs < 0 || a < row.Allocs {
			row.Allocs, row.Bytes = a, float64(m1.TotalAlloc-m0.TotalAlloc)/float64(runs)
		}
	}
	return row, nil
}

// discardWriter is the http.ResponseWriter of the allocation counts: it keeps the status and
// drops the body, without allocating.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *discardWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(b), nil
}

func (w *discardWriter) WriteString(s string) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(s), nil
}
