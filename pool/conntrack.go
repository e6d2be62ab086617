package pool

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The connection tracker wraps every connection the pool dials. It frames
// the commands go-redis writes and the replies Redis sends (resp.go), so it
// knows for each connection which commands are still waiting for their
// reply, whether a transaction, a WATCH or a subscription is open, and until
// when the connection is authenticated (from AUTH and HELLO … AUTH, and the
// server's answer to them).
//
// After a new token it re-authenticates each connection in line: when the
// connection is at a command boundary with no reply outstanding and no
// transaction, WATCH or subscription open, the next write is prefixed with
// AUTH <user> <token>, and the AUTH's reply — the next reply frame that is
// not a RESP3 push, since Redis answers in order — is removed before go-redis
// reads. A busy connection thus needs no extra round trip, and the AUTH
// can never land inside a command, a pipeline's replies or a MULTI.
//
// The tracker also lets the pool prove every connection was
// re-authenticated, retire the ones that were not before the server would
// close them (never with a command in flight: go-redis would retry it), and
// count AUTH failures and connection drops (the monitoring counters).
//
// What it relies on in go-redis (validated against the version pinned in
// TestGoRedisVersionValidated): a connection is used by one goroutine at a
// time, which writes a batch of commands (one or several Writes, flushed
// before reading) and then reads their replies; no autopipelining
// (full-duplex) on the pool's connections.

// errRetired is returned by a write on a connection the pool closed while
// nothing was in flight on it and no transaction or WATCH was open (or
// while it was subscribed, where go-redis's PubSub resubscribes): nothing
// of the write was sent. It wraps io.EOF so that go-redis treats the
// connection as bad and retries the command on another one, which is safe
// for exactly that reason.
var errRetired = fmt.Errorf("pool: connection retired before the write, nothing sent: %w", io.EOF)

type tracker struct {
	tokens func() (cur, prev *Token)

	mu    sync.Mutex
	conns map[*trackedConn]struct{}

	dials, authOK, authFailed, reauths, drops, retired, retiredBusy atomic.Int64
}

func newTracker(tokens func() (cur, prev *Token)) *tracker {
	return &tracker{tokens: tokens, conns: make(map[*trackedConn]struct{})}
}

// wrap tracks c until it is closed.
func (t *tracker) wrap(c net.Conn) net.Conn {
	tc := &trackedConn{Conn: c, t: t}
	tc.raw, _ = c.(syscall.Conn) // TCP has one; TLS has none (see SyscallConn)
	t.mu.Lock()
	t.conns[tc] = struct{}{}
	t.mu.Unlock()
	t.dials.Add(1)
	return tc
}

// all returns the live connections. The tracker's lock is never held while
// a connection's is taken.
func (t *tracker) all() []*trackedConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	conns := make([]*trackedConn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	return conns
}

// reauth asks every live connection authenticated with an older token than
// tok to re-authenticate with tok as soon as it is safe (see the top of
// this file).
func (t *tracker) reauth(tok *Token) {
	cmd := authCommand(tok.BasicAuth())
	for _, c := range t.all() {
		c.reauthWith(cmd, tok.ExpiresOn)
	}
}

// stale counts live connections authenticated with a token that expires
// before exp.
func (t *tracker) stale(exp time.Time) int {
	n := 0
	for _, c := range t.all() {
		if c.staleBefore(exp) {
			n++
		}
	}
	return n
}

