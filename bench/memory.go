package main

import (
	"context"
	"sync"
	"time"
)

// memoryResult is the memory phase.
type memoryResult struct {
	WarmMB     float64 `json:"rss_warm_mb"` // right after GET / answered with a warm pool
	Requests   int     `json:"requests"`
	AfterReqMB float64 `json:"rss_after_requests_mb"`

	LifetimeS      float64 `json:"rotation_token_lifetime_s"`
	RotationS      float64 `json:"rotation_phase_s"`
	Rotations      int64   `json:"rotations_measured"`
	RotStartMB     float64 `json:"rss_rotation_start_mb"` // after the first fifth of the rotations
	RotEndMB       float64 `json:"rss_rotation_end_mb"`
	RotMaxMB       float64 `json:"rss_rotation_max_mb"`
	SlopeKBPerRot  float64 `json:"slope_kb_per_rotation"` // least squares over the samples after the first fifth
	Extrapolated   float64 `json:"growth_per_1000_rotations_mb"`
	RotationSample int     `json:"rss_samples"`
}

// runMemory measures RSS of bin/handler warm, after N requests, and across rotations of
// short tokens (sampled once a second under light load; growth per rotation by least squares,
// extrapolated to 1000 rotations).
func runMemory(ctx context.Context, s *stack, cfg config) (memoryResult, error) {
	r := memoryResult{LifetimeS: cfg.memLifetime.Seconds(), RotationS: cfg.memRotDur.Seconds()}
	c := newHTTPClient()
	p, err := startHandler(ctx, s, "memory", warmLifetime, c)
	if err != nil {
		return r, err
	}
	rss, err := rssBytes(p.cmd.Process.Pid)
	if err != nil {
		p.stop()
		return r, err
	}
	r.WarmMB = mb(rss)
	l := drive(ctx, 50, 3*time.Minute, cfg.memRequests/50, httpGet(c, p.url()+"/api/cache/"+keySmall))
	r.Requests = len(l.samples)
	rss, err = rssBytes(p.cmd.Process.Pid)
	p.stop()
	if err != nil {
		return r, err
	}
	r.AfterReqMB = mb(rss)
	logf("memory: RSS %.1f MB warm, %.1f MB after %d requests", r.WarmMB, r.AfterReqMB, r.Requests)

	p, err = startHandler(ctx, s, "memory-rotation", cfg.memLifetime, c)
	if err != nil {
		return r, err
	}
	defer p.stop()
	var wg sync.WaitGroup
	wg.Go(func() { drive(ctx, 2, cfg.memRotDur, 0, httpGet(c, p.url()+"/api/cache/"+keySmall)) })
	type point struct{ rot, rss float64 }
	var pts []point
	ts0 := s.Tokens.Stats().IssuedTotal()
	end := time.Now().Add(cfg.memRotDur)
	for time.Now().Before(end) && ctx.Err() == nil {
		time.Sleep(time.Second)
		rss, err := rssBytes(p.cmd.Process.Pid)
		if err != nil {
			break
		}
		pts = append(pts, point{float64(s.Tokens.Stats().IssuedTotal() - ts0), float64(rss)})
		r.RotMaxMB = max(r.RotMaxMB, mb(rss))
	}
	wg.Wait()
	if len(pts) < 5 {
		return r, err
	}
	steady := pts[len(pts)/5:]
	r.Rotations = int64(pts[len(pts)-1].rot)
	r.RotationSample = len(steady)
	r.RotStartMB, r.RotEndMB = mb(int64(steady[0].rss)), mb(int64(steady[len(steady)-1].rss))
	var sx, sy, sxx, sxy float64
	for _, pt := range steady {
		sx, sy, sxx, sxy = sx+pt.rot, sy+pt.rss, sxx+pt.rot*pt.rot, sxy+pt.rot*pt.rss
	}
	n := float64(len(steady))
	if den := n*sxx - sx*sx; den > 0 {
		slope := (n*sxy - sx*sy) / den // bytes per rotation
		r.SlopeKBPerRot = slope / 1024
		r.Extrapolated = slope * 1000 / (1 << 20)
	}
	logf("memory: %d rotations of %.0fs tokens, RSS %.1f → %.1f MB (max %.1f), %.1f KB/rotation, %.2f MB per 1000 rotations (extrapolated)",
		r.Rotations, r.LifetimeS, r.RotStartMB, r.RotEndMB, r.RotMaxMB, r.SlopeKBPerRot, r.Extrapolated)
	return r, nil
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }
