package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// results is everything one run measured; it is written as JSON and as Markdown.
type results struct {
	Date      string         `json:"date"`
	Quick     bool           `json:"quick"`
	Phases    []string       `json:"phases"`
	DurationS float64        `json:"duration_s"`
	Machine   machine        `json:"machine"`
	Fairness  []string       `json:"fairness"`
	Targets   []target       `json:"targets"`
	Warm      warmResults    `json:"warm"`
	Cold      []coldResult   `json:"cold_start"`
	Rotation  rotationResult `json:"rotation"`
	IdleBurst idleResult     `json:"idle_then_burst"`
	Outages   []outageResult `json:"identity_outages"`
	Failover  failoverResult `json:"failover"`
	Memory    memoryResult   `json:"memory"`
}

// machine describes where the run happened.
type machine struct {
	CPUs         int    `json:"nproc"`
	CPUModel     string `json:"cpu_model"`
	GoVersion    string `json:"go_version"`
	RedisVersion string `json:"redis_server_version"`
	OS           string `json:"os_arch"`
}

// target is one of the targets, met or not, with the figure.
type target struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Met  bool   `json:"met"`
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
		"(c) does what the product does: a GET is one MGET of the value and its metadata (ETag, expiry, content type); a PUT is MULTI EXISTS, SET value, SET metadata, EXEC " +
		"(a conditional PUT runs a Lua script), with the SHA-1 ETag of the body; plus validation and problem details; its per-invocation log line is at Debug (LOG_LEVEL=info, stdout to a file). " +
		"(b-fn) serves the cache function itself (cache.New) from a plain ServeMux and go-redis client: b-fn / b is what the function costs, c / b-fn what bin/handler's framework and pool cost.",
	"(b), (c), the per-invocation handler and bin/handler under (d) are each their own process; the load generator, the gateway and the token service " +
		"share the bench process; all of it and redis-server share the same cores.",
	"Load: Go HTTP client with keep-alive (MaxIdleConnsPerHost 256), one client per target; go-redis pools at their default size (10 per CPU) everywhere. " +
		"Each figure is the median of the trials; trials of the targets are interleaved, in rotating order.",
	"Latencies are exact: every request's duration is kept and sorted (nearest-rank percentiles).",
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
	return m
}

// warmP50 is (c)'s p50 for GET small at concurrency 1, in µs (0 when not measured).
func (r *results) warmP50() float64 {
	for _, c := range r.Warm.Cells {
		if c.Target == targetHandler && c.Op == "GET small" && c.Conc == 1 {
			return c.P50us
		}
	}
	return 0
}

// evaluate states each target of the issue as met or not.
func (r *results) evaluate(ran func(string) bool) []target {
	var ts []target
	if ran("warm") {
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
		anti := target{Name: "(c) ≥ 10 × the per-invocation anti-pattern's throughput", Want: "≥ 10× at concurrency 1 and 50", Met: true}
		var antiGot []string
		for i := 0; i+1 < len(r.Warm.AntiPattern); i += 2 {
			c, a := r.Warm.AntiPattern[i], r.Warm.AntiPattern[i+1]
			x := c.RPS / a.RPS
			antiGot = append(antiGot, fmt.Sprintf("c=%d %.1f× (%.0f vs %.0f/s)", c.Conc, x, c.RPS, a.RPS))
			anti.Met = anti.Met && x >= 10
		}
		anti.Got = strings.Join(antiGot, ", ")
		ts = append(ts, thr, p50, anti)
	}
	if ran("cold") && len(r.Cold) > 0 {
		on := r.Cold[0]
		ts = append(ts,
			target{Name: "Ready (GET / with a warm pool) within 150 ms of exec", Want: "≤ 150 ms (median, gate on)",
				Got: fmt.Sprintf("%.1f ms (max %.1f ms)", on.ReadyMs, on.ReadyMaxMs), Met: on.ReadyMs <= 150},
			target{Name: "First cache GET no slower than 2 × warm p50", Want: "≤ 2.0× (gate on)",
				Got: fmt.Sprintf("%.0f µs = %.2f× of %.0f µs", on.FirstGetLatUs, on.FirstVsWarm, on.WarmP50us), Met: on.FirstVsWarm > 0 && on.FirstVsWarm <= 2})
	}
	zero := func(name string, failed int, expired int64) target {
		return target{Name: name, Want: "0 failed, 0 closed by expiry", Got: fmt.Sprintf("%d failed, %d closed by expiry", failed, expired),
			Met: failed == 0 && expired == 0}
	}
	if ran("rotation") {
		ts = append(ts, zero("Rotation under load", r.Rotation.Failed, r.Rotation.Gateway.ClosedTokenExpired))
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
	return ts
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
