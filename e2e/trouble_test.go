package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/funcredis/funcredis/emulator/tokenservice"
)

// TestServiceTrouble: identity endpoint down and Redis unreachable are each a 503 with
// Retry-After and a problem type naming the cause.
func TestServiceTrouble(t *testing.T) {
	t.Run("identity endpoint down", func(t *testing.T) {
		st.Tokens.SetFault(tokenservice.Fault{Mode: tokenservice.Status5xx, Status: 503})
		defer st.Tokens.SetFault(tokenservice.Fault{})
		a := startApp(t, true, "WARMUP_TIMEOUT=1s", "REDIS_DIAL_TIMEOUT=1s")
		res, b := a.do(t, "GET", "/api/cache/x", "")
		expect(t, res, b, 503)
		if pt := problemType(t, b); (pt != "identity-unavailable" && pt != "token-expired") || res.Header.Get("Retry-After") == "" {
			t.Fatalf("%v %s", res.Header, b)
		}
		a.assertNoTokenInLogs(t)
	})
	t.Run("redis unreachable", func(t *testing.T) {
		a := startApp(t, true, "REDIS_HOST=127.0.0.1:1", "WARMUP_TIMEOUT=1s", "REDIS_DIAL_TIMEOUT=300ms")
		res, b := a.do(t, "PUT", "/api/cache/x", "v")
		expect(t, res, b, 503)
		if problemType(t, b) != "redis-unavailable" || res.Header.Get("Retry-After") == "" {
			t.Fatalf("%v %s", res.Header, b)
		}
		res, b = a.do(t, "GET", "/api/health", "")
		expect(t, res, b, 503)
	})
}

// TestServesAcrossRotations keeps reading and writing while 4-second tokens rotate several
// times: every request succeeds and the connections are re-authenticated, not dropped for expiry.
func TestServesAcrossRotations(t *testing.T) {
	a := startApp(t, true)
	before := st.Tokens.Stats().IssuedTotal()
	closedBefore := st.Gateway.Stats().ClosedTokenExpired
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; ctx.Err() == nil && i < 2000; i++ {
		res, b := a.do(t, "PUT", "/api/cache/rot", "v")
		if res.StatusCode != 201 && res.StatusCode != 204 {
			t.Fatalf("request %d during rotation: %d %s", i, res.StatusCode, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if issued := st.Tokens.Stats().IssuedTotal() - before; issued < 2 {
		t.Fatalf("only %d tokens issued in 10 s of 4 s tokens", issued)
	}
	t.Logf("tokens issued: %d, gateway expiry closes: %d", st.Tokens.Stats().IssuedTotal()-before, st.Gateway.Stats().ClosedTokenExpired-closedBefore)
	a.assertNoTokenInLogs(t)
}
