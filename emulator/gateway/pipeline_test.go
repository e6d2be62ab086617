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
