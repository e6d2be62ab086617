package cache

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/funcredis/funcredis/internal/redistest"
	"github.com/funcredis/funcredis/pool"
	"github.com/redis/go-redis/v9"
)

// fixture is the cache functions served on a mux like the forwarded routes, over a private Redis.
type fixture struct {
	srv *httptest.Server
	rdb *redis.Client
	cfg Config
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	rs := redistest.MustReal(t, redistest.Options{})
	p, err := pool.New(context.Background(), pool.Config{Addr: rs.Addr, Auth: pool.AuthNone, Cluster: pool.ClusterNone}, pool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	cfg := DefaultConfig()
	cfg.MaxValueBytes = 128
	cfg.MaxBatch = 3
	cfg.MaxTTL = time.Hour
	mux := http.NewServeMux()
	mux.Handle("/api/cache/{key...}", New(p.Client(), cfg)) // cache/{*key}
	mux.Handle("/api/cache/{key}/incr", NewIncr(p.Client(), cfg))
	mux.Handle("/api/cache-batch", NewBatch(p.Client(), cfg))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { rdb.Close() })
	return &fixture{srv: srv, rdb: rdb, cfg: cfg}
}

// do sends one request; hdr is "Name: value" pairs.
func (f *fixture) do(t *testing.T, method, path, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func problemType(t *testing.T, b []byte) string {
	t.Helper()
	var p struct{ Type string }
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("not a problem: %q", b)
	}
	return strings.TrimPrefix(p.Type, "urn:funcredis:problem:")
}

func TestPutGetDeleteRoundTrip(t *testing.T) {
	f := newFixture(t)
	val := "\x00\xffbinary"
	res, _ := f.do(t, "PUT", "/api/cache/k1?ttl=60", val, "Content-Type: image/png")
	if res.StatusCode != 201 || res.Header.Get("ETag") != etagOf([]byte(val)) {
		t.Fatalf("PUT: %d %q", res.StatusCode, res.Header.Get("ETag"))
	}
	// Other Redis clients see the raw bytes under the prefix.
	if got, _ := f.rdb.Get(context.Background(), "cache:k1").Result(); got != val {
		t.Fatalf("raw bytes in redis: %q", got)
	}
	res, b := f.do(t, "GET", "/api/cache/k1", "")
	if res.StatusCode != 200 || string(b) != val || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET: %d %q %q", res.StatusCode, b, res.Header.Get("Content-Type"))
	}
	if ttl := res.Header.Get(ttlHeader); ttl != "60" && ttl != "59" {
		t.Fatalf("TTL header %q", ttl)
	}
	res, b = f.do(t, "HEAD", "/api/cache/k1", "")
	if res.StatusCode != 200 || len(b) != 0 || res.Header.Get("ETag") == "" {
		t.Fatalf("HEAD: %d %q", res.StatusCode, b)
	}
	res, _ = f.do(t, "GET", "/api/cache/k1", "", "If-None-Match: "+etagOf([]byte(val)))
	if res.StatusCode != 304 {
		t.Fatalf("conditional GET: %d", res.StatusCode)
	}
	res, _ = f.do(t, "PUT", "/api/cache/k1", "v2")
	if res.StatusCode != 204 {
		t.Fatalf("replace: %d", res.StatusCode)
	}
	res, _ = f.do(t, "GET", "/api/cache/k1", "")
	if res.Header.Get("Content-Type") != "application/octet-stream" || res.Header.Get(ttlHeader) != "" {
		t.Fatalf("replace without type/ttl kept old metadata: %v", res.Header)
	}
	res, _ = f.do(t, "DELETE", "/api/cache/k1", "")
	if res.StatusCode != 204 {
		t.Fatalf("DELETE: %d", res.StatusCode)
	}
	res, b = f.do(t, "GET", "/api/cache/k1", "")
	if res.StatusCode != 404 || problemType(t, b) != "not-found" {
		t.Fatalf("GET after DELETE: %d %s", res.StatusCode, b)
	}
	if n, _ := f.rdb.Exists(context.Background(), "cache:k1", "{cache:k1}:ct").Result(); n != 0 {
		t.Fatalf("%d keys left after DELETE", n)
	}
}

