package cache

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/funcredis/funcredis/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// BenchmarkReadShape compares ways to read a value with its ETag, content type and TTL in one
// round trip: the layout's MGET of the value and its metadata; the layout before it (MULTI GET
// value, GET content type, PTTL, EXEC, and the ETag hashed on every read); and a plain GET, the
// floor. Each runs sequentially (latency) and from 25 goroutines per CPU (throughput, where
// every command and allocation costs). On the 2-core VM, loopback, medians of 5, µs per read
// sequential / parallel: 16 B get 54 / 22, mget 57 / 23, multi+sha1 58 / 24; 64 KiB get
// 104 / 74, mget 105 / 84, multi+sha1 227 / 156. Allocations: get 7, mget 14, multi+sha1 33.
func BenchmarkReadShape(b *testing.B) {
	srv := redistest.Must(b, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	ctx := context.Background()
	st := &store{rdb: rdb, prefix: "cache:"}
	for _, size := range []int{16, 64 << 10} {
		k := st.keysOf("k")
		value := []byte(strings.Repeat("x", size))
		if _, err := st.put(ctx, "k", newEntry(value, "text/plain", 0), condition{}); err != nil {
			b.Fatal(err)
		}
		shapes := []struct {
			name string
			read func()
		}{
			{"mget", func() { _, _, _ = st.get(ctx, "k") }},
			{"multi+sha1", func() {
				var v *redis.StringCmd
				_, _ = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
					v = p.Get(ctx, k.value)
					p.Get(ctx, k.meta)
					p.PTTL(ctx, k.value)
					return nil
				})
				_ = etagOf([]byte(v.Val()))
			}},
			{"get", func() { rdb.Get(ctx, k.value) }},
		}
		for _, s := range shapes {
			runShape(b, s.name+"/"+sizeName(size), s.read)
		}
	}
}

// BenchmarkWriteShape compares an unconditional PUT without TTL as the MULTI the store sends
// (EXISTS, MSET value and metadata), as putScript (which copies the value through Lua), and a
// plain SET. Same machine, µs per write sequential / parallel: 16 B set 57 / 22, multi 59 / 25,
// lua 70 / 25; 64 KiB set 81 / 40, multi 87 / 43, lua 251 / 191. Allocations: set 8, multi 35,
// lua 14.
func BenchmarkWriteShape(b *testing.B) {
	srv := redistest.Must(b, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	ctx := context.Background()
	st := &store{rdb: rdb, prefix: "cache:"}
	for _, size := range []int{16, 64 << 10} {
		e := newEntry([]byte(strings.Repeat("x", size)), "text/plain", 0)
		k := st.keysOf("w")
		shapes := []struct {
			name  string
			write func()
		}{
			{"multi", func() { _, _ = st.put(ctx, "w", e, condition{}) }},
			{"lua", func() { putScript.Run(ctx, rdb, []string{k.value, k.meta}, e.value, e.meta(time.Now()), 0, "", "") }},
			{"set", func() { rdb.Set(ctx, k.value, e.value, 0) }},
		}
		for _, s := range shapes {
			runShape(b, s.name+"/"+sizeName(size), s.write)
		}
	}
}

// runShape runs op sequentially and in parallel, as sub-benchmarks of b named name.
func runShape(b *testing.B, name string, op func()) {
	b.Run("seq/"+name, func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			op()
		}
	})
	b.Run("par/"+name, func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(25)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				op()
			}
		})
	})
}

// sizeName names a value size in a sub-benchmark.
func sizeName(n int) string {
	if n < 1<<10 {
		return "16B"
	}
	return "64KiB"
}