// retire retires every live connection authenticated with a token that
// expires before exp (see trackedConn.retire) and returns how many it
// retired and how many of those were busy.
func (t *tracker) retire(exp time.Time) (n, busy int) {
	for _, c := range t.all() {
		if !c.staleBefore(exp) {
			continue
		}
		n++
		if c.retire() {
			busy++
		}
	}
	t.retired.Add(int64(n))
	t.retiredBusy.Add(int64(busy))
	return n, busy
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

// expiryOf returns the expiry of the pool's token whose value is password,
// or zero when it is none of them (the connection is then not counted as
// authenticated by the pool's tokens).
func (t *tracker) expiryOf(password []byte) time.Time {
	cur, prev := t.tokens()
	for _, tok := range []*Token{cur, prev} {
		if tok != nil && string(password) == tok.token {
			return tok.ExpiresOn
		}
	}
	return time.Time{}
}

// expectedAuth is an AUTH (or HELLO … AUTH) whose reply is still to come.
type expectedAuth struct {
	seq      uint64    // its place among the connection's replies
	exp      time.Time // expiry of the token it carries (zero: not the pool's)
	injected bool      // the tracker wrote it: remove its reply
}

type trackedConn struct {
	net.Conn
	t   *tracker
	raw syscall.Conn // the socket, for go-redis's health check; nil under TLS

	mu        sync.Mutex
	req       requestFramer
	rep       replyFramer
	sent      uint64         // replies due: commands written, injected AUTHs included
	replied   uint64         // replies read
	expect    []expectedAuth // in reply order
	drop      bool           // the reply being read answers an injected AUTH: remove it
	authUntil time.Time      // expiry of the token this connection is authenticated with
	inject    []byte         // AUTH to write before the next command, when safe (nil: none)
	injectTo  time.Time      // expiry of the token in inject
	inMulti   bool           // a MULTI is open: an AUTH now would be queued, not run
	watching  bool           // a WATCH is open
	streaming bool           // subscribed or monitoring: replies stop matching commands
	streamAt  uint64         // the reply count from which they do
	broken    bool           // the stream could not be framed: never touch it again
	closing   bool           // the pool closed (or is closing) it with nothing in flight

	retired atomic.Bool // the pool gave up on it: go-redis must not use it again
	closed  atomic.Bool
}

// idle reports whether nothing is in flight on the connection and no
// transaction or WATCH is open, so that an AUTH may be written or the
// connection closed without changing what any command does. c.mu must be
// held.
func (c *trackedConn) idle() bool {
	return c.req.atBoundary() && c.sent == c.replied &&
		!c.inMulti && !c.watching && !c.streaming && !c.broken
}

func (c *trackedConn) reauthWith(cmd []byte, exp time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.streaming && !c.broken && !c.retired.Load() && !c.authUntil.IsZero() && c.authUntil.Before(exp) {
		c.inject, c.injectTo = cmd, exp
	}
}

func (c *trackedConn) staleBefore(exp time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.retired.Load() && !c.authUntil.IsZero() && c.authUntil.Before(exp)
}

// retire makes sure go-redis never uses the connection again and closes it
// without cutting a command short: now, if nothing is in flight (or it is
// subscribed: pub/sub reconnects on its own), else as soon as the replies
// outstanding have been read. A connection whose stream could not be
// framed is not closed (its state is unknown); go-redis's health check
// discards it. retire reports whether the connection was busy.
func (c *trackedConn) retire() (busy bool) {
	if c.markRetired() {
		c.Close()
		return false
	}
	return true
}

// markRetired marks the connection retired and reports whether to close it
// now.
func (c *trackedConn) markRetired() (closeNow bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.retired.Store(true)
	closeNow = c.streaming || c.idle()
	c.closing = c.closing || closeNow
	return closeNow
}

func (c *trackedConn) Write(b []byte) (int, error) {
	auth, err := c.beforeWrite(b)
	if err != nil {
		return 0, err
	}
	if auth == nil {
		n, err := c.Conn.Write(b)
		c.noteErr(err)
		return n, err
	}
	bufs := net.Buffers{auth, b}
	n, err := bufs.WriteTo(c.Conn)
	c.noteErr(err)
	return max(0, int(n)-len(auth)), err
}

// beforeWrite frames b and returns the AUTH to write before it, if one is
// due and it is safe now.
func (c *trackedConn) beforeWrite(b []byte) (auth []byte, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return nil, errRetired
	}
	if c.inject != nil && c.idle() {
		auth = c.inject
		c.expect = append(c.expect, expectedAuth{seq: c.sent, exp: c.injectTo, injected: true})
		c.sent++
		c.inject = nil
	}
	c.frameRequests(b)
	return auth, nil
}

// frameRequests follows the commands in b. c.mu must be held.
func (c *trackedConn) frameRequests(b []byte) {
	for len(b) > 0 && !c.broken {
		n, ended, err := c.req.next(b)
		b = b[n:]
		switch {
		case err != nil:
			c.broken, c.inject = true, nil
		case ended:
			c.written()
		}
	}
}

// written notes the effect of the command the request framer just ended.
// c.mu must be held.
func (c *trackedConn) written() {
	f := &c.req
	switch f.command() {
	case cmdAuth, cmdHello:
		// Inside MULTI an AUTH is only queued; its effect is not followed.
		if pw := f.password(); pw != nil && !c.inMulti {
			c.expect = append(c.expect, expectedAuth{seq: c.sent, exp: c.t.expiryOf(pw)})
		}
	case cmdClient:
		if f.changesReplies() {
			c.broken, c.inject = true, nil
		}
	case cmdMulti:
		c.inMulti = true
	case cmdExec:
		c.inMulti, c.watching = false, false
	case cmdWatch:
		c.watching = c.watching || !c.inMulti
	case cmdUnwatch:
		c.watching = c.watching && c.inMulti
	case cmdStreaming:
		if !c.streaming {
			c.streaming, c.streamAt, c.inject = true, c.sent, nil
		}
	case cmdReset:
		c.broken, c.inject = true, nil
	}
	c.sent++
}

