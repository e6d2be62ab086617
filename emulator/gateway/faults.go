package gateway

import "time"

// DropAll closes every client connection, as a failover does, and returns
// how many it closed.
func (g *Gateway) DropAll() int {
	g.mu.Lock()
	conns := make([]*conn, 0, len(g.conns))
	for c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()
	n := 0
	for _, c := range conns {
		if c.close(closeFault) {
			n++
		}
	}
	return n
}

// Pause holds all traffic, on new and existing connections, for d from now.
// A longer pause already in force is kept.
func (g *Gateway) Pause(d time.Duration) {
	until := time.Now().Add(d).UnixNano()
	for {
		cur := g.pausedUntil.Load()
		if cur >= until || g.pausedUntil.CompareAndSwap(cur, until) {
			return
		}
	}
}

// SetDelay adds d of latency to every batch of commands forwarded to the
// backend. Zero removes it.
func (g *Gateway) SetDelay(d time.Duration) { g.delay.Store(int64(d)) }

// RefuseNew makes the gateway close new connections as soon as they are
// accepted (true) or serve them again (false).
func (g *Gateway) RefuseNew(refuse bool) { g.refuse.Store(refuse) }
