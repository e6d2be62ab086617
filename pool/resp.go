package pool

import (
	"bytes"
	"errors"
	"strconv"
)

// The two framers below follow a RESP byte stream that arrives in pieces of
// any size: a command or reply may be split across Write or Read calls, and
// one call may hold many of them. They keep their place between calls,
// read only the headers (type bytes, lengths, counts) and skip every payload
// by its length, so a value that looks like RESP is never taken for
// protocol. Anything they cannot frame exactly is an error: the caller then
// stops trusting the stream.

// errFraming reports a byte stream that is not RESP as go-redis writes it
// or Redis answers.
var errFraming = errors.New("pool: unframeable RESP stream")

// maxHeaderDigits bounds a length or count: Redis refuses bulk strings over
// 512 MB and go-redis never writes more than this many arguments.
const maxHeaderDigits = 12

// number reads the decimal digits of a RESP header line ("123\r\n") one
// byte at a time, across calls.
type number struct {
	n      int
	digits int
	neg    bool
	cr     bool // saw the '\r' that ends the digits
}

// feed takes one byte and reports whether the line ended ("\r\n").
func (d *number) feed(c byte, signed bool) (done bool, err error) {
	switch {
	case d.cr:
		if c != '\n' {
			return false, errFraming
		}
		if d.digits == 0 {
			return false, errFraming
		}
		if d.neg {
			d.n = -d.n
		}
		return true, nil
	case c == '\r':
		d.cr = true
	case c >= '0' && c <= '9' && d.digits < maxHeaderDigits:
		d.n = d.n*10 + int(c-'0')
		d.digits++
	case c == '-' && signed && d.digits == 0 && !d.neg:
		d.neg = true
	default:
		return false, errFraming
	}
	return false, nil
}

// parseHeader reads the digits of a header line ("123\r\n") at the start of
// b when the whole line is there: the common case, which avoids feeding
// the line byte by byte. ok is false when the line is incomplete or not
// plain digits; the caller then feeds it through number, which decides.
func parseHeader(b []byte) (v, size int, ok bool) {
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9' && i < maxHeaderDigits:
			v = v*10 + int(c-'0')
		case c == '\r' && i > 0 && i+1 < len(b) && b[i+1] == '\n':
			return v, i + 2, true
		default:
			return 0, 0, false
		}
	}
	return 0, 0, false
}

// Request framer states.
const (
	reqArray   = iota // at a command boundary: '*' comes next
	reqCount          // the argument count
	reqBulk           // '$' of the next argument comes next
	reqLen            // the argument's length
	reqPayload        // the argument's bytes
	reqCR             // the '\r' after the argument
	reqLF             // the '\n' after the argument
)

const (
	reqNameBytes = 16       // longest command name kept; longer names are none we look at
	reqKeepBytes = 64 << 10 // most argument bytes kept of one command (tokens are a few KiB)
)

// requestFramer follows the commands a client writes: each is an array of
// bulk strings, "*N\r\n" then N times "$L\r\n" + L bytes + "\r\n" (go-redis
// writes nothing else; inline commands are errors here). It keeps each
// command's name and, for the commands whose arguments matter to the
// tracker (AUTH, HELLO, CLIENT), the arguments.
type requestFramer struct {
	state int
	num   number
	args  int // arguments of the current command
	arg   int // index of the current argument
	left  int // bytes of the current argument still to come

	name    [reqNameBytes]byte
	nameLen int  // -1: longer than reqNameBytes
	cmd     int  // the command's kind, once its name is complete
	keep    bool // keep this command's arguments (after the name)
	kept    []byte
	ends    []int // end offset in kept of each kept argument
}

// atBoundary reports whether everything written so far is whole commands.
func (f *requestFramer) atBoundary() bool { return f.state == reqArray }

// next consumes p up to the end of the first command that ends in it, or
// all of p. It returns how many bytes it consumed and whether a command
// ended there; the command is then described by command.
func (f *requestFramer) next(p []byte) (n int, ended bool, err error) {
	for n < len(p) {
		if f.state == reqPayload {
			k := min(f.left, len(p)-n)
			f.payload(p[n : n+k])
			n += k
			f.left -= k
			if f.left == 0 {
				f.state = reqCR
			}
			continue
		}
		c := p[n]
		n++
		switch f.state {
		case reqArray, reqBulk:
			if f.state == reqArray && c != '*' || f.state == reqBulk && c != '$' {
				return n, false, errFraming
			}
			f.state++ // to reqCount or reqLen
			f.num = number{}
			if v, size, ok := parseHeader(p[n:]); ok {
				n += size
				if err := f.header(v); err != nil {
					return n, false, err
				}
			}
		case reqCount, reqLen:
			done, err := f.num.feed(c, false)
			if err != nil {
				return n, false, err
			}
			if done {
				if err := f.header(f.num.n); err != nil {
					return n, false, err
				}
			}
		case reqCR:
			if c != '\r' {
				return n, false, errFraming
			}
			f.state = reqLF
			if n < len(p) && p[n] == '\n' { // the common case: CRLF in one piece
				n++
				if f.endArg() {
					return n, true, nil
				}
			}
		case reqLF:
			if c != '\n' {
				return n, false, errFraming
			}
			if f.endArg() {
				return n, true, nil
			}
		}
	}
	return n, false, nil
}