func TestConditionalWrites(t *testing.T) {
	f := newFixture(t)
	res, _ := f.do(t, "PUT", "/api/cache/c", "a", "If-None-Match: *")
	if res.StatusCode != 201 {
		t.Fatalf("create-only on a new key: %d", res.StatusCode)
	}
	tagA := res.Header.Get("ETag")
	res, b := f.do(t, "PUT", "/api/cache/c", "b", "If-None-Match: *")
	if res.StatusCode != 412 || problemType(t, b) != "precondition-failed" {
		t.Fatalf("create-only on an existing key: %d", res.StatusCode)
	}
	res, _ = f.do(t, "PUT", "/api/cache/c", "b", "If-Match: "+tagA)
	if res.StatusCode != 204 {
		t.Fatalf("If-Match current: %d", res.StatusCode)
	}
	res, _ = f.do(t, "PUT", "/api/cache/c", "c", "If-Match: "+tagA)
	if res.StatusCode != 412 {
		t.Fatalf("If-Match stale: %d", res.StatusCode)
	}
	res, _ = f.do(t, "DELETE", "/api/cache/c", "", "If-Match: "+tagA)
	if res.StatusCode != 412 {
		t.Fatalf("DELETE If-Match stale: %d", res.StatusCode)
	}
	res, _ = f.do(t, "PUT", "/api/cache/nokey", "x", "If-Match: *")
	if res.StatusCode != 412 {
		t.Fatalf("If-Match * on a missing key: %d", res.StatusCode)
	}
	res, _ = f.do(t, "DELETE", "/api/cache/c", "", "If-Match: "+etagOf([]byte("b")))
	if res.StatusCode != 204 {
		t.Fatalf("DELETE If-Match current: %d", res.StatusCode)
	}
}

func TestCounterAndBatch(t *testing.T) {
	f := newFixture(t)
	for i, want := range []string{`"value":5`, `"value":3`} {
		by := []string{"5", "-2"}[i]
		res, b := f.do(t, "POST", "/api/cache/n/incr?by="+by, "")
		if res.StatusCode != 200 || !bytes.Contains(b, []byte(want)) {
			t.Fatalf("incr %s: %d %s", by, res.StatusCode, b)
		}
	}
	f.do(t, "PUT", "/api/cache/s", "text")
	res, b := f.do(t, "POST", "/api/cache/s/incr", "")
	if res.StatusCode != 409 || problemType(t, b) != "not-an-integer" {
		t.Fatalf("incr of text: %d %s", res.StatusCode, b)
	}
	res, b = f.do(t, "POST", "/api/cache-batch", `{"set":[{"key":"b1","value":"one","ttl":30,"content_type":"text/plain"},{"key":"b2","value":"two"}]}`)
	if res.StatusCode != 200 {
		t.Fatalf("batch set: %d %s", res.StatusCode, b)
	}
	res, b = f.do(t, "POST", "/api/cache-batch", `{"get":["b1","b2","missing"]}`)
	var out struct{ Items []batchItem }
	if err := json.Unmarshal(b, &out); err != nil || res.StatusCode != 200 || len(out.Items) != 3 {
		t.Fatalf("batch get: %d %s", res.StatusCode, b)
	}
	if it := out.Items[0]; it.Value != "one" || it.ContentType != "text/plain; charset=utf-8" && it.ContentType != "text/plain" || it.TTL < 29 {
		t.Fatalf("b1: %+v", it)
	}
	if out.Items[1].Value != "two" || out.Items[2].Found {
		t.Fatalf("items: %+v", out.Items)
	}
}

