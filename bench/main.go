// Command bench is the funcredis benchmark harness (`make bench`, `make bench QUICK=1`). In one run
// on one machine, against one redis-server behind the TLS gateway and the Entra token service, it
// measures the warm request path of bin/handler against a raw go-redis floor and a minimal
// net/http + go-redis baseline, allocations and CPU time per request, the warm path and the
// per-invocation anti-pattern at round-trip times of 0, 0.5 and 1 ms between the handler and
// Redis, cold start, token rotation under load, idle-then-burst, identity endpoint outages,
// failover, memory, and large RESP-like values straight to a bare redis-server across
// rotations, and writes bench/results/latest.json and latest.md (quick.json and quick.md with
// -quick).
//
// It is a main package with no tests, so `go test ./...` never runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// config is the size of each phase; full and quick differ only here.
type config struct {
	trials, coldTrials, failoverTrials int
	trialDur, warmup                   time.Duration
	loadTrials                         int           // the warm phase's trials at concurrency 50
	loadTrialDur                       time.Duration // their length
	allocRuns                          int
	cpuRounds                          int           // the cpu phase's rounds per operation
	cpuRoundDur                        time.Duration // each target's share of a round
	rttTrials                          int
	shortLifetime, rotationDur         time.Duration
	outageLifetime, recoverTail        time.Duration
	memRequests                        int
	memLifetime, memRotDur             time.Duration
	bareDur                            time.Duration
}

// rtts are the round-trip times between the handler and Redis that the rtt phase measures: loopback
// as it is, and what a function and Azure Managed Redis in one region see.
var rtts = []time.Duration{0, 500 * time.Microsecond, time.Millisecond}

// farRTT is the round-trip time of the cold-start and rotation phases' runs over a network.
const farRTT = time.Millisecond

var (
	fullConfig = config{
		// Many short trials rather than a few long ones: the machine's load drifts, and
		// interleaving the targets more often spreads the drift over all of them. Throughput at
		// concurrency 50 is the exception: a ratio is taken trial by trial, which cancels the
		// drift, and what is left is the scheduling noise within a trial, which a third of a
		// second does not average out (PUT small, c/b: the middle half of 15 trials' ratios spanned
		// 8-14 % of their median at 1/3 s, 2-8 % of 5 trials' at 1 s).
		trials: 15, coldTrials: 10, failoverTrials: 3,
		trialDur: time.Second / 3, warmup: 300 * time.Millisecond,
		loadTrials: 9, loadTrialDur: time.Second,
		allocRuns: 2000, cpuRounds: 6, cpuRoundDur: 2 * time.Second, rttTrials: 30,
		shortLifetime: 3 * time.Second, rotationDur: 60 * time.Second,
		outageLifetime: 6 * time.Second, recoverTail: 10 * time.Second,
		memRequests: 100_000, memLifetime: 2 * time.Second, memRotDur: 180 * time.Second,
		bareDur: 60 * time.Second,
	}
	quickConfig = config{
		trials: 3, coldTrials: 3, failoverTrials: 1,
		trialDur: 150 * time.Millisecond, warmup: 100 * time.Millisecond,
		loadTrials: 3, loadTrialDur: 150 * time.Millisecond,
		allocRuns: 500, cpuRounds: 2, cpuRoundDur: 300 * time.Millisecond, rttTrials: 3,
		shortLifetime: 3 * time.Second, rotationDur: 12 * time.Second,
		outageLifetime: 4 * time.Second, recoverTail: 4 * time.Second,
		memRequests: 30_000, memLifetime: 2 * time.Second, memRotDur: 10 * time.Second,
		bareDur: 12 * time.Second,
	}
)

// phases in run order.
var phases = []string{"warm", "allocs", "cpu", "rtt", "cold", "rotation", "idle", "outage", "failover", "memory", "bare"}

var started = time.Now()

// logf prints progress on stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %6.1fs  %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
}

