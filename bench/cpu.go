package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// cpuRow is the CPU time one request costs at concurrency 50, split by process: what the warm
// phase's throughput turns into on a machine whose cores are all busy, without its noise.
type cpuRow struct {
	Target   string  `json:"target"`
	Op       string  `json:"op"`
	Rounds   int     `json:"rounds"`
	RoundS   float64 `json:"round_s"` // the target's share of a round, seconds
	Requests int     `json:"requests"`
	// HandlerUs is the target's own process; BenchUs this program (the load generator, the TLS
	// gateway and the token service); OtherUs the rest of the machine's busy time (redis-server,
	// and whatever else runs on the machine meanwhile); TotalUs their sum.
	HandlerUs float64 `json:"handler_us"`
	BenchUs   float64 `json:"bench_us"`
	OtherUs   float64 `json:"other_us"`
	TotalUs   float64 `json:"total_us"`
}

// cpuTargets are the handlers whose CPU time per request is measured.
var cpuTargets = []string{targetBaseline, targetBaseFn, targetHandler}

// runCPU measures, for each operation at concurrency 50, the CPU time per request of (b), (b-fn)
// and (c) in rounds that alternate the targets, from /proc: utime + stime of the target's
// process and of this one, and the machine's busy time (/proc/stat: all but idle, iowait and
// steal). Linux only.
func runCPU(ctx context.Context, s *stack, cfg config) ([]cpuRow, error) {
	t, err := startTargets(ctx, s, cpuTargets...)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	pids := map[string]int{targetBaseline: t.baseline.cmd.Process.Pid, targetBaseFn: t.baseFn.cmd.Process.Pid,
		targetHandler: t.handler.cmd.Process.Pid}
	t.warmUp(ctx, cpuTargets, opKinds, 50, cfg.warmup)
	var rows []cpuRow
	for _, op := range opKinds {
		sum := map[string]*cpuRow{}
		for _, name := range cpuTargets {
			sum[name] = &cpuRow{Target: name, Op: op, Rounds: cfg.cpuRounds, RoundS: cfg.cpuRoundDur.Seconds()}
		}
		for i := range cfg.cpuRounds {
			for j := range cpuTargets {
				name := cpuTargets[(i+j)%len(cpuTargets)]
				before, err := cpuNow(pids[name])
				if err != nil {
					return nil, err
				}
				l := drive(ctx, 50, cfg.cpuRoundDur, 0, t.op(name, op))
				after, err := cpuNow(pids[name])
				if err != nil {
					return nil, err
				}
				r := sum[name]
				r.Requests += len(l.samples)
				r.HandlerUs += after.handler - before.handler
				r.BenchUs += after.self - before.self
				r.TotalUs += after.machine - before.machine
			}
		}
		for _, name := range cpuTargets {
			r := sum[name]
			if r.Requests == 0 {
				return nil, fmt.Errorf("cpu, %s %s: no requests", name, op)
			}
			n := float64(r.Requests)
			r.HandlerUs, r.BenchUs, r.TotalUs = r.HandlerUs/n, r.BenchUs/n, r.TotalUs/n
			r.OtherUs = r.TotalUs - r.HandlerUs - r.BenchUs
			rows = append(rows, *r)
		}
		n := len(rows)
		logf("cpu %-9s c=50  µs per request (handler / all): b %.0f / %.0f  b-fn %.0f / %.0f  c %.0f / %.0f", op,
			rows[n-3].HandlerUs, rows[n-3].TotalUs, rows[n-2].HandlerUs, rows[n-2].TotalUs, rows[n-1].HandlerUs, rows[n-1].TotalUs)
	}
	return rows, nil
}

// cpuSample is CPU time consumed so far, in µs.
type cpuSample struct{ handler, self, machine float64 }

// cpuNow reads the CPU time of pid, of this process and of the whole machine.
func cpuNow(pid int) (cpuSample, error) {
	var s cpuSample
	var err error
	if s.handler, err = procCPU(strconv.Itoa(pid)); err != nil {
		return s, err
	}
	if s.self, err = procCPU("self"); err != nil {
		return s, err
	}
	s.machine, err = machineBusy()
	return s, err
}

// clockTick is USER_HZ, the unit of /proc's CPU times: 100 on every Linux architecture Go runs on.
const clockTick = 100

// procCPU is utime + stime of /proc/<pid>/stat, in µs.
func procCPU(pid string) (float64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, fmt.Errorf("cpu: %w", err)
	}
	s := string(b)
	// Fields after the command name, which is in parentheses and may hold spaces: state is the
	// first, utime the 12th, stime the 13th (proc(5) fields 14 and 15).
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("cpu: short /proc/%s/stat", pid)
	}
	var ticks float64
	for _, v := range f[11:13] {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu: /proc/%s/stat: %w", pid, err)
		}
		ticks += n
	}
	return ticks * 1e6 / clockTick, nil
}

// machineBusy is the busy time of all CPUs from /proc/stat's cpu line, in µs: every column but
// idle, iowait and steal (guest time is already in user).
func machineBusy() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("cpu: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("cpu: /proc/stat begins %q", line)
	}
	var ticks float64
	for i, v := range f[1:9] { // user nice system idle iowait irq softirq steal
		if i == 3 || i == 4 || i == 7 {
			continue
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu: /proc/stat: %w", err)
		}
		ticks += n
	}
	return ticks * 1e6 / clockTick, nil
}
