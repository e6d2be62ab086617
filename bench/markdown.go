package main

import (
	"fmt"
	"strings"
)

// markdown renders the results as the tables of bench/results/*.md.
func (r *results) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	mode := "full set"
	if r.Quick {
		mode = "QUICK (reduced set: fewer, shorter trials — indicative only)"
	}
	p("# funcredis benchmark results")
	p("")
	p("%s, %s, %.0f s. Machine: %d CPUs (`nproc`), %s, %s, %s, %s.", r.Date, mode, r.DurationS,
		r.Machine.CPUs, r.Machine.CPUModel, r.Machine.OS, r.Machine.GoVersion, r.Machine.RedisVersion)
	p("")
	p("Noise: the machine is shared (load average %s before the run, %s after), and everything measured here shares its cores.",
		r.Machine.LoadStart, r.Machine.LoadEnd)
	if n := r.Noise; n.RPSSpreadMedian > 0 {
		p("Within this run the middle half of one figure's trials spans %.0f %% of its median for throughput at concurrency 50 (the median over",
			100*n.RPSSpreadMedian)
		p("the figures; %.0f %% at most), and %.0f %% (at most %.0f %%) for p50 at concurrency 1. Each figure is the median of its trials, and the targets'",
			100*n.RPSSpreadMax, 100*n.P50SpreadMedian, 100*n.P50SpreadMax)
		p("trials alternate, so a drift of the machine's load reaches all of them. A ratio is the median of the trials' ratios; the middle half of the")
		p("trials' (c)/(b) ratios spans %.0f %% of their median for throughput at concurrency 50 and %.0f %% for p50 at concurrency 1 (medians over the",
			100*n.RatioRPSSpreadMedian, 100*n.RatioP50SpreadMedian)
		p("operations): a ratio within a few percent of its threshold is still a coin toss.")
	}
	p("")
	p("## Targets")
	p("")
	p("| Target | Wanted | Measured | Met |")
	p("|---|---|---|---|")
	for _, t := range r.Targets {
		met := "**no**"
		switch {
		case t.Report:
			met = "—"
		case t.Met:
			met = "yes"
		}
		p("| %s | %s | %s | %s |", t.Name, t.Want, t.Got, met)
	}
	p("")
	p("## How the comparison is set up")
	p("")
	for _, f := range r.Fairness {
		p("- %s", f)
	}
	if len(r.Warm.Cells) > 0 {
		p("")
		p("## 1. Warm request path")
		p("")
		first := r.Warm.Cells[0]
		last := r.Warm.Cells[len(r.Warm.Cells)-1]
		p("Median of the trials per figure: %d of %.2f s at concurrency %d, %d of %.2f s at %d; throughput counts successful requests only.",
			first.Trials, first.TrialS, first.Conc, last.Trials, last.TrialS, last.Conc)
		p("")
		p("| Operation | Conc. | Target | req/s | p50 µs | p99 µs | failed |")
		p("|---|---:|---|---:|---:|---:|---:|")
		for _, c := range r.Warm.Cells {
			p("| %s | %d | %s | %.0f | %.0f | %.0f | %d |", c.Op, c.Conc, c.Target, c.RPS, c.P50us, c.P99us, c.Failed)
		}
		p("")
		p("Ratios (x / y): (c) to (b) and to (a) are the targets' figures; b-fn / b is what the cache function costs over a plain GET/SET")
		p("(its Redis commands, validation, ETag, headers), c / b-fn what bin/handler's framework (function.json routing, invocation state) and pool cost.")
		p("")
		p("| Operation | Conc. | x | y | throughput x/y | p50 x/y | p50 x − y (µs) |")
		p("|---|---:|---|---|---:|---:|---:|")
		for _, x := range r.Warm.Ratios {
			p("| %s | %d | %s | %s | %.2f | %.2f | %+.0f |", x.Op, x.Conc, x.Of, x.Versus, x.RPS, x.P50, x.P50Diff)
		}
	}
	r.allocsMarkdown(p)
	r.rttMarkdown(p)
	if len(r.Cold) > 0 {
		p("")
		p("## 4. Cold start (bin/handler exec'd directly, GET / polled every 1 ms)")
		p("")
		p("Gate on: WARMUP_TIMEOUT=10s (GET / waits for the token and the minimum idle connections). Gate off: WARMUP_TIMEOUT=1ms (GET / answers at once;")
		p("the warm-up context expires, so the pool dials on first use). Warm p50 is that of the %d GETs after the first, back to back, on the same process.", warmGets)
		p("Paused p50 is that of %d later GETs each sent as the first one is, right after %d polls of GET / a millisecond apart: on this machine a loopback", pausedGets, pausedPolls)
		p("round trip after an idle millisecond costs more than one right after another (idle cores sleep), and the first GET pays that without being first.")
		p("Medians of %d starts each.", r.Cold[0].Trials)
		p("")
		p("| Gate | RTT | exec → GET / (ms) | max (ms) | exec → first cache GET (ms) | first GET latency (µs) | warm p50 (µs) | first / warm p50 | paused p50 (µs) | first / paused p50 | failed first GETs |")
		p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, c := range r.Cold {
			p("| %s | %s | %.1f | %.1f | %.1f | %.0f | %.0f | %.2f | %.0f | %.2f | %d |", c.Gate, rttName(c.RTTus), c.ReadyMs, c.ReadyMaxMs, c.FirstGetMs,
				c.FirstGetLatUs, c.WarmP50us, c.FirstVsWarm, c.PausedP50us, c.FirstVsPaused, c.Failed)
		}
	}
	if len(r.Rotation) > 0 {
		rt := r.Rotation[0]
		p("")
		p("## 5. Rotation under load")
		p("")
		p("%.0f s tokens, GET small at concurrency %d for %.0f s. A rotation window is ±50 ms around the gateway's re-AUTHs.", rt.LifetimeS, rt.Conc, rt.DurationS)
		p("")
		p("| RTT | requests | failed | rotations | windows | requests in windows | closed by expiry | new connections | re-AUTHs | p50 during / between (µs) | p99 during / between (µs) |")
		p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, rt := range r.Rotation {
			p("| %s | %d | %d | %d | %d | %d | %d | %d | %d | %.0f / %.0f | %.0f / %.0f |", rttName(rt.RTTus), rt.Requests, rt.Failed, rt.Rotations, rt.Windows, rt.DuringReqs,
				rt.Gateway.ClosedTokenExpired, rt.Gateway.Connections, rt.Gateway.ReAuths, rt.P50DuringUs, rt.P50BetweenUs, rt.P99DuringUs, rt.P99BetweenUs)
		}
	}
	if ib := r.IdleBurst; ib.Requests > 0 {
		p("")
		p("## 6. Idle, then burst")
		p("")
		p("%.0f s tokens; a burst of 32 × 20 GETs fills the pool, idle %.0f s (3 lifetimes), then one GET alone and a burst of %d × 50.", ib.LifetimeS, ib.IdleS, ib.BurstConc)
		p("")
		p("| requests | failed | closed by expiry | new connections (gateway) | handler dials | first request (µs) | burst p50 / p99 (µs) |")
		p("|---:|---:|---:|---:|---:|---:|---:|")
		p("| %d | %d | %d | %d | %d | %.0f | %.0f / %.0f |", ib.Requests, ib.Failed, ib.Gateway.ClosedTokenExpired, ib.Gateway.Connections,
			ib.HandlerDials, ib.FirstLatUs, ib.BurstP50us, ib.BurstP99us)
	}
	if len(r.Outages) > 0 {
		p("")
		p("## 7. Identity endpoint outage (token endpoint answers 500)")
		p("")
		p("GET small at concurrency 8; each outage starts right after the handler received a new token.")
		p("")
		p("| Outage | lifetime (s) | token left at start (s) | outage (s) | requests | failed | first failure after (s) | unavailable (ms) | recovered after outage end (ms) | closed by expiry |")
		p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, o := range r.Outages {
			p("| %s | %.0f | %.1f | %.1f | %d | %d | %.1f | %.0f | %.0f | %d |", o.Kind, o.LifetimeS, o.RemainingS, o.OutageS, o.Requests, o.Failed,
				o.FirstFailS, o.UnavailableMs, o.RecoverMs, o.Gateway.ClosedTokenExpired)
		}
	}
	if f := r.Failover; f.Acked > 0 {
		p("")
		p("## 8. Failover (the gateway drops every connection mid-load)")
		p("")
		p("%d writers PUT unique keys and %d readers GET, 3 s per trial, DropAll at 1 s; every acknowledged write is read back from redis-server.", f.Writers, f.Readers)
		p("Medians of %d trials (lost writes summed).", f.Trials)
		p("")
		p("| connections dropped | acknowledged writes | lost | failed writes | failed reads | last failure after drop (ms) | first good read after drop (ms) |")
		p("|---:|---:|---:|---:|---:|---:|---:|")
		p("| %d | %d | %d | %.0f | %.0f | %.0f | %.0f |", f.Dropped, f.Acked, f.Lost, f.FailedWrites, f.FailedReads, f.RecoverMs, f.ReadRecoverMs)
	}
	if m := r.Memory; m.WarmMB > 0 {
		p("")
		p("## 9. Memory (VmRSS of bin/handler)")
		p("")
		p("| warm | after %d requests | rotations measured (%.0f s tokens, %.0f s) | RSS over them (start → end, max) | per rotation | per 1000 rotations (extrapolated) |", m.Requests, m.LifetimeS, m.RotationS)
		p("|---:|---:|---:|---:|---:|---:|")
		p("| %.1f MB | %.1f MB | %d | %.1f → %.1f MB, max %.1f | %.1f KB | %.2f MB |", m.WarmMB, m.AfterReqMB, m.Rotations, m.RotStartMB, m.RotEndMB, m.RotMaxMB, m.SlopeKBPerRot, m.Extrapolated)
		p("")
		p("1000 rotations take ~25 min with the shortest tokens the stack issues (whole seconds; a rotation every ~1.5 s with 2 s tokens), so the growth")
		p("is a least-squares slope of RSS over the rotations measured (the first fifth skipped as warm-up), extrapolated linearly.")
	}
	if br := r.Bare; br.Requests > 0 {
		p("")
		p("## 10. Large RESP-like values straight to a bare redis-server, across rotations")
		p("")
		p("bin/handler to redis-server with no gateway in between (the token service installs each token as the app identity's ACL password), %.0f s tokens:", br.LifetimeS)
		p("%d clients PUT random 33 KiB–1 MiB values that look like RESP (`internal/resplike`) and GET each back, for %.0f s; then every key's last", br.Clients, br.DurationS)
		p("acknowledged value is read back. Counters from `/api/health`.")
		p("")
		p("| requests | MiB PUT | rotations | failed requests | values not read back | keys read back at the end | retired_busy | re-authentications | dials | AUTH failures | connection drops |")
		p("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		p("| %d | %.0f | %d | %d | %d | %d | %d | %d | %d | %d | %d |", br.Requests, br.PutMiB, br.Rotations, br.Failed, br.Mismatched, br.ReadBack,
			br.RetiredBusy, br.Reauths, br.Dials, br.AuthFailures, br.ConnectionDrops)
	}
	return b.String()
}

