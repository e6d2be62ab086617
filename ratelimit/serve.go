package ratelimit

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/funcredis/funcredis/handler"
	"github.com/funcredis/funcredis/redisproblem"
	"github.com/redis/go-redis/v9"
)

// maxKeyBytes is the longest key the function accepts.
const maxKeyBytes = 128

// New returns the ratelimit function's handler for POST /api/ratelimit/{key}.
// rdb is the process-wide pool's client (the function only runs a script);
// cfg must be valid (Config.Validate).
func New(rdb redis.Scripter, cfg Config) http.Handler {
	return &function{limiter: newLimiter(rdb, cfg), cfg: cfg}
}

type function struct {
	limiter *limiter
	cfg     Config
}

// answer is the JSON body of an admitted request.
type answer struct {
	Key       string `json:"key"`
	Limit     int    `json:"limit"`
	Remaining int    `json:"remaining"`
	ResetMS   int64  `json:"reset_ms"`
}

func (f *function) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		handler.WriteMethodNotAllowed(w, http.MethodPost)
		return
	}
	key := r.PathValue("key")
	if !validKey(key) {
		problem(w, http.StatusBadRequest, "invalid-key", "the key must be 1 to 128 letters, digits or . _ : -")
		return
	}
	limit, window := f.cfg.Limit, f.cfg.Window
	q := r.URL.Query()
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > f.cfg.MaxLimit {
			problem(w, http.StatusBadRequest, "invalid-limit", "limit must be an integer from 1 to "+strconv.Itoa(f.cfg.MaxLimit))
			return
		}
		limit = n
	}
	if s := q.Get("window"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Millisecond || d > maxWindow {
			problem(w, http.StatusBadRequest, "invalid-window", "window must be a duration from 1ms to 24h, such as 10s")
			return
		}
		window = d
	}
	d, err := f.limiter.take(r.Context(), key, limit, window)
	if err != nil {
		redisproblem.Write(r.Context(), w, err)
		return
	}
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(d.Reset)))
	if !d.Allowed {
		h.Set("Retry-After", strconv.Itoa(max(1, ceilSeconds(d.Reset))))
		problem(w, http.StatusTooManyRequests, "rate-limited",
			"the limit of "+strconv.Itoa(d.Limit)+" requests per "+window.String()+" is reached")
		return
	}
	h.Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer{Key: key, Limit: d.Limit, Remaining: d.Remaining, ResetMS: d.Reset.Milliseconds()})
}

func problem(w http.ResponseWriter, status int, slug, detail string) {
	handler.WriteProblem(w, handler.Problem{Type: handler.ProblemType(slug), Status: status, Detail: detail})
}

func validKey(k string) bool {
	if len(k) == 0 || len(k) > maxKeyBytes {
		return false
	}
	for _, c := range []byte(k) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// ceilSeconds rounds d up to whole seconds.
func ceilSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}
