package cache

import (
	"errors"
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