// allocsMarkdown renders the allocations and the CPU time per request.
func (r *results) allocsMarkdown(p func(string, ...any)) {
	if len(r.Allocs) == 0 && len(r.CPU) == 0 {
		return
	}
	p("")
	p("## 2. Allocations and CPU time per request")
	if len(r.Allocs) > 0 {
		p("")
		p("Heap allocations of one request in the handler's ServeHTTP, in process (net/http's own reading and writing of the request, the same for all,")
		p("not counted), straight to redis-server; (c) is handler.App over the function folders with the cache function on a pool.Pool, logging JSON at Info.")
		p("")
		p("| Operation | Target | allocs / request | bytes / request |")
		p("|---|---|---:|---:|")
		for _, a := range r.Allocs {
			p("| %s | %s | %.1f | %.0f |", a.Op, a.Target, a.Allocs, a.Bytes)
		}
	}
	if len(r.CPU) == 0 {
		return
	}
	p("")
	p("CPU time per request at concurrency 50 (the cpu phase): %d rounds per operation that alternate the targets, %.1f s each, read from /proc", r.CPU[0].Rounds, r.CPU[0].RoundS)
	p("(utime + stime of the handler's process and of the bench's, and the machine's busy time). The bench process holds the load generator, the")
	p("TLS gateway and the token service; other is the rest of the machine's busy time, redis-server's above all. With every core busy, throughput")
	p("is the inverse of the total, so these split a throughput gap into its parts with less noise than requests per second.")
	p("")
	p("| Operation | Target | requests | handler µs | bench µs | other µs | total µs |")
	p("|---|---|---:|---:|---:|---:|---:|")
	for _, c := range r.CPU {
		p("| %s | %s | %d | %.1f | %.1f | %.1f | %.1f |", c.Op, c.Target, c.Requests, c.HandlerUs, c.BenchUs, c.OtherUs, c.TotalUs)
	}
}

