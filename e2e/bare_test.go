package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcredis/funcredis/emulator/localstack"
	"github.com/funcredis/funcredis/internal/redistest"
	"github.com/funcredis/funcredis/internal/resplike"
	"github.com/funcredis/funcredis/pool"
)

// bareDuration is how long TestBareServerLargeValues runs: 12 s, or FUNCREDIS_BARE_DURATION.
// make bench runs the full version (60 s) as its phase "bare".
func bareDuration(t *testing.T) time.Duration {
	d := 12 * time.Second
	if s := os.Getenv("FUNCREDIS_BARE_DURATION"); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			t.Fatalf("FUNCREDIS_BARE_DURATION: %v", err)
		}
	}
	return d
}

// bin/handler straight to a bare redis-server, no gateway in between (the
// gateway closes a malformed stream, and go-redis's retry then hides the
// damage), with 4 s Entra tokens from the token service: 16 clients PUT and
// GET random 33 KiB–1 MiB values that look like RESP, across token
// rotations. No request fails, every acknowledged value reads back byte for
// byte, and no connection had to be retired with a command in flight.
func TestBareServerLargeValues(t *testing.T) {
	if testing.Short() {
		t.Skip("runs across token rotations in real time")
	}
	d := bareDuration(t)
	backend := redistest.MustReal(t, redistest.Options{Password: "random"})
	bare, err := localstack.Start(context.Background(), localstack.Config{Backend: backend.Server, TokenLifetime: 4 * time.Second, Bare: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	a := startApp(t, true, append(bare.Env(), "CACHE_MAX_VALUE_BYTES=1048576", "LOG_LEVEL=info")...)
	health := func() pool.Health {
		_, b := a.do(t, "GET", "/api/health", "")
		var h pool.Health
		if err := json.Unmarshal(b, &h); err != nil {
			t.Fatalf("health: %v: %s", err, b)
		}
		return h
	}
	before := health()

	const clients = 16
	var (
		mu       sync.Mutex
		acked    = map[string][]byte{} // key → the last value a PUT acknowledged
		requests atomic.Int64
		sent     atomic.Int64
		failures []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 10 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(c), 9))
			for i := 0; time.Now().Before(stop); i++ {
				key := fmt.Sprintf("bare-%d-%d", c, i%3)
				v := resplike.Value(r, 33<<10+r.IntN(1<<20-33<<10+1))
				res, b, err := a.try("PUT", "/api/cache/"+key, string(v), "Content-Type: application/octet-stream")
				requests.Add(1)
				if err != nil || res.StatusCode/100 != 2 {
					fail("PUT %s (%d bytes): %v %d %.200s", key, len(v), err, status(res), b)
					continue
				}
				sent.Add(int64(len(v)))
				mu.Lock()
				acked[key] = v
				mu.Unlock()
				res, b, err = a.try("GET", "/api/cache/"+key, "")
				requests.Add(1)
				if err != nil || res.StatusCode != 200 || !bytes.Equal(b, v) {
					fail("GET %s: %v %d: %d bytes, want the %d just PUT", key, err, status(res), len(b), len(v))
				}
			}
		})
	}
	wg.Wait()
	for key, v := range acked {
		res, b := a.do(t, "GET", "/api/cache/"+key, "")
		if res.StatusCode != 200 || !bytes.Equal(b, v) {
			fail("read back %s: %d, %d bytes, want %d", key, res.StatusCode, len(b), len(v))
		}
	}
	after := health()
	rotations := after.Counters.TokenAcquisitions - before.Counters.TokenAcquisitions
	t.Logf("bare redis-server, %s: %d requests, %d MiB PUT, %d rotations, reauthentications=%d dials=%d retired=%d retired_busy=%d auth_failures=%d drops=%d",
		d, requests.Load(), sent.Load()>>20, rotations, after.Counters.Reauthentications-before.Counters.Reauthentications,
		after.Counters.Dials-before.Counters.Dials, after.Counters.Retired-before.Counters.Retired,
		after.Counters.RetiredBusy-before.Counters.RetiredBusy, after.Counters.AuthFailures, after.Counters.ConnectionDrops)
	for _, f := range failures {
		t.Error(f)
	}
	if rotations < 2 {
		t.Errorf("%d token rotations in %s; want at least 2", rotations, d)
	}
	if n := after.Counters.RetiredBusy - before.Counters.RetiredBusy; n != 0 {
		t.Errorf("%d connections retired with a command in flight", n)
	}
	if after.Counters.AuthFailures != 0 {
		t.Errorf("%d AUTH failures", after.Counters.AuthFailures)
	}
	a.assertNoTokenInLogs(t)
}

// status is the response's status, or 0 when there is none.
func status(res *http.Response) int {
	if res == nil {
		return 0
	}
	return res.StatusCode
}
