package pool

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pipeConn returns a tracked client side and the raw server side of a pipe,
// with the tracked side authenticated with old.
func pipeConn(t *testing.T, old, tok *Token) (*trackedConn, net.Conn, *tracker) {
	t.Helper()
	client, server := net.Pipe()
	t.Cleanup(func() { client.Close(); server.Close() })
	tr := newTracker(func() (*Token, *Token) { return tok, old })
	tc := tr.wrap(client).(*trackedConn)
	tc.authUntil = old.ExpiresOn
	return tc, server, tr
}

func testTokens() (old, tok *Token) {
	now := time.Now()
	return &Token{token: "old-token", username: "oid", ExpiresOn: now.Add(time.Minute)},
		&Token{token: "new-token", username: "oid", ExpiresOn: now.Add(2 * time.Minute)}
}

var newAuth = string(authCommand("oid", "new-token"))

// write writes each piece to tc as go-redis would and returns what the
// server received.
func write(t *testing.T, tc *trackedConn, server net.Conn, pieces ...string) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		var all bytes.Buffer
		buf := make([]byte, 64<<10)
		for {
			server.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			n, err := server.Read(buf)
			all.Write(buf[:n])
			if err != nil {
				got <- all.String()
				return
			}
		}
	}()
	for _, p := range pieces {
		n, err := tc.Write([]byte(p))
		require.NoError(t, err)
		require.Equal(t, len(p), n, "go-redis sees its own length written")
	}
	return <-got
}

// reply sends the server's replies and returns what go-redis reads (want
// bytes of it).
func reply(t *testing.T, tc *trackedConn, server net.Conn, want int, replies ...string) string {
	t.Helper()
	go func() {
		for _, r := range replies {
			server.Write([]byte(r))
		}
	}()
	got := make([]byte, want)
	_, err := io.ReadFull(bufio.NewReaderSize(tc, 16), got)
	require.NoError(t, err)
	return string(got)
}

func TestInlineReauthRemovesTheReply(t *testing.T) {
	cases := []struct {
		name    string
		replies []string // as the server writes them, possibly split
		want    string   // what go-redis must read
		ok      bool
	}{
		{"one piece", []string{"+OK\r\n$3\r\nbar\r\n"}, "$3\r\nbar\r\n", true},
		{"split reply", []string{"+O", "K\r", "\n$3\r\nb", "ar\r\n"}, "$3\r\nbar\r\n", true},
		{"push first", []string{">2\r\n$7\r\nmessage\r\n$1\r\nx\r\n+OK\r\n$3\r\nbar\r\n"}, ">2\r\n$7\r\nmessage\r\n$1\r\nx\r\n$3\r\nbar\r\n", true},
		{"auth refused", []string{"-WRONGPASS invalid username-password pair or user is disabled.\r\n$3\r\nbar\r\n"}, "$3\r\nbar\r\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			old, tok := testTokens()
			tc, server, tr := pipeConn(t, old, tok)
			tr.reauth(tok)
			cmd := "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n"
			assert.Equal(t, newAuth+cmd, write(t, tc, server, cmd), "AUTH is prefixed to the command")
			assert.Equal(t, c.want, reply(t, tc, server, len(c.want), c.replies...))
			if c.ok {
				assert.Equal(t, tok.ExpiresOn, tc.authUntil)
				assert.Equal(t, int64(1), tr.reauths.Load())
				assert.Zero(t, tr.stale(tok.ExpiresOn))
			} else {
				assert.Equal(t, old.ExpiresOn, tc.authUntil, "a refused AUTH keeps the old identity")
				assert.Equal(t, int64(1), tr.authFailed.Load())
				assert.Equal(t, 1, tr.stale(tok.ExpiresOn))
			}
		})
	}
}

