package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// errInput is the class of every client-input error of this package's parsers.
var errInput = errors.New("invalid input")

// inputError is a bad-input failure with the problem it answers.
type inputError struct {
	status int
	slug   string
	detail string
}

func (e *inputError) Error() string { return e.slug + ": " + e.detail }

func (e *inputError) Unwrap() error { return errInput }

func badInput(status int, slug, format string, args ...any) error {
	return &inputError{status: status, slug: slug, detail: fmt.Sprintf(format, args...)}
}

// keyByteAllowed reports whether b may appear in a key: ASCII letters, digits and -._~:@+=,!
// Everything else (space, control bytes, non-ASCII, '/', '%', '{', '}', '*', '?') is refused.
func keyByteAllowed(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	switch b {
	case '-', '.', '_', '~', ':', '@', '+', '=', ',', '!':
		return true
	}
	return false
}

// parseKey validates a client key: 1..maxKeyBytes bytes, each allowed by keyByteAllowed.
func parseKey(key string) (string, error) {
	if key == "" {
		return "", badInput(400, "invalid-key", "the key is empty")
	}
	if len(key) > maxKeyBytes {
		return "", badInput(400, "invalid-key", "the key is %d bytes; at most %d are allowed", len(key), maxKeyBytes)
	}
	for i := 0; i < len(key); i++ {
		if !keyByteAllowed(key[i]) {
			return "", badInput(400, "invalid-key", "the key has %s at offset %d, which is not allowed%s; use letters, digits and -._~:@+=,!",
				describeByte(key[i]), i, slashNote(key[i]))
		}
	}
	return key, nil
}

// describeByte names a key byte for a problem detail: quoted when printable ASCII, else as hex.
func describeByte(b byte) string {
	if b >= ' ' && b < 0x7f {
		return strconv.QuoteRune(rune(b))
	}
	return fmt.Sprintf("byte 0x%02X", b)
}

// slashNote explains where a '/' in a key comes from: a %2F in the URL, which the route hands
// over decoded.
func slashNote(b byte) string {
	if b == '/' {
		return " (a %2F in the URL arrives decoded)"
	}
	return ""
}

// parseTTL parses a TTL in whole seconds. "" means no expiry (0); otherwise 1..maxTTL.
func parseTTL(s string, maxTTL time.Duration) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	maxSec := int64(maxTTL / time.Second)
	if err != nil || n < 1 || n > maxSec {
		return 0, badInput(400, "invalid-ttl", "ttl must be whole seconds from 1 to %d", maxSec)
	}
	return time.Duration(n) * time.Second, nil
}

// parseIncrement parses the by= of a counter increment: a 64-bit integer, default 1.
func parseIncrement(s string) (int64, error) {
	if s == "" {
		return 1, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, badInput(400, "invalid-increment", "by must be a 64-bit integer")
	}
	return n, nil
}

// batchRequest is the body of POST /api/cache-batch: exactly one of Get and Set.
type batchRequest struct {
	Get []string   `json:"get,omitempty"`
	Set []batchSet `json:"set,omitempty"`
}

// batchSet is one key to store in a batch.
type batchSet struct {
	Key         string `json:"key"`
	Value       string `json:"value"`
	TTL         int64  `json:"ttl,omitempty"`
	ContentType string `json:"content_type,omitempty"`
}

// parseBatch decodes and validates a batch request body: well-formed JSON with exactly one of
// get and set, 1..maxBatch distinct valid keys, TTLs in range and values of at most maxValue
// bytes.
func parseBatch(body []byte, maxBatch int, maxTTL time.Duration, maxValue int64) (batchRequest, error) {
	var req batchRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return req, badInput(400, "malformed-json", "the body is not a JSON object of the form {\"get\":[…]} or {\"set\":[…]}")
	}
	if (len(req.Get) > 0) == (len(req.Set) > 0) {
		return req, badInput(422, "invalid-batch", "give exactly one non-empty list: get or set")
	}
	n := len(req.Get) + len(req.Set)
	if n > maxBatch {
		return req, badInput(422, "too-many-keys", "%d keys in one batch; at most %d are allowed", n, maxBatch)
	}
	seen := make(map[string]bool, n)
	check := func(i int, key string) error {
		if _, err := parseKey(key); err != nil {
			var ie *inputError
			errors.As(err, &ie)
			return badInput(400, "invalid-key", "item %d: %s", i, ie.detail)
		}
		if seen[key] {
			return badInput(422, "duplicate-key", "item %d repeats a key", i)
		}
		seen[key] = true
		return nil
	}
	for i, k := range req.Get {
		if err := check(i, k); err != nil {
			return req, err
		}
	}
	maxSec := int64(maxTTL / time.Second)
	for i, s := range req.Set {
		if err := check(i, s.Key); err != nil {
			return req, err
		}
		if s.TTL < 0 || s.TTL > maxSec {
			return req, badInput(400, "invalid-ttl", "item %d: ttl must be whole seconds from 1 to %d, or 0 for none", i, maxSec)
		}
		if int64(len(s.Value)) > maxValue {
			return req, badInput(413, "value-too-large", "item %d: the value is larger than %d bytes", i, maxValue)
		}
		if s.ContentType != "" {
			if _, err := parseContentType(s.ContentType); err != nil {
				return req, badInput(415, "unsupported-media-type", "item %d: content_type is not a valid media type", i)
			}
		}
	}
	return req, nil
}
