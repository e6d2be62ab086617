package cache

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"mime"
	"time"

	"github.com/redis/go-redis/v9"
)

// putScript stores a value and its content type atomically. KEYS: value, content type.
// ARGV: value, content type ("" removes it), ttl in ms (0: none), condition ("", "nx", "exists",
// "match"), expected sha1 for "match". Returns 0 when the condition failed, 1 when the key was
// created and 2 when it was replaced.
var putScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local cond = ARGV[4]
if cond == 'nx' and cur then return 0 end
if cond == 'exists' and not cur then return 0 end
if cond == 'match' and (not cur or redis.sha1hex(cur) ~= ARGV[5]) then return 0 end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
if ARGV[2] ~= '' then
  if ttl > 0 then redis.call('SET', KEYS[2], ARGV[2], 'PX', ttl) else redis.call('SET', KEYS[2], ARGV[2]) end
else
  redis.call('DEL', KEYS[2])
end
if cur then return 2 end
return 1
`)

// deleteScript deletes a value and its content type. ARGV: condition ("" or "match"), expected
// sha1. Returns -1 when the condition failed, 0 when there was no key, 1 when it was deleted.
var deleteScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
if ARGV[1] == 'match' and redis.sha1hex(cur) ~= ARGV[2] then return -1 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
`)

// store is the Redis side of the cache functions.
type store struct {
	rdb    redis.UniversalClient
	prefix string
}

// ValueKey is the Redis key that holds key's bytes under prefix (CACHE_KEY_PREFIX): the layout
// any other Redis client reads (see the package documentation).
func ValueKey(prefix, key string) string { return prefix + key }

// TypeKey is the Redis key that holds key's content type under prefix, in ValueKey's cluster
// slot.
func TypeKey(prefix, key string) string { return "{" + prefix + key + "}:ct" }

// valueKey is where a key's bytes live.
func (s *store) valueKey(key string) string { return ValueKey(s.prefix, key) }

// typeKey is where a key's content type lives.
func (s *store) typeKey(key string) string { return TypeKey(s.prefix, key) }

// entry is one stored value.
type entry struct {
	value       []byte
	contentType string
	ttl         time.Duration // 0: no expiry
}

// etag is the strong validator of value.
func etag(value []byte) string {
	sum := sha1.Sum(value)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// get reads a key; ok is false when it does not exist. MULTI/EXEC gives one
// consistent snapshot in one round trip; BenchmarkReadShape shows it costs as
// much as a plain GET, where a Lua script copying the value costs up to 1.8×.
func (s *store) get(ctx context.Context, key string) (e entry, ok bool, err error) {
	var val *redis.StringCmd
	var ct *redis.StringCmd
	var ttl *redis.DurationCmd
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		val = p.Get(ctx, s.valueKey(key))
		ct = p.Get(ctx, s.typeKey(key))
		ttl = p.PTTL(ctx, s.valueKey(key))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return e, false, err
	}
	return entryFrom(val, ct, ttl)
}

// entryFrom builds an entry from the replies of GET value, GET type and PTTL.
func entryFrom(val, ct *redis.StringCmd, ttl *redis.DurationCmd) (entry, bool, error) {
	b, err := val.Bytes()
	if errors.Is(err, redis.Nil) {
		return entry{}, false, nil
	}
	if err != nil {
		return entry{}, false, err
	}
	e := entry{value: b, contentType: ct.Val()}
	if d := ttl.Val(); d > 0 {
		e.ttl = d
	}
	return e, true, nil
}

// condition is a write precondition.
type condition struct {
	mode string // "", "nx", "exists" or "match"
	sha1 string // for "match": the hex digest inside the ETag
}

// put writes a key; it returns 0 (condition failed), 1 (created) or 2
// (replaced). A conditional write runs putScript, which must read the value
// to check it; an unconditional one is a MULTI, which does not copy the value
// through Lua (3× faster at 64 KiB, BenchmarkWriteShape).
func (s *store) put(ctx context.Context, key string, e entry, c condition) (int64, error) {
	if c.mode == "" {
		created, err := s.setAll(ctx, []string{key}, []entry{e})
		if err != nil {
			return 0, err
		}
		if created[0] {
			return 1, nil
		}
		return 2, nil
	}
	return putScript.Run(ctx, s.rdb, []string{s.valueKey(key), s.typeKey(key)},
		e.value, e.contentType, e.ttl.Milliseconds(), c.mode, c.sha1).Int64()
}

// setAll writes entries unconditionally, each value with its content type
// atomically (MULTI; a cluster client runs one MULTI per slot), and reports
// which keys were created.
func (s *store) setAll(ctx context.Context, keys []string, entries []entry) ([]bool, error) {
	existed := make([]*redis.IntCmd, len(keys))
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for i, key := range keys {
			e := entries[i]
			existed[i] = p.Exists(ctx, s.valueKey(key))
			p.Set(ctx, s.valueKey(key), e.value, e.ttl)
			if e.contentType != "" {
				p.Set(ctx, s.typeKey(key), e.contentType, e.ttl)
			} else {
				p.Del(ctx, s.typeKey(key))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	created := make([]bool, len(keys))
	for i, c := range existed {
		created[i] = c.Val() == 0
	}
	return created, nil
}

// del runs deleteScript; it returns -1 (condition failed), 0 (no key) or 1 (deleted).
func (s *store) del(ctx context.Context, key string, c condition) (int64, error) {
	return deleteScript.Run(ctx, s.rdb, []string{s.valueKey(key), s.typeKey(key)}, c.mode, c.sha1).Int64()
}

// parseContentType validates a media type and returns it in canonical form.
func parseContentType(v string) (string, error) {
	mt, params, err := mime.ParseMediaType(v)
	if err != nil {
		return "", err
	}
	return mime.FormatMediaType(mt, params), nil
}
