package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// results is everything one run measured; it is written as JSON and as Markdown.
type results struct {
	Date      string           `json:"date"`
	Quick     bool             `json:"quick"`
	Phases    []string         `json:"phases"`
	DurationS float64          `json:"duration_s"`
	Machine   machine          `json:"machine"`
	Noise     noise            `json:"noise"`
	Fairness  []string         `json:"fairness"`
	Targets   []target         `json:"targets"`
	Warm      warmResults      `json:"warm"`
	Allocs    []allocRow       `json:"allocations"`
	CPU       []cpuRow         `json:"cpu_per_request"`
	RTT       rttResults       `json:"round_trip_times"`
	Cold      []coldResult     `json:"cold_start"`
	Rotation  []rotationResult `json:"rotation"`
	IdleBurst idleResult       `json:"idle_then_burst"`
	Outages   []outageResult   `json:"identity_outages"`
	Failover  failoverResult   `json:"failover"`
	Memory    memoryResult     `json:"memory"`
	Bare      bareResult       `json:"bare_server"`
}

// machine describes where the run happened.
type machine struct {
	CPUs         int    `json:"nproc"`
	CPUModel     string `json:"cpu_model"`
	GoVersion    string `json:"go_version"`
	RedisVersion string `json:"redis_server_version"`
	OS           string `json:"os_arch"`
	// LoadStart and LoadEnd are /proc/loadavg before and after the run: the machine is shared.
	LoadStart string `json:"loadavg_start"`
	LoadEnd   string `json:"loadavg_end"`
}

// noise is the run's own trial-to-trial spread (the interquartile range over the median of a
// figure's trials), as medians and maxima over the warm phase's cells.
type noise struct {
	RPSSpreadMedian float64 `json:"rps_spread_median"` // concurrency 50
	RPSSpreadMax    float64 `json:"rps_spread_max"`
	P50SpreadMedian float64 `json:"p50_spread_median"` // concurrency 1
	P50SpreadMax    float64 `json:"p50_spread_max"`
	// RatioRPSSpreadMedian and RatioP50SpreadMedian are the median spread of the (c)/(b) ratios'
	// trials, at concurrency 50 and 1.
	RatioRPSSpreadMedian float64 `json:"ratio_rps_spread_median"`
	RatioP50SpreadMedian float64 `json:"ratio_p50_spread_median"`
}

// target is one of the issues' targets, met or not, with the figure. A figure reported without
// a target (Report) is neither.
type target struct {
	Name   string `json:"name"`
	Want   string `json:"want"`
	Got    string `json:"got"`
	Met    bool   `json:"met"`
	Report bool   `json:"report_only,omitempty"`
}

// fairness states how the comparison was set up.
var fairness = []string{
	"Everything runs in one run on one machine against the same redis-server (no persistence), on loopback.",
	"(a), (b), (c) and (d) all reach Redis through the same TLS gateway with Entra tokens (RS256-verified AUTH <oid> <token>); " +
		"(a) and (b) use one token fetched once from the token service as user name / password; (c) and (d) run the pool's azidentity path. " +
		"(a0) is go-redis straight to redis-server (password, no TLS): the absolute floor.",
	"(c) is bin/handler in forwarded mode, driven directly on 127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT (/api/...), since forwarding is what the host does; " +
		"(d) goes through the Functions host emulator with forwarding off (payload mode).",
	"(b) is the smallest reasonable net/http + go-redis handler (bench/serve.go): GET = one Redis GET, PUT = one SET. " +
		"(c) does what the product does: a GET is one MGET of the value and its metadata (ETag, expiry, content type); a PUT is MULTI, EXISTS, MSET value and metadata, EXEC " +
		"(a conditional PUT runs a Lua script), with the SHA-1 ETag of the body; plus validation and problem details; its per-invocation log line is at Debug (LOG_LEVEL=info, stdout to a file). " +
		"(b-fn) serves the cache function itself (cache.New) from a plain ServeMux and go-redis client: b-fn / b is what the function costs, c / b-fn what bin/handler's framework and pool cost.",
	"(b), (c), the per-invocation handler and bin/handler under (d) are each their own process; the load generator, the gateway and the token service " +
		"share the bench process; all of it and redis-server share the same cores.",
	"Load: Go HTTP client with keep-alive (MaxIdleConnsPerHost 256), one client per target; every handler may hold as many Redis connections as a default go-redis client: " +
		"10 per CPU, plus 10 in go-redis's separate pipeline pool, which the pool's default REDIS_POOL_SIZE includes since it keeps one pool. " +
		"Each figure is the median of the trials; trials of the targets are interleaved, in rotating order, and a ratio of two targets is the median " +
		"of their ratios trial by trial (each trial runs every target once, back to back, so the machine's drift between trials cancels).",
	"Latencies are exact: every request's duration is kept and sorted (nearest-rank percentiles).",
	"A round-trip time (RTT) between the handler and Redis is the gateway's: it delays each direction of the connections it accepts by half of it, " +
		"the client's first bytes by one more (the TCP handshake), on timerfds that Go's netpoller watches (its own timers wake no sooner than 1 ms; " +
		"nanosleep would block a thread per delay and double the CPU a request costs at 1 ms). The token service is not " +
		"delayed: the identity endpoint is local to a Functions instance. Each RTT starts its own processes.",
	"Allocations are counted in process with runtime.MemStats around the handler's ServeHTTP (not net/http's reading and writing of the request), " +
		"straight to redis-server, the fewest of three rounds.",
}

