package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/funcredis/funcredis/emulator/gateway"
	"github.com/funcredis/funcredis/emulator/tokenservice"
)

// startHandler sets the token lifetime and starts a warm bin/handler in forwarded mode.
func startHandler(ctx context.Context, s *stack, name string, lifetime time.Duration, c *http.Client) (*proc, error) {
	s.Tokens.SetLifetime(lifetime)
	p, err := startProc(s.dir, name, s.bin, s.handlerEnv("FUNCTIONS_APP_ROOT_PATH="+s.repo))
	if err != nil {
		return nil, err
	}
	if _, err := p.waitReady(ctx, c); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// gwDelta is the change of the gateway's counters over a phase.
type gwDelta struct {
	Connections        int64 `json:"new_connections"`
	ReAuths            int64 `json:"reauths"`
	ClosedTokenExpired int64 `json:"closed_token_expired"`
	ClosedByFault      int64 `json:"closed_by_fault"`
}

func deltaOf(before, after gateway.Stats) gwDelta {
	return gwDelta{
		Connections:        after.Connections - before.Connections,
		ReAuths:            after.ReAuths - before.ReAuths,
		ClosedTokenExpired: after.ClosedTokenExpired - before.ClosedTokenExpired,
		ClosedByFault:      after.ClosedByFault - before.ClosedByFault,
	}
}

// rotationResult is the rotation phase at one round-trip time.
type rotationResult struct {
	RTTus         float64 `json:"rtt_us"`
	LifetimeS     float64 `json:"token_lifetime_s"`
	Conc          int     `json:"concurrency"`
	DurationS     float64 `json:"duration_s"`
	Requests      int     `json:"requests"`
	Failed        int     `json:"failed"`
	Rotations     int64   `json:"rotations"` // new tokens issued to the handler
	Windows       int     `json:"rotation_windows"`
	DuringReqs    int     `json:"requests_during_rotations"`
	P50DuringUs   float64 `json:"p50_during_us"`
	P99DuringUs   float64 `json:"p99_during_us"`
	P50BetweenUs  float64 `json:"p50_between_us"`
	P99BetweenUs  float64 `json:"p99_between_us"`
	Gateway       gwDelta `json:"gateway"`
	HandlerReauth int64   `json:"handler_reauthentications"`
	HandlerDials  int64   `json:"handler_dials"`
	HandlerRetire int64   `json:"handler_retired"`
}

// window is a span of wall-clock time.
type window struct{ from, to time.Time }

// runRotations measures rotation under load on loopback and at farRTT.
func runRotations(ctx context.Context, s *stack, cfg config) ([]rotationResult, error) {
	defer s.Gateway.SetRoundTrip(0)
	var out []rotationResult
	for _, rtt := range []time.Duration{0, farRTT} {
		s.Gateway.SetRoundTrip(rtt)
		r, err := runRotation(ctx, s, cfg)
		r.RTTus = micros(rtt)
		if err != nil {
			return out, fmt.Errorf("at %v: %w", rtt, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// runRotation measures GETs at concurrency 32 across token rotations. A rotation window is the
// time around the gateway's re-AUTHs (polled every 5 ms, ±50 ms); the rest is "between".
func runRotation(ctx context.Context, s *stack, cfg config) (rotationResult, error) {
	const conc = 32
	r := rotationResult{LifetimeS: cfg.shortLifetime.Seconds(), Conc: conc, DurationS: cfg.rotationDur.Seconds()}
	c := newHTTPClient()
	p, err := startHandler(ctx, s, "rotation", cfg.shortLifetime, c)
	if err != nil {
		return r, err
	}
	defer p.stop()
	h0, err := health(ctx, c, p.url())
	if err != nil {
		return r, fmt.Errorf("%w (handler log: %s)", err, p.tail())
	}
	gw0, ts0 := s.Gateway.Stats(), s.Tokens.Stats()
	stop := make(chan struct{})
	var events []time.Time
	var wg sync.WaitGroup
	wg.Go(func() {
		last := gw0.ReAuths
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				if n := s.Gateway.Stats().ReAuths; n > last {
					events = append(events, now)
					last = n
				}
			}
		}
	})
	l := drive(ctx, conc, cfg.rotationDur, 0, httpGet(c, p.url()+"/api/cache/"+keySmall))
	close(stop)
	wg.Wait()
	gw1, ts1 := s.Gateway.Stats(), s.Tokens.Stats()
	h1, err := health(ctx, c, p.url())
	if err != nil {
		return r, err
	}
	var wins []window
	for _, e := range events {
		if n := len(wins); n > 0 && e.Sub(wins[n-1].to) < 500*time.Millisecond {
			wins[n-1].to = e.Add(50 * time.Millisecond)
			continue
		}
		wins = append(wins, window{e.Add(-55 * time.Millisecond), e.Add(50 * time.Millisecond)})
	}
	var during, between []sample
	for _, sm := range l.samples {
		from := l.t0.Add(sm.start)
		to := from.Add(sm.lat)
		in := false
		for _, w := range wins {
			if from.Before(w.to) && to.After(w.from) {
				in = true
				break
			}
		}
		if in {
			during = append(during, sm)
		} else {
			between = append(between, sm)
		}
	}
	all := summarize(l.samples, l.elapsed)
	d, b := summarize(during, 0), summarize(between, 0)
	r.Requests, r.Failed = all.Requests, all.Failed
	r.Rotations = ts1.IssuedTotal() - ts0.IssuedTotal()
	r.Windows, r.DuringReqs = len(wins), len(during)
	r.P50DuringUs, r.P99DuringUs, r.P50BetweenUs, r.P99BetweenUs = d.P50us, d.P99us, b.P50us, b.P99us
	r.Gateway = deltaOf(gw0, gw1)
	r.HandlerReauth = h1.Counters.Reauthentications - h0.Counters.Reauthentications
	r.HandlerDials = h1.Counters.Dials - h0.Counters.Dials
	r.HandlerRetire = h1.Counters.Retired - h0.Counters.Retired
	logf("rotation: %d requests, %d failed, %d rotations, %d closed by expiry, p50 during %.0f µs vs between %.0f µs, p99 %.0f µs vs %.0f µs",
		r.Requests, r.Failed, r.Rotations, r.Gateway.ClosedTokenExpired, r.P50DuringUs, r.P50BetweenUs, r.P99DuringUs, r.P99BetweenUs)
	return r, nil
}

// idleResult is the idle-then-burst phase.
type idleResult struct {
	LifetimeS      float64 `json:"token_lifetime_s"`
	IdleS          float64 `json:"idle_s"`
	BurstConc      int     `json:"burst_concurrency"`
	Requests       int     `json:"requests"`
	Failed         int     `json:"failed"`
	FirstLatUs     float64 `json:"first_request_us"`
	BurstP50us     float64 `json:"burst_p50_us"`
	BurstP99us     float64 `json:"burst_p99_us"`
	Gateway        gwDelta `json:"gateway"` // over idle + burst
	HandlerDials   int64   `json:"handler_dials"`
	HandlerRetired int64   `json:"handler_retired"`
}

// runIdleBurst measures this: a burst that fills the pool, idle for 3 token lifetimes, then the
// first request alone and a burst at concurrency 32.
func runIdleBurst(ctx context.Context, s *stack, cfg config) (idleResult, error) {
	const conc = 32
	r := idleResult{LifetimeS: cfg.shortLifetime.Seconds(), IdleS: 3 * cfg.shortLifetime.Seconds(), BurstConc: conc}
	c := newHTTPClient()
	p, err := startHandler(ctx, s, "idle-burst", cfg.shortLifetime, c)
	if err != nil {
		return r, err
	}
	defer p.stop()
	get := httpGet(c, p.url()+"/api/cache/"+keySmall)
	drive(ctx, conc, 5*time.Second, 20, get)
	h0, err := health(ctx, c, p.url())
	if err != nil {
		return r, err
	}
	gw0 := s.Gateway.Stats()
	select {
	case <-time.After(3 * cfg.shortLifetime):
	case <-ctx.Done():
		return r, ctx.Err()
	}
	first := drive(ctx, 1, 5*time.Second, 1, get)
	burst := drive(ctx, conc, 10*time.Second, 50, get)
	gw1 := s.Gateway.Stats()
	h1, err := health(ctx, c, p.url())
	if err != nil {
		return r, err
	}
	all := append(first.samples, burst.samples...)
	st, bs := summarize(all, 0), summarize(burst.samples, 0)
	r.Requests, r.Failed = st.Requests, st.Failed
	if len(first.samples) > 0 {
		r.FirstLatUs = micros(first.samples[0].lat)
	}
	r.BurstP50us, r.BurstP99us = bs.P50us, bs.P99us
	r.Gateway = deltaOf(gw0, gw1)
	r.HandlerDials = h1.Counters.Dials - h0.Counters.Dials
	r.HandlerRetired = h1.Counters.Retired - h0.Counters.Retired
	logf("idle then burst: %d requests, %d failed, first %.0f µs, %d new connections, %d closed by expiry",
		r.Requests, r.Failed, r.FirstLatUs, r.Gateway.Connections, r.Gateway.ClosedTokenExpired)
	return r, nil
}

// outageResult is the outage phase for one outage of the identity endpoint.
type outageResult struct {
	Kind       string  `json:"kind"` // "short" or "long"
	LifetimeS  float64 `json:"token_lifetime_s"`
	RemainingS float64 `json:"remaining_lifetime_at_start_s"`
	OutageS    float64 `json:"outage_s"`
	Requests   int     `json:"requests"`
	Failed     int     `json:"failed"`
	FirstFailS float64 `json:"first_failure_after_start_s,omitempty"`
	RecoverMs  float64 `json:"recover_ms"` // end of the outage → first success after the last failure (0: none failed)
	// UnavailableMs is first failure → first success after the last failure.
	UnavailableMs float64 `json:"unavailable_ms"`
	Gateway       gwDelta `json:"gateway"`
	TokenFailed   int64   `json:"handler_token_failures"`
}

// runOutages measures what happens when the token endpoint answers 500 for less than the token's remaining
// lifetime, then for longer, while GETs run at concurrency 8.
func runOutages(ctx context.Context, s *stack, cfg config) ([]outageResult, error) {
	c := newHTTPClient()
	lt := cfg.outageLifetime
	p, err := startHandler(ctx, s, "outage", lt, c)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	var out []outageResult
	for _, o := range []struct {
		kind         string
		outage, tail time.Duration
	}{{"short", lt / 2, 3 * time.Second}, {"long", lt + lt/2, cfg.recoverTail}} {
		// Start right after a new token, so the remaining lifetime is known.
		h, err := health(ctx, c, p.url())
		if err != nil {
			return nil, err
		}
		prev := h.TokenExpiresOn
		deadline := time.Now().Add(2 * lt)
		for h.TokenExpiresOn.Equal(prev) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			if h, err = health(ctx, c, p.url()); err != nil {
				return nil, err
			}
		}
		r := outageResult{Kind: o.kind, LifetimeS: lt.Seconds(), OutageS: o.outage.Seconds(),
			RemainingS: time.Until(h.TokenExpiresOn).Seconds()}
		gw0 := s.Gateway.Stats()
		start := time.Now()
		s.Tokens.SetFault(tokenservice.Fault{Mode: tokenservice.Status5xx, Status: 500})
		endc := make(chan time.Time, 1)
		go func() {
			time.Sleep(o.outage)
			s.Tokens.SetFault(tokenservice.Fault{})
			endc <- time.Now()
		}()
		l := drive(ctx, 8, o.outage+o.tail, 0, httpGet(c, p.url()+"/api/cache/"+keySmall))
		end := <-endc
		h1, err := health(ctx, c, p.url())
		if err != nil {
			return nil, err
		}
		st := summarize(l.samples, l.elapsed)
		r.Requests, r.Failed = st.Requests, st.Failed
		var firstFail, lastFail time.Time
		for _, sm := range l.samples {
			if sm.ok {
				continue
			}
			at := l.t0.Add(sm.start + sm.lat)
			if firstFail.IsZero() || at.Before(firstFail) {
				firstFail = at
			}
			if at.After(lastFail) {
				lastFail = at
			}
		}
		if !firstFail.IsZero() {
			var firstOK time.Time // the first success after the last failure
			for _, sm := range l.samples {
				if at := l.t0.Add(sm.start + sm.lat); sm.ok && at.After(lastFail) && (firstOK.IsZero() || at.Before(firstOK)) {
					firstOK = at
				}
			}
			r.FirstFailS = firstFail.Sub(start).Seconds()
			if !firstOK.IsZero() {
				r.RecoverMs = max(0, ms(firstOK.Sub(end)))
				r.UnavailableMs = ms(firstOK.Sub(firstFail))
			}
		}
		r.Gateway = deltaOf(gw0, s.Gateway.Stats())
		r.TokenFailed = h1.Counters.TokenFailures - h.Counters.TokenFailures
		logf("outage %s (%.1fs, %.1fs of token left): %d requests, %d failed, recovered %.0f ms after, %d closed by expiry",
			r.Kind, r.OutageS, r.RemainingS, r.Requests, r.Failed, r.RecoverMs, r.Gateway.ClosedTokenExpired)
		out = append(out, r)
	}
	return out, nil
}

// failoverResult is the failover phase (medians over trials, lost writes summed).
type failoverResult struct {
	Trials        int     `json:"trials"`
	Writers       int     `json:"writers"`
	Readers       int     `json:"readers"`
	Dropped       int64   `json:"connections_dropped"` // median per trial
	Acked         int     `json:"acknowledged_writes"` // over every trial
	Lost          int     `json:"acknowledged_writes_lost"`
	FailedWrites  float64 `json:"failed_writes"`
	FailedReads   float64 `json:"failed_reads"`
	RecoverMs     float64 `json:"recover_ms"`      // drop → end of the last failed request
	ReadRecoverMs float64 `json:"read_recover_ms"` // drop → first successful read started after it
}

// runFailover measures what happens when the gateway drops every connection mid-load; every acknowledged
// write is read back from redis-server afterwards.
func runFailover(ctx context.Context, s *stack, cfg config) (failoverResult, error) {
	const writers, readers = 16, 4
	r := failoverResult{Trials: cfg.failoverTrials, Writers: writers, Readers: readers}
	c := newHTTPClient()
	p, err := startHandler(ctx, s, "failover", warmLifetime, c)
	if err != nil {
		return r, err
	}
	defer p.stop()
	rdb := s.backendClient(8)
	defer rdb.Close()
	var dropped, fw, fr, rec, rrec []float64
	for trial := range cfg.failoverTrials {
		acked := make([][]string, writers+readers)
		reader := httpGet(c, p.url()+"/api/cache/"+keySmall)
		o := func(ctx context.Context, w, i int) error {
			if w >= writers {
				return reader(ctx, w, i)
			}
			key := fmt.Sprintf("fo-%d-%d-%d", trial, w, i)
			if err := do(ctx, c, "PUT", p.url()+"/api/cache/"+key, []byte(key)); err != nil {
				return err
			}
			acked[w] = append(acked[w], key)
			return nil
		}
		gw0 := s.Gateway.Stats()
		dropc := make(chan time.Time, 1)
		go func() {
			time.Sleep(time.Second)
			at := time.Now()
			s.Gateway.DropAll()
			dropc <- at
		}()
		l := drive(ctx, writers+readers, 3*time.Second, 0, o)
		drop := <-dropc
		dropped = append(dropped, float64(s.Gateway.Stats().ClosedByFault-gw0.ClosedByFault))
		var nfw, nfr int
		var lastFail, firstRead time.Time
		for _, sm := range l.samples {
			from := l.t0.Add(sm.start)
			end := from.Add(sm.lat)
			switch {
			case !sm.ok && sm.worker < writers:
				nfw++
			case !sm.ok:
				nfr++
			case sm.worker >= writers && from.After(drop) && (firstRead.IsZero() || end.Before(firstRead)):
				firstRead = end
			}
			if !sm.ok && end.After(lastFail) {
				lastFail = end
			}
		}
		fw, fr = append(fw, float64(nfw)), append(fr, float64(nfr))
		if !lastFail.IsZero() && lastFail.After(drop) {
			rec = append(rec, ms(lastFail.Sub(drop)))
		} else {
			rec = append(rec, 0)
		}
		if !firstRead.IsZero() {
			rrec = append(rrec, ms(firstRead.Sub(drop)))
		}
		for _, keys := range acked {
			for _, k := range keys {
				r.Acked++
				if v, err := rdb.Get(ctx, valueKey(k)).Result(); err != nil || v != k {
					r.Lost++
				}
			}
		}
	}
	r.Dropped = int64(median(dropped))
	r.FailedWrites, r.FailedReads, r.RecoverMs, r.ReadRecoverMs = median(fw), median(fr), median(rec), median(rrec)
	logf("failover: %d connections dropped, %d acknowledged writes, %d lost, %.0f failed writes, %.0f failed reads, recovered %.0f ms",
		r.Dropped, r.Acked, r.Lost, r.FailedWrites, r.FailedReads, r.RecoverMs)
	return r, nil
}