func (c *trackedConn) Read(b []byte) (int, error) {
	for {
		n, err := c.Conn.Read(b)
		c.noteErr(err)
		if n == 0 {
			return 0, err
		}
		kept, closeNow := c.afterRead(b[:n])
		if closeNow {
			c.Close()
		}
		if kept > 0 || err != nil {
			return kept, err
		}
		// Only an injected AUTH's reply arrived: the reply go-redis waits
		// for is still to come.
	}
}

// afterRead follows the replies in p, removes the injected AUTHs' replies
// from it and returns the length of what is left for go-redis; closeNow is
// true when a retired connection has just become idle.
func (c *trackedConn) afterRead(p []byte) (kept int, closeNow bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept = c.frameReplies(p)
	if c.retired.Load() && !c.closing && c.idle() {
		c.closing, closeNow = true, true
	}
	return kept, closeNow
}

// frameReplies follows the reply frames in p and moves what go-redis must
// read to its front. c.mu must be held.
func (c *trackedConn) frameReplies(p []byte) int {
	w := 0
	for i := 0; i < len(p); {
		if c.broken || (c.streaming && c.replied >= c.streamAt) {
			return w + copy(p[w:], p[i:])
		}
		if c.rep.atFrameStart() {
			c.drop = p[i] != '>' && len(c.expect) > 0 && c.expect[0].seq == c.replied && c.expect[0].injected
		}
		n, ended, err := c.rep.next(p[i:])
		if !c.drop {
			if w != i {
				copy(p[w:], p[i:i+n])
			}
			w += n
		}
		i += n
		switch {
		case err != nil:
			c.broken, c.inject = true, nil
		case ended:
			c.replyRead()
		}
	}
	return w
}

// replyRead notes the top-level frame the reply framer just ended. c.mu
// must be held.
func (c *trackedConn) replyRead() {
	c.drop = false
	if c.rep.top == '>' { // a RESP3 push is not a reply
		return
	}
	if len(c.expect) > 0 && c.expect[0].seq == c.replied {
		e := c.expect[0]
		c.expect = append(c.expect[:0], c.expect[1:]...)
		c.authReply(c.rep.top != '-' && c.rep.top != '!', e.exp)
	}
	c.replied++
}

// authReply records the server's answer to an AUTH. c.mu must be held.
func (c *trackedConn) authReply(ok bool, exp time.Time) {
	if !ok {
		c.t.authFailed.Add(1)
		return
	}
	if !exp.IsZero() {
		if !c.authUntil.IsZero() {
			c.t.reauths.Add(1)
		}
		c.t.authOK.Add(1)
	}
	c.authUntil = exp
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

func (c *trackedConn) Close() error {
	if !c.closed.Swap(true) {
		c.t.forget(c)
	}
	return c.Conn.Close()
}

// SyscallConn serves go-redis's pre-use health check, which peeks at the
// socket: a retired or closed connection reports net.ErrClosed, so go-redis
// discards it instead of writing to it. A live TCP connection hands over
// its socket, so a connection the server closed is seen as closed (the
// tracker keeps no bytes of its own between reads, so what the peek sees is
// what go-redis would read). Under TLS the socket carries records, not
// RESP, and a peek can neither tell a close from a TLS record nor read
// without blocking; go-redis itself skips the check for TLS connections, so
// a live one reports "healthy, nothing to read", as go-redis concludes.
func (c *trackedConn) SyscallConn() (syscall.RawConn, error) {
	if c.closed.Load() || c.retired.Load() {
		return nil, net.ErrClosed
	}
	if c.raw != nil {
		return c.raw.SyscallConn()
	}
	return quietRawConn{}, nil
}

// quietRawConn is a syscall.RawConn whose Read reports no data and no error.
type quietRawConn struct{}

func (quietRawConn) Control(func(fd uintptr)) error           { return nil }
func (quietRawConn) Read(func(fd uintptr) (done bool)) error  { return nil }
func (quietRawConn) Write(func(fd uintptr) (done bool)) error { return nil }
