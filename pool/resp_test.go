package pool

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// encodeCommand encodes args as go-redis does: an array of bulk strings.
func encodeCommand(args ...string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, "$"+strconv.Itoa(len(a))+"\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	return b
}

// framedCommand is what the request framer reports for one command.
type framedCommand struct {
	Kind     int
	Password string
	Replies  bool // CLIENT REPLY
}

// framer is either framer, as these tests drive them.
type framer interface {
	next(p []byte) (n int, ended bool, err error)
}

// feed gives stream to f in pieces of the given sizes (cycled; none: one
// piece) and calls ended with the bytes consumed at each end of a command
// or frame. It returns the bytes consumed, up to an error, and the error.
func feed(f framer, stream []byte, sizes []int, ended func(consumed int)) (consumed int, err error) {
	for i := 0; consumed < len(stream); i++ {
		size := len(stream)
		if len(sizes) > 0 {
			size = max(1, sizes[i%len(sizes)])
		}
		piece := stream[consumed:min(len(stream), consumed+size)]
		for len(piece) > 0 {
			n, end, err := f.next(piece)
			consumed += n
			piece = piece[n:]
			if err != nil {
				return consumed, err
			}
			if end {
				ended(consumed)
			}
		}
	}
	return consumed, nil
}

// frameAll feeds stream to a request framer in pieces of the given sizes
// and returns the commands it reports, the bytes consumed before an error,
// and the error.
func frameAll(stream []byte, sizes []int) (cmds []framedCommand, consumed int, err error) {
	var f requestFramer
	consumed, err = feed(&f, stream, sizes, func(int) {
		cmds = append(cmds, framedCommand{f.command(), string(f.password()), f.changesReplies()})
	})
	if err == nil && !f.atBoundary() {
		err = fmt.Errorf("ends inside a command")
	}
	return cmds, consumed, err
}

func TestRequestFramerCommands(t *testing.T) {
	token := string(bytes.Repeat([]byte("t"), 3000))
	big := string(bytes.Repeat([]byte("*1\r\n$4\r\nexec\r\n"), 5000)) // 80 KB of what looks like EXEC
	cases := []struct {
		name string
		args []string
		want framedCommand
	}{
		{"get", []string{"GET", "k"}, framedCommand{Kind: cmdOther}},
		{"auth password", []string{"AUTH", token}, framedCommand{Kind: cmdAuth, Password: token}},
		{"auth user password", []string{"auth", "oid", token}, framedCommand{Kind: cmdAuth, Password: token}},
		{"hello auth", []string{"HELLO", "3", "AUTH", "oid", token, "SETNAME", "x"}, framedCommand{Kind: cmdHello, Password: token}},
		{"hello setname then auth", []string{"hello", "3", "setname", "x", "auth", "oid", token}, framedCommand{Kind: cmdHello, Password: token}},
		{"hello without auth", []string{"HELLO", "3"}, framedCommand{Kind: cmdHello}},
		{"multi", []string{"MULTI"}, framedCommand{Kind: cmdMulti}},
		{"exec", []string{"Exec"}, framedCommand{Kind: cmdExec}},
		{"discard", []string{"DISCARD"}, framedCommand{Kind: cmdExec}},
		{"watch", []string{"WATCH", "a", "b"}, framedCommand{Kind: cmdWatch}},
		{"unwatch", []string{"UNWATCH"}, framedCommand{Kind: cmdUnwatch}},
		{"subscribe", []string{"subscribe", "ch"}, framedCommand{Kind: cmdStreaming}},
		{"ssubscribe", []string{"SSUBSCRIBE", "ch"}, framedCommand{Kind: cmdStreaming}},
		{"monitor", []string{"MONITOR"}, framedCommand{Kind: cmdStreaming}},
		{"client reply", []string{"CLIENT", "REPLY", "OFF"}, framedCommand{Kind: cmdClient, Replies: true}},
		{"client setname", []string{"CLIENT", "SETNAME", "x"}, framedCommand{Kind: cmdClient}},
		{"reset", []string{"RESET"}, framedCommand{Kind: cmdReset}},
		{"set with RESP inside", []string{"SET", "k", big}, framedCommand{Kind: cmdOther}},
		{"set named like auth", []string{"SET", "AUTH", "exec"}, framedCommand{Kind: cmdOther}},
		{"long name", []string{"averyveryverylongcommandname", "x"}, framedCommand{Kind: cmdOther}},
		{"empty argument", []string{"SET", "", ""}, framedCommand{Kind: cmdOther}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stream := encodeCommand(c.args...)
			for _, sizes := range [][]int{nil, {1}, {2, 3}, {7}, {32 << 10}} {
				cmds, _, err := frameAll(stream, sizes)
				require.NoError(t, err, "sizes %v", sizes)
				assert.Equal(t, []framedCommand{c.want}, cmds, "sizes %v", sizes)
			}
		})
	}
}

