package gateway

import (
	"net"
	"sync"
	"time"
)

// SetRoundTrip makes the network between the clients and the gateway take d per round trip, for
// the connections accepted from now on (a connection keeps the round-trip time it was accepted
// with): each direction of such a connection is delayed by d/2, and the client's first bytes by
// a further d, the round trip of the TCP handshake that loopback completes at once. Zero, the
// default, delays nothing and wraps nothing.
//
// It stands in for the network between a function and Azure Managed Redis where the kernel's
// netem is not available. It delays; it does not limit bandwidth or lose packets. A TLS
// handshake, AUTH, and every command and reply pay it, in order, and pipelined data is not
// serialized: bytes are due half a round trip after they were sent, however many are in flight.
func (g *Gateway) SetRoundTrip(d time.Duration) { g.rtt.Store(int64(max(d, 0))) }

// latencyListener wraps the connections it accepts in latencyConn while the gateway has a
// round-trip time.
type latencyListener struct {
	net.Listener
	g *Gateway
}

// Accept implements net.Listener.
func (l latencyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if rtt := time.Duration(l.g.rtt.Load()); rtt > 0 {
		return newLatencyConn(c, rtt, waitUntil), nil
	}
	return c, nil
}

// chunk is bytes in flight on a latencyConn and when they arrive.
type chunk struct {
	b   []byte
	due time.Time
	err error // the read that produced b ended with err (inbound only)
}

// latencyConn delays both directions of a connection by half a round trip. A goroutine reads
// the socket and stamps each piece with its arrival time plus the delay; Read hands it over when
// it is due. Write queues a copy, due half a round trip later, for a goroutine that writes it
// then. Close lets the queued writes go out when due, then closes the socket, as data in flight
// still arrives before the peer sees the close. Deadlines are not delayed (the gateway sets
// none).
type latencyConn struct {
	net.Conn
	oneWay time.Duration
	wait   func(until time.Time) // waitUntil; the tests' runs in fake time

	in   chan chunk // from readLoop
	rest []byte     // of the chunk Read is handing over
	rerr error      // after rest

	out       chan chunk // to writeLoop
	closing   chan struct{}
	closeOnce sync.Once
	mu        sync.Mutex
	werr      error // the socket's write error, returned by the next Write
}

// newLatencyConn wraps c with round-trip time rtt; wait sleeps until a piece is due.
func newLatencyConn(c net.Conn, rtt time.Duration, wait func(until time.Time)) *latencyConn {
	lc := &latencyConn{Conn: c, oneWay: rtt / 2, wait: wait, in: make(chan chunk, 64), out: make(chan chunk, 64), closing: make(chan struct{})}
	go lc.readLoop(rtt)
	go lc.writeLoop()
	return lc
}

// readLoop reads the socket until it fails, stamping each piece with when it is due: one way
// after it arrived, the first a handshake's round trip later still, never before the piece
// before it.
func (c *latencyConn) readLoop(handshake time.Duration) {
	buf := make([]byte, 32<<10)
	var last time.Time
	for {
		n, err := c.Conn.Read(buf)
		due := time.Now().Add(c.oneWay + handshake)
		handshake = 0
		if due.Before(last) {
			due = last
		}
		last = due
		select {
		case c.in <- chunk{b: append([]byte(nil), buf[:n]...), due: due, err: err}:
		case <-c.closing:
			return
		}
		if err != nil {
			return
		}
	}
}

// Read implements net.Conn.
func (c *latencyConn) Read(p []byte) (int, error) {
	if len(c.rest) == 0 {
		if c.rerr != nil {
			return 0, c.rerr
		}
		var ch chunk
		select {
		case ch = <-c.in:
		case <-c.closing:
			return 0, net.ErrClosed
		}
		c.wait(ch.due)
		c.rest, c.rerr = ch.b, ch.err
		if len(c.rest) == 0 {
			return 0, c.rerr
		}
	}
	n := copy(p, c.rest)
	c.rest = c.rest[n:]
	return n, nil
}

// Write implements net.Conn: it queues a copy of p and returns, as a socket buffer would.
func (c *latencyConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	err := c.werr
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	select {
	case <-c.closing:
		return 0, net.ErrClosed
	default:
	}
	select {
	case c.out <- chunk{b: append([]byte(nil), p...), due: time.Now().Add(c.oneWay)}:
		return len(p), nil
	case <-c.closing:
		return 0, net.ErrClosed
	}
}

// writeLoop writes each queued chunk when it is due; after Close, it writes what was queued and
// closes the socket.
func (c *latencyConn) writeLoop() {
	defer c.Conn.Close()
	for {
		select {
		case ch := <-c.out:
			if !c.write(ch) {
				return
			}
		case <-c.closing:
			for {
				select {
				case ch := <-c.out:
					if !c.write(ch) {
						return
					}
				default:
					return
				}
			}
		}
	}
}

// write writes ch to the socket when it is due and reports whether that worked.
func (c *latencyConn) write(ch chunk) bool {
	c.wait(ch.due)
	if _, err := c.Conn.Write(ch.b); err != nil {
		c.mu.Lock()
		c.werr = err
		c.mu.Unlock()
		c.Close()
		return false
	}
	return true
}

// Close implements net.Conn. The socket closes once the queued writes went out.
func (c *latencyConn) Close() error {
	c.closeOnce.Do(func() { close(c.closing) })
	return nil
}
