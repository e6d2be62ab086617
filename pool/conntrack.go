package pool

import (
	"bytes"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The connection tracker wraps every connection the pool dials. It watches
// the AUTH (and HELLO … AUTH) commands go-redis writes, and their replies, so
// it knows until when each live connection is authenticated. After a new
// token it re-authenticates each connection in line: the next write on the
// connection is prefixed with AUTH <user> <token>, and the reply to that
// AUTH — the next reply frame that is not a RESP3 push, since Redis answers
// in order — is removed before go-redis reads. A busy connection thus needs
// no extra round trip and never leaves go-redis's hands. Connections that
// subscribed (pub/sub) are never touched this way: messages may arrive at
// any time on them.
//
// The tracker also lets the pool prove every connection was
// re-authenticated, retire the ones that were not before the server would
// close them, and count AUTH failures and connection drops (the seed's
// monitoring table).

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

// reauth asks every live connection authenticated with an older token than
// tok to re-authenticate with tok on its next write.
func (t *tracker) reauth(tok *Token) {
	cmd := authCommand(tok.BasicAuth())
	t.mu.Lock()
	defer t.mu.Unlock()
	for c := range t.conns {
		c.mu.Lock()
		if !c.pubsub && !c.authUntil.IsZero() && c.authUntil.Before(tok.ExpiresOn) {
			c.inject, c.injectTo = cmd, tok.ExpiresOn
		}
		c.mu.Unlock()
	}
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
	pending   bool      // go-redis wrote an AUTH/HELLO; its reply is the next byte read
	pendingTo time.Time
	inject    []byte    // AUTH to prefix to the next write (nil: none)
	injectTo  time.Time // expiry of the token in inject
	swallow   int       // injected AUTH replies still to remove from the stream
	swallowTo time.Time
	rbuf      []byte // bytes read while looking for an AUTH reply to remove
	rest      []byte // bytes for go-redis that did not fit its last read
	pubsub    bool   // the connection subscribed: never inject
	inMulti   bool   // a MULTI is open: an AUTH now would be queued, not run
	retiredF  bool
	closed    atomic.Bool
}

func (c *trackedConn) staleBefore(exp time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.retiredF && !c.authUntil.IsZero() && c.authUntil.Before(exp)
}

func (c *trackedConn) Write(b []byte) (int, error) {
	out := b
	c.mu.Lock()
	name := firstBulk(b)
	switch {
	case isAuthCommand(name, b):
		c.pending, c.pendingTo = true, c.t.expiryOf(b)
		c.inject = nil // go-redis authenticates this connection itself
	case isSubscribe(name):
		c.pubsub, c.inject = true, nil
	case c.inject != nil && c.swallow == 0 && !c.pending && !c.inMulti && !endsMulti(name):
		out = append(append(make([]byte, 0, len(c.inject)+len(b)), c.inject...), b...)
		c.swallow, c.swallowTo, c.inject = 1, c.injectTo, nil
	}
	// A transaction written in one piece (go-redis's TxPipeline) leaves no
	// MULTI open; one written command by command (MULTI on a Conn) does.
	switch {
	case bytes.EqualFold(name, []byte("multi")):
		c.inMulti = !containsFold(b, "\r\nexec\r\n") && !containsFold(b, "\r\ndiscard\r\n")
	case endsMulti(name):
		c.inMulti = false
	}
	c.mu.Unlock()
	n, err := c.Conn.Write(out)
	c.noteErr(err)
	if err == nil {
		return len(b), nil
	}
	return max(0, n-(len(out)-len(b))), err
}

func (c *trackedConn) Read(b []byte) (int, error) {
	for {
		c.mu.Lock()
		if len(c.rest) > 0 {
			n := copy(b, c.rest)
			c.rest = c.rest[n:]
			c.mu.Unlock()
			return n, nil
		}
		swallowing, pending := c.swallow > 0, c.pending
		c.mu.Unlock()
		n, err := c.Conn.Read(b)
		c.noteErr(err)
		switch {
		case swallowing:
			if n > 0 {
				c.removeAuthReply(b[:n])
			}
			c.mu.Lock()
			more := len(c.rest) > 0
			c.mu.Unlock()
			if !more && err != nil {
				return 0, err
			}
			continue
		case pending && n > 0:
			// The reply to go-redis's own AUTH/HELLO: note it, pass it on.
			c.mu.Lock()
			if c.pending {
				c.pending = false
				c.authReply(b[0], c.pendingTo)
			}
			c.mu.Unlock()
		}
		return n, err
	}
}

// authReply records the reply to an AUTH: its first byte is '-' on failure.
// c.mu must be held.
func (c *trackedConn) authReply(first byte, to time.Time) {
	if first == '-' {
		c.t.authFailed.Add(1)
		return
	}
	if to.IsZero() {
		return
	}
	if !c.authUntil.IsZero() {
		c.t.reauths.Add(1)
	}
	c.authUntil = to
	c.t.authOK.Add(1)
}

// removeAuthReply takes bytes just read while an injected AUTH reply is due.
// It removes that reply (the first frame that is not a RESP3 push) and
// queues everything else for go-redis in c.rest.
func (c *trackedConn) removeAuthReply(data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	buf := append(c.rbuf, data...)
	c.rbuf = nil
	for c.swallow > 0 {
		n := frameLen(buf)
		if n == 0 {
			c.rbuf = append([]byte(nil), buf...) // incomplete: wait for more
			return
		}
		if buf[0] == '>' { // a push before our reply: it is go-redis's
			c.rest = append(c.rest, buf[:n]...)
		} else {
			c.swallow--
			c.authReply(buf[0], c.swallowTo)
		}
		buf = buf[n:]
	}
	c.rest = append(c.rest, buf...)
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

// isAuthCommand reports whether a RESP write whose first command is name is
// AUTH, or HELLO with an AUTH argument.
func isAuthCommand(name, b []byte) bool {
	switch {
	case len(name) == 4 && bytes.EqualFold(name, []byte("auth")):
		return true
	case len(name) == 5 && bytes.EqualFold(name, []byte("hello")):
		return bytes.Contains(bytes.ToLower(b[:min(len(b), 64)]), []byte("auth"))
	}
	return false
}

// endsMulti reports whether a command name ends a transaction.
func endsMulti(name []byte) bool {
	return bytes.EqualFold(name, []byte("exec")) || bytes.EqualFold(name, []byte("discard"))
}

// containsFold reports whether b contains the ASCII string s, ignoring case.
func containsFold(b []byte, s string) bool {
	return bytes.Contains(b, []byte(s)) || bytes.Contains(bytes.ToUpper(b), []byte(strings.ToUpper(s)))
}

// isSubscribe reports whether a command name puts a connection in pub/sub mode.
func isSubscribe(name []byte) bool {
	for _, s := range []string{"subscribe", "psubscribe", "ssubscribe"} {
		if bytes.EqualFold(name, []byte(s)) {
			return true
		}
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