func TestBadInput(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("k", maxKeyBytes+1)
	cases := []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
		slug                     string
	}{
		{"long key", "GET", "/api/cache/" + long, "", nil, 400, "invalid-key"},
		{"space in key", "GET", "/api/cache/a%20b", "", nil, 400, "invalid-key"},
		{"brace in key", "PUT", "/api/cache/a%7Bb%7D", "x", nil, 400, "invalid-key"},
		{"non-ascii key", "GET", "/api/cache/%C3%A9", "", nil, 400, "invalid-key"},
		{"slash in key", "PUT", "/api/cache/a%2Fb", "x", nil, 400, "invalid-key"},
		{"slash in key, decoded", "PUT", "/api/cache/a/b", "x", nil, 400, "invalid-key"},
		{"no key", "GET", "/api/cache/", "", nil, 400, "invalid-key"},
		{"value too large", "PUT", "/api/cache/big", strings.Repeat("x", 129), nil, 413, "value-too-large"},
		{"ttl zero", "PUT", "/api/cache/t?ttl=0", "x", nil, 400, "invalid-ttl"},
		{"ttl too long", "PUT", "/api/cache/t?ttl=3601", "x", nil, 400, "invalid-ttl"},
		{"ttl not a number", "PUT", "/api/cache/t", "x", []string{ttlHeader + ": soon"}, 400, "invalid-ttl"},
		{"bad content type", "PUT", "/api/cache/t", "x", []string{"Content-Type: ;;"}, 415, "unsupported-media-type"},
		{"bad If-Match", "PUT", "/api/cache/t", "x", []string{"If-Match: W/\"x\""}, 400, "invalid-precondition"},
		{"wrong method", "POST", "/api/cache/t", "x", nil, 405, "method-not-allowed"},
		{"incr wrong method", "GET", "/api/cache/t/incr", "", nil, 405, "method-not-allowed"},
		{"incr bad by", "POST", "/api/cache/t/incr?by=1.5", "", nil, 400, "invalid-increment"},
		{"batch malformed", "POST", "/api/cache-batch", `{"get":[`, nil, 400, "malformed-json"},
		{"batch both", "POST", "/api/cache-batch", `{"get":["a"],"set":[{"key":"b","value":"c"}]}`, nil, 422, "invalid-batch"},
		{"batch too many", "POST", "/api/cache-batch", `{"get":["a","b","c","d"]}`, nil, 422, "too-many-keys"},
		{"batch duplicate", "POST", "/api/cache-batch", `{"get":["a","a"]}`, nil, 422, "duplicate-key"},
		{"batch bad key", "POST", "/api/cache-batch", `{"get":[""]}`, nil, 400, "invalid-key"},
		{"batch too large", "POST", "/api/cache-batch", `{"set":[{"key":"a","value":"` + strings.Repeat("x", 200) + `"}]}`, nil, 413, "value-too-large"},
		{"batch wrong method", "GET", "/api/cache-batch", "", nil, 405, "method-not-allowed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, b := f.do(t, c.method, c.path, c.body, c.hdr...)
			if res.StatusCode != c.status || problemType(t, b) != c.slug {
				t.Fatalf("got %d %s, want %d %s", res.StatusCode, b, c.status, c.slug)
			}
			if c.status == 405 && res.Header.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
		})
	}
}

