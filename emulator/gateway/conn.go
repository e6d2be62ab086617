package gateway

import (
	"bufio"
	"errors"
	"net"
	"sync"
	"time"
)

// maxBatch bounds how many bytes of pipelined commands are forwarded in one
// write.
const maxBatch = 256 << 10

// closeReason says why a connection was closed; it picks the counter.
type closeReason int

const (
	closePeer     closeReason = iota // the client or the backend hung up, or I/O failed
	closeExpired                     // the token the connection authenticated with expired
	closeFault                       // DropAll
	closeShutdown                    // Gateway.Close
)

// pendingKind says what a forwarded command's reply means to the gateway.
type pendingKind uint8

const (
	kindPlain pendingKind = iota // nothing: the reply is only copied
	kindAuth                     // a verified AUTH or HELLO AUTH: success authenticates the connection
	kindSub                      // (un)(p|s)subscribe: answered by a confirmation or an error
	kindReset                    // RESET: the connection is no longer authenticated
)

// pending is a command forwarded to the backend whose reply has not been
// read yet.
type pending struct {
	kind pendingKind
	id   identity // for kindAuth
}

// conn is one client connection and its backend connection. One goroutine
// forwards commands (forwardCommands), another copies replies back
// (forwardReplies); the queue of pending commands lets the second match
// each reply to its command.
type conn struct {
	g       *Gateway
	client  net.Conn
	backend net.Conn
	done    chan struct{}
	once    sync.Once

	// Owned by forwardCommands.
	untracked bool     // replies can no longer be matched to commands
	args      [][]byte // scratch
	scratch   []byte

	// Owned by forwardReplies.
	subs, shardSubs int64 // subscription counts from the server's confirmations

	mu     sync.Mutex
	queue  []pending
	head   int
	authed bool
	exp    time.Time
	timer  *time.Timer
}

func newConn(g *Gateway, client, backend net.Conn) *conn {
	return &conn{g: g, client: client, backend: backend, done: make(chan struct{})}
}

// close closes both sides once and reports whether this call did it. Stats count the close
// before the client's side closes, so that a client that saw it finds it there.
func (c *conn) close(reason closeReason) bool {
	first := false
	c.once.Do(func() {
		first = true
		c.g.remove(c)
		switch reason {
		case closeExpired:
			c.g.counters.closedExpired.Add(1)
		case closeFault:
			c.g.counters.closedFault.Add(1)
		}
		close(c.done)
		c.client.Close()
		c.backend.Close()
		c.mu.Lock()
		if c.timer != nil {
			c.timer.Stop()
		}
		c.mu.Unlock()
	})
	return first
}

// forwardCommands reads client commands, rewrites AUTH and HELLO AUTH, and
// forwards them to the backend in batches.
func (c *conn) forwardCommands() {
	defer c.close(closePeer)
	r := bufio.NewReaderSize(c.client, 32<<10)
	var (
		batch   []byte
		offs    [][2]int
		entries []pending
	)
	for {
		batch, entries = batch[:0], entries[:0]
		for {
			start := len(batch)
			var err error
			batch, offs, err = readCommand(r, batch, offs[:0])
			if errors.Is(err, errProtocol) {
				c.forwardProtocolError(batch, entries)
				return
			}
			if err != nil {
				return
			}
			batch, entries = c.process(batch, start, offs, entries)
			if r.Buffered() == 0 || len(batch) >= maxBatch {
				break
			}
		}
		if !c.g.hold(c.done) || !c.g.wait(c.done) {
			return
		}
		c.enqueue(entries)
		c.g.counters.flights.Add(1)
		if _, err := c.backend.Write(batch); err != nil {
			return
		}
	}
}

// forwardProtocolError sends the malformed input to the backend, so that
// redis-server answers with its own protocol error and hangs up, and waits
// (boundedly) for that.
func (c *conn) forwardProtocolError(batch []byte, entries []pending) {
	c.enqueue(entries)
	if _, err := c.backend.Write(batch); err != nil {
		return
	}
	t := time.NewTimer(backendDialTimeout)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
	}
}