// describeMachine reads nproc, the CPU model, Go's and redis-server's versions.
func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if out, err := exec.Command("redis-server", "--version").Output(); err == nil {
		m.RedisVersion = strings.TrimSpace(string(out))
	}
	m.LoadStart = loadAvg()
	return m
}

// loadAvg is the first three fields of /proc/loadavg ("" where there is none).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// measureNoise summarises the warm cells' trial-to-trial spread.
func (r *results) measureNoise() {
	var rps, p50 []float64
	for _, c := range r.Warm.Cells {
		if c.Conc == 50 {
			rps = append(rps, c.RPSSpread)
		} else {
			p50 = append(p50, c.P50Spread)
		}
	}
	var rrps, rp50 []float64
	for _, x := range r.Warm.Ratios {
		if x.Of != targetHandler || x.Versus != targetBaseline {
			continue
		}
		if x.Conc == 50 {
			rrps = append(rrps, x.RPSSpread)
		} else {
			rp50 = append(rp50, x.P50Spread)
		}
	}
	if len(rps) > 0 && len(p50) > 0 {
		r.Noise = noise{RPSSpreadMedian: median(rps), RPSSpreadMax: slices.Max(rps), P50SpreadMedian: median(p50), P50SpreadMax: slices.Max(p50),
			RatioRPSSpreadMedian: median(rrps), RatioP50SpreadMedian: median(rp50)}
	}
}

