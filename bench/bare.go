package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/funcredis/funcredis/emulator/localstack"
	"github.com/funcredis/funcredis/internal/resplike"
)

// The bare phase: the full version of the e2e test TestBareServerLargeValues.
const (
	bareClients  = 16
	bareLifetime = 4 * time.Second
	bareMin      = 33 << 10
	bareMax      = 1 << 20
)

// bareResult is the bare phase.
type bareResult struct {
	DurationS       float64 `json:"duration_s"`
	Clients         int     `json:"clients"`
	LifetimeS       float64 `json:"token_lifetime_s"`
	Requests        int     `json:"requests"`
	PutMiB          float64 `json:"put_mib"`
	Rotations       int64   `json:"rotations"` // tokens the handler acquired
	Failed          int     `json:"failed_requests"`
	Mismatched      int     `json:"values_not_read_back"` // a GET after its PUT, and the read-back at the end
	ReadBack        int     `json:"keys_read_back"`
	RetiredBusy     int64   `json:"retired_busy"`
	Reauths         int64   `json:"reauthentications"`
	Dials           int64   `json:"dials"`
	AuthFailures    int64   `json:"auth_failures"`
	ConnectionDrops int64   `json:"connection_drops"`
}

// runBare runs bin/handler straight to a bare redis-server (no gateway: the token service
// installs each token as the app identity's ACL password) with short tokens, while clients PUT
// random 33 KiB–1 MiB values that look like RESP and GET each back: every request must succeed
// and every value read back byte for byte, across rotations, and no connection may have been
// retired with a command in flight.
func runBare(ctx context.Context, s *stack, cfg config) (bareResult, error) {
	r := bareResult{DurationS: cfg.bareDur.Seconds(), Clients: bareClients, LifetimeS: bareLifetime.Seconds()}
	bare, err := localstack.Start(ctx, localstack.Config{TokenLifetime: bareLifetime, Bare: true})
	if err != nil {
		return r, fmt.Errorf("bare stack: %w", err)
	}
	defer bare.Close()
	env := append(append(processEnv(), bare.Env()...), "FUNCTIONS_APP_ROOT_PATH="+s.repo, fmt.Sprintf("CACHE_MAX_VALUE_BYTES=%d", bareMax))
	p, err := startProc(s.dir, "bare", s.bin, env)
	if err != nil {
		return r, err
	}
	defer p.stop()
	c := newHTTPClient()
	if _, err := p.waitReady(ctx, c); err != nil {
		return r, err
	}
	h0, err := health(ctx, c, p.url())
	if err != nil {
		return r, err
	}
	var (
		mu         sync.Mutex
		acked      = map[string][]byte{} // key → the last value a PUT acknowledged
		requests   atomic.Int64
		sent       atomic.Int64
		mismatched atomic.Int64
	)
	// Requests run on ctx, not on the load's: one under way when the time is up completes, so
	// that every value the server stored was acknowledged.
	l := drive(ctx, bareClients, cfg.bareDur, 0, func(_ context.Context, w, i int) error {
		rng := rand.New(rand.NewPCG(uint64(w), uint64(i)))
		key := fmt.Sprintf("bare-%d-%d", w, i%3)
		v := resplike.Value(rng, bareMin+rng.IntN(bareMax-bareMin+1))
		requests.Add(1)
		if err := do(ctx, c, http.MethodPut, p.url()+"/api/cache/"+key, v); err != nil {
			return err
		}
		sent.Add(int64(len(v)))
		mu.Lock()
		acked[key] = v
		mu.Unlock()
		requests.Add(1)
		got, err := getBody(ctx, c, p.url()+"/api/cache/"+key)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, v) {
			mismatched.Add(1)
		}
		return nil
	})
	for key, v := range acked {
		got, err := getBody(ctx, c, p.url()+"/api/cache/"+key)
		r.ReadBack++
		if err != nil || !bytes.Equal(got, v) {
			mismatched.Add(1)
		}
	}
	h1, err := health(ctx, c, p.url())
	if err != nil {
		return r, err
	}
	r.Requests = int(requests.Load())
	r.Failed = summarize(l.samples, l.elapsed).Failed // a sample ends at its first failed request
	r.PutMiB = float64(sent.Load()) / (1 << 20)
	r.Mismatched = int(mismatched.Load())
	r.Rotations = h1.Counters.TokenAcquisitions - h0.Counters.TokenAcquisitions
	r.RetiredBusy = h1.Counters.RetiredBusy - h0.Counters.RetiredBusy
	r.Reauths = h1.Counters.Reauthentications - h0.Counters.Reauthentications
	r.Dials = h1.Counters.Dials - h0.Counters.Dials
	r.AuthFailures = h1.Counters.AuthFailures
	r.ConnectionDrops = h1.Counters.ConnectionDrops
	logf("bare redis-server, %s: %d requests, %.0f MiB PUT, %d rotations, %d failed, %d not read back, retired_busy %d, reauthentications %d",
		cfg.bareDur, r.Requests, r.PutMiB, r.Rotations, r.Failed, r.Mismatched, r.RetiredBusy, r.Reauths)
	return r, nil
}

// getBody GETs url and returns the body of a 200.
func getBody(ctx context.Context, c *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d: %w", url, res.StatusCode, errStatus)
	}
	return b, nil
}
