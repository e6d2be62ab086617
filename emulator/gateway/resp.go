package gateway

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Limits taken from redis-server's defaults.
const (
	maxInline    = 64 << 10  // PROTO_INLINE_MAX_SIZE
	maxBulk      = 512 << 20 // proto-max-bulk-len
	maxMultibulk = 1 << 20   // arguments per command
	maxDepth     = 128       // nesting of aggregate replies
)

// errProtocol marks malformed RESP from a client or the backend.
var errProtocol = errors.New("protocol error")

// readCommand reads one client command (a RESP array of bulk strings or an
// inline command), appends its raw bytes to dst and returns the argument
// positions as offsets into dst. A command without arguments (an empty line,
// "*0") returns no offsets; redis-server does not answer it.
func readCommand(r *bufio.Reader, dst []byte, offs [][2]int) ([]byte, [][2]int, error) {
	first, err := r.Peek(1)
	if err != nil {
		return dst, offs, err
	}
	if first[0] != '*' {
		return readInline(r, dst, offs)
	}
	dst, line, err := appendLine(r, dst, 32)
	if err != nil {
		return dst, offs, err
	}
	n, err := strconv.Atoi(string(line[1:]))
	if err != nil || n > maxMultibulk {
		return dst, offs, fmt.Errorf("%w: invalid multibulk length", errProtocol)
	}
	for range n {
		dst, line, err = appendLine(r, dst, 32)
		if err != nil {
			return dst, offs, err
		}
		if len(line) == 0 || line[0] != '$' {
			return dst, offs, fmt.Errorf("%w: expected '$'", errProtocol)
		}
		size, err := strconv.Atoi(string(line[1:]))
		if err != nil || size < 0 || size > maxBulk {
			return dst, offs, fmt.Errorf("%w: invalid bulk length", errProtocol)
		}
		start := len(dst)
		dst = append(dst, make([]byte, size+2)...)
		if _, err := io.ReadFull(r, dst[start:]); err != nil {
			return dst, offs, err
		}
		if dst[len(dst)-2] != '\r' || dst[len(dst)-1] != '\n' {
			return dst, offs, fmt.Errorf("%w: bulk not terminated by CRLF", errProtocol)
		}
		offs = append(offs, [2]int{start, start + size})
	}
	return dst, offs, nil
}

// readInline reads an inline command: arguments separated by spaces or tabs.
// (redis-server also understands quotes in inline commands; clients that
// need them use RESP arrays.)
func readInline(r *bufio.Reader, dst []byte, offs [][2]int) ([]byte, [][2]int, error) {
	start := len(dst)
	dst, line, err := appendLine(r, dst, maxInline)
	if err != nil {
		return dst, offs, err
	}
	base := start
	for i := 0; i < len(line); {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		if j > i {
			offs = append(offs, [2]int{base + i, base + j})
		}
		i = j
	}
	return dst, offs, nil
}

// appendLine reads one line ending in "\n", appends it to dst and returns the
// line without its "\r\n" (a view into dst). Lines longer than limit are a
// protocol error.
func appendLine(r *bufio.Reader, dst []byte, limit int) ([]byte, []byte, error) {
	start := len(dst)
	for {
		chunk, err := r.ReadSlice('\n')
		dst = append(dst, chunk...)
		if len(dst)-start > limit+2 {
			return dst, nil, fmt.Errorf("%w: line too long", errProtocol)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return dst, nil, err
		}
	}
	line := dst[start : len(dst)-1]
	line = bytes.TrimSuffix(line, []byte{'\r'})
	return dst, line, nil
}

// appendCommand appends args as a RESP array of bulk strings.
func appendCommand(dst []byte, args ...[]byte) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// reply describes one top-level reply read from the backend: enough to
// match it to a command and to follow the connection's subscription state.
type reply struct {
	// typ is the RESP type byte of the value (after any attribute).
	typ byte
	// text holds a simple string's or error's first bytes, or for an
	// aggregate its first element when that is a short string.
	text []byte
	// count is an aggregate's third element when that is an integer (the
	// subscription count of a (un)subscribe confirmation), else -1.
	count int64
	// buf backs text.
	buf [32]byte
}

// isError reports whether the reply is an error (simple or blob).
func (p *reply) isError() bool { return p.typ == '-' || p.typ == '!' }

// replyReader copies replies from the backend to the client byte for byte
// while describing each top-level value.
type replyReader struct {
	r *bufio.Reader
	w *bufio.Writer
}

// next copies one top-level reply and describes it in p.
func (rr *replyReader) next(p *reply) error {
	p.typ, p.text, p.count = 0, nil, -1
	return rr.value(p, 0, -1)
}

// value copies one value. For the top level (elem == -1) it fills p's type
// and text; for the top level's elements 0 and 2 it captures the text and
// the count.
func (rr *replyReader) value(p *reply, depth, elem int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: reply nested too deeply", errProtocol)
	}
	for {
		line, err := rr.line()
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return fmt.Errorf("%w: empty reply line", errProtocol)
		}
		typ := line[0]
		if typ == '|' { // attribute: a map that precedes the actual value
			n, err := atoi(line[1:])
			if err != nil {
				return err
			}
			for range 2 * n {
				if err := rr.value(p, depth+1, -2); err != nil {
					return err
				}
			}
			continue
		}
		if elem == -1 {
			p.typ = typ
		}
		switch typ {
		case '+', '-', ':', '_', ',', '#', '(':
			if elem == -1 || elem == 0 {
				p.text = append(p.buf[:0], line[1:min(len(line), len(p.buf)+1)]...)
			}
			if elem == 2 && typ == ':' {
				p.count, _ = atoi(line[1:])
			}
			return nil
		case '$', '=', '!':
			n, err := atoi(line[1:])
			if err != nil || n < 0 {
				return err // a null bulk string ($-1) has no payload
			}
			if (elem == -1 || elem == 0) && n <= int64(len(p.buf)) {
				p.text = p.buf[:n]
				if _, err := io.ReadFull(rr.r, p.text); err != nil {
					return err
				}
				if _, err := rr.w.Write(p.text); err != nil {
					return err
				}
				_, err := io.CopyN(rr.w, rr.r, 2)
				return err
			}
			_, err = io.CopyN(rr.w, rr.r, n+2)
			return err
		case '*', '~', '>', '%':
			n, err := atoi(line[1:])
			if err != nil || n < 0 {
				return err // a null array (*-1) has no elements
			}
			if typ == '%' {
				n *= 2
			}
			for i := range n {
				next := -2
				if elem == -1 && i <= 2 {
					next = int(i)
				}
				if err := rr.value(p, depth+1, next); err != nil {
					return err
				}
			}
			return nil
		default:
			return fmt.Errorf("%w: unknown reply type %q", errProtocol, typ)
		}
	}
}

// line copies one line and returns it without "\r\n". Only the first
// bufio-buffer's worth of a very long line is returned (enough for types,
// lengths and the short texts a reply is matched on).
func (rr *replyReader) line() ([]byte, error) {
	chunk, err := rr.r.ReadSlice('\n')
	if err == nil {
		if _, err := rr.w.Write(chunk); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(chunk[:len(chunk)-1], []byte{'\r'}), nil
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	head := append([]byte(nil), chunk...)
	if _, err := rr.w.Write(chunk); err != nil {
		return nil, err
	}
	for {
		chunk, err := rr.r.ReadSlice('\n')
		if _, werr := rr.w.Write(chunk); werr != nil {
			return nil, werr
		}
		if err == nil {
			return head, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}

func atoi(b []byte) (int64, error) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: invalid length %q", errProtocol, b)
	}
	return n, nil
}