// process handles the command at batch[start:] with arguments offs and
// returns the batch (rewritten if needed) and the pending entries.
func (c *conn) process(batch []byte, start int, offs [][2]int, entries []pending) ([]byte, []pending) {
	if len(offs) == 0 {
		return batch, entries // redis-server does not answer an empty command
	}
	args := c.args[:0]
	for _, o := range offs {
		args = append(args, batch[o[0]:o[1]])
	}
	c.args = args
	kind := kindPlain
	name := args[0]
	switch {
	case is(name, "auth"):
		return c.rewriteAuth(batch, start, args, entries)
	case is(name, "hello"):
		return c.rewriteHello(batch, start, args, entries)
	case isSubscription(name):
		kind = kindSub
	case is(name, "reset"):
		kind = kindReset
	case is(name, "client") && len(args) >= 3 && is(args[1], "reply") && (is(args[2], "off") || is(args[2], "skip")):
		c.untracked = true // replies are suppressed from here on
	}
	if !c.untracked {
		entries = append(entries, pending{kind: kind})
	}
	if is(name, "monitor") {
		c.untracked = true // the server streams unsolicited lines from here on
	}
	return batch, entries
}

// rewriteAuth handles AUTH [user] token.
func (c *conn) rewriteAuth(batch []byte, start int, args [][]byte, entries []pending) ([]byte, []pending) {
	var (
		id identity
		p  = policy{user: deniedUser, password: "-"}
		ok bool
	)
	switch len(args) {
	case 3:
		id, p, ok = c.verify(args[1], args[2])
	case 2: // AUTH <password> authenticates the default user, never an object ID
		c.g.counters.failed(ReasonUserMismatch)
	default: // an arity error, answered by the server
		return batch, c.track(entries, pending{kind: kindPlain})
	}
	c.scratch = appendCommand(c.scratch[:0], args[0], []byte(p.user), []byte(p.password))
	batch = append(batch[:start], c.scratch...)
	return batch, c.trackAuth(entries, id, ok)
}

// rewriteHello handles HELLO [protover [AUTH user token] [SETNAME name]],
// parsing the options exactly as redis-server does. Every AUTH pair is
// rewritten; the server authenticates with the last one.
func (c *conn) rewriteHello(batch []byte, start int, args [][]byte, entries []pending) ([]byte, []pending) {
	var pairs []int
	for j := 2; j < len(args); j++ {
		more := len(args) - 1 - j
		switch {
		case is(args[j], "auth") && more >= 2:
			pairs = append(pairs, j+1)
			j += 2
		case is(args[j], "setname") && more >= 1:
			j++
		default: // a syntax error: the server refuses before authenticating
			return batch, c.track(entries, pending{kind: kindPlain})
		}
	}
	if len(pairs) == 0 {
		return batch, c.track(entries, pending{kind: kindPlain})
	}
	last := pairs[len(pairs)-1]
	id, p, ok := c.verify(args[last], args[last+1])
	out := append([][]byte(nil), args...)
	for _, j := range pairs {
		out[j], out[j+1] = []byte(p.user), []byte(p.password)
	}
	c.scratch = appendCommand(c.scratch[:0], out...)
	batch = append(batch[:start], c.scratch...)
	return batch, c.trackAuth(entries, id, ok)
}

// verify checks an AUTH's user and token and returns the backend user to
// authenticate as: the object ID's policy user, or deniedUser.
func (c *conn) verify(user, token []byte) (identity, policy, bool) {
	id, reason := c.g.verifier.verify(string(user), string(token))
	if reason == "" {
		if p, ok := c.g.policyFor(id.oid); ok {
			return id, p, true
		}
		reason = ReasonNoPolicy
	}
	c.g.counters.failed(reason)
	return identity{}, policy{user: deniedUser, password: "-"}, false
}

func (c *conn) track(entries []pending, e pending) []pending {
	if c.untracked {
		return entries
	}
	return append(entries, e)
}

// trackAuth records a rewritten AUTH: a verified one succeeds when the
// server says so (or at once when replies cannot be matched).
func (c *conn) trackAuth(entries []pending, id identity, ok bool) []pending {
	if !ok {
		return c.track(entries, pending{kind: kindPlain})
	}
	if c.untracked {
		c.authenticated(id)
		return entries
	}
	return append(entries, pending{kind: kindAuth, id: id})
}

func (c *conn) enqueue(entries []pending) {
	if len(entries) == 0 {
		return
	}
	c.mu.Lock()
	c.queue = append(c.queue, entries...)
	c.mu.Unlock()
}

