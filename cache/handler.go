package cache

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/funcredis/funcredis/handler"
	"github.com/funcredis/funcredis/redisproblem"
	"github.com/redis/go-redis/v9"
)

// ttlHeader (X-Cache-TTL) carries a TTL in whole seconds: on PUT as an alternative to ?ttl=, and
// on GET and HEAD with the seconds left before the key expires. It and etagHeader are spelled the
// way net/http keys headers (textproto's canonical form), which spares an allocation per Get or
// Set; header names are case-insensitive, and net/http sends these spellings either way.
const (
	ttlHeader  = "X-Cache-Ttl"
	etagHeader = "Etag"
)

// keyHandler serves GET, HEAD, PUT and DELETE on cache/{key}.
type keyHandler struct {
	st  *store
	cfg Config
}

// New returns the handler of the cache function (route cache/{key}); rdb is the process-wide
// pool's client.
func New(rdb redis.UniversalClient, cfg Config) http.Handler {
	return &keyHandler{st: &store{rdb: rdb, prefix: cfg.KeyPrefix}, cfg: cfg}
}

// ServeHTTP implements http.Handler.
func (h *keyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The key first: the route is cache/{*key} so that a key holding '/' (a %2F that Azure's
	// front end decodes) reaches this handler, and what it gets is a 400 naming the '/'.
	key, err := parseKey(r.PathValue("key"))
	if err != nil {
		writeInput(w, err)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete:
	default:
		handler.WriteMethodNotAllowed(w, http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete)
		return
	}
	switch r.Method {
	case http.MethodPut:
		h.put(w, r, key)
	case http.MethodDelete:
		h.delete(w, r, key)
	default:
		h.get(w, r, key)
	}
}

func (h *keyHandler) get(w http.ResponseWriter, r *http.Request, key string) {
	st, ok, err := h.st.get(r.Context(), key)
	if err != nil {
		redisproblem.Write(r.Context(), w, err)
		return
	}
	if !ok {
		writeProblem(w, http.StatusNotFound, "not-found", "no such key")
		return
	}
	hdr := w.Header()
	hdr.Set(etagHeader, st.etag)
	if st.ttl > 0 {
		hdr.Set(ttlHeader, strconv.FormatInt(int64((st.ttl+time.Second-1)/time.Second), 10))
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagListMatches(inm, st.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	ct := st.contentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	hdr.Set("Content-Type", ct)
	hdr.Set("Content-Length", strconv.Itoa(len(st.value)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(valueBytes(st.value))
	}
}

// valueBytes returns the bytes of a value read from Redis without copying them. They are the
// reply buffer go-redis allocated for this value alone, which nothing writes to afterwards
// (go-redis's own StringCmd.Bytes hands them out the same way), and net/http only reads them.
// Both alternatives cost a third of a 64 KiB GET's CPU here (about 80 µs, bin/handler under
// wrk): io.WriteString reaches net/http's 2 KiB bufio.Writer, which takes a string piece by
// piece, a write(2) every 4 KiB; a copy is a large allocation per request.
func valueBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func (h *keyHandler) put(w http.ResponseWriter, r *http.Request, key string) {
	var ttlText string
	if r.URL.RawQuery != "" {
		ttlText = r.URL.Query().Get("ttl")
	}
	if ttlText == "" {
		ttlText = r.Header.Get(ttlHeader)
	}
	ttl, err := parseTTL(ttlText, h.cfg.MaxTTL)
	if err != nil {
		writeInput(w, err)
		return
	}
	cond, err := parseCondition(r.Header, true)
	if err != nil {
		writeInput(w, err)
		return
	}
	var ct string
	if v := r.Header.Get("Content-Type"); v != "" {
		if ct, err = parseContentType(v); err != nil {
			writeProblem(w, http.StatusUnsupportedMediaType, "unsupported-media-type", "Content-Type is not a valid media type")
			return
		}
	}
	if r.ContentLength > h.cfg.MaxValueBytes {
		writeTooLarge(w, h.cfg.MaxValueBytes)
		return
	}
	body, ok := readBody(w, r, h.cfg.MaxValueBytes)
	if !ok {
		return
	}
	e := newEntry(body, ct, ttl)
	res, err := h.st.put(r.Context(), key, e, cond)
	if err != nil {
		redisproblem.Write(r.Context(), w, err)
		return
	}
	if res == 0 {
		writeProblem(w, http.StatusPreconditionFailed, "precondition-failed", "the key's current state does not match If-Match or If-None-Match")
		return
	}
	w.Header().Set(etagHeader, e.etag)
	if res == 1 {
		w.Header().Set("Location", r.URL.EscapedPath())
		w.WriteHeader(http.StatusCreated)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *keyHandler) delete(w http.ResponseWriter, r *http.Request, key string) {
	cond, err := parseCondition(r.Header, false)
	if err != nil {
		writeInput(w, err)
		return
	}
	res, err := h.st.del(r.Context(), key, cond)
	if err != nil {
		redisproblem.Write(r.Context(), w, err)
		return
	}
	switch res {
	case -1:
		writeProblem(w, http.StatusPreconditionFailed, "precondition-failed", "the key's ETag does not match If-Match")
	case 0:
		if cond.mode != "" {
			writeProblem(w, http.StatusPreconditionFailed, "precondition-failed", "the key does not exist")
			return
		}
		writeProblem(w, http.StatusNotFound, "not-found", "no such key")
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// writeTooLarge answers 413 for a value over limit bytes.
func writeTooLarge(w http.ResponseWriter, limit int64) {
	writeProblem(w, http.StatusRequestEntityTooLarge, "value-too-large", "the value is larger than "+strconv.FormatInt(limit, 10)+" bytes (CACHE_MAX_VALUE_BYTES)")
}

// parseCondition reads If-Match (one strong ETag, or *) and, for writes, If-None-Match: *.
func parseCondition(h http.Header, write bool) (condition, error) {
	im, inm := strings.TrimSpace(h.Get("If-Match")), strings.TrimSpace(h.Get("If-None-Match"))
	if im != "" && inm != "" {
		return condition{}, badInput(400, "invalid-precondition", "send If-Match or If-None-Match, not both")
	}
	if inm != "" {
		if !write || inm != "*" {
			return condition{}, badInput(400, "invalid-precondition", "on writes If-None-Match must be *")
		}
		return condition{mode: "nx"}, nil
	}
	if im == "" {
		return condition{}, nil
	}
	if im == "*" {
		if !write {
			return condition{}, badInput(400, "invalid-precondition", "If-Match on DELETE must be one ETag")
		}
		return condition{mode: "exists"}, nil
	}
	sum, ok := parseETag(im)
	if !ok {
		return condition{}, badInput(400, "invalid-precondition", "If-Match must be one strong ETag as returned by this API, or *")
	}
	return condition{mode: "match", sha1: sum}, nil
}

// parseETag returns the sha1 hex inside a strong ETag "\"<40 hex>\"".
func parseETag(v string) (string, bool) {
	inner, ok := strings.CutPrefix(v, `"`)
	if !ok {
		return "", false
	}
	inner, ok = strings.CutSuffix(inner, `"`)
	if !ok || len(inner) != 40 {
		return "", false
	}
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", false
		}
	}
	return inner, true
}

// etagListMatches reports whether an If-None-Match list names tag (weak comparison, or *).
func etagListMatches(list, tag string) bool {
	for v := range strings.SplitSeq(list, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == "*" || v == tag {
			return true
		}
	}
	return false
}

// readBody reads a request body of at most limit bytes, or answers 413 (too
// large), 400 (unreadable) or 411 (a body without a length that did not arrive)
// and reports false. With a Content-Length it reads into one buffer of that
// size: io.ReadAll grows its buffer by doubling, copying a 64 KiB value about
// five times.
//
// The Functions host forwards a body, and puts it in an invocation payload, only
// when the request has Content-Length > 0: a chunked body never reaches the
// handler. A request whose length is unknown (ContentLength -1: chunked, and in
// payload mode a Transfer-Encoding without Body) and whose body is empty is
// therefore refused rather than stored as an empty value; Content-Length: 0 is
// how a client writes an empty value.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	body := http.MaxBytesReader(w, r.Body, limit)
	var buf []byte
	var err error
	if r.ContentLength <= 0 || r.ContentLength > limit {
		buf, err = io.ReadAll(body)
	} else {
		buf = make([]byte, r.ContentLength)
		_, err = io.ReadFull(body, buf)
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		writeTooLarge(w, limit)
		return nil, false
	case err != nil:
		writeProblem(w, http.StatusBadRequest, "unreadable-body", "the request body could not be read")
		return nil, false
	case r.ContentLength < 0 && len(buf) == 0:
		writeProblem(w, http.StatusLengthRequired, "length-required",
			"the body was sent without a Content-Length (chunked) and did not arrive: the Functions host forwards a body only with Content-Length; send Content-Length, 0 for an empty value")
		return nil, false
	}
	return buf, true
}
