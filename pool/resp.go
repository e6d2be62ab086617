package pool

import "bytes"

// frameLen returns the length of the first complete RESP2/RESP3 frame in b,
// or 0 when b does not yet hold a complete frame (or holds garbage, which
// the caller treats as "need more").
func frameLen(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	line := bytes.Index(b, []byte("\r\n"))
	if line < 0 {
		return 0
	}
	head := line + 2
	switch b[0] {
	case '+', '-', ':', '_', '#', ',', '(':
		return head
	case '$', '!', '=':
		n, ok := atoi(b[1:line])
		if !ok {
			return 0
		}
		if n < 0 {
			return head
		}
		if len(b) < head+n+2 {
			return 0
		}
		return head + n + 2
	case '*', '>', '~', '%', '|':
		n, ok := atoi(b[1:line])
		if !ok {
			return 0
		}
		if b[0] == '%' || b[0] == '|' {
			n *= 2
		}
		off := head
		for range max(n, 0) {
			m := frameLen(b[off:])
			if m == 0 {
				return 0
			}
			off += m
		}
		return off
	}
	return 0
}

func atoi(b []byte) (int, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, d := range b {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int(d-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// authCommand encodes AUTH user password as a RESP array.
func authCommand(user, password string) []byte {
	var b bytes.Buffer
	b.WriteString("*3\r\n$4\r\nAUTH\r\n")
	for _, s := range []string{user, password} {
		b.WriteByte('$')
		b.WriteString(itoa(len(s)))
		b.WriteString("\r\n")
		b.WriteString(s)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var d [20]byte
	i := len(d)
	for n > 0 {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return string(d[i:])
}