// evaluate states each target of the issues as met or not.
func (r *results) evaluate(ran func(string) bool) []target {
	var ts []target
	if ran("warm") {
		ts = append(ts, r.warmTargets()...)
	}
	if ran("cpu") && len(r.CPU) > 0 {
		ts = append(ts, r.cpuTarget())
	}
	if ran("rtt") && len(r.RTT.Levels) > 1 {
		ts = append(ts, r.rttTargets()...)
	}
	if ran("cold") && len(r.Cold) == 3 {
		on, far := r.Cold[0], r.Cold[2]
		ts = append(ts,
			target{Name: "Ready (GET / with a warm pool) within 150 ms of exec", Want: "≤ 150 ms (median, gate on, loopback)",
				Got: fmt.Sprintf("%.1f ms (max %.1f ms); at %s RTT %.1f ms", on.ReadyMs, on.ReadyMaxMs, rttName(far.RTTus), far.ReadyMs), Met: on.ReadyMs <= 150},
			target{Name: "First cache GET no slower than 2 × a later GET sent the same way (after GET / polls)", Want: "≤ 2.0× (gate on, loopback)",
				Got: fmt.Sprintf("%.0f µs = %.2f× of %.0f µs (%.2f× the back-to-back warm p50 of %.0f µs)",
					on.FirstGetLatUs, on.FirstVsPaused, on.PausedP50us, on.FirstVsWarm, on.WarmP50us),
				Met: on.FirstVsPaused > 0 && on.FirstVsPaused <= 2},
			target{Name: fmt.Sprintf("First cache GET after start at %s RTT no slower than 1.5 × warm p50", rttName(far.RTTus)), Want: "≤ 1.5× (gate on)",
				Got: fmt.Sprintf("%.0f µs = %.2f× of %.0f µs; ready %.1f ms after exec", far.FirstGetLatUs, far.FirstVsWarm, far.WarmP50us, far.ReadyMs),
				Met: far.FirstVsWarm > 0 && far.FirstVsWarm <= 1.5})
	}
	zero := func(name string, failed int, expired int64) target {
		return target{Name: name, Want: "0 failed, 0 closed by expiry", Got: fmt.Sprintf("%d failed, %d closed by expiry", failed, expired),
			Met: failed == 0 && expired == 0}
	}
	if ran("rotation") {
		for _, rt := range r.Rotation {
			ts = append(ts, zero("Rotation under load at "+rttName(rt.RTTus)+" RTT", rt.Failed, rt.Gateway.ClosedTokenExpired))
		}
		p99 := target{Name: "Rotation: p99 during re-authentications ≤ 1.2 × p99 between", Want: "≤ 1.20 at every RTT", Met: len(r.Rotation) > 0}
		var got []string
		for _, rt := range r.Rotation {
			x := rt.P99DuringUs / rt.P99BetweenUs
			got = append(got, fmt.Sprintf("%s RTT %.2f (%.0f / %.0f µs)", rttName(rt.RTTus), x, rt.P99DuringUs, rt.P99BetweenUs))
			p99.Met = p99.Met && rt.DuringReqs > 0 && x <= 1.2
		}
		p99.Got = strings.Join(got, ", ")
		ts = append(ts, p99)
	}
	if ran("idle") {
		ts = append(ts, zero("Idle then burst", r.IdleBurst.Failed, r.IdleBurst.Gateway.ClosedTokenExpired))
	}
	if ran("outage") && len(r.Outages) > 0 {
		ts = append(ts, zero("Short identity outage", r.Outages[0].Failed, r.Outages[0].Gateway.ClosedTokenExpired))
	}
	if ran("failover") {
		f := r.Failover
		ts = append(ts,
			target{Name: "Failover: acknowledged writes lost", Want: "0", Got: fmt.Sprintf("%d of %d", f.Lost, f.Acked), Met: f.Lost == 0 && f.Acked > 0},
			target{Name: "Failover: reads succeed again", Want: "within 1 s", Got: fmt.Sprintf("%.0f ms (last failure %.0f ms after the drop)", f.ReadRecoverMs, f.RecoverMs),
				Met: f.ReadRecoverMs <= 1000 && f.RecoverMs <= 1000})
	}
	if ran("memory") {
		m := r.Memory
		ts = append(ts,
			target{Name: "RSS warm", Want: "≤ 30 MB", Got: fmt.Sprintf("%.1f MB (%.1f MB after %d requests)", m.WarmMB, m.AfterReqMB, m.Requests), Met: m.WarmMB <= 30},
			target{Name: "RSS growth across 1000 rotations", Want: "≤ 2 MB",
				Got: fmt.Sprintf("%.2f MB extrapolated from %d rotations (%.1f KB/rotation)", m.Extrapolated, m.Rotations, m.SlopeKBPerRot),
				Met: m.Rotations > 0 && m.Extrapolated <= 2})
	}
	if ran("bare") {
		b := r.Bare
		ts = append(ts, target{Name: fmt.Sprintf("Bare redis-server, %d clients, 33 KiB–1 MiB RESP-like values, %.0f s tokens, %.0f s", b.Clients, b.LifetimeS, b.DurationS),
			Want: "0 failed, 0 not read back, 0 retired busy, ≥ 2 rotations",
			Got: fmt.Sprintf("%d failed, %d not read back, %d retired busy; %d requests, %.0f MiB, %d rotations, %d re-authentications",
				b.Failed, b.Mismatched, b.RetiredBusy, b.Requests, b.PutMiB, b.Rotations, b.Reauths),
			Met: b.Requests > 0 && b.Failed == 0 && b.Mismatched == 0 && b.RetiredBusy == 0 && b.Rotations >= 2})
	}
	return ts
}

