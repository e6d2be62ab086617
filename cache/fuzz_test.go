package cache

import (
	"errors"
	"mime"
	"testing"
	"time"
)

// FuzzParseKey checks that an accepted key is bounded, holds only allowed bytes, and can never
// name a cluster hash tag; and that every refusal is a client-input error.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"", "a", "user:42", "a b", "{tag}", "é", "a/b", "%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := parseKey(s)
		if err != nil {
			if !errors.Is(err, errInput) {
				t.Fatalf("error of no input class: %v", err)
			}
			return
		}
		if k != s || len(k) == 0 || len(k) > maxKeyBytes {
			t.Fatalf("accepted %q", s)
		}
		for i := 0; i < len(k); i++ {
			if !keyByteAllowed(k[i]) || k[i] == '{' || k[i] == '}' {
				t.Fatalf("accepted byte %q", k[i])
			}
		}
	})
}

// FuzzParseTTL checks that an accepted TTL is 0 (none) or whole seconds within the maximum.
func FuzzParseTTL(f *testing.F) {
	for _, s := range []string{"", "0", "1", "-1", "2592000", "2592001", "1e3", "99999999999999999999"} {
		f.Add(s)
	}
	maxTTL := 30 * 24 * time.Hour
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseTTL(s, maxTTL)
		if err != nil {
			if !errors.Is(err, errInput) {
				t.Fatalf("error of no input class: %v", err)
			}
			return
		}
		if d < 0 || d > maxTTL || d%time.Second != 0 || (s != "" && d == 0) {
			t.Fatalf("parseTTL(%q) = %v", s, d)
		}
	})
}

// FuzzParseBatch checks that an accepted batch respects every bound it promises.
func FuzzParseBatch(f *testing.F) {
	for _, s := range []string{`{"get":["a","b"]}`, `{"set":[{"key":"a","value":"v","ttl":5}]}`, `{"get":[]}`,
		`{"get":["a","a"]}`, `[]`, `null`, `{"set":[{"key":"a","value":"v","ttl":-1}]}`, `{"get":["a"],"set":[]}`} {
		f.Add([]byte(s))
	}
	const maxBatch, maxValue = 4, 16
	maxTTL := time.Hour
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseBatch(body, maxBatch, maxTTL, maxValue)
		if err != nil {
			if !errors.Is(err, errInput) {
				t.Fatalf("error of no input class: %v", err)
			}
			return
		}
		n := len(req.Get) + len(req.Set)
		if n == 0 || n > maxBatch || (len(req.Get) > 0 && len(req.Set) > 0) {
			t.Fatalf("accepted %d get, %d set", len(req.Get), len(req.Set))
		}
		seen := map[string]bool{}
		keys := append([]string(nil), req.Get...)
		for _, s := range req.Set {
			keys = append(keys, s.Key)
			if s.TTL < 0 || s.TTL > int64(maxTTL/time.Second) || len(s.Value) > maxValue {
				t.Fatalf("accepted %+v", s)
			}
		}
		for _, k := range keys {
			if _, err := parseKey(k); err != nil || seen[k] {
				t.Fatalf("accepted key %q", k)
			}
			seen[k] = true
		}
	})
}

// FuzzParseContentType checks that the shortcut for plain media types answers what the full
// parse would.
func FuzzParseContentType(f *testing.F) {
	for _, s := range []string{"text/plain", "Text/Plain", "application/octet-stream", "a/b/c", "/", "text/",
		"text/plain; charset=utf-8", "x/y+z", "a/ b", "é/x", ";;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseContentType(s)
		mt, params, werr := mime.ParseMediaType(s)
		want := ""
		if werr == nil {
			want = mime.FormatMediaType(mt, params)
		}
		if (err == nil) != (werr == nil) || got != want {
			t.Fatalf("parseContentType(%q) = %q, %v; the full parse gives %q, %v", s, got, err, want, werr)
		}
	})
}

// FuzzParseMeta checks that metadata reads back as written, and that a content type alone (the
// layout before metadata carried the ETag) is never taken for metadata.
func FuzzParseMeta(f *testing.F) {
	f.Add([]byte("v"), "text/plain", int64(0), "text/plain")
	f.Add([]byte{}, "", int64(90_000), "application/octet-stream")
	f.Fuzz(func(t *testing.T, value []byte, ct string, ttlMs int64, legacy string) {
		now := time.UnixMilli(1_800_000_000_000)
		e := newEntry(value, ct, time.Duration(ttlMs%(1<<40))*time.Millisecond)
		etag, expires, gotCT, ok := parseMeta(e.meta(now))
		if !ok || etag != etagOf(value) || gotCT != ct || (e.ttl > 0) != (expires > 0) ||
			(e.ttl > 0 && expires != now.Add(e.ttl).UnixMilli()) {
			t.Fatalf("meta %q read back as %q %d %q %v", e.meta(now), etag, expires, gotCT, ok)
		}
		if _, err := parseContentType(legacy); err == nil {
			if _, _, _, ok := parseMeta(legacy); ok {
				t.Fatalf("content type %q parsed as metadata", legacy)
			}
		}
	})
}