// The write patterns of issue 9, each of which an AUTH at the start of a
// Write used to break: the AUTH must wait for a command boundary with no
// reply outstanding and no transaction open, and then go out once.
func TestInlineReauthWaitsForASafePoint(t *testing.T) {
	value := strings.Repeat("*", 40<<10) + "\r\n*1\r\n$9\r\nsubscribe\r\n\r\nexec\r\nSET injected pwned\r\n"
	set := string(encodeCommand("SET", "k", value))
	get := string(encodeCommand("GET", "k"))
	multi, exec := string(encodeCommand("MULTI")), string(encodeCommand("EXEC"))
	cases := []struct {
		name    string
		writes  []string // go-redis's Writes before the rotation …
		after   []string // … and after it
		replies []string // the server's replies to all of them
	}{
		{"large value cut in two", []string{set[:100]}, []string{set[100:]}, []string{"+OK\r\n"}},
		{"pipeline cut at a command boundary", []string{get}, []string{get}, []string{"$1\r\nv\r\n", "$1\r\nw\r\n"}},
		{"transaction pipeline over 32 KiB", []string{multi + set[:32<<10]}, []string{set[32<<10:] + exec}, []string{"+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n"}},
		{"MULTI on a Conn", []string{multi}, []string{set, exec}, []string{"+OK\r\n", "+QUEUED\r\n", "*1\r\n+OK\r\n"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			old, tok := testTokens()
			tc, server, tr := pipeConn(t, old, tok)
			sent := write(t, tc, server, c.writes...)
			tr.reauth(tok)
			sent += write(t, tc, server, c.after...)
			assert.Equal(t, strings.Join(append(c.writes, c.after...), ""), sent, "no AUTH inside a command, a pipeline or a transaction")
			all := strings.Join(c.replies, "")
			assert.Equal(t, all, reply(t, tc, server, len(all), c.replies...), "every reply reaches go-redis, in order")
			assert.False(t, tc.inMulti, "the transaction ended")
			assert.Equal(t, 1, tr.stale(tok.ExpiresOn), "not re-authenticated yet")

			assert.Equal(t, newAuth+get, write(t, tc, server, get), "the next command carries the AUTH")
			assert.Equal(t, "$1\r\nv\r\n", reply(t, tc, server, 7, "+OK\r\n$1\r\nv\r\n"))
			assert.Zero(t, tr.stale(tok.ExpiresOn))
			assert.Equal(t, int64(1), tr.reauths.Load())
		})
	}
}

// Values that look like commands are values: after a SET whose value
// holds SUBSCRIBE, MULTI and AUTH, the connection is re-authenticated as
// any other.
func TestValueThatLooksLikeCommandsIsAValue(t *testing.T) {
	old, tok := testTokens()
	tc, server, tr := pipeConn(t, old, tok)
	for _, v := range []string{"*1\r\n$9\r\nsubscribe\r\n", "*1\r\n$5\r\nMULTI\r\n", "*3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$1\r\np\r\n"} {
		set := string(encodeCommand("SET", "k", v))
		write(t, tc, server, set[:len(set)-len(v)-2], set[len(set)-len(v)-2:])
		reply(t, tc, server, 5, "+OK\r\n")
	}
	assert.False(t, tc.streaming || tc.inMulti)
	assert.Empty(t, tc.expect, "no AUTH expected")
	tr.reauth(tok)
	ping := string(encodeCommand("PING"))
	assert.Equal(t, newAuth+ping, write(t, tc, server, ping))
}

func TestSubscribedConnectionIsNeverReauthenticated(t *testing.T) {
	old, tok := testTokens()
	tc, server, tr := pipeConn(t, old, tok)
	write(t, tc, server, string(encodeCommand("SUBSCRIBE", "ch")))
	tr.reauth(tok)
	ping := string(encodeCommand("PING"))
	assert.Equal(t, ping, write(t, tc, server, ping))
	msg := "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$4\r\n+OK\r\n\r\n"
	assert.Equal(t, msg, reply(t, tc, server, len(msg), msg))
	n, busy := tr.retire(tok.ExpiresOn)
	assert.Equal(t, 1, n)
	assert.Zero(t, busy, "a subscribed connection is closed at the deadline")
	assert.True(t, tc.closed.Load())
}