// cpuTarget reports the cpu phase: (b)'s CPU time per request over (c)'s, all processes, which
// is the throughput ratio a machine whose cores are all busy gives, and the same for (b-fn).
func (r *results) cpuTarget() target {
	by := map[[2]string]cpuRow{}
	for _, row := range r.CPU {
		by[[2]string{row.Target, row.Op}] = row
	}
	var got []string
	for _, op := range opKinds {
		b, fn, c := by[[2]string{targetBaseline, op}], by[[2]string{targetBaseFn, op}], by[[2]string{targetHandler, op}]
		if c.TotalUs > 0 && fn.TotalUs > 0 {
			got = append(got, fmt.Sprintf("%s %.2f (%.0f / %.0f µs; b-fn %.2f)", op, b.TotalUs/c.TotalUs, b.TotalUs, c.TotalUs, b.TotalUs/fn.TotalUs))
		}
	}
	return target{Name: "CPU time per request at concurrency 50, all processes: (b)'s over (c)'s", Report: true,
		Want: "reported: the throughput ratio of a machine whose cores are all busy", Got: strings.Join(got, ", ")}
}

// warmTargets are the warm phase's targets: (c) against (b) on loopback.
func (r *results) warmTargets() []target {
	thr, p50 := target{Name: "(c) throughput ≥ 0.9 × (b) at concurrency 50", Want: "≥ 0.90 for every operation", Met: true},
		target{Name: "(c) p50 ≤ 1.1 × (b) at concurrency 1", Want: "≤ 1.10 for every operation", Met: true}
	var thrGot, p50Got []string
	for _, x := range r.Warm.Ratios {
		if x.Of != targetHandler || x.Versus != targetBaseline {
			continue
		}
		if x.Conc == 50 {
			thrGot = append(thrGot, fmt.Sprintf("%s %.2f", x.Op, x.RPS))
			thr.Met = thr.Met && x.RPS >= 0.9
		}
		if x.Conc == 1 {
			p50Got = append(p50Got, fmt.Sprintf("%s %.2f", x.Op, x.P50))
			p50.Met = p50.Met && x.P50 <= 1.1
		}
	}
	thr.Got, p50.Got = strings.Join(thrGot, ", "), strings.Join(p50Got, ", ")
	return []target{thr, p50}
}

// rttTargets are the round-trip phase's: the warm path pays one round trip, and the
// anti-pattern next to its bound.
func (r *results) rttTargets() []target {
	flights := target{Name: "(c) one Redis round trip per request, counted (command flights the gateway forwards per request)",
		Want: "≤ 1.01 for GET and PUT", Met: len(r.RTT.Flights) > 0}
	var got []string
	for _, f := range r.RTT.Flights {
		if f.Target != targetHandler {
			continue
		}
		got = append(got, fmt.Sprintf("%s %.3f", f.Op, f.PerRequest))
		flights.Met = flights.Met && f.PerRequest <= 1.01
	}
	flights.Got = strings.Join(got, ", ")
	one := target{Name: "(c) warm p50 at RTT r − on loopback ≤ 1.1 × what r adds to (b), the minimal handler's one command",
		Want: "≤ 1.10 for GET and PUT", Met: true}
	got = nil
	for _, d := range r.RTT.Deltas {
		if d.Target != targetHandler {
			continue
		}
		got = append(got, fmt.Sprintf("%s at %s: +%.0f µs = %.2f× (b)'s (%.2f go-redis round trips, %.2f r)", d.Op, rttName(d.RTTus), d.DeltaUs, d.PerBaseline, d.PerRoundTrip, d.PerRTT))
		one.Met = one.Met && d.PerBaseline <= 1.1
	}
	one.Got = strings.Join(got, ", ")
	anti := target{Name: fmt.Sprintf("Per-invocation anti-pattern vs its bound (%d round trips + a token request)", roundTrips),
		Want: "reported: p50 / warm p50, next to bound / warm p50", Report: true}
	got = nil
	for _, a := range r.RTT.AntiPattern {
		got = append(got, fmt.Sprintf("%s RTT: %.1f× (bound %.1f×)", rttName(a.RTTus), a.Ratio, a.BoundRatio))
	}
	anti.Got = strings.Join(got, ", ")
	return []target{flights, one, anti}
}

// rttName is a round-trip time in µs as people write it ("loopback", "0.5 ms", "1 ms").
func rttName(us float64) string {
	if us == 0 {
		return "loopback"
	}
	return strconv.FormatFloat(us/1000, 'f', -1, 64) + " ms"
}

// write stores the results as <dir>/<name>.json and <dir>/<name>.md.
func (r *results) write(dir, name string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".md"), []byte(r.markdown()), 0o644); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return nil
}
