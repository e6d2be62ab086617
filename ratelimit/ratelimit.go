package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/funcredis/funcredis/pool"
)

// Decision is the outcome of one Take.
type Decision struct {
	Allowed   bool
	Limit     int
	Remaining int
	// Reset is how long until the oldest counted request leaves the window
	// (when refused: until a request can be admitted again).
	Reset time.Duration
}

// Limiter takes units of a key's budget from Redis.
type Limiter struct {
	p   *pool.Pool
	cfg Config
}

// NewLimiter returns a Limiter on p with the prefix of cfg.
func NewLimiter(p *pool.Pool, cfg Config) *Limiter {
	return &Limiter{p: p, cfg: cfg}
}

// Take admits or refuses one request for key under limit per window, in one
// atomic script on the Redis server.
func (l *Limiter) Take(ctx context.Context, key string, limit int, window time.Duration) (Decision, error) {
	member := make([]byte, 8)
	_, _ = rand.Read(member)
	res, err := slidingWindow.Run(ctx, l.p.Client(), []string{l.cfg.KeyPrefix + key},
		limit, window.Milliseconds(), hex.EncodeToString(member)).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: take %q: %w", key, err)
	}
	if len(res) != 3 {
		return Decision{}, fmt.Errorf("ratelimit: script answered %d values, want 3", len(res))
	}
	return Decision{Allowed: res[0] == 1, Limit: limit, Remaining: int(res[1]), Reset: time.Duration(res[2]) * time.Millisecond}, nil
}
