package cache

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// putScript stores a value and its metadata atomically when a condition holds. KEYS: value,
// metadata. ARGV: value, metadata, ttl in ms (0: none), condition ("", "nx", "exists", "match"),
// expected sha1 for "match". Returns 0 when the condition failed, 1 when the key was created and
// 2 when it was replaced. "match" hashes the current bytes rather than trusting the stored ETag,
// so a value another client rewrote never passes for the one the caller read.
var putScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local cond = ARGV[4]
if cond == 'nx' and cur then return 0 end
if cond == 'exists' and not cur then return 0 end
if cond == 'match' and (not cur or redis.sha1hex(cur) ~= ARGV[5]) then return 0 end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('SET', KEYS[2], ARGV[2])
end
if cur then return 2 end
return 1
`)

// deleteScript deletes a value and its metadata. ARGV: condition ("" or "match"), expected
// sha1. Returns -1 when the condition failed, 0 when there was no key, 1 when it was deleted.
var deleteScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
if ARGV[1] == 'match' and redis.sha1hex(cur) ~= ARGV[2] then return -1 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
`)

// incrScript adds ARGV[1] to the counter at KEYS[1] and, when KEYS[2] holds metadata of this
// layout, puts the new value's ETag in it (keeping expiry and content type). It returns the new
// value as text: a Lua number would round integers beyond 2^53.
var incrScript = redis.NewScript(`
redis.call('INCRBY', KEYS[1], ARGV[1])
local v = redis.call('GET', KEYS[1])
local m = redis.call('GET', KEYS[2])
if m and string.sub(m, 1, 1) == '"' then
  redis.call('SET', KEYS[2], '"' .. redis.sha1hex(v) .. string.sub(m, 42), 'KEEPTTL')
end
return v
`)

// store is the Redis side of the cache functions.
type store struct {
	rdb    redis.UniversalClient
	prefix string
}

// ValueKey is the Redis key that holds key's bytes under prefix (CACHE_KEY_PREFIX): the layout
// any other Redis client reads (see the package documentation).
func ValueKey(prefix, key string) string { return prefix + key }

// MetaKey is the Redis key that holds the metadata of key's value under prefix (ETag, expiry,
// content type), in ValueKey's cluster slot.
func MetaKey(prefix, key string) string { return "{" + prefix + key + "}:ct" }

// keys are the two Redis keys of one cache key.
type keys struct{ value, meta string }

// keysOf returns key's Redis keys, both in one allocation: the value key is the inside of the
// metadata key's hash tag.
func (s *store) keysOf(key string) keys {
	m := MetaKey(s.prefix, key)
	return keys{value: m[1 : len(m)-len("}:ct")], meta: m}
}

// entry is a value to store.
type entry struct {
	value       []byte
	etag        string // etagOf(value)
	contentType string
	ttl         time.Duration // 0: no expiry
}

// newEntry returns the entry of value, with its ETag.
func newEntry(value []byte, contentType string, ttl time.Duration) entry {
	return entry{value: value, etag: etagOf(value), contentType: contentType, ttl: ttl}
}

// meta is e's metadata as stored, written at now: `"<sha1 hex>" <expiry, Unix ms; 0: none>
// <content type>`.
func (e entry) meta(now time.Time) string {
	var expires int64
	if e.ttl > 0 {
		expires = now.Add(e.ttl).UnixMilli()
	}
	var b strings.Builder
	b.Grow(len(e.etag) + 15 + len(e.contentType))
	b.WriteString(e.etag)
	b.WriteByte(' ')
	b.WriteString(strconv.FormatInt(expires, 10))
	b.WriteByte(' ')
	b.WriteString(e.contentType)
	return b.String()
}

// stored is a value as read, with its metadata.
type stored struct {
	value       string
	etag        string // quoted, as the ETag header carries it
	contentType string // "" when none was stored
	ttl         time.Duration
}

// etagOf is the strong validator of value: its SHA-1 in hex, quoted.
func etagOf(value []byte) string {
	sum := sha1.Sum(value)
	var b [2 + 2*sha1.Size]byte
	b[0], b[len(b)-1] = '"', '"'
	hex.Encode(b[1:], sum[:])
	return string(b[:])
}

// get reads a key; ok is false when it does not exist. One MGET of the value and its metadata
// is one round trip and one atomic snapshot; BenchmarkReadShape compares it with the
// alternatives. A value whose metadata is not of this layout costs a second round trip (PTTL).
func (s *store) get(ctx context.Context, key string) (stored, bool, error) {
	k := s.keysOf(key)
	vals, err := s.rdb.MGet(ctx, k.value, k.meta).Result()
	if err != nil {
		return stored{}, false, err
	}
	st, ok, needTTL := fromReplies(vals[0], vals[1], time.Now())
	if needTTL {
		d, err := s.rdb.PTTL(ctx, k.value).Result()
		if err != nil {
			return stored{}, false, err
		}
		st.ttl = max(d, 0)
	}
	return st, ok, nil
}

