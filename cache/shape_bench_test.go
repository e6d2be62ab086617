package cache

import (
	"context"
	"strings"
	"testing"

	"github.com/funcredis/funcredis/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// readScript reads value, content type and TTL atomically in Lua: the
// alternative to MULTI that BenchmarkReadShape measures.
var readScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return false end
return {v, redis.call('GET', KEYS[2]), redis.call('PTTL', KEYS[1])}
`)

// BenchmarkReadShape compares ways to read value, content type and TTL in one
// round trip (measured on the 2-core VM, loopback: multi ≈ pipeline ≈ a plain
// GET for 16 B and 64 KiB; lua 1.1× for 16 B and 1.8× for 64 KiB).
func BenchmarkReadShape(b *testing.B) {
	srv := redistest.Must(b, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	ctx := context.Background()
	for _, size := range []int{16, 64 << 10} {
		key, ct := "cache:k", "{cache:k}:ct"
		rdb.Set(ctx, key, strings.Repeat("x", size), 0)
		rdb.Set(ctx, ct, "text/plain", 0)
		name := map[int]string{16: "16B", 64 << 10: "64KiB"}[size]
		b.Run("multi/"+name, func(b *testing.B) {
			for b.Loop() {
				rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Get(ctx, key)
					p.Get(ctx, ct)
					p.PTTL(ctx, key)
					return nil
				})
			}
		})
		b.Run("lua/"+name, func(b *testing.B) {
			for b.Loop() {
				readScript.Run(ctx, rdb, []string{key, ct})
			}
		})
		b.Run("pipeline/"+name, func(b *testing.B) {
			for b.Loop() {
				rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
					p.Get(ctx, key)
					p.Get(ctx, ct)
					p.PTTL(ctx, key)
					return nil
				})
			}
		})
		b.Run("get/"+name, func(b *testing.B) {
			for b.Loop() {
				rdb.Get(ctx, key)
			}
		})
	}
}

// BenchmarkWriteShape compares an unconditional PUT as the put script and as
// MULTI EXISTS, SET, SET (value and content type).
func BenchmarkWriteShape(b *testing.B) {
	srv := redistest.Must(b, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	ctx := context.Background()
	for _, size := range []int{16, 64 << 10} {
		val := strings.Repeat("x", size)
		key, ct := "cache:w", "{cache:w}:ct"
		name := map[int]string{16: "16B", 64 << 10: "64KiB"}[size]
		b.Run("lua/"+name, func(b *testing.B) {
			for b.Loop() {
				putScript.Run(ctx, rdb, []string{key, ct}, val, "text/plain", 0, "", "")
			}
		})
		b.Run("multi/"+name, func(b *testing.B) {
			for b.Loop() {
				rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Exists(ctx, key)
					p.Set(ctx, key, val, 0)
					p.Set(ctx, ct, "text/plain", 0)
					return nil
				})
			}
		})
	}
}
