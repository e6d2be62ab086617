package e2e

import (
	"context"
	"fmt"
	"io"
	"sort"
	"testing"
	"time"
)

// BenchmarkWarmGet compares a warm GET through the host emulator and bin/handler (forwarded
// mode, over the TLS gateway), the same GET sent straight to the handler's port (no host hop),
// and a direct go-redis GET through the same gateway, and reports the p50 of each.
func BenchmarkWarmGet(b *testing.B) {
	b.Run("handler", func(b *testing.B) {
		a := startApp(b, true)
		a.do(b, "PUT", "/api/cache/bench", "hello")
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for b.Loop() {
			t0 := time.Now()
			res, _ := a.do(b, "GET", "/api/cache/bench", "")
			lat = append(lat, time.Since(t0))
			if res.StatusCode != 200 {
				b.Fatal(res.StatusCode)
			}
		}
		reportP50(b, lat)
	})
	b.Run("handler-port", func(b *testing.B) {
		a := startApp(b, true)
		a.do(b, "PUT", "/api/cache/bench", "hello")
		url := fmt.Sprintf("http://127.0.0.1:%d/api/cache/bench", a.h.HandlerPort())
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for b.Loop() {
			t0 := time.Now()
			res, err := client.Get(url)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			lat = append(lat, time.Since(t0))
			if res.StatusCode != 200 {
				b.Fatal(res.StatusCode)
			}
		}
		reportP50(b, lat)
	})
	b.Run("direct", func(b *testing.B) {
		rdb := gatewayClient(b)
		ctx := context.Background()
		if err := rdb.Set(ctx, "cache:bench", "hello", 0).Err(); err != nil {
			b.Fatal(err)
		}
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for b.Loop() {
			t0 := time.Now()
			if err := rdb.Get(ctx, "cache:bench").Err(); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		reportP50(b, lat)
	})
}

func reportP50(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
}