// fromReplies builds what MGET of a value and its metadata answered, read at now. needTTL is
// true when the metadata is not of this layout (the value was written by another client, or by
// an earlier version that stored only a content type): the ETag is then computed from the
// bytes, and the TTL has to be asked for (fillTTL).
func fromReplies(v, m any, now time.Time) (st stored, ok, needTTL bool) {
	val, ok := v.(string)
	if !ok {
		return st, false, false
	}
	md, _ := m.(string)
	st.value = val
	if etag, expires, ct, ok := parseMeta(md); ok {
		st.etag, st.contentType = etag, ct
		if expires > 0 {
			st.ttl = max(time.UnixMilli(expires).Sub(now), time.Millisecond)
		}
		return st, true, false
	}
	st.etag, st.contentType = etagOf([]byte(val)), md
	return st, true, true
}

// parseMeta splits metadata written by entry.meta; ok is false for anything else.
func parseMeta(m string) (etag string, expires int64, contentType string, ok bool) {
	const n = 2 + 2*sha1.Size
	if len(m) < n+3 || m[0] != '"' || m[n-1] != '"' || m[n] != ' ' {
		return "", 0, "", false
	}
	num, ct, found := strings.Cut(m[n+1:], " ")
	expires, err := strconv.ParseInt(num, 10, 64)
	if !found || err != nil {
		return "", 0, "", false
	}
	return m[:n], expires, ct, true
}

// fillTTL asks Redis, in one round trip, for the TTL of values whose metadata did not carry it.
func (s *store) fillTTL(ctx context.Context, ks []keys, sts []*stored) error {
	cmds := make([]*redis.DurationCmd, len(ks))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range ks {
			cmds[i] = p.PTTL(ctx, k.value)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, c := range cmds {
		sts[i].ttl = max(c.Val(), 0)
	}
	return nil
}

// condition is a write precondition.
type condition struct {
	mode string // "", "nx", "exists" or "match"
	sha1 string // for "match": the hex digest inside the ETag
}

// put writes a key; it returns 0 (condition failed), 1 (created) or 2
// (replaced). A conditional write runs putScript, which must read the value
// to check it; an unconditional one is a MULTI (set), which does not copy the
// value through Lua (BenchmarkWriteShape).
func (s *store) put(ctx context.Context, key string, e entry, c condition) (int64, error) {
	k := s.keysOf(key)
	if c.mode != "" {
		return putScript.Run(ctx, s.rdb, []string{k.value, k.meta},
			e.value, e.meta(time.Now()), e.ttl.Milliseconds(), c.mode, c.sha1).Int64()
	}
	var existed *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		existed = set(ctx, p, k, e, time.Now())
		return nil
	})
	if err != nil {
		return 0, err
	}
	return 1 + min(existed.Val(), 1), nil
}

// set queues the unconditional write of e at k on p: EXISTS, then the value and its metadata
// with the same expiry — without one, both in one MSET, which like SET clears an old expiry (one
// command less through the proxy and Redis: 3-5 % more PUTs per second at concurrency 50 under
// wrk). The EXISTS reply says whether the key was replaced.
func set(ctx context.Context, p redis.Pipeliner, k keys, e entry, now time.Time) *redis.IntCmd {
	existed := p.Exists(ctx, k.value)
	if e.ttl == 0 {
		p.MSet(ctx, k.value, e.value, k.meta, e.meta(now))
		return existed
	}
	p.Set(ctx, k.value, e.value, e.ttl)
	p.Set(ctx, k.meta, e.meta(now), e.ttl)
	return existed
}

// setAll writes entries unconditionally, each value with its metadata
// atomically (MULTI; a cluster client runs one MULTI per slot), and reports
// which keys were created.
func (s *store) setAll(ctx context.Context, names []string, entries []entry) ([]bool, error) {
	existed := make([]*redis.IntCmd, len(names))
	now := time.Now()
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for i, name := range names {
			existed[i] = set(ctx, p, s.keysOf(name), entries[i], now)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	created := make([]bool, len(names))
	for i, c := range existed {
		created[i] = c.Val() == 0
	}
	return created, nil
}

// del runs deleteScript; it returns -1 (condition failed), 0 (no key) or 1 (deleted).
func (s *store) del(ctx context.Context, key string, c condition) (int64, error) {
	k := s.keysOf(key)
	return deleteScript.Run(ctx, s.rdb, []string{k.value, k.meta}, c.mode, c.sha1).Int64()
}

// incr adds by to the counter at key and returns its new value.
func (s *store) incr(ctx context.Context, key string, by int64) (int64, error) {
	k := s.keysOf(key)
	v, err := incrScript.Run(ctx, s.rdb, []string{k.value, k.meta}, by).Text()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cache: counter after INCRBY: %w", err)
	}
	return n, nil
}

// parseContentType validates a media type and returns it in canonical form. A plain
// "type/subtype" in lower case without parameters is already canonical and is returned as is,
// without the allocations of a full parse.
func parseContentType(v string) (string, error) {
	if canonicalMediaType(v) {
		return v, nil
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil {
		return "", err
	}
	return mime.FormatMediaType(mt, params), nil
}

// canonicalMediaType reports whether v is "type/subtype" of lower-case token characters, which
// mime.FormatMediaType would return unchanged.
func canonicalMediaType(v string) bool {
	typ, sub, ok := strings.Cut(v, "/")
	return ok && lowerToken(typ) && lowerToken(sub)
}

// lowerToken reports whether s is a non-empty RFC 7230 token without upper-case letters.
func lowerToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