func TestRequestFramerRefusesWhatGoRedisNeverWrites(t *testing.T) {
	for _, in := range []string{
		"PING\r\n",                 // inline command
		"*0\r\n",                   // no arguments
		"*-1\r\n",                  // null array
		"*1\r\n+PING\r\n",          // not a bulk string
		"*1\r\n$-1\r\n",            // null argument
		"*1\r\n$4\r\nPINGX\r\n",    // payload longer than its length
		"*1\r\n$4\r\nPING\n",       // missing \r
		"*x\r\n",                   // not a number
		"*1\n",                     // missing \r
		"*1\r\n$\r\n",              // no digits
		"*1\r\n$9999999999999\r\n", // too many digits
	} {
		_, _, err := frameAll([]byte(in), []int{1})
		assert.ErrorIs(t, err, errFraming, "%q", in)
	}
}

// A pipeline arrives in pieces cut anywhere; the framer reports each
// command once, at its last byte, and nothing of a payload is read as a
// command.
func TestRequestFramerPipelineAnySplit(t *testing.T) {
	var stream []byte
	var want []framedCommand
	add := func(want1 framedCommand, args ...string) {
		stream = append(stream, encodeCommand(args...)...)
		want = append(want, want1)
	}
	add(framedCommand{Kind: cmdMulti}, "MULTI")
	add(framedCommand{Kind: cmdOther}, "SET", "k", "*1\r\n$9\r\nsubscribe\r\n\r\nexec\r\n*3\r\n$4\r\nAUTH\r\n")
	add(framedCommand{Kind: cmdExec}, "EXEC")
	add(framedCommand{Kind: cmdAuth, Password: "tok"}, "AUTH", "oid", "tok")
	for size := 1; size <= len(stream); size++ {
		cmds, _, err := frameAll(stream, []int{size})
		require.NoError(t, err)
		require.Equal(t, want, cmds, "pieces of %d", size)
	}
}

// encodeReply writes a random RESP2/RESP3 reply frame of depth at most d.
func encodeReply(r *rand.Rand, d int) []byte {
	payload := func() string {
		// Payloads that look like frames: they must be skipped by length.
		parts := []string{"+OK\r\n", "*2\r\n", "$3\r\n", ">1\r\n", "\r\n", "-ERR\r\n", "x", "%1\r\n"}
		var b []byte
		for range r.IntN(6) {
			b = append(b, parts[r.IntN(len(parts))]...)
		}
		return string(b)
	}
	kinds := "+-:_,#($!=*~>%|"
	if d <= 0 {
		kinds = "+-:_,#($!="
	}
	switch k := kinds[r.IntN(len(kinds))]; k {
	case '+', '-':
		return []byte(string(k) + "OK status\r\n")
	case ':', '(':
		return []byte(string(k) + "-12345\r\n")
	case '_':
		return []byte("_\r\n")
	case ',':
		return []byte(",1.5\r\n")
	case '#':
		return []byte("#t\r\n")
	case '$', '!', '=':
		if k == '$' && r.IntN(5) == 0 {
			return []byte("$-1\r\n")
		}
		p := payload()
		return []byte(string(k) + strconv.Itoa(len(p)) + "\r\n" + p + "\r\n")
	default: // aggregates
		if k == '*' && r.IntN(6) == 0 {
			return []byte("*-1\r\n")
		}
		n := r.IntN(4)
		b := []byte(string(k) + strconv.Itoa(n) + "\r\n")
		if k == '%' || k == '|' {
			n *= 2
		}
		for range n {
			b = append(b, encodeReply(r, d-1)...)
		}
		if k == '|' { // an attribute annotates the element after it
			b = append(b, encodeReply(r, d-1)...)
		}
		return b
	}
}

