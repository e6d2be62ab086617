package pool

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

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

// serve reads n bytes from the server side and writes reply in pieces.
func serve(t *testing.T, server net.Conn, n int, reply ...string) <-chan string {
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, n)
		if _, err := io.ReadFull(server, buf); err != nil {
			t.Error(err)
		}
		got <- string(buf)
		for _, r := range reply {
			server.Write([]byte(r))
		}
	}()
	return got
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
			auth := string(authCommand("oid", "new-token"))
			written := serve(t, server, len(auth)+len(cmd), c.replies...)
			n, err := tc.Write([]byte(cmd))
			require.NoError(t, err)
			assert.Equal(t, len(cmd), n, "go-redis sees its own length written")
			assert.Equal(t, auth+cmd, <-written, "AUTH is prefixed to the command")
			got := make([]byte, len(c.want))
			_, err = io.ReadFull(bufio.NewReaderSize(tc, 16), got)
			require.NoError(t, err)
			assert.Equal(t, c.want, string(got))
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

func TestInlineReauthSkipsTransactionsAndPubSub(t *testing.T) {
	cases := []struct {
		name   string
		first  string // written before the rotation-triggered write
		second string
	}{
		{"open MULTI", "*1\r\n$5\r\nMULTI\r\n", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"},
		{"subscribed", "*2\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n", "*1\r\n$4\r\nping\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			old, tok := testTokens()
			tc, server, tr := pipeConn(t, old, tok)
			got := serve(t, server, len(c.first))
			_, err := tc.Write([]byte(c.first))
			require.NoError(t, err)
			<-got
			tr.reauth(tok)
			got = serve(t, server, len(c.second))
			_, err = tc.Write([]byte(c.second))
			require.NoError(t, err)
			assert.Equal(t, c.second, <-got, "no AUTH injected")
		})
	}
}

func TestTxPipelineInOneWriteStillGetsReauth(t *testing.T) {
	old, tok := testTokens()
	tc, server, tr := pipeConn(t, old, tok)
	tr.reauth(tok)
	tx := "*1\r\n$5\r\nmulti\r\n*2\r\n$4\r\nincr\r\n$1\r\nk\r\n*1\r\n$4\r\nexec\r\n"
	auth := string(authCommand("oid", "new-token"))
	got := serve(t, server, len(auth)+len(tx))
	_, err := tc.Write([]byte(tx))
	require.NoError(t, err)
	assert.Equal(t, auth+tx, <-got)
	assert.False(t, tc.inMulti)
}

func TestFrameLen(t *testing.T) {
	for in, want := range map[string]int{
		"+OK\r\n":                    5,
		"$3\r\nbar\r\n":              9,
		"$-1\r\n":                    5,
		"*2\r\n$1\r\na\r\n:1\r\n":    15,
		"%1\r\n+a\r\n+b\r\n":         12,
		"$3\r\nba":                   0,
		"*2\r\n$1\r\na\r\n":          0,
		">1\r\n+x\r\n+OK\r\n":        8,
		"-ERR x\r\n$3\r\nfoo\r\n":    8,
		"_\r\n":                      3,
		"":                           0,
		"garbage without terminator": 0,
	} {
		assert.Equal(t, want, frameLen([]byte(in)), "%q", in)
	}
}

func TestRetiredConnFailsHealthCheck(t *testing.T) {
	old, tok := testTokens()
	tc, _, tr := pipeConn(t, old, tok)
	_, err := tc.SyscallConn()
	require.NoError(t, err, "a live connection looks healthy")
	assert.Equal(t, 1, tr.retire(tok.ExpiresOn))
	_, err = tc.SyscallConn()
	assert.Error(t, err, "go-redis must discard a retired connection")
	assert.Zero(t, tr.live())
	assert.Zero(t, tr.drops.Load(), "retiring is not a drop")
}
