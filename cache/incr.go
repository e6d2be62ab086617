package cache

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/funcredis/funcredis/handler"
	"github.com/funcredis/funcredis/redisproblem"
	"github.com/redis/go-redis/v9"
)

// incrHandler serves POST cache/{key}/incr.
type incrHandler struct{ st *store }

// NewIncr returns the handler of the cache-incr function (route cache/{key}/incr): POST adds
// ?by=n (default 1) to the integer at key, creating it at 0, and answers {"key","value"}. rdb is
// the process-wide pool's client.
func NewIncr(rdb redis.UniversalClient, cfg Config) http.Handler {
	return &incrHandler{st: &store{rdb: rdb, prefix: cfg.KeyPrefix}}
}

// ServeHTTP implements http.Handler.
func (h *incrHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		handler.WriteMethodNotAllowed(w, http.MethodPost)
		return
	}
	key, err := parseKey(r.PathValue("key"))
	if err != nil {
		writeInput(w, err)
		return
	}
	by, err := parseIncrement(r.URL.Query().Get("by"))
	if err != nil {
		writeInput(w, err)
		return
	}
	n, err := h.st.incr(r.Context(), key, by)
	if err != nil {
		if msg := err.Error(); strings.Contains(msg, "not an integer") || strings.Contains(msg, "overflow") {
			writeProblem(w, http.StatusConflict, "not-an-integer", "the stored value is not a 64-bit integer, or the increment would overflow")
			return
		}
		redisproblem.Write(r.Context(), w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"key": key, "value": n})
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
