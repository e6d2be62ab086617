package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// The keys and values of the warm-path phases.
const (
	keySmall = "bench-small"
	keyLarge = "bench-64k"
)

var (
	valueSmall = []byte("hello, funcredis")
	valueLarge = bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16)
)

// op is one request of a load: worker and i identify it (for per-worker keys).
type op func(ctx context.Context, worker, i int) error

// sample is one request: when it started (since the load began), how long it took, whether it
// succeeded.
type sample struct {
	start, lat time.Duration
	worker     int
	ok         bool
}

// load is the outcome of one drive.
type load struct {
	t0      time.Time
	elapsed time.Duration
	samples []sample // ordered by worker, then by time
}

// drive runs conc workers, each sending requests back to back until dur has passed, perWorker
// requests were sent (0: no count bound) or ctx ends.
func drive(ctx context.Context, conc int, dur time.Duration, perWorker int, o op) load {
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	per := make([][]sample, conc)
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := range conc {
		wg.Go(func() {
			s := make([]sample, 0, 1024)
			for i := 0; perWorker == 0 || i < perWorker; i++ {
				if ctx.Err() != nil {
					break
				}
				start := time.Now()
				err := o(ctx, w, i)
				if err != nil && ctx.Err() != nil {
					break // cut off by the end of the run, not a failure
				}
				s = append(s, sample{start: start.Sub(t0), lat: time.Since(start), worker: w, ok: err == nil})
			}
			per[w] = s
		})
	}
	wg.Wait()
	l := load{t0: t0, elapsed: time.Since(t0)}
	for _, s := range per {
		l.samples = append(l.samples, s...)
	}
	return l
}

// stats summarises a set of samples.
type stats struct {
	Requests int     `json:"requests"`
	Failed   int     `json:"failed"`
	RPS      float64 `json:"rps"`
	P50us    float64 `json:"p50_us"`
	P99us    float64 `json:"p99_us"`
	MaxUs    float64 `json:"max_us"`
}

// summarize computes stats over samples for a run of elapsed length.
func summarize(samples []sample, elapsed time.Duration) stats {
	st := stats{Requests: len(samples)}
	lat := make([]time.Duration, 0, len(samples))
	for _, s := range samples {
		if !s.ok {
			st.Failed++
		}
		lat = append(lat, s.lat)
	}
	if elapsed > 0 {
		st.RPS = float64(len(samples)-st.Failed) / elapsed.Seconds()
	}
	slices.Sort(lat)
	st.P50us = micros(quantile(lat, 0.50))
	st.P99us = micros(quantile(lat, 0.99))
	if len(lat) > 0 {
		st.MaxUs = micros(lat[len(lat)-1])
	}
	return st
}

// quantile of sorted durations (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// newHTTPClient is the load generator's client: keep-alive, enough idle connections per host for
// any concurrency the bench uses, no compression, every request bounded.
func newHTTPClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        512,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// errStatus is a response with an unexpected status.
var errStatus = errors.New("unexpected status")

// do sends one request and reads the whole body; a status outside 2xx is an error.
func do(ctx context.Context, c *http.Client, method, url string, body []byte) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return err
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("%s %s: %d: %w", method, url, res.StatusCode, errStatus)
	}
	return nil
}

// httpGet GETs one URL.
func httpGet(c *http.Client, url string) op {
	return func(ctx context.Context, _, _ int) error { return do(ctx, c, "GET", url, nil) }
}

// httpPut PUTs value to base+"/<worker>", one key per worker so the data set stays bounded.
func httpPut(c *http.Client, base string, value []byte) op {
	return func(ctx context.Context, w, _ int) error {
		return do(ctx, c, "PUT", fmt.Sprintf("%s-%d", base, w), value)
	}
}

// redisGet GETs key with go-redis.
func redisGet(rdb *redis.Client, key string) op {
	return func(ctx context.Context, _, _ int) error { return rdb.Get(ctx, key).Err() }
}

// redisSet SETs value on prefix+"-<worker>" with go-redis.
func redisSet(rdb *redis.Client, prefix string, value []byte) op {
	return func(ctx context.Context, w, _ int) error {
		return rdb.Set(ctx, fmt.Sprintf("%s-%d", prefix, w), value, 0).Err()
	}
}

// median of xs (0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread of xs: the interquartile range over the median (0 for none), how far apart the middle
// half of the trials lie.
func spread(xs []float64) float64 {
	m := median(xs)
	if m == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	q := func(f float64) float64 { return s[min(len(s)-1, int(f*float64(len(s))))] }
	return (q(0.75) - q(0.25)) / m
}
