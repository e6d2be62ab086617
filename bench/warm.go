package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/funcredis/funcredis/emulator/host"
	"github.com/funcredis/funcredis/emulator/localstack"
	"github.com/redis/go-redis/v9"
)

// The warm-path targets, in report order.
const (
	targetDirect   = "a0 go-redis → redis-server"
	targetRaw      = "a go-redis → gateway"
	targetBaseline = "b baseline handler"
	targetBaseFn   = "b-fn baseline serving the cache function"
	targetHandler  = "c bin/handler forwarded"
	targetPayload  = "d host → bin/handler payload"
	targetPerInvoc = "per-invocation handler"
)

// opKinds are the warm-path operations.
var opKinds = []string{"GET small", "GET 64KiB", "PUT small", "PUT 64KiB"}

// cell is the median of a target's trials for one operation and concurrency.
type cell struct {
	Op       string  `json:"op"`
	Conc     int     `json:"concurrency"`
	Target   string  `json:"target"`
	Trials   int     `json:"trials"`
	TrialS   float64 `json:"trial_s"` // length of one trial, seconds
	RPS      float64 `json:"rps"`
	P50us    float64 `json:"p50_us"`
	P99us    float64 `json:"p99_us"`
	Failed   int     `json:"failed"`   // over every trial
	Requests int     `json:"requests"` // over every trial
	// RPSSpread and P50Spread are the interquartile range over the median of the trials: the
	// run's own noise.
	RPSSpread float64 `json:"rps_spread"`
	P50Spread float64 `json:"p50_spread"`

	// rpsTrials and p50Trials are the figures of each trial, in trial order, for the ratios.
	rpsTrials, p50Trials []float64
}

// ratio compares (c) with another target for one operation and concurrency.
type ratio struct {
	Of      string  `json:"of"`
	Op      string  `json:"op"`
	Conc    int     `json:"concurrency"`
	Versus  string  `json:"versus"`
	RPS     float64 `json:"rps_ratio"` // of / versus: the median of the trials' ratios (trialRatios)
	P50     float64 `json:"p50_ratio"` // of / versus: the median of the trials' ratios (trialRatios)
	P50Diff float64 `json:"p50_diff_us"`
	// RPSSpread and P50Spread are the interquartile range of the trials' ratios over their median.
	RPSSpread float64 `json:"rps_ratio_spread"`
	P50Spread float64 `json:"p50_ratio_spread"`
}

// warmTargets are the running servers and clients of the warm-path phases: those that were
// asked for; the others are nil.
type warmTargets struct {
	direct, raw *redis.Client
	baseline    *proc
	baseFn      *proc
	handler     *proc
	perInvoc    *proc
	host        *host.Host
	c           *clientSet
}

// clientSet is one HTTP client per target, so connection pools never mix.
type clientSet struct{ baseline, baseFn, handler, payload, perInvoc, probe *http.Client }

func newClientSet() *clientSet {
	return &clientSet{newHTTPClient(), newHTTPClient(), newHTTPClient(), newHTTPClient(), newHTTPClient(), newHTTPClient()}
}

