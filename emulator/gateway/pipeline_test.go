package gateway

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestPipelinedRepliesInOrder sends AUTHs in the middle of a pipeline, in
// one write: every reply arrives in order, and a refused re-AUTH keeps the
// connection's identity (as redis-server does).
func TestPipelinedRepliesInOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := dialRaw(t, e.g.Addr())
	good := e.signer.token(t, testOID, time.Hour)
	c.send(
		"GET k",
		"AUTH "+testOID+" "+good,
		"SET k v1",
		"GET k",
		"AUTH "+testOID+" garbage",
		"GET k",
		"HELLO 3 AUTH "+testOID+" "+good,
		"SET k v2",
		"GET k",
	)
	want := []string{
		"-NOAUTH Authentication required.\r\n",
		"+OK\r\n",
		"+OK\r\n",
		"$2\r\nv1\r\n",
		wrongPass,
		"$2\r\nv1\r\n",
		"%7\r\n", // prefix: the RESP3 HELLO map
		"+OK\r\n",
		"$2\r\nv2\r\n",
	}
	for i, w := range want {
		if got := c.read(); !strings.HasPrefix(got, w) {
			t.Fatalf("reply %d = %q, want %q", i, got, w)
		}
	}
	s := e.g.Stats()
	if s.AuthOK != 2 || s.ReAuths != 1 || s.AuthFailed[ReasonMalformed] != 1 {
		t.Fatalf("stats = %+v", s)
	}
}

// TestPipelineThroughGoRedis runs a large go-redis pipeline and concurrent
// clients with a re-AUTH in flight.
func TestPipelineThroughGoRedis(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := e.client(t, testOID, e.signer.token(t, testOID, time.Hour), func(o *redis.Options) { o.Protocol = proto })
		const n = 2000
		cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := range n {
				p.Set(ctx, fmt.Sprint("k", i), i, 0)
				if i == n/2 {
					p.Do(ctx, "AUTH", testOID, e.signer.token(t, testOID, 2*time.Hour))
				}
				p.Get(ctx, fmt.Sprint("k", i))
			}
			return nil
		})
		if err != nil {
			t.Fatalf("RESP%d: pipeline: %v", proto, err)
		}
		j := 0
		for _, cmd := range cmds {
			if g, ok := cmd.(*redis.StringCmd); ok {
				if g.Val() != fmt.Sprint(j) {
					t.Fatalf("RESP%d: GET k%d = %q", proto, j, g.Val())
				}
				j++
			}
		}
	}
	if s := e.g.Stats(); s.ReAuths != 2 {
		t.Fatalf("ReAuths = %d, want 2", s.ReAuths)
	}
}

// TestRepliesThatCannotBeMatched covers AUTH inside MULTI (it runs at EXEC;
// the expiry is not moved), CLIENT REPLY SKIP (from then on a verified AUTH
// counts when forwarded) and a protocol error (answered by redis-server).
func TestRepliesThatCannotBeMatched(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	token := e.signer.token(t, testOID, time.Hour)
	c := dialRaw(t, e.g.Addr())
	c.send("AUTH "+testOID+" "+token, "MULTI", "AUTH "+testOID+" "+token, "EXEC")
	for _, want := range []string{"+OK\r\n", "+OK\r\n", "+QUEUED\r\n", "*1\r\n+OK\r\n"} {
		if got := c.read(); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if s := e.g.Stats(); s.AuthOK != 1 || s.ReAuths != 0 {
		t.Fatalf("after MULTI: stats = %+v", s)
	}
	c.send("CLIENT REPLY SKIP", "PING", "AUTH "+testOID+" "+token, "GET missing")
	for _, want := range []string{"+OK\r\n", "$-1\r\n"} {
		if got := c.read(); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if s := e.g.Stats(); s.AuthOK != 2 || s.ReAuths != 1 {
		t.Fatalf("after CLIENT REPLY: stats = %+v", s)
	}
	bad := dialRaw(t, e.g.Addr())
	bad.write([]byte("*1\r\n+GET\r\n"))
	if got := bad.read(); !strings.HasPrefix(got, "-ERR Protocol error") {
		t.Fatalf("protocol error = %q", got)
	}
	if !bad.closed() {
		t.Fatal("open after a protocol error")
	}
}

// TestFlightsCountWrites counts one flight for commands a client writes together and one for each
// command it writes after waiting for the reply before it.
func TestFlightsCountWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := dialRaw(t, e.g.Addr())
	good := e.signer.token(t, testOID, time.Hour)
	c.send("AUTH "+testOID+" "+good, "SET k v", "GET k")
	for range 3 {
		c.read()
	}
	if got := e.g.Stats().Flights; got != 1 {
		t.Fatalf("flights after one write of 3 commands = %d, want 1", got)
	}
	c.do("GET k")
	c.do("GET k")
	if got := e.g.Stats().Flights; got != 3 {
		t.Fatalf("flights after 2 more commands, each after its reply = %d, want 3", got)
	}
}
