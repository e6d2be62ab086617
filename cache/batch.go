package cache

import (
	"errors"
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

func (h *batchHandler) get(r *http.Request, keys []string) ([]batchItem, error) {
	ctx := r.Context()
	type cmds struct {
		val, ct *redis.StringCmd
		ttl     *redis.DurationCmd
	}
	cs := make([]cmds, len(keys))
	_, err := h.st.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cs[i] = cmds{p.Get(ctx, h.st.valueKey(k)), p.Get(ctx, h.st.typeKey(k)), p.PTTL(ctx, h.st.valueKey(k))}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	items := make([]batchItem, len(keys))
	for i, k := range keys {
		e, ok, err := entryFrom(cs[i].val, cs[i].ct, cs[i].ttl)
		if err != nil {
			return nil, err
		}
		items[i] = batchItem{Key: k, Found: ok}
		if !ok {
			continue
		}
		items[i].ETag, items[i].ContentType = etag(e.value), e.contentType
		items[i].TTL = int64((e.ttl + time.Second - 1) / time.Second)
		if utf8.Valid(e.value) {
			items[i].Value = string(e.value)
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
		entries[i] = entry{value: []byte(s.Value), ttl: time.Duration(s.TTL) * time.Second}
		if s.ContentType != "" {
			entries[i].contentType, _ = parseContentType(s.ContentType) // validated by parseBatch
		}
	}
	created, err := h.st.setAll(r.Context(), keys, entries)
	if err != nil {
		return nil, err
	}
	items := make([]batchItem, len(sets))
	for i, s := range sets {
		items[i] = batchItem{Key: s.Key, Found: true, ETag: etag([]byte(s.Value)), Created: created[i], TTL: s.TTL}
	}
	return items, nil
}