// header acts on the count or length just read in state reqCount or
// reqLen.
func (f *requestFramer) header(v int) error {
	if f.state == reqCount {
		if v < 1 {
			return errFraming
		}
		f.args, f.arg, f.state = v, 0, reqBulk
		f.nameLen, f.cmd, f.keep, f.kept, f.ends = 0, cmdOther, false, f.kept[:0], f.ends[:0]
		return nil
	}
	f.left, f.state = v, reqPayload
	if v == 0 {
		f.state = reqCR
	}
	return nil
}

// payload keeps the bytes of an argument that matters.
func (f *requestFramer) payload(b []byte) {
	switch {
	case f.arg == 0 && f.nameLen >= 0:
		if f.nameLen+len(b) > reqNameBytes {
			f.nameLen = -1
			return
		}
		f.nameLen += copy(f.name[f.nameLen:], b)
	case f.keep && len(f.kept)+len(b) <= reqKeepBytes:
		f.kept = append(f.kept, b...)
	default:
		f.keep = false
	}
}

// endArg notes the end of an argument (after the name: whether the
// command's arguments are worth keeping) and reports whether it was the
// command's last.
func (f *requestFramer) endArg() (ended bool) {
	switch {
	case f.arg == 0:
		f.cmd = f.kindOfName()
		f.keep = f.cmd == cmdAuth || f.cmd == cmdHello || f.cmd == cmdClient
	case f.keep:
		f.ends = append(f.ends, len(f.kept))
	}
	f.arg++
	if f.arg == f.args {
		f.state = reqArray
		return true
	}
	f.state = reqBulk
	return false
}

// argument returns kept argument i (1 is the first after the name), or nil.
func (f *requestFramer) argument(i int) []byte {
	if !f.keep || i < 1 || i > len(f.ends) {
		return nil
	}
	start := 0
	if i > 1 {
		start = f.ends[i-2]
	}
	return f.kept[start:f.ends[i-1]]
}

// Commands whose effect on a connection the tracker follows.
const (
	cmdOther     = iota
	cmdAuth      // AUTH [user] password
	cmdHello     // HELLO [protover [AUTH user password] [SETNAME name]]
	cmdClient    // CLIENT REPLY changes how many replies follow
	cmdMulti     // opens a transaction: later commands are queued
	cmdExec      // EXEC or DISCARD: ends the transaction and any WATCH
	cmdWatch     // WATCH
	cmdUnwatch   // UNWATCH
	cmdStreaming // SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE, MONITOR, SYNC, PSYNC: replies stop matching commands
	cmdReset     // RESET: de-authenticates and resets the connection
)

// command returns the kind of the current command, once its name is
// complete.
func (f *requestFramer) command() int { return f.cmd }