func TestGoRedisAuthIsFollowedToItsReply(t *testing.T) {
	old, tok := testTokens()
	tc, server, tr := pipeConn(t, old, tok)
	tc.authUntil = time.Time{} // a new connection
	hello := string(encodeCommand("HELLO", "3", "AUTH", "oid", "new-token"))
	setname := string(encodeCommand("CLIENT", "SETNAME", "x"))
	write(t, tc, server, hello[:20], hello[20:]+setname)
	assert.True(t, tc.authUntil.IsZero(), "not before the server's answer")
	helloReply := "%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n"
	reply(t, tc, server, len(helloReply)+5, helloReply, "+OK\r\n")
	assert.Equal(t, tok.ExpiresOn, tc.authUntil)
	assert.Equal(t, int64(1), tr.authOK.Load())

	// An AUTH refused by the server leaves the connection as it was.
	write(t, tc, server, string(encodeCommand("AUTH", "oid", "old-token")))
	reply(t, tc, server, 10, "-WRONGPASS\r\n")
	assert.Equal(t, tok.ExpiresOn, tc.authUntil)
	assert.Equal(t, int64(1), tr.authFailed.Load())

	// An AUTH inside MULTI is queued, not run.
	write(t, tc, server, string(encodeCommand("MULTI")), string(encodeCommand("AUTH", "oid", "old-token")))
	reply(t, tc, server, 14, "+OK\r\n", "+QUEUED\r\n")
	assert.Equal(t, tok.ExpiresOn, tc.authUntil)
}

func TestRetireNeverCutsACommandShort(t *testing.T) {
	old, tok := testTokens()

	t.Run("idle: closed now, next write sends nothing and is retried", func(t *testing.T) {
		tc, _, tr := pipeConn(t, old, tok)
		n, busy := tr.retire(tok.ExpiresOn)
		assert.Equal(t, 1, n)
		assert.Zero(t, busy)
		_, err := tc.SyscallConn()
		assert.ErrorIs(t, err, net.ErrClosed, "go-redis's health check discards it")
		_, err = tc.Write(encodeCommand("INCR", "k"))
		assert.ErrorIs(t, err, errRetired)
		assert.ErrorIs(t, err, io.EOF, "go-redis retries it: nothing was sent")
		assert.Zero(t, tr.live())
		assert.Zero(t, tr.drops.Load(), "retiring is not a drop")
	})

	t.Run("busy: closed once its replies are read", func(t *testing.T) {
		tc, server, tr := pipeConn(t, old, tok)
		write(t, tc, server, string(encodeCommand("INCR", "k")), string(encodeCommand("INCR", "k")))
		n, busy := tr.retire(tok.ExpiresOn)
		assert.Equal(t, 1, n)
		assert.Equal(t, 1, busy)
		assert.False(t, tc.closed.Load(), "two replies outstanding")
		_, err := tc.SyscallConn()
		assert.Error(t, err, "go-redis will not take it from its pool again")
		assert.Equal(t, ":1\r\n:2\r\n", reply(t, tc, server, 8, ":1\r\n", ":2\r\n"))
		assert.True(t, tc.closed.Load())
		_, err = tc.Write(encodeCommand("INCR", "k"))
		assert.ErrorIs(t, err, errRetired)
		assert.Equal(t, int64(1), tr.retiredBusy.Load())
	})

	t.Run("open MULTI: kept until EXEC's reply", func(t *testing.T) {
		tc, server, tr := pipeConn(t, old, tok)
		write(t, tc, server, string(encodeCommand("MULTI")))
		reply(t, tc, server, 5, "+OK\r\n")
		_, busy := tr.retire(tok.ExpiresOn)
		assert.Equal(t, 1, busy)
		write(t, tc, server, string(encodeCommand("INCR", "k")))
		reply(t, tc, server, 9, "+QUEUED\r\n")
		assert.False(t, tc.closed.Load())
		write(t, tc, server, string(encodeCommand("EXEC")))
		reply(t, tc, server, 8, "*1\r\n:1\r\n")
		assert.True(t, tc.closed.Load())
	})
}

