// Package health is the health function (GET /api/health, anonymous): the pool's state, token
// expiry and next refresh, connections and counters as JSON. pool.Health holds no secret.
//
// Part of funcredis's stable public API (README, "Public API"): apps made by funcredis new
// compile against it.
package health

import (
	"encoding/json"
	"net/http"

	"github.com/funcredis/funcredis/handler"
	"github.com/funcredis/funcredis/pool"
)

// Reporter reports a pool's health; *pool.Pool is one.
type Reporter interface {
	Health() pool.Health
}

// New returns the health function's handler for p, the process-wide pool. It answers 200 while the
// pool is ready or degraded (serving) and 503 with Retry-After while it is starting or unavailable,
// so a load balancer or uptime probe can use the status alone.
func New(p Reporter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			handler.WriteMethodNotAllowed(w, http.MethodGet, http.MethodHead)
			return
		}
		h := p.Health()
		status := http.StatusOK
		if h.State == pool.StateStarting || h.State == pool.StateUnavailable {
			status = http.StatusServiceUnavailable
			w.Header().Set("Retry-After", "5")
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		if r.Method == http.MethodGet {
			_ = json.NewEncoder(w).Encode(h)
		}
	})
}
