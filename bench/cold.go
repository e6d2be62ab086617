package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// warmGets is how many GETs after the first make a cold start's warm p50.
const warmGets = 200

// pausedGets is how many GETs make a cold start's paused p50: each sent as the first one is, after
// GET / polled every millisecond for pausedPolls polls.
const (
	pausedGets  = 15
	pausedPolls = 5
)

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
	// PausedP50us is the p50 of pausedGets later GETs sent the way the first is, after GET / polls:
	// on this machine a loopback round trip after an idle millisecond costs more than one right
	// after another (the cores sleep), which the first GET pays without being first.
	PausedP50us   float64 `json:"paused_p50_us"`
	FirstVsPaused float64 `json:"first_get_vs_paused_p50"`
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
		var ready, first, lat, warm, paused []float64
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
			pp, err := pausedP50(ctx, c, p.url())
			p.stop()
			if err != nil {
				return nil, fmt.Errorf("cold start, gate %s at %v: %w", run.gate, run.rtt, err)
			}
			c.CloseIdleConnections()
			ready = append(ready, ms(rd))
			first = append(first, ms(firstAt))
			lat = append(lat, micros(l))
			warm = append(warm, summarize(after.samples, after.elapsed).P50us)
			paused = append(paused, pp)
			r.ReadyMaxMs = max(r.ReadyMaxMs, ms(rd))
		}
		r.ReadyMs, r.FirstGetMs, r.FirstGetLatUs, r.WarmP50us = median(ready), median(first), median(lat), median(warm)
		r.FirstVsWarm = r.FirstGetLatUs / r.WarmP50us
		r.PausedP50us = median(paused)
		r.FirstVsPaused = r.FirstGetLatUs / r.PausedP50us
		logf("cold start, gate %s at %v RTT: ready %.1f ms, first GET at %.1f ms (its latency %.0f µs = %.2f× the warm p50 of %.0f µs, %.2f× the paused p50 of %.0f µs)",
			run.gate, run.rtt, r.ReadyMs, r.FirstGetMs, r.FirstGetLatUs, r.FirstVsWarm, r.WarmP50us, r.FirstVsPaused, r.PausedP50us)
		out = append(out, r)
	}
	return out, nil
}

// pausedP50 sends pausedGets cache GETs the way the first GET after start is sent, each right
// after the last of pausedPolls polls of GET / a millisecond apart (waitReady's), and returns
// their p50 in µs.
func pausedP50(ctx context.Context, c *http.Client, base string) (float64, error) {
	var lat []float64
	for range pausedGets {
		for range pausedPolls {
			time.Sleep(time.Millisecond)
			if err := do(ctx, c, "GET", base+"/", nil); err != nil {
				return 0, fmt.Errorf("GET /: %w", err)
			}
		}
		t0 := time.Now()
		if err := do(ctx, c, "GET", base+"/api/cache/"+keySmall, nil); err != nil {
			return 0, fmt.Errorf("paused GET: %w", err)
		}
		lat = append(lat, micros(time.Since(t0)))
	}
	return median(lat), nil
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