// pop removes the oldest pending command, only if it is of kind want (any
// kind when want is nil).
func (c *conn) pop(want *pendingKind) (pending, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.head == len(c.queue) || want != nil && c.queue[c.head].kind != *want {
		return pending{}, false
	}
	e := c.queue[c.head]
	c.head++
	if c.head == len(c.queue) {
		c.queue, c.head = c.queue[:0], 0
	}
	return e, true
}

// forwardReplies copies the backend's replies to the client, flushing when
// the backend has nothing more buffered, and matches each reply to its
// command.
func (c *conn) forwardReplies() {
	defer c.close(closePeer)
	rr := replyReader{r: bufio.NewReaderSize(c.backend, 32<<10), w: bufio.NewWriterSize(c.client, 32<<10)}
	var p reply
	for {
		if err := rr.next(&p); err != nil {
			rr.w.Flush()
			return
		}
		c.observe(&p)
		if rr.r.Buffered() == 0 {
			if !c.g.hold(c.done) {
				return
			}
			if err := rr.w.Flush(); err != nil {
				return
			}
		}
	}
}

// observe matches one reply to its command. Subscription confirmations
// (RESP2 arrays, RESP3 pushes) answer a pending subscription command if it
// is next and are otherwise unsolicited; messages and other pushes are
// unsolicited.
func (c *conn) observe(p *reply) {
	sub := kindSub
	if (p.typ == '*' || p.typ == '>') && isConfirmation(p.text) {
		if p.typ == '>' || c.subs > 0 || c.shardSubs > 0 || c.headIs(kindSub) {
			if p.count >= 0 {
				if p.text[0] == 's' {
					c.shardSubs = p.count
				} else {
					c.subs = p.count
				}
			}
			c.pop(&sub)
			return
		}
	}
	if p.typ == '>' {
		return
	}
	if p.typ == '*' && (c.subs > 0 || c.shardSubs > 0) && isMessage(p.text) {
		return
	}
	e, ok := c.pop(nil)
	if !ok {
		return
	}
	switch e.kind {
	case kindAuth:
		switch {
		case p.isError():
			c.g.counters.failed(ReasonServerRefused)
		case p.typ == '+' && string(p.text) == "QUEUED":
			// AUTH inside MULTI: it runs at EXEC; the expiry is not moved.
		default:
			c.authenticated(e.id)
		}
	case kindReset:
		c.subs, c.shardSubs = 0, 0
		c.deauthenticate()
	}
}

func (c *conn) headIs(kind pendingKind) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.head < len(c.queue) && c.queue[c.head].kind == kind
}

// authenticated records a successful AUTH: the connection now lives until
// id's token expires.
func (c *conn) authenticated(id identity) {
	c.mu.Lock()
	reauth := c.authed
	c.authed = true
	c.exp = id.exp
	if c.timer != nil {
		c.timer.Stop()
	}
	c.timer = time.AfterFunc(time.Until(id.exp), c.expire)
	c.mu.Unlock()
	c.g.counters.authOK.Add(1)
	if reauth {
		c.g.counters.reauths.Add(1)
	}
}

// deauthenticate records that the connection is no longer authenticated
// (RESET): there is no token left to expire.
func (c *conn) deauthenticate() {
	c.mu.Lock()
	c.authed = false
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
}

// expire closes the connection if its token has expired; a later AUTH may
// have moved the expiry since the timer was set.
func (c *conn) expire() {
	c.mu.Lock()
	if !c.authed {
		c.mu.Unlock()
		return
	}
	if rem := time.Until(c.exp); rem > 0 {
		c.timer = time.AfterFunc(rem, c.expire)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.close(closeExpired)
}

// is reports whether arg equals the lower-case word, ignoring case.
func is(arg []byte, word string) bool {
	if len(arg) != len(word) {
		return false
	}
	for i := range len(arg) {
		b := arg[i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if b != word[i] {
			return false
		}
	}
	return true
}

func isSubscription(name []byte) bool {
	for _, w := range []string{"subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe"} {
		if is(name, w) {
			return true
		}
	}
	return false
}

// isConfirmation reports whether an aggregate's first element names a
// subscription confirmation.
func isConfirmation(first []byte) bool {
	switch string(first) {
	case "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe":
		return true
	}
	return false
}

func isMessage(first []byte) bool {
	return string(first) == "message" || string(first) == "pmessage" || string(first) == "smessage"
}
