package pool

import (
	"time"
)

// Pool states reported by Health.
const (
	StateStarting    = "starting"    // warming up: no token or connections yet, and no failure
	StateReady       = "ready"       // warm, with a valid token that refreshes on schedule
	StateDegraded    = "degraded"    // serving, but refreshing or warming failed: look at LastError
	StateUnavailable = "unavailable" // no valid token (or Redis unreachable at warm-up)
)

// Health is a snapshot of the pool for health endpoints and logs. It holds
// no secret: no token, no password, no cached value.
type Health struct {
	State          string    `json:"state"`
	Auth           string    `json:"auth"`
	Host           string    `json:"host"`
	TokenUser      string    `json:"token_user,omitempty"`
	TokenExpiresOn time.Time `json:"token_expires_on,omitzero"`
	NextRefresh    time.Time `json:"next_refresh,omitzero"`
	ReauthDeadline time.Time `json:"reauth_deadline,omitzero"`
	LastSuccess    time.Time `json:"last_success,omitzero"`
	LastError      string    `json:"last_error,omitempty"`
	LastErrorClass string    `json:"last_error_class,omitempty"`
	LastErrorAt    time.Time `json:"last_error_at,omitzero"`
	Connections    Conns     `json:"connections"`
	Counters       Counters  `json:"counters"`
}

// Conns counts the pool's connections.
type Conns struct {
	Live  int `json:"live"`
	Idle  int `json:"idle"`
	Stale int `json:"stale"` // live, but authenticated with an older token than the current one
}

// Counters are what to monitor of Entra authentication (token acquisitions and
// their failures, refresh failures, AUTH failures, connection drops) plus
// re-authentication figures.
// They count since the pool started.
type Counters struct {
	TokenAcquisitions int64 `json:"token_acquisitions"`
	TokenFailures     int64 `json:"token_failures"`
	RefreshFailures   int64 `json:"refresh_failures"`
	DuplicateTokens   int64 `json:"duplicate_tokens"`
	AuthFailures      int64 `json:"auth_failures"`
	Reauthentications int64 `json:"reauthentications"`
	ConnectionDrops   int64 `json:"connection_drops"`
	Dials             int64 `json:"dials"`
	Retired           int64 `json:"retired"`
	// RetiredBusy counts the retired connections that had a command in
	// flight at the deadline; each was closed once its replies were read.
	RetiredBusy int64 `json:"retired_busy"`
}

// Health returns the pool's state. It is cheap and never does I/O.
func (p *Pool) Health() Health {
	h := Health{Auth: p.cfg.Auth, Host: p.cfg.Addr}
	t := p.tracker
	h.Counters = Counters{
		AuthFailures: t.authFailed.Load(), Reauthentications: t.reauths.Load(),
		ConnectionDrops: t.drops.Load(), Dials: t.dials.Load(), Retired: t.retired.Load(),
		RetiredBusy: t.retiredBusy.Load(),
	}
	h.Connections.Live = t.live()
	h.Connections.Idle = int(p.client.PoolStats().IdleConns)
	var warmErr error
	if e := p.warmErr.Load(); e != nil {
		warmErr = *e
	}
	tokenValid := true
	var provErr error
	if p.provider != nil {
		s := p.provider.status()
		h.TokenExpiresOn, h.NextRefresh, h.ReauthDeadline, h.LastSuccess = s.ExpiresOn, s.NextRefresh, s.ReauthDeadline, s.LastSuccess
		h.Counters.TokenAcquisitions, h.Counters.TokenFailures = s.TokensAcquired, s.TokenFailures
		h.Counters.RefreshFailures, h.Counters.DuplicateTokens = s.RefreshFailures, s.DuplicateTokens
		if cur := p.provider.Current(); cur != nil {
			h.TokenUser = cur.Username()
			h.Connections.Stale = t.stale(cur.ExpiresOn)
		}
		tokenValid = s.Valid
		if s.LastError != nil {
			provErr = s.LastError
			h.LastErrorAt = s.LastErrorAt
		}
	}
	lastErr := provErr
	if lastErr == nil {
		lastErr = warmErr
	}
	if lastErr != nil {
		h.LastError, h.LastErrorClass = lastErr.Error(), ClassOf(lastErr).String()
	}
	switch {
	case !tokenValid && (provErr != nil || h.Counters.TokenAcquisitions > 0):
		h.State = StateUnavailable
	case ClassOf(warmErr) == ErrRedisUnreachable:
		h.State = StateUnavailable
	case provErr != nil || warmErr != nil:
		h.State = StateDegraded
	case !p.warmed.Load():
		h.State = StateStarting
	default:
		h.State = StateReady
	}
	return h
}
