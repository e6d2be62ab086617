package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/funcredis/funcredis/emulator/localstack"
	"github.com/funcredis/funcredis/emulator/tokenservice"
)

// rttOps are the operations measured at each round-trip time.
var rttOps = []string{"GET small", "PUT small"}

// rttTargets are the targets measured at each round-trip time: go-redis alone shows what one
// round trip costs, (b) and (c) the warm path, the anti-pattern what each request would pay.
var rttTargets = []string{targetRaw, targetBaseline, targetHandler}

// roundTrips is the number of round trips between the handler and Redis the anti-pattern needs
// at least: TCP, TLS 1.3, HELLO with AUTH, the command.
const roundTrips = 4

// goRedisRoundTrips is what the anti-pattern takes with go-redis v9.23: its connection set-up
// sends HELLO, then a pipeline of CLIENT SETINFO, then CLIENT MAINT_NOTIFICATIONS, each waiting
// for the one before (redis.go, initConn): TCP, TLS, those three, the command.
const goRedisRoundTrips = 6

// rttLevel is everything measured at one round-trip time, at concurrency 1.
type rttLevel struct {
	RTTus float64 `json:"rtt_us"`
	Cells []cell  `json:"cells"` // rttTargets × rttOps, and the anti-pattern's GET small
	// PerInvocTokenRequests counts the token service's requests while the anti-pattern ran
	// (MSAL Go caches managed-identity tokens process-wide, so not every invocation reaches it).
	PerInvocTokenRequests int64 `json:"per_invocation_token_requests"`
	PerInvocInvocations   int   `json:"per_invocation_invocations"`
}

// rttDelta is what a round-trip time adds to a target's warm p50 over loopback.
type rttDelta struct {
	Target  string  `json:"target"`
	Op      string  `json:"op"`
	RTTus   float64 `json:"rtt_us"`
	DeltaUs float64 `json:"p50_minus_loopback_us"`
	PerRTT  float64 `json:"delta_per_rtt"` // DeltaUs / RTTus: 1 is one round trip as configured
	// PerRoundTrip is DeltaUs over what the RTT adds to go-redis alone for the same operation:
	// one round trip as this emulated network and machine deliver it.
	PerRoundTrip float64 `json:"delta_per_round_trip"`
	// PerBaseline is DeltaUs over what the RTT adds to (b), the minimal handler that sends one
	// command per request: one round trip as a handler process behind an HTTP client pays it.
	PerBaseline float64 `json:"delta_per_baseline_delta"`
}

// flightRow counts the Redis round trips of one target's requests exactly: the command flights
// the gateway forwarded (gateway.Stats.Flights) while the target served requests one at a time.
type flightRow struct {
	Target     string  `json:"target"`
	Op         string  `json:"op"`
	Requests   int     `json:"requests"`
	Flights    int64   `json:"flights"`
	PerRequest float64 `json:"flights_per_request"`
}

// antiRow is the anti-pattern at one round-trip time next to its physical bound: roundTrips
// round trips plus one token request. A round trip is go-redis's GET p50 at that RTT: the
// network's, as emulated, with Redis's own work in it.
type antiRow struct {
	RTTus        float64 `json:"rtt_us"`
	RoundTripUs  float64 `json:"round_trip_us"`
	AntiP50us    float64 `json:"per_invocation_p50_us"`
	WarmP50us    float64 `json:"handler_p50_us"`
	BoundUs      float64 `json:"bound_us"`          // roundTrips × RoundTripUs + TokenRequestUs
	GoRedisUs    float64 `json:"go_redis_floor_us"` // goRedisRoundTrips × RoundTripUs + TokenRequestUs
	Ratio        float64 `json:"ratio"`             // AntiP50us / WarmP50us
	BoundRatio   float64 `json:"bound_ratio"`       // BoundUs / WarmP50us
	OverBoundUs  float64 `json:"over_bound_us"`     // AntiP50us − BoundUs
	TokensPerInv float64 `json:"token_requests_per_invocation"`
}

// rttResults is the rtt phase.
type rttResults struct {
	Levels []rttLevel `json:"levels"`
	// TokenRequestUs is the median latency of one token request to the identity endpoint (the
	// token service, on loopback as the endpoint is local to a Functions instance).
	TokenRequestUs float64    `json:"token_request_us"`
	Deltas         []rttDelta `json:"deltas"`
	AntiPattern    []antiRow  `json:"anti_pattern"`
	// Flights are counted on loopback (the RTT does not change them).
	Flights []flightRow `json:"flights"`
}

// runRTT measures, at each round-trip time between the handler and Redis (the gateway's), the
// warm p50 of go-redis, (b) and (c) for GET and PUT, and the per-invocation anti-pattern. Each
// level starts its own processes, so every connection pays that level's round trips.
func runRTT(ctx context.Context, s *stack, cfg config) (rttResults, error) {
	var res rttResults
	defer s.Gateway.SetRoundTrip(0)
	tok, err := tokenRequestLatency(ctx, s, 200)
	if err != nil {
		return res, err
	}
	res.TokenRequestUs = tok
	for _, rtt := range rtts {
		s.Gateway.SetRoundTrip(rtt)
		lv, flights, err := measureRTT(ctx, s, cfg, rtt)
		if err != nil {
			return res, fmt.Errorf("at %v: %w", rtt, err)
		}
		res.Levels = append(res.Levels, lv)
		res.Flights = append(res.Flights, flights...)
	}
	at := func(lv rttLevel, target, op string) cell {
		for _, c := range lv.Cells {
			if c.Target == target && c.Op == op {
				return c
			}
		}
		return cell{}
	}
	loop := res.Levels[0]
	for _, lv := range res.Levels {
		if lv.RTTus > 0 {
			for _, op := range rttOps {
				one := at(lv, targetRaw, op).P50us - at(loop, targetRaw, op).P50us
				base := at(lv, targetBaseline, op).P50us - at(loop, targetBaseline, op).P50us
				for _, target := range rttTargets {
					d := at(lv, target, op).P50us - at(loop, target, op).P50us
					res.Deltas = append(res.Deltas, rttDelta{Target: target, Op: op, RTTus: lv.RTTus, DeltaUs: d,
						PerRTT: d / lv.RTTus, PerRoundTrip: d / one, PerBaseline: d / base})
				}
			}
		}
		warm, anti := at(lv, targetHandler, "GET small").P50us, at(lv, targetPerInvoc, "GET small").P50us
		rt := at(lv, targetRaw, "GET small").P50us
		bound := roundTrips*rt + res.TokenRequestUs
		row := antiRow{RTTus: lv.RTTus, RoundTripUs: rt, AntiP50us: anti, WarmP50us: warm, BoundUs: bound,
			GoRedisUs: goRedisRoundTrips*rt + res.TokenRequestUs,
			Ratio:     anti / warm, BoundRatio: bound / warm, OverBoundUs: anti - bound}
		if lv.PerInvocInvocations > 0 {
			row.TokensPerInv = float64(lv.PerInvocTokenRequests) / float64(lv.PerInvocInvocations)
		}
		res.AntiPattern = append(res.AntiPattern, row)
	}
	return res, nil
}

// flightRequests is how many requests each target serves while its flights are counted.
const flightRequests = 500

// measureRTT measures one round-trip time; on loopback it also counts each target's flights.
func measureRTT(ctx context.Context, s *stack, cfg config, rtt time.Duration) (rttLevel, []flightRow, error) {
	lv := rttLevel{RTTus: micros(rtt)}
	t, err := startTargets(ctx, s, append(rttTargets, targetPerInvoc)...)
	if err != nil {
		return lv, nil, err
	}
	defer t.Close()
	t.warmUp(ctx, rttTargets, rttOps, 1, cfg.warmup)
	var flights []flightRow
	if rtt == 0 {
		for _, op := range rttOps {
			for _, target := range rttTargets {
				before := s.Gateway.Stats().Flights
				l := drive(ctx, 1, time.Minute, flightRequests, t.op(target, op))
				row := flightRow{Target: target, Op: op, Requests: len(l.samples), Flights: s.Gateway.Stats().Flights - before}
				row.PerRequest = float64(row.Flights) / float64(row.Requests)
				flights = append(flights, row)
			}
			n := len(flights)
			logf("rtt flights per %-9s  a %.2f  b %.2f  c %.2f", op, flights[n-3].PerRequest, flights[n-2].PerRequest, flights[n-1].PerRequest)
		}
	}
	for _, op := range rttOps {
		cells := measure(ctx, t, rttTargets, op, 1, cfg.rttTrials, cfg.trialDur)
		lv.Cells = append(lv.Cells, cells...)
		logf("rtt %v %-9s  p50 a %.0fµs  b %.0fµs  c %.0fµs", rtt, op, cells[0].P50us, cells[1].P50us, cells[2].P50us)
	}
	before := s.Tokens.Stats().Requests
	cells := measure(ctx, t, []string{targetPerInvoc}, "GET small", 1, cfg.rttTrials, cfg.trialDur)
	lv.PerInvocTokenRequests = s.Tokens.Stats().Requests - before
	lv.PerInvocInvocations = cells[0].Requests
	lv.Cells = append(lv.Cells, cells...)
	logf("rtt %v anti-pattern p50 %.0fµs (%d token requests for %d invocations)", rtt, cells[0].P50us,
		lv.PerInvocTokenRequests, lv.PerInvocInvocations)
	return lv, flights, nil
}

// tokenRequestLatency is the median latency of n token requests for the app's identity, as
// azidentity sends them to the identity endpoint (App Service managed-identity protocol).
func tokenRequestLatency(ctx context.Context, s *stack, n int) (float64, error) {
	q := url.Values{"api-version": {"2019-08-01"}, "resource": {tokenservice.DefaultAudience}, "client_id": {localstack.AppClientID}}
	c := newHTTPClient()
	lat := make([]float64, 0, n)
	for range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Tokens.Endpoint()+"?"+q.Encode(), nil)
		if err != nil {
			return 0, fmt.Errorf("token request: %w", err)
		}
		req.Header.Set("X-IDENTITY-HEADER", s.Tokens.Secret())
		t0 := time.Now()
		res, err := c.Do(req)
		if err != nil {
			return 0, fmt.Errorf("token request: %w", err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("token request: %s", res.Status)
		}
		lat = append(lat, micros(time.Since(t0)))
	}
	return median(lat), nil
}
