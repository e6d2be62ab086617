package pool

import (
	"bytes"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The connection tracker wraps every connection the pool dials. It watches
// the AUTH (and HELLO … AUTH) commands go-redis and the pool write, and their
// replies, so it knows until when each live connection is authenticated.
// That is what lets the pool prove every connection was re-authenticated,
// retire the ones that were not before the server would close them, and
// count AUTH failures and connection drops (the seed's monitoring table).

type tracker struct {
	tokens func() (cur, prev *Token)

	mu    sync.Mutex
	conns map[*trackedConn]struct{}

	dials, authOK, authFailed, reauths, drops, retired atomic.Int64
}

func newTracker(tokens func() (cur, prev *Token)) *tracker {
	return &tracker{tokens: tokens, conns: make(map[*trackedConn]struct{})}
}

// wrap tracks c until it is closed.
func (t *tracker) wrap(c net.Conn) net.Conn {
	tc := &trackedConn{Conn: c, t: t}
	t.mu.Lock()
	t.conns[tc] = struct{}{}
	t.mu.Unlock()
	t.dials.Add(1)
	return tc
}

// stale counts live connections authenticated with a token that expires
// before exp.
func (t *tracker) stale(exp time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for c := range t.conns {
		if c.staleBefore(exp) {
			n++
		}
	}
	return n
}

// retire closes every live connection authenticated with a token that
// expires before exp, and returns how many it closed. go-redis discards a
// retired connection before its next use (see trackedConn.SyscallConn).
func (t *tracker) retire(exp time.Time) int {
	t.mu.Lock()
	var victims []*trackedConn
	for c := range t.conns {
		if c.staleBefore(exp) {
			victims = append(victims, c)
		}
	}
	t.mu.Unlock()
	for _, c := range victims {
		c.retire()
	}
	t.retired.Add(int64(len(victims)))
	return len(victims)
}

// live returns the number of open connections.
func (t *tracker) live() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

func (t *tracker) forget(c *trackedConn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

// expiryOf returns the expiry of the known token contained in an AUTH
// command, or zero when it carries none of them (then the connection is not
// counted as authenticated by the pool's tokens).
func (t *tracker) expiryOf(cmd []byte) time.Time {
	cur, prev := t.tokens()
	for _, tok := range []*Token{cur, prev} {
		if tok != nil && bytes.Contains(cmd, []byte(tok.token)) {
			return tok.ExpiresOn
		}
	}
	return time.Time{}
}

type trackedConn struct {
	net.Conn
	t *tracker

	mu        sync.Mutex
	authUntil time.Time // expiry of the token this connection is authenticated with
	pending   bool      // an AUTH was written; its reply is the next byte read
	pendingTo time.Time
	retiredF  bool
	closed    atomic.Bool
}

func (c *trackedConn) staleBefore(exp time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.retiredF && !c.authUntil.IsZero() && c.authUntil.Before(exp)
}

func (c *trackedConn) Write(b []byte) (int, error) {
	if isAuthCommand(b) {
		exp := c.t.expiryOf(b)
		c.mu.Lock()
		c.pending, c.pendingTo = true, exp
		c.mu.Unlock()
	}
	n, err := c.Conn.Write(b)
	c.noteErr(err)
	return n, err
}

func (c *trackedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.mu.Lock()
		if c.pending {
			c.pending = false
			if b[0] == '-' {
				c.t.authFailed.Add(1)
			} else if !c.pendingTo.IsZero() {
				if !c.authUntil.IsZero() {
					c.t.reauths.Add(1)
				}
				c.authUntil = c.pendingTo
				c.t.authOK.Add(1)
			}
		}
		c.mu.Unlock()
	}
	c.noteErr(err)
	return n, err
}

// noteErr counts a connection drop: an I/O error the pool did not cause.
// Deadline timeouts are go-redis's own and are not drops.
func (c *trackedConn) noteErr(err error) {
	if err == nil || c.closed.Load() || errors.Is(err, os.ErrDeadlineExceeded) {
		return
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return
	}
	if !c.closed.Swap(true) {
		c.t.drops.Add(1)
		c.t.forget(c)
	}
}

func (c *trackedConn) retire() {
	c.mu.Lock()
	c.retiredF = true
	c.mu.Unlock()
	c.Close()
}

func (c *trackedConn) Close() error {
	if !c.closed.Swap(true) {
		c.t.forget(c)
	}
	return c.Conn.Close()
}

// SyscallConn lets go-redis's pre-use health check see a retired (or
// otherwise closed) connection as dead, so it discards it instead of writing
// a command to it. For a live connection it reports "healthy, nothing to
// read", which is what go-redis concludes for every TLS connection anyway.
func (c *trackedConn) SyscallConn() (syscall.RawConn, error) {
	if c.closed.Load() {
		return nil, net.ErrClosed
	}
	return quietRawConn{}, nil
}

// quietRawConn is a syscall.RawConn whose Read reports no data and no error.
type quietRawConn struct{}

func (quietRawConn) Control(func(fd uintptr)) error           { return nil }
func (quietRawConn) Read(func(fd uintptr) (done bool)) error  { return nil }
func (quietRawConn) Write(func(fd uintptr) (done bool)) error { return nil }

// isAuthCommand reports whether a RESP write starts with AUTH, or HELLO with
// an AUTH argument.
func isAuthCommand(b []byte) bool {
	name := firstBulk(b)
	switch {
	case len(name) == 4 && bytes.EqualFold(name, []byte("auth")):
		return true
	case len(name) == 5 && bytes.EqualFold(name, []byte("hello")):
		return bytes.Contains(bytes.ToLower(b[:min(len(b), 64)]), []byte("auth"))
	}
	return false
}

// firstBulk returns the first bulk string of a RESP array ("*N\r\n$L\r\nNAME\r\n…").
func firstBulk(b []byte) []byte {
	if len(b) < 4 || b[0] != '*' {
		return nil
	}
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 || i+1 >= len(b) || b[i+2] != '$' {
		return nil
	}
	rest := b[i+3:]
	j := bytes.Index(rest, []byte("\r\n"))
	if j <= 0 {
		return nil
	}
	n := 0
	for _, d := range rest[:j] {
		if d < '0' || d > '9' {
			return nil
		}
		n = n*10 + int(d-'0')
	}
	start := j + 2
	if n > 16 || start+n > len(rest) {
		return nil
	}
	return rest[start : start+n]
}
