package main

import (
	"context"
	"fmt"
	"time"
)

// warmGets is how many GETs after the first make a cold start's warm p50.
const warmGets = 200

// coldResult is the cold start for one setting of the warm-up gate and one round-trip time
// (medians over trials).
type coldResult struct {
	Gate          string  `json:"gate"` // "on" (WARMUP_TIMEOUT=10s) or "off" (WARMUP_TIMEOUT=1ms)
	RTTus         float64 `json:"rtt_us"`
	Trials        int     `json:"trials"`
	ReadyMs       float64 `json:"ready_ms"`         // exec → GET / answered
	FirstGetMs    float64 `json:"first_get_ms"`     // exec → first successful cache GET answered
	FirstGetLatUs float64 `json:"first_get_lat_us"` // latency of that first GET alone
	WarmP50us     float64 `json:"warm_p50_us"`      // p50 of the warmGets GETs after it, same process
	FirstVsWarm   float64 `json:"first_get_vs_warm_p50"`
	ReadyMaxMs    float64 `json:"ready_max_ms"`
	Failed        int     `json:"failed"` // first GETs that failed (retried until success)
}

// runCold measures cold starts: bin/handler exec'd directly (forwarded mode), GET / polled every
// millisecond, then one cache GET, then warmGets more at concurrency 1 — with the warm-up gate on
// and off on loopback, and with it on at farRTT.
func runCold(ctx context.Context, s *stack, cfg config) ([]coldResult, error) {
	defer s.Gateway.SetRoundTrip(0)
	var out []coldResult
	for _, run := range []struct {
		gate, timeout string
		rtt           time.Duration
	}{{"on", "10s", 0}, {"off", "1ms", 0}, {"on", "10s", farRTT}} {
		s.Gateway.SetRoundTrip(run.rtt)
		r := coldResult{Gate: run.gate, RTTus: micros(run.rtt), Trials: cfg.coldTrials}
		var ready, first, lat, warm []float64
		for i := range cfg.coldTrials {
			c := newHTTPClient()
			p, err := startProc(s.dir, fmt.Sprintf("cold-%s-%v-%d", run.gate, run.rtt, i), s.bin,
				s.handlerEnv("FUNCTIONS_APP_ROOT_PATH="+s.repo, "WARMUP_TIMEOUT="+run.timeout))
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
			if err != nil {
				p.stop()
				return nil, fmt.Errorf("cold start, gate %s at %v: first GET never succeeded: %w", run.gate, run.rtt, err)
			}
			after := drive(ctx, 1, time.Minute, warmGets, httpGet(c, p.url()+"/api/cache/"+keySmall))
			p.stop()
			c.CloseIdleConnections()
			ready = append(ready, ms(rd))
			first = append(first, ms(firstAt))
			lat = append(lat, micros(l))
			warm = append(warm, summarize(after.samples, after.elapsed).P50us)
			r.ReadyMaxMs = max(r.ReadyMaxMs, ms(rd))
		}
		r.ReadyMs, r.FirstGetMs, r.FirstGetLatUs, r.WarmP50us = median(ready), median(first), median(lat), median(warm)
		r.FirstVsWarm = r.FirstGetLatUs / r.WarmP50us
		logf("cold start, gate %s at %v RTT: ready %.1f ms, first GET at %.1f ms (its latency %.0f µs = %.2f× the warm p50 of %.0f µs)",
			run.gate, run.rtt, r.ReadyMs, r.FirstGetMs, r.FirstGetLatUs, r.FirstVsWarm, r.WarmP50us)
		out = append(out, r)
	}
	return out, nil
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