// rttMarkdown renders the round-trip phase.
func (r *results) rttMarkdown(p func(string, ...any)) {
	if len(r.RTT.Levels) == 0 {
		return
	}
	p("")
	p("## 3. A network between the handler and Redis")
	p("")
	p("The gateway delays each direction of the connections it accepts by half the round-trip time (RTT), and a client's first bytes by one more")
	p("(the TCP handshake), since netem is not available here (`Gateway.SetRoundTrip`). Each RTT starts its own processes, so every connection")
	p("pays it. Concurrency 1, medians of %d trials of %.2f s; a is go-redis alone (one round trip per command).",
		r.RTT.Levels[0].Cells[0].Trials, r.RTT.Levels[0].Cells[0].TrialS)
	p("")
	p("| RTT | Operation | Target | p50 µs | p99 µs | req/s | failed |")
	p("|---|---|---|---:|---:|---:|---:|")
	for _, lv := range r.RTT.Levels {
		for _, c := range lv.Cells {
			p("| %s | %s | %s | %.0f | %.0f | %.0f | %d |", rttName(lv.RTTus), c.Op, c.Target, c.P50us, c.P99us, c.RPS, c.Failed)
		}
	}
	p("")
	p("Redis round trips per request, counted: the command flights the gateway forwarded to redis-server (what a client wrote together,")
	p("forwarded in one write) while each target served %d requests one at a time, on loopback.", flightRequests)
	p("")
	p("| Operation | Target | requests | flights | flights / request |")
	p("|---|---|---:|---:|---:|")
	for _, f := range r.RTT.Flights {
		p("| %s | %s | %d | %d | %.3f |", f.Op, f.Target, f.Requests, f.Flights, f.PerRequest)
	}
	p("")
	p("What the RTT adds to each warm p50 (p50 at the RTT − p50 on loopback): over the RTT as configured, over what it adds to go-redis")
	p("alone, and over what it adds to (b), the minimal handler that sends one command per request. The emulator's waits overshoot by some")
	p("tens of µs each way, and a process that idles for a round trip wakes up more slowly on this VM than one kept busy on loopback; both")
	p("handlers have one more process to wake than go-redis alone, which is why (b) is the reference of the target.")
	p("")
	p("| RTT | Operation | Target | added µs | added / RTT | added / go-redis's | added / (b)'s |")
	p("|---|---|---|---:|---:|---:|---:|")
	for _, d := range r.RTT.Deltas {
		p("| %s | %s | %s | %+.0f | %.2f | %.2f | %.2f |", rttName(d.RTTus), d.Op, d.Target, d.DeltaUs, d.PerRTT, d.PerRoundTrip, d.PerBaseline)
	}
	p("")
	p("The per-invocation anti-pattern (an azidentity credential, GetToken, a go-redis client: TCP, TLS, HELLO with AUTH, the GET, Close) next to its")
	p("physical bound: %d round trips (TCP, TLS 1.3, HELLO with AUTH, the command) and one token request (%.0f µs, the median of 200 to the", roundTrips, r.RTT.TokenRequestUs)
	p("identity endpoint, which is local to an instance). A round trip is go-redis's GET p50 at that RTT (the emulated network's, Redis's work")
	p("included). With go-redis the anti-pattern takes %d: TCP, TLS, then HELLO, CLIENT SETINFO and CLIENT MAINT_NOTIFICATIONS one after another, the GET.", goRedisRoundTrips)
	p("MSAL Go caches managed-identity tokens process-wide, so few invocations reach the endpoint. The rest of the p50 is CPU: the TLS handshake,")
	p("the credential and the client, which on loopback is all there is.")
	p("")
	p("| RTT | round trip µs | per-invocation p50 µs | bound µs | p50 − bound µs | go-redis floor µs | warm (c) p50 µs | p50 / warm | bound / warm | token requests / invocation |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, a := range r.RTT.AntiPattern {
		p("| %s | %.0f | %.0f | %.0f | %+.0f | %.0f | %.0f | %.1f× | %.1f× | %.3f |", rttName(a.RTTus), a.RoundTripUs, a.AntiP50us, a.BoundUs, a.OverBoundUs,
			a.GoRedisUs, a.WarmP50us, a.Ratio, a.BoundRatio, a.TokensPerInv)
	}
}
