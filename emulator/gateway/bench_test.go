package gateway

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// BenchmarkGET measures one GET round trip with go-redis (one connection),
// straight to redis-server and through the gateway, and reports the median
// (p50-ns) and 99th percentile (p99-ns) besides the mean ns/op.
func BenchmarkGET(b *testing.B) {
	plain := newEnv(b, nil)
	tlsEnv := newEnv(b, func(c *Config) { c.TLS = true })
	token := plain.signer.token(b, testOID, time.Hour)
	tlsToken := tlsEnv.signer.token(b, testOID, time.Hour)
	clients := []struct {
		name string
		opt  *redis.Options
	}{
		{"direct", &redis.Options{Addr: plain.backend.Addr, Password: backendPW}},
		{"gateway", &redis.Options{Addr: plain.g.Addr(), Username: testOID, Password: token}},
		{"gateway-tls", &redis.Options{Addr: tlsEnv.g.Addr(), Username: testOID, Password: tlsToken, TLSConfig: tlsConfig(b, tlsEnv.g.CAFile())}},
	}
	ctx := context.Background()
	for _, cl := range clients {
		b.Run(cl.name, func(b *testing.B) {
			cl.opt.PoolSize = 1
			cl.opt.DisableIdentity = true
			c := redis.NewClient(cl.opt)
			defer c.Close()
			if err := c.Set(ctx, "k", "value", 0).Err(); err != nil {
				b.Fatal(err)
			}
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				if err := c.Get(ctx, "k").Err(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}