// Over TCP the health check sees the socket: a connection the server
// closed is dead before go-redis writes to it.
func TestSyscallConnSeesServerClose(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	tc := newTracker(func() (*Token, *Token) { return nil, nil }).wrap(c).(*trackedConn)
	defer tc.Close()
	peek := func() error {
		raw, err := tc.SyscallConn()
		require.NoError(t, err)
		var res error
		require.NoError(t, raw.Read(func(fd uintptr) bool {
			var b [1]byte
			n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if n == 0 && err == nil {
				res = io.EOF
			}
			return true
		}))
		return res
	}
	assert.NoError(t, peek(), "open")
	(<-accepted).Close()
	assert.Eventually(t, func() bool { return peek() == io.EOF }, time.Second, time.Millisecond, "closed by the server")
}

// echoConn is a connection that swallows writes and answers every read
// from a fixed reply, looping: the tracker's work without I/O.
type echoConn struct {
	net.Conn
	reply []byte
	off   int
}

func (e *echoConn) Write(b []byte) (int, error) { return len(b), nil }

func (e *echoConn) Read(b []byte) (int, error) {
	n := copy(b, e.reply[e.off:])
	e.off = (e.off + n) % len(e.reply)
	return n, nil
}

// BenchmarkConnOverhead: SET of a value, then GET of it, written in go-redis's
// 32 KiB pieces and read through a 32 KiB buffer, on a bare connection and
// on a tracked one. The tracker's cost per command is (tracked − bare) / 2.
func BenchmarkConnOverhead(b *testing.B) {
	for _, size := range []int{16, 1 << 10, 32 << 10, 1 << 20} {
		value := strings.Repeat("*", size-2) + "\r\n"
		stream := append(encodeCommand("SET", "key:1", value), encodeCommand("GET", "key:1")...)
		reply := []byte("+OK\r\n$" + strconv.Itoa(size) + "\r\n" + value + "\r\n")
		for _, tracked := range []bool{false, true} {
			name := fmt.Sprintf("value=%d/bare", size)
			if tracked {
				name = fmt.Sprintf("value=%d/tracked", size)
			}
			b.Run(name, func(b *testing.B) {
				var c net.Conn = &echoConn{reply: reply}
				if tracked {
					c = newTracker(func() (*Token, *Token) { return nil, nil }).wrap(c)
				}
				buf := make([]byte, 32<<10)
				b.SetBytes(int64(len(stream) + len(reply)))
				for b.Loop() {
					for off := 0; off < len(stream); off += 32 << 10 {
						if _, err := c.Write(stream[off:min(len(stream), off+32<<10)]); err != nil {
							b.Fatal(err)
						}
					}
					for got := 0; got < len(reply); {
						n, err := c.Read(buf[:min(len(buf), len(reply)-got)])
						if err != nil {
							b.Fatal(err)
						}
						got += n
					}
				}
			})
		}
	}
}

// The tracker relies on how go-redis uses a connection: one goroutine at a
// time writes a batch of commands (one or several Writes, flushed before
// it reads) and then reads their replies, and the pool never
// autopipelines. Both were validated against this go-redis version (the
// differential FuzzWire test, the bare-server e2e test). An upgrade must
// re-validate them, then move this pin.
func TestGoRedisVersionValidated(t *testing.T) {
	assert.Equal(t, "9.23.0", redis.Version(),
		"go-redis changed: run FuzzWire for 10 minutes and the bare-server e2e test (see pool/doc.go), then update this pin")
}
