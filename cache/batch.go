package cache

import (
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/funcredis/funcredis/handler"
	"github.com/funcredis/funcredis/redisproblem"
	"github.com/redis/go-redis/v9"
)

// batchHandler serves POST cache-batch.
type batchHandler struct {
	st  *store
	cfg Config
}

// NewBatch returns the handler of the cache-batch function (route cache-batch); rdb is the
// process-wide pool's client.
func NewBatch(rdb redis.UniversalClient, cfg Config) http.Handler {
	return &batchHandler{st: &store{rdb: rdb, prefix: cfg.KeyPrefix}, cfg: cfg}
}

// batchItem is one key of a batch answer. Value is set for a found UTF-8 value; a value that is
// not valid UTF-8 is reported with Binary true and no Value (read it with GET).
type batchItem struct {
	Key         string `json:"key"`
	Found       bool   `json:"found"`
	Value       string `json:"value,omitempty"`
	Binary      bool   `json:"binary,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	ETag        string `json:"etag,omitempty"`
	TTL         int64  `json:"ttl,omitempty"`
	Created     bool   `json:"created,omitempty"`
}

// ServeHTTP implements http.Handler.
func (h *batchHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		handler.WriteMethodNotAllowed(w, http.MethodPost)
		return
	}
	body, ok := readBody(w, r, h.cfg.MaxValueBytes)
	if !ok {
		return
	}
	req, err := parseBatch(body, h.cfg.MaxBatch, h.cfg.MaxTTL, h.cfg.MaxValueBytes)
	if err != nil {
		writeInput(w, err)
		return
	}
	var items []batchItem
	if len(req.Get) > 0 {
		items, err = h.get(r, req.Get)
	} else {
		items, err = h.set(r, req.Set)
	}
	if err != nil {
		redisproblem.Write(r.Context(), w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (h *batchHandler) get(r *http.Request, names []string) ([]batchItem, error) {
	ctx := r.Context()
	cmds := make([]*redis.SliceCmd, len(names))
	_, err := h.st.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, name := range names {
			k := h.st.keysOf(name)
			cmds[i] = p.MGet(ctx, k.value, k.meta)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	sts := make([]stored, len(names))
	found := make([]bool, len(names))
	var missing []keys
	var fill []*stored
	for i, name := range names {
		vals := cmds[i].Val()
		var needTTL bool
		sts[i], found[i], needTTL = fromReplies(vals[0], vals[1], now)
		if needTTL {
			missing, fill = append(missing, h.st.keysOf(name)), append(fill, &sts[i])
		}
	}
	if len(missing) > 0 {
		if err := h.st.fillTTL(ctx, missing, fill); err != nil {
			return nil, err
		}
	}
	items := make([]batchItem, len(names))
	for i, name := range names {
		items[i] = batchItem{Key: name, Found: found[i]}
		if !found[i] {
			continue
		}
		st := sts[i]
		items[i].ETag, items[i].ContentType = st.etag, st.contentType
		items[i].TTL = int64((st.ttl + time.Second - 1) / time.Second)
		if utf8.ValidString(st.value) {
			items[i].Value = st.value
		} else {
			items[i].Binary = true
		}
	}
	return items, nil
}

func (h *batchHandler) set(r *http.Request, sets []batchSet) ([]batchItem, error) {
	keys := make([]string, len(sets))
	entries := make([]entry, len(sets))
	for i, s := range sets {
		keys[i] = s.Key
		var ct string
		if s.ContentType != "" {
			ct, _ = parseContentType(s.ContentType) // validated by parseBatch
		}
		entries[i] = newEntry([]byte(s.Value), ct, time.Duration(s.TTL)*time.Second)
	}
	created, err := h.st.setAll(r.Context(), keys, entries)
	if err != nil {
		return nil, err
	}
	items := make([]batchItem, len(sets))
	for i, s := range sets {
		items[i] = batchItem{Key: s.Key, Found: true, ETag: entries[i].etag, Created: created[i], TTL: s.TTL}
	}
	return items, nil
}
