package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// tokenUntil returns a token for oid that expires at exp.
func (s *signer) tokenUntil(t testing.TB, oid string, exp time.Time) string {
	c := s.claims(oid, time.Hour)
	c["exp"] = exp.Unix()
	return s.sign(t, c)
}

// TestExpiry: a connection that does not re-AUTH is closed when its token
// expires; one that re-AUTHs with a later token survives; a RESP2
// subscriber cannot re-AUTH (the server refuses AUTH in that context) and is
// closed; a RESP3 subscriber can and survives.
//
// The tokens expire on whole seconds: base+2 for the connections that are
// expected to re-AUTH, base+3 for "plain", which is closed last. Once plain
// is closed, every base+2 connection that failed to move its expiry would
// have been closed a second earlier.
func TestExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	base := time.Now().Truncate(time.Second)
	short := e.signer.tokenUntil(t, testOID, base.Add(2*time.Second))
	later := e.signer.token(t, testOID, time.Hour)

	plain := dialRaw(t, e.g.Addr())
	if got := plain.do("AUTH " + testOID + " " + e.signer.tokenUntil(t, testOID, base.Add(3*time.Second))); got != "+OK\r\n" {
		t.Fatalf("AUTH = %q", got)
	}

	kept := dialRaw(t, e.g.Addr())
	kept.send("AUTH "+testOID+" "+short, "SET k v", "AUTH "+testOID+" "+later)
	for range 3 {
		if got := kept.read(); got != "+OK\r\n" {
			t.Fatalf("kept: %q", got)
		}
	}

	resp2 := dialRaw(t, e.g.Addr())
	resp2.send("AUTH "+testOID+" "+short, "SUBSCRIBE ch", "AUTH "+testOID+" "+later)
	resp2.read()
	resp2.read()
	if got := resp2.read(); !strings.HasPrefix(got, "-ERR Can't execute 'auth'") {
		t.Fatalf("AUTH in a RESP2 subscription = %q", got)
	}

	resp3 := dialRaw(t, e.g.Addr())
	resp3.send("HELLO 3 AUTH "+testOID+" "+short, "SUBSCRIBE ch", "AUTH "+testOID+" "+later)
	resp3.read()
	if got := resp3.read(); !strings.HasPrefix(got, ">3\r\n$9\r\nsubscribe") {
		t.Fatalf("RESP3 SUBSCRIBE = %q", got)
	}
	if got := resp3.read(); got != "+OK\r\n" {
		t.Fatalf("AUTH in a RESP3 subscription = %q", got)
	}

	if !plain.closed() {
		t.Fatal("a connection without re-AUTH is open after its token expired")
	}
	if !resp2.closed() {
		t.Fatal("the RESP2 subscriber is open after its token expired")
	}
	if got := kept.do("GET k"); got != "$1\r\nv\r\n" {
		t.Fatalf("re-authenticated connection: GET = %q", got)
	}
	pub := dialRaw(t, e.g.Addr())
	pub.do("AUTH " + testOID + " " + later)
	if got := pub.do("PUBLISH ch hello"); got != ":1\r\n" {
		t.Fatalf("PUBLISH reached %q subscribers, want the RESP3 one", got)
	}
	if got := resp3.read(); !strings.Contains(got, "hello") {
		t.Fatalf("RESP3 subscriber got %q", got)
	}
	s := e.g.Stats()
	if s.ClosedTokenExpired != 2 || s.ReAuths != 2 || s.AuthFailed[ReasonServerRefused] != 1 {
		t.Fatalf("stats = %+v", s)
	}
}

// TestExpiryThroughGoRedis: go-redis with a static token loses its pooled
// connection and its pub/sub connection at expiry, and cannot reconnect.
func TestExpiryThroughGoRedis(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	exp := time.Now().Truncate(time.Second).Add(2 * time.Second)
	c := e.client(t, testOID, e.signer.tokenUntil(t, testOID, exp), func(o *redis.Options) { o.PoolSize = 1 })
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	sub := c.Subscribe(ctx, "ch")
	t.Cleanup(func() { sub.Close() })
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return e.g.Stats().ClosedTokenExpired >= 2 })
	err := c.Ping(ctx).Err()
	if err == nil {
		t.Fatal("Ping succeeded after the token expired")
	}
	if s := e.g.Stats(); s.ClosedTokenExpired != 2 {
		t.Fatalf("ClosedTokenExpired = %d, want 2 (pool and pub/sub)", s.ClosedTokenExpired)
	}
}

// waitFor polls cond for up to 15 s.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	for range 300 {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("condition not met within 15s")
}