// kindOfName looks the command's name up, ignoring case.
func (f *requestFramer) kindOfName() int {
	if f.nameLen <= 0 {
		return cmdOther
	}
	var lower [reqNameBytes]byte
	for i, c := range f.name[:f.nameLen] {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	switch string(lower[:f.nameLen]) { // compiled to comparisons: no hashing, no allocation
	case "auth":
		return cmdAuth
	case "hello":
		return cmdHello
	case "client":
		return cmdClient
	case "multi":
		return cmdMulti
	case "exec", "discard":
		return cmdExec
	case "watch":
		return cmdWatch
	case "unwatch":
		return cmdUnwatch
	case "subscribe", "psubscribe", "ssubscribe", "monitor", "sync", "psync":
		return cmdStreaming
	case "reset":
		return cmdReset
	}
	return cmdOther
}

// password returns the password of the AUTH or HELLO … AUTH command just
// ended, or nil when it carries none (or it was too long to keep).
func (f *requestFramer) password() []byte {
	switch f.command() {
	case cmdAuth:
		if f.args == 2 || f.args == 3 {
			return f.argument(f.args - 1)
		}
	case cmdHello:
		for i := 2; i+2 <= len(f.ends); i++ {
			if bytes.EqualFold(f.argument(i), []byte("auth")) {
				return f.argument(i + 2)
			}
		}
	}
	return nil
}

// changesReplies reports whether the command just ended is CLIENT REPLY,
// after which replies no longer match commands one to one.
func (f *requestFramer) changesReplies() bool {
	return f.command() == cmdClient && bytes.EqualFold(f.argument(1), []byte("reply"))
}

// Reply framer states.
const (
	repType    = iota // a type byte comes next
	repLine           // a simple line: skip to its '\n'
	repNumber         // a length or count
	repPayload        // a blob's bytes
	repCR             // the '\r' after a blob
	repLF             // the '\n' after a blob
)

// level is an aggregate whose elements are still arriving.
type level struct {
	left int  // elements still to come
	attr bool // an attribute: it annotates the next element and is not one itself
}

// replyFramer follows the frames a Redis server sends (RESP2 and RESP3)
// and reports where each top-level frame ends.
type replyFramer struct {
	state int
	num   number
	kind  byte // type byte of the frame whose header is being read
	left  int  // blob bytes still to come
	stack []level
	top   byte // type byte of the current top-level frame
}

// atFrameStart reports whether the next byte starts a top-level frame.
func (f *replyFramer) atFrameStart() bool { return f.state == repType && len(f.stack) == 0 }

// next consumes p up to the end of the first top-level frame that ends in
// it, or all of p. It returns how many bytes it consumed and whether a
// frame ended there; its type byte is then f.top (a top-level attribute is
// not a frame of its own: the frame it annotates follows and sets f.top).
func (f *replyFramer) next(p []byte) (n int, ended bool, err error) {
	for n < len(p) {
		switch f.state {
		case repPayload:
			k := min(f.left, len(p)-n)
			n += k
			f.left -= k
			if f.left == 0 {
				f.state = repCR
			}
			continue
		case repLine:
			i := bytes.IndexByte(p[n:], '\n')
			if i < 0 {
				return len(p), false, nil
			}
			n += i + 1
			if f.element() {
				return n, true, nil
			}
			continue
		}
		c := p[n]
		n++
		switch f.state {
		case repType:
			if len(f.stack) == 0 {
				f.top = c
			}
			f.kind = c
			switch c {
			case '+', '-', ':', '_', ',', '#', '(':
				f.state = repLine
			case '$', '!', '=', '*', '~', '>', '%', '|':
				f.state, f.num = repNumber, number{}
				if v, size, ok := parseHeader(p[n:]); ok {
					n += size
					f.state = repType
					if ended, err := f.header(v); err != nil || ended {
						return n, ended, err
					}
				}
			default:
				return n, false, errFraming
			}
		case repNumber:
			done, err := f.num.feed(c, true)
			if err != nil {
				return n, false, err
			}
			if !done {
				continue
			}
			f.state = repType
			if ended, err := f.header(f.num.n); err != nil || ended {
				return n, ended, err
			}
		case repCR:
			if c != '\r' {
				return n, false, errFraming
			}
			f.state = repLF
		case repLF:
			if c != '\n' {
				return n, false, errFraming
			}
			f.state = repType
			if f.element() {
				return n, true, nil
			}
		}
	}
	return n, false, nil
}

// header acts on a length or count just read for f.kind.
func (f *replyFramer) header(n int) (ended bool, err error) {
	switch f.kind {
	case '$', '!', '=': // blob string, blob error, verbatim string
		switch {
		case n < -1:
			return false, errFraming
		case n == -1: // RESP2 null
			return f.element(), nil
		}
		f.left, f.state = n, repPayload
		if n == 0 {
			f.state = repCR
		}
		return false, nil
	}
	if n < -1 {
		return false, errFraming
	}
	if f.kind == '%' || f.kind == '|' {
		n *= 2
	}
	if n <= 0 { // empty or null aggregate
		if f.kind == '|' {
			return false, nil
		}
		return f.element(), nil
	}
	f.stack = append(f.stack, level{left: n, attr: f.kind == '|'})
	return false, nil
}

// element notes that an element ended and reports whether that ended the
// top-level frame.
func (f *replyFramer) element() bool {
	f.state = repType
	for len(f.stack) > 0 {
		l := &f.stack[len(f.stack)-1]
		l.left--
		if l.left > 0 {
			return false
		}
		attr := l.attr
		f.stack = f.stack[:len(f.stack)-1]
		if attr {
			return false
		}
	}
	return true
}

// authCommand encodes AUTH user password as a RESP array.
func authCommand(user, password string) []byte {
	b := make([]byte, 0, 32+len(user)+len(password))
	b = append(b, "*3\r\n$4\r\nAUTH\r\n"...)
	for _, s := range []string{user, password} {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, "\r\n"...)
		b = append(b, s...)
		b = append(b, "\r\n"...)
	}
	return b
}
