package main

import (
	"context"
	"fmt"
	"time"
)

// coldResult is item 3 for one setting of the warm-up gate (medians over trials).
type coldResult struct {
	Gate          string  `json:"gate"` // "on" (WARMUP_TIMEOUT=10s) or "off" (WARMUP_TIMEOUT=1ms)
	Trials        int     `json:"trials"`
	ReadyMs       float64 `json:"ready_ms"`         // exec → GET / answered
	FirstGetMs    float64 `json:"first_get_ms"`     // exec → first successful cache GET answered
	FirstGetLatUs float64 `json:"first_get_lat_us"` // latency of that first GET alone
	WarmP50us     float64 `json:"warm_p50_us"`      // (c) GET small at concurrency 1
	FirstVsWarm   float64 `json:"first_get_vs_warm_p50"`
	ReadyMaxMs    float64 `json:"ready_max_ms"`
	Failed        int     `json:"failed"` // first GETs that failed (retried until success)
}

// runCold measures item 3: bin/handler exec'd directly (forwarded mode), GET / polled every
// millisecond, then one cache GET.
func runCold(ctx context.Context, s *stack, cfg config, warmP50 float64) ([]coldResult, error) {
	var out []coldResult
	for _, gate := range []struct{ name, timeout string }{{"on", "10s"}, {"off", "1ms"}} {
		r := coldResult{Gate: gate.name, Trials: cfg.coldTrials, WarmP50us: warmP50}
		var ready, first, lat []float64
		for i := range cfg.coldTrials {
			c := newHTTPClient()
			p, err := startProc(s.dir, fmt.Sprintf("cold-%s-%d", gate.name, i), s.bin,
				s.handlerEnv("FUNCTIONS_APP_ROOT_PATH="+s.repo, "WARMUP_TIMEOUT="+gate.timeout))
			if err != nil {
				return nil, err
			}
			rd, err := p.waitReady(ctx, c)
			if err != nil {
				p.stop()
				return nil, err
			}
			var l time.Duration
			for tries := 0; ; tries++ {
				t0 := time.Now()
				err = do(ctx, c, "GET", p.url()+"/api/cache/"+keySmall, nil)
				l = time.Since(t0)
				if err == nil || tries == 100 {
					break
				}
				r.Failed++
				time.Sleep(10 * time.Millisecond)
			}
			firstAt := time.Since(p.started)
			p.stop()
			c.CloseIdleConnections()
			if err != nil {
				return nil, fmt.Errorf("cold start, gate %s: first GET never succeeded: %w", gate.name, err)
			}
			ready = append(ready, ms(rd))
			first = append(first, ms(firstAt))
			lat = append(lat, micros(l))
			r.ReadyMaxMs = max(r.ReadyMaxMs, ms(rd))
		}
		r.ReadyMs, r.FirstGetMs, r.FirstGetLatUs = median(ready), median(first), median(lat)
		if warmP50 > 0 {
			r.FirstVsWarm = r.FirstGetLatUs / warmP50
		}
		logf("cold start, gate %s: ready %.1f ms, first GET at %.1f ms (its latency %.0f µs = %.1f× warm p50)",
			gate.name, r.ReadyMs, r.FirstGetMs, r.FirstGetLatUs, r.FirstVsWarm)
		out = append(out, r)
	}
	return out, nil
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