// startTargets starts the named targets, each warm (ready, and its first connections open),
// against the gateway's round-trip time as it is now.
func startTargets(ctx context.Context, s *stack, names ...string) (_ *warmTargets, err error) {
	t := &warmTargets{c: newClientSet()}
	defer func() {
		if err != nil {
			t.Close()
		}
	}()
	want := func(name string) bool { return slices.Contains(names, name) }
	if want(targetDirect) {
		t.direct = s.backendClient(0)
	}
	if want(targetRaw) {
		if t.raw, err = s.gatewayClient(0); err != nil {
			return nil, err
		}
	}
	self, err := selfPath()
	if err != nil {
		return nil, err
	}
	tok, _, err := s.Tokens.Token(localstack.AppObjectID)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	withToken := s.handlerEnv("REDIS_USERNAME="+localstack.AppObjectID, "REDIS_PASSWORD="+tok)
	for _, p := range []struct {
		target string
		to     **proc
		name   string
		path   string
		env    []string
		args   []string
	}{
		{targetBaseline, &t.baseline, "baseline", self, withToken, []string{"-serve", serveBaseline}},
		{targetBaseFn, &t.baseFn, "baseline-fn", self, withToken, []string{"-serve", serveBaselineFn}},
		{targetPerInvoc, &t.perInvoc, "perinvocation", self, s.handlerEnv("REDIS_USERNAME=" + localstack.AppObjectID), []string{"-serve", servePerInvocation}},
		{targetHandler, &t.handler, "handler-forwarded", s.bin, s.handlerEnv("FUNCTIONS_APP_ROOT_PATH=" + s.repo), nil},
	} {
		if !want(p.target) {
			continue
		}
		if *p.to, err = startProc(s.dir, p.name, p.path, p.env, p.args...); err != nil {
			return nil, err
		}
		if _, err := (*p.to).waitReady(ctx, t.c.probe); err != nil {
			return nil, err
		}
	}
	if want(targetPayload) {
		root, err := s.payloadRoot()
		if err != nil {
			return nil, err
		}
		off := false
		t.host, err = host.New(host.Config{Root: root, Addr: "127.0.0.1:0", Env: s.handlerEnv(), Forwarding: &off,
			InitTimeout: 20 * time.Second, FunctionTimeout: 20 * time.Second, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return nil, fmt.Errorf("host: %w", err)
		}
		if err := t.host.Start(ctx); err != nil {
			return nil, fmt.Errorf("host: %w", err)
		}
	}
	for _, c := range []*redis.Client{t.direct, t.raw} {
		if c == nil {
			continue
		}
		if err := c.Ping(ctx).Err(); err != nil {
			return nil, fmt.Errorf("ping: %w", err)
		}
	}
	return t, nil
}

// Close stops every target.
func (t *warmTargets) Close() {
	if t.host != nil {
		_ = t.host.Close()
	}
	for _, p := range []*proc{t.baseline, t.baseFn, t.handler, t.perInvoc} {
		p.stop()
	}
	for _, c := range []*redis.Client{t.direct, t.raw} {
		if c != nil {
			_ = c.Close()
		}
	}
}

// warmUp sends every operation of kinds to every target in names at concurrency conc for dur, so
// that their connection pools are open before anything is measured.
func (t *warmTargets) warmUp(ctx context.Context, names, kinds []string, conc int, dur time.Duration) {
	for _, name := range names {
		for _, kind := range kinds {
			drive(ctx, conc, dur, 0, t.op(name, kind))
		}
	}
}

// op returns the request of kind for target.
func (t *warmTargets) op(target, kind string) op {
	key, value := keySmall, valueSmall
	if kind == "GET 64KiB" || kind == "PUT 64KiB" {
		key, value = keyLarge, valueLarge
	}
	get := kind == "GET small" || kind == "GET 64KiB"
	httpOp := func(c *http.Client, base string) op {
		if get {
			return httpGet(c, base+"/api/cache/"+key)
		}
		return httpPut(c, base+"/api/cache/put-"+key, value)
	}
	switch target {
	case targetDirect, targetRaw:
		rdb := t.direct
		if target == targetRaw {
			rdb = t.raw
		}
		if get {
			return redisGet(rdb, valueKey(key))
		}
		return redisSet(rdb, valueKey("put-"+key), value)
	case targetBaseline:
		return httpOp(t.c.baseline, t.baseline.url())
	case targetBaseFn:
		return httpOp(t.c.baseFn, t.baseFn.url())
	case targetHandler:
		return httpOp(t.c.handler, t.handler.url())
	case targetPayload:
		return httpOp(t.c.payload, t.host.URL())
	case targetPerInvoc:
		return httpOp(t.c.perInvoc, t.perInvoc.url())
	}
	panic("unknown target " + target)
}

// measure runs trials of dur for each target at conc, rotating the order each trial so no target
// always runs first, and returns one cell per target (medians).
func measure(ctx context.Context, t *warmTargets, targets []string, kind string, conc, trials int, dur time.Duration) []cell {
	rps := map[string][]float64{}
	p50 := map[string][]float64{}
	p99 := map[string][]float64{}
	failed := map[string]int{}
	reqs := map[string]int{}
	for i := range trials {
		for j := range targets {
			name := targets[(i+j)%len(targets)]
			l := drive(ctx, conc, dur, 0, t.op(name, kind))
			st := summarize(l.samples, l.elapsed)
			rps[name] = append(rps[name], st.RPS)
			p50[name] = append(p50[name], st.P50us)
			p99[name] = append(p99[name], st.P99us)
			failed[name] += st.Failed
			reqs[name] += st.Requests
		}
	}
	var out []cell
	for _, name := range targets {
		out = append(out, cell{Op: kind, Conc: conc, Target: name, Trials: trials, TrialS: dur.Seconds(),
			RPS: median(rps[name]), P50us: median(p50[name]), P99us: median(p99[name]), Failed: failed[name], Requests: reqs[name],
			RPSSpread: spread(rps[name]), P50Spread: spread(p50[name]), rpsTrials: rps[name], p50Trials: p50[name]})
	}
	return out
}

// warmResults are the warm-path phase on loopback.
type warmResults struct {
	Cells  []cell  `json:"cells"`
	Ratios []ratio `json:"ratios"`
}

// warmAll are the targets of the warm phase, in report order.
var warmAll = []string{targetDirect, targetRaw, targetBaseline, targetBaseFn, targetHandler, targetPayload}

// runWarm measures the warm path of every target on loopback, GET and PUT, small and 64 KiB, at
// concurrency 1 and 50.
func runWarm(ctx context.Context, s *stack, cfg config) (warmResults, error) {
	var res warmResults
	t, err := startTargets(ctx, s, warmAll...)
	if err != nil {
		return res, err
	}
	defer t.Close()
	t.warmUp(ctx, warmAll, opKinds, 50, cfg.warmup) // every connection pool at the highest concurrency
	for _, conc := range []int{1, 50} {
		for _, kind := range opKinds {
			trials, dur := cfg.trials, cfg.trialDur
			if conc > 1 {
				trials, dur = cfg.loadTrials, cfg.loadTrialDur
			}
			cells := measure(ctx, t, warmAll, kind, conc, trials, dur)
			res.Cells = append(res.Cells, cells...)
			by := map[string]cell{}
			for _, c := range cells {
				by[c.Target] = c
			}
			c := by[targetHandler]
			for _, pair := range [][2]string{{targetHandler, targetBaseline}, {targetHandler, targetRaw},
				{targetBaseFn, targetBaseline}, {targetHandler, targetBaseFn}} {
				x, o := by[pair[0]], by[pair[1]]
				rps, p50 := trialRatios(x.rpsTrials, o.rpsTrials), trialRatios(x.p50Trials, o.p50Trials)
				res.Ratios = append(res.Ratios, ratio{Of: pair[0], Op: kind, Conc: conc, Versus: pair[1],
					RPS: median(rps), P50: median(p50), P50Diff: x.P50us - o.P50us, RPSSpread: spread(rps), P50Spread: spread(p50)})
			}
			logf("warm %-9s c=%-2d  a0 %.0f/s  a %.0f/s  b %.0f/s  c %.0f/s  d %.0f/s  (c/b %.2f, p50 c %.0fµs b %.0fµs)",
				kind, conc, by[targetDirect].RPS, by[targetRaw].RPS, by[targetBaseline].RPS, c.RPS, by[targetPayload].RPS,
				median(trialRatios(c.rpsTrials, by[targetBaseline].rpsTrials)), c.P50us, by[targetBaseline].P50us)
		}
	}
	return res, nil
}

// trialRatios are x's figure over o's in each trial. Each trial runs every target once, back to
// back, so a drift of the machine's load between trials, which moves both figures of a trial
// together, cancels in their ratio; the median of these is the ratio the report gives.
func trialRatios(x, o []float64) []float64 {
	r := make([]float64, 0, len(x))
	for i := range min(len(x), len(o)) {
		if o[i] > 0 {
			r = append(r, x[i]/o[i])
		}
	}
	return r
}
