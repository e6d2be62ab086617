package gateway

import "sync/atomic"

// Stats are the gateway's counters since New.
type Stats struct {
	// Connections is the number of client connections accepted.
	Connections int64 `json:"connections"`
	// Active is the number of client connections open now.
	Active int64 `json:"active"`
	// Refused is the number of connections closed at once because of RefuseNew.
	Refused int64 `json:"refused"`
	// AuthOK counts AUTH and HELLO AUTH commands that succeeded.
	AuthOK int64 `json:"auth_ok"`
	// AuthFailed counts refused AUTHs by reason (the Reason constants).
	AuthFailed map[string]int64 `json:"auth_failed"`
	// ReAuths counts successful AUTHs on a connection that was already
	// authenticated (how clients keep a connection past its token's expiry).
	ReAuths int64 `json:"reauths"`
	// ClosedTokenExpired counts connections closed because their token expired.
	ClosedTokenExpired int64 `json:"closed_token_expired"`
	// ClosedByFault counts connections closed by DropAll.
	ClosedByFault int64 `json:"closed_by_fault"`
	// Flights counts the batches of commands forwarded to the backend: what a client wrote
	// together and the gateway read before its buffer ran dry, forwarded in one write. A client
	// that waits for its replies before it writes again pays one round trip per flight.
	Flights int64 `json:"flights"`
}

// counters are the live form of Stats.
type counters struct {
	connections, refused, authOK, reauths, closedExpired, closedFault, flights atomic.Int64
	// authFailed is filled once by newCounters and only read afterwards.
	authFailed map[string]*atomic.Int64
}

func newCounters() *counters {
	c := &counters{authFailed: make(map[string]*atomic.Int64, len(reasons))}
	for _, r := range reasons {
		c.authFailed[r] = new(atomic.Int64)
	}
	return c
}

func (c *counters) failed(reason string) { c.authFailed[reason].Add(1) }

// Stats returns a snapshot of the counters.
func (g *Gateway) Stats() Stats {
	c := g.counters
	s := Stats{
		Connections:        c.connections.Load(),
		Refused:            c.refused.Load(),
		AuthOK:             c.authOK.Load(),
		ReAuths:            c.reauths.Load(),
		ClosedTokenExpired: c.closedExpired.Load(),
		ClosedByFault:      c.closedFault.Load(),
		Flights:            c.flights.Load(),
		AuthFailed:         make(map[string]int64, len(c.authFailed)),
	}
	for r, n := range c.authFailed {
		s.AuthFailed[r] = n.Load()
	}
	g.mu.Lock()
	s.Active = int64(len(g.conns))
	g.mu.Unlock()
	return s
}
