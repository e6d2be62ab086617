package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// decision is the outcome of one take.
type decision struct {
	Allowed   bool
	Limit     int
	Remaining int
	// Reset is how long until the oldest counted request leaves the window
	// (when refused: until a request can be admitted again).
	Reset time.Duration
}

// limiter takes units of a key's budget from Redis.
type limiter struct {
	rdb redis.Scripter
	cfg Config
}

// newLimiter returns a limiter on rdb with the prefix of cfg.
func newLimiter(rdb redis.Scripter, cfg Config) *limiter {
	return &limiter{rdb: rdb, cfg: cfg}
}

// Take admits or refuses one request for key under limit per window, in one
// atomic script on the Redis server.
func (l *limiter) take(ctx context.Context, key string, limit int, window time.Duration) (decision, error) {
	member := make([]byte, 8)
	_, _ = rand.Read(member)
	res, err := slidingWindow.Run(ctx, l.rdb, []string{l.cfg.KeyPrefix + key},
		limit, window.Milliseconds(), hex.EncodeToString(member)).Int64Slice()
	if err != nil {
		return decision{}, fmt.Errorf("ratelimit: take %q: %w", key, err)
	}
	if len(res) != 3 {
		return decision{}, fmt.Errorf("ratelimit: script answered %d values, want 3", len(res))
	}
	return decision{Allowed: res[0] == 1, Limit: limit, Remaining: int(res[1]), Reset: time.Duration(res[2]) * time.Millisecond}, nil
}
