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
	p("## Targets")
	p("")
	p("| Target | Wanted | Measured | Met |")
	p("|---|---|---|---|")
	for _, t := range r.Targets {
		met := "**no**"
		if t.Met {
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
		p("Median of %d trials per figure; throughput counts successful requests only.", r.Warm.Cells[0].Trials)
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
	if len(r.Warm.AntiPattern) > 0 {
		p("")
		p("## 2. Per-invocation client and token (the serverless anti-pattern) vs bin/handler")
		p("")
		p("GET small, both driven directly on their ports, both through the gateway and token service. The anti-pattern builds an azidentity")
		p("ManagedIdentityCredential, calls GetToken, builds a go-redis client (TLS dial + AUTH) and closes it on every request. ")
		p("The token service received %d token requests for %d anti-pattern invocations (MSAL Go caches managed-identity tokens process-wide, ",
			r.Warm.AntiPatternTokenRequests, r.Warm.AntiPatternInvocations)
		p("so the per-invocation cost measured here is the credential, the TLS handshake and the AUTH, not an HTTP token request).")
		p("")
		p("| Conc. | Target | req/s | p50 µs | p99 µs | failed |")
		p("|---:|---|---:|---:|---:|---:|")
		for _, c := range r.Warm.AntiPattern {
			p("| %d | %s | %.0f | %.0f | %.0f | %d |", c.Conc, c.Target, c.RPS, c.P50us, c.P99us, c.Failed)
		}
	}
	if len(r.Cold) > 0 {
		p("")
		p("## 3. Cold start (bin/handler exec'd directly, GET / polled every 1 ms)")
		p("")
		p("Gate on: WARMUP_TIMEOUT=10s (GET / waits for the token and the minimum idle connections). Gate off: WARMUP_TIMEOUT=1ms (GET / answers at once;")
		p("the warm-up context expires, so the pool dials on first use). Medians of %d starts each.", r.Cold[0].Trials)
		p("")
		p("| Gate | exec → GET / (ms) | max (ms) | exec → first cache GET (ms) | first GET latency (µs) | warm p50 (µs) | first / warm p50 | failed first GETs |")
		p("|---|---:|---:|---:|---:|---:|---:|---:|")
		for _, c := range r.Cold {
			p("| %s | %.1f | %.1f | %.1f | %.0f | %.0f | %.2f | %d |", c.Gate, c.ReadyMs, c.ReadyMaxMs, c.FirstGetMs, c.FirstGetLatUs, c.WarmP50us, c.FirstVsWarm, c.Failed)
		}
	}
	if rt := r.Rotation; rt.Requests > 0 {
		p("")
		p("## 4. Rotation under load")
		p("")
		p("%.0f s tokens, GET small at concurrency %d for %.0f s. A rotation window is ±50 ms around the gateway's re-AUTHs.", rt.LifetimeS, rt.Conc, rt.DurationS)
		p("")
		p("| requests | failed | rotations | windows | closed by expiry | new connections | re-AUTHs | p50 during / between (µs) | p99 during / between (µs) |")
		p("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		p("| %d | %d | %d | %d | %d | %d | %d | %.0f / %.0f | %.0f / %.0f |", rt.Requests, rt.Failed, rt.Rotations, rt.Windows,
			rt.Gateway.ClosedTokenExpired, rt.Gateway.Connections, rt.Gateway.ReAuths, rt.P50DuringUs, rt.P50BetweenUs, rt.P99DuringUs, rt.P99BetweenUs)
	}
	if ib := r.IdleBurst; ib.Requests > 0 {
		p("")
		p("## 5. Idle, then burst")
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
		p("## 6. Identity endpoint outage (token endpoint answers 500)")
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
		p("## 7. Failover (the gateway drops every connection mid-load)")
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
		p("## 8. Memory (VmRSS of bin/handler)")
		p("")
		p("| warm | after %d requests | rotations measured (%.0f s tokens, %.0f s) | RSS over them (start → end, max) | per rotation | per 1000 rotations (extrapolated) |", m.Requests, m.LifetimeS, m.RotationS)
		p("|---:|---:|---:|---:|---:|---:|")
		p("| %.1f MB | %.1f MB | %d | %.1f → %.1f MB, max %.1f | %.1f KB | %.2f MB |", m.WarmMB, m.AfterReqMB, m.Rotations, m.RotStartMB, m.RotEndMB, m.RotMaxMB, m.SlopeKBPerRot, m.Extrapolated)
		p("")
		p("1000 rotations take ~25 min with the shortest tokens the stack issues (whole seconds; a rotation every ~1.5 s with 2 s tokens), so the growth")
		p("is a least-squares slope of RSS over the rotations measured (the first fifth skipped as warm-up), extrapolated linearly.")
	}
	return b.String()
}
