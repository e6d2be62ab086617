// Package resplike makes values that look like RESP, the Redis protocol: random bytes broken up
// by commands, replies and CRLFs. A layer that frames the byte stream between a client and Redis
// must carry them as values; one that scans values instead of skipping them by length takes
// them for commands (pool/doc.go). The end-to-end test and the benchmark send them through
// bin/handler to a bare redis-server.
package resplike

import (
	"bytes"
	"math/rand/v2"
)

// pieces are the RESP fragments a Value is sprinkled with.
var pieces = []string{"\r\n", "*1\r\n$9\r\nsubscribe\r\n", "*1\r\n$4\r\nEXEC\r\n", "\r\nexec\r\n",
	"*3\r\n$4\r\nAUTH\r\n", "+OK\r\n", "\nSET injected pwned\r\n", "$-1\r\n"}

// Value returns n (at least 2) bytes from r: random bytes broken up by pieces of RESP, or (one
// in eight) n-2 '*' and CRLF, which crashed an earlier connection wrapper. It never holds "eyJ",
// the start of a JWT, so that a test that looks for leaked tokens does not find one in a value.
func Value(r *rand.Rand, n int) []byte {
	if r.IntN(8) == 0 {
		return append(bytes.Repeat([]byte("*"), n-2), "\r\n"...)
	}
	v := make([]byte, n)
	for i := range v {
		v[i] = byte(r.Uint32())
	}
	for i := 0; i < n; i += 1 + r.IntN(4096) {
		copy(v[i:], pieces[r.IntN(len(pieces))])
	}
	return bytes.ReplaceAll(v, []byte("eyJ"), []byte("eyj"))
}