// A client that sends a body without a length (chunked) through the Functions host loses it: the
// host forwards a body only with Content-Length > 0. An empty body of unknown length is refused
// with 411, never stored as an empty value; Content-Length: 0 is an empty value.
func TestBodyWithoutLength(t *testing.T) {
	f := newFixture(t)
	send := func(method, path, body string, chunked bool) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if chunked {
			req.TransferEncoding = []string{"chunked"}
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	for _, c := range []struct {
		name, method, path string
	}{{"PUT", "PUT", "/api/cache/chunky"}, {"batch", "POST", "/api/cache-batch"}} {
		res, b := send(c.method, c.path, "", true)
		var p struct{ Type, Detail string }
		_ = json.Unmarshal(b, &p)
		if res.StatusCode != http.StatusLengthRequired || p.Type != "urn:funcredis:problem:length-required" ||
			!strings.Contains(p.Detail, "Content-Length") || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s, chunked and empty: %d %s", c.name, res.StatusCode, b)
		}
	}
	if n, _ := f.rdb.Exists(context.Background(), "cache:chunky").Result(); n != 0 {
		t.Error("the refused PUT stored a value")
	}
	// A chunked body that does arrive (the host's proxying mode streams it) is stored.
	if res, _ := send("PUT", "/api/cache/streamed", "data", true); res.StatusCode != 201 {
		t.Errorf("chunked with a body: %d", res.StatusCode)
	}
	// Content-Length: 0 is an empty value.
	res, _ := send("PUT", "/api/cache/empty", "", false)
	if res.StatusCode != 201 || res.Header.Get("ETag") != etagOf(nil) {
		t.Errorf("Content-Length 0: %d %q", res.StatusCode, res.Header.Get("ETag"))
	}
	if got, err := f.rdb.Get(context.Background(), "cache:empty").Result(); err != nil || got != "" {
		t.Errorf("empty value in redis: %q %v", got, err)
	}
}