func main() {
	quick := flag.Bool("quick", false, "reduced set: fewer and shorter trials (under 2 minutes)")
	out := flag.String("out", "bench/results", "directory for the results")
	only := flag.String("phases", strings.Join(phases, ","), "comma-separated phases to run")
	serveMode := flag.String("serve", "", "internal: serve "+serveBaseline+" or "+servePerInvocation+" (started by the bench itself)")
	flag.Parse()
	if *serveMode != "" {
		if err := serve(*serveMode); err != nil {
			fmt.Fprintln(os.Stderr, "bench -serve:", err)
			os.Exit(1)
		}
		return
	}
	cfg := fullConfig
	if *quick {
		cfg = quickConfig
	}
	if err := run(cfg, *quick, *out, strings.Split(*only, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run starts the stack, runs the phases and writes the results.
func run(cfg config, quick bool, out string, only []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 45*time.Minute)
	defer cancel()
	repo, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("working directory: %w", err)
	}
	if _, err := os.Stat("host.json"); err != nil {
		return fmt.Errorf("run from the repository root (make bench): %w", err)
	}
	s, err := startStack(repo)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.seed(ctx); err != nil {
		return err
	}
	res := results{Quick: quick, Machine: describeMachine(), Fairness: fairness, Phases: only}
	res.Date = time.Now().UTC().Format(time.RFC3339)
	logf("stack up: redis-server %s, gateway %s (TLS), token service %s", s.Backend.Addr, s.Gateway.Addr(), s.Tokens.URL())
	want := func(p string) bool { return slices.Contains(only, p) }
	if want("warm") {
		if res.Warm, err = runWarm(ctx, s, cfg); err != nil {
			return fmt.Errorf("warm path: %w", err)
		}
	}
	if want("allocs") {
		if res.Allocs, err = runAllocs(ctx, s, cfg); err != nil {
			return fmt.Errorf("allocations: %w", err)
		}
	}
	if want("cpu") {
		if res.CPU, err = runCPU(ctx, s, cfg); err != nil {
			return fmt.Errorf("cpu per request: %w", err)
		}
	}
	if want("rtt") {
		if res.RTT, err = runRTT(ctx, s, cfg); err != nil {
			return fmt.Errorf("round-trip times: %w", err)
		}
	}
	if want("cold") {
		if res.Cold, err = runCold(ctx, s, cfg); err != nil {
			return fmt.Errorf("cold start: %w", err)
		}
	}
	if want("rotation") {
		if res.Rotation, err = runRotations(ctx, s, cfg); err != nil {
			return fmt.Errorf("rotation: %w", err)
		}
	}
	if want("idle") {
		if res.IdleBurst, err = runIdleBurst(ctx, s, cfg); err != nil {
			return fmt.Errorf("idle then burst: %w", err)
		}
	}
	if want("outage") {
		if res.Outages, err = runOutages(ctx, s, cfg); err != nil {
			return fmt.Errorf("outage: %w", err)
		}
	}
	if want("failover") {
		if res.Failover, err = runFailover(ctx, s, cfg); err != nil {
			return fmt.Errorf("failover: %w", err)
		}
	}
	if want("memory") {
		if res.Memory, err = runMemory(ctx, s, cfg); err != nil {
			return fmt.Errorf("memory: %w", err)
		}
	}
	if want("bare") {
		if res.Bare, err = runBare(ctx, s, cfg); err != nil {
			return fmt.Errorf("bare redis-server: %w", err)
		}
	}
	res.DurationS = time.Since(started).Seconds()
	res.Machine.LoadEnd = loadAvg()
	res.measureNoise()
	res.Targets = res.evaluate(want)
	name := "latest"
	if quick {
		name = "quick"
	}
	if err := res.write(out, name); err != nil {
		return err
	}
	logf("wrote %s/%s.json and %s.md", out, name, name)
	return nil
}

// selfPath is this program's executable, re-run for the -serve modes.
func selfPath() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("own executable: %w", err)
	}
	return p, nil
}