// Random replies, split anywhere: the framer ends a frame exactly where
// each one ends.
func TestReplyFramerRandomFrames(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var stream []byte
		var ends []int
		for range 1 + r.IntN(5) {
			stream = append(stream, encodeReply(r, 3)...)
			ends = append(ends, len(stream))
		}
		var f replyFramer
		var got []int
		sizes := make([]int, 8)
		for i := range sizes {
			sizes[i] = 1 + r.IntN(12)
		}
		_, err := feed(&f, stream, sizes, func(consumed int) { got = append(got, consumed) })
		require.NoError(t, err, "%q", stream)
		require.Equal(t, ends, got, "%q", stream)
		require.True(t, f.atFrameStart())
	}
}

func TestReplyFramerRefusesGarbage(t *testing.T) {
	for _, in := range []string{"x\r\n", "$x\r\n", "*1\r\n$1\r\nab\r\n", "$-2\r\n", "*-2\r\n", "$?\r\n"} {
		_, err := feed(&replyFramer{}, []byte(in), []int{1}, func(int) {})
		assert.ErrorIs(t, err, errFraming, "%q", in)
	}
}

// FuzzRequestFramer: any bytes, cut anywhere, never panic and frame the
// same commands as when written in one piece.
func FuzzRequestFramer(f *testing.F) {
	f.Add(encodeCommand("SET", "k", "*1\r\n$4\r\nexec\r\n"), uint8(3))
	f.Add(append(encodeCommand("MULTI"), encodeCommand("HELLO", "3", "AUTH", "u", "p")...), uint8(1))
	f.Add([]byte("*2\r\n$4\r\nAUTH\r\n$"), uint8(5))
	f.Fuzz(func(t *testing.T, stream []byte, size uint8) {
		whole, wn, werr := frameAll(stream, nil)
		split, sn, serr := frameAll(stream, []int{int(size)})
		if (werr == nil) != (serr == nil) || wn != sn {
			t.Fatalf("split changed the result: %v/%d vs %v/%d", werr, wn, serr, sn)
		}
		assert.Equal(t, whole, split)
	})
}

// FuzzReplyFramer: any bytes, cut anywhere, never panic and end the same
// frames as when read in one piece.
func FuzzReplyFramer(f *testing.F) {
	f.Add([]byte("+OK\r\n$3\r\nbar\r\n"), uint8(2))
	f.Add([]byte(">2\r\n$7\r\nmessage\r\n$1\r\nx\r\n%1\r\n+a\r\n|1\r\n+k\r\n+v\r\n:1\r\n"), uint8(1))
	frames := func(stream []byte, size int) (ends []int, err error) {
		_, err = feed(&replyFramer{}, stream, []int{size}, func(consumed int) { ends = append(ends, consumed) })
		return ends, err
	}
	f.Fuzz(func(t *testing.T, stream []byte, size uint8) {
		whole, werr := frames(stream, len(stream))
		split, serr := frames(stream, max(1, int(size)))
		assert.Equal(t, werr == nil, serr == nil, "%v vs %v", werr, serr)
		assert.Equal(t, whole, split)
	})
}