func TestRedisDownIs503(t *testing.T) {
	p, err := pool.New(context.Background(), pool.Config{Addr: "127.0.0.1:1", Auth: pool.AuthNone, Cluster: pool.ClusterNone, DialTimeout: 200 * time.Millisecond}, pool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	mux := http.NewServeMux()
	mux.Handle("/api/cache/{key...}", New(p.Client(), DefaultConfig()))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/cache/k", nil))
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || problemType(t, rec.Body.Bytes()) != "redis-unavailable" {
		t.Fatalf("got %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
}

// A server that forgot the scripts (restart, failover) still serves batches:
// the pipeline loads them on NOSCRIPT and runs once more.
func TestBatchAfterScriptFlush(t *testing.T) {
	f := newFixture(t)
	for _, body := range []string{`{"set":[{"key":"f1","value":"one"}]}`, `{"get":["f1"]}`} {
		if err := f.rdb.ScriptFlush(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
		res, b := f.do(t, "POST", "/api/cache-batch", body)
		if res.StatusCode != 200 || !bytes.Contains(b, []byte(`"f1"`)) {
			t.Fatalf("%s after SCRIPT FLUSH: %d %s", body, res.StatusCode, b)
		}
	}
}

// A refused key names its byte, so a client that sent %2F (served as '/' whether the host or
// Azure's front end decoded it) sees why.
func TestParseKeyNamesTheByte(t *testing.T) {
	for key, want := range map[string]string{
		"a/b":  `'/' at offset 1, which is not allowed (a %2F in the URL arrives decoded)`,
		"a b":  `' ' at offset 1`,
		"\xe9": `byte 0xE9 at offset 0`,
	} {
		_, err := parseKey(key)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseKey(%q) = %v, want it to say %s", key, err, want)
		}
	}
}

// The metadata key carries the ETag, expiry and content type, so a GET is one MGET; a value
// without it (written by another Redis client, or a content type alone as stored before) is
// still served, its ETag computed from the bytes and its TTL asked of Redis.
func TestMetadata(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res, _ := f.do(t, "PUT", "/api/cache/m?ttl=60", "5", "Content-Type: text/plain")
	tag := res.Header.Get("ETag")
	meta, err := f.rdb.Get(ctx, MetaKey("cache:", "m")).Result()
	if err != nil || !strings.HasPrefix(meta, tag+" ") || !strings.HasSuffix(meta, " text/plain") {
		t.Fatalf("metadata %q (%v), want the ETag %s first and the content type last", meta, err, tag)
	}
	if d := f.rdb.PTTL(ctx, MetaKey("cache:", "m")).Val(); d <= 0 || d > time.Minute {
		t.Errorf("metadata TTL %v, want the value's", d)
	}

	// A counter keeps its metadata current: the ETag is the new value's.
	f.do(t, "POST", "/api/cache/m/incr?by=2", "")
	res, b := f.do(t, "GET", "/api/cache/m", "")
	if string(b) != "7" || res.Header.Get("ETag") != etagOf([]byte("7")) || res.Header.Get("Content-Type") != "text/plain" ||
		res.Header.Get(ttlHeader) == "" {
		t.Errorf("after incr: %q %v", b, res.Header)
	}
	// A conditional write stores metadata as an unconditional one does.
	res, _ = f.do(t, "PUT", "/api/cache/m", "8", "If-Match: "+etagOf([]byte("7")), "Content-Type: text/csv")
	if res.StatusCode != 204 {
		t.Fatalf("If-Match PUT: %d", res.StatusCode)
	}
	res, b = f.do(t, "GET", "/api/cache/m", "")
	if string(b) != "8" || res.Header.Get("ETag") != etagOf([]byte("8")) || res.Header.Get("Content-Type") != "text/csv" ||
		res.Header.Get(ttlHeader) != "" {
		t.Errorf("after If-Match PUT: %q %v", b, res.Header)
	}

	for _, c := range []struct{ name, meta, wantCT string }{
		{"another client's value", "", "application/octet-stream"},
		{"a content type alone", "image/png", "image/png"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := f.rdb.Set(ctx, "cache:raw", "bytes", 30*time.Second).Err(); err != nil {
				t.Fatal(err)
			}
			f.rdb.Del(ctx, MetaKey("cache:", "raw"))
			if c.meta != "" {
				f.rdb.Set(ctx, MetaKey("cache:", "raw"), c.meta, 0)
			}
			res, b := f.do(t, "GET", "/api/cache/raw", "")
			if string(b) != "bytes" || res.Header.Get("ETag") != etagOf([]byte("bytes")) ||
				res.Header.Get("Content-Type") != c.wantCT || res.Header.Get(ttlHeader) != "30" {
				t.Errorf("GET: %q %v", b, res.Header)
			}
			res, b = f.do(t, "POST", "/api/cache-batch", `{"get":["raw","m"]}`)
			var out struct{ Items []batchItem }
			if err := json.Unmarshal(b, &out); err != nil || len(out.Items) != 2 {
				t.Fatalf("batch: %d %s", res.StatusCode, b)
			}
			if it := out.Items[0]; it.Value != "bytes" || it.ETag != etagOf([]byte("bytes")) || it.ContentType != c.meta || it.TTL != 30 {
				t.Errorf("batch item %+v", it)
			}
			if it := out.Items[1]; it.Value != "8" || it.ETag != etagOf([]byte("8")) || it.ContentType != "text/csv" {
				t.Errorf("batch item %+v", it)
			}
		})
	}
}

// A counter beyond 2^53 comes back exact (the script returns text, not a Lua number), and an
// overflow is a 409 as INCRBY's own error.
func TestCounterLimits(t *testing.T) {
	f := newFixture(t)
	f.do(t, "PUT", "/api/cache/big", "9007199254740993")
	res, b := f.do(t, "POST", "/api/cache/big/incr", "")
	if res.StatusCode != 200 || !bytes.Contains(b, []byte(`"value":9007199254740994`)) {
		t.Errorf("incr beyond 2^53: %d %s", res.StatusCode, b)
	}
	f.do(t, "PUT", "/api/cache/max", "9223372036854775807")
	res, b = f.do(t, "POST", "/api/cache/max/incr", "")
	if res.StatusCode != 409 || problemType(t, b) != "not-an-integer" {
		t.Errorf("overflow: %d %s", res.StatusCode, b)
	}
}
