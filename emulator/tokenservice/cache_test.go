package tokenservice

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"
)

// serve sends one App Service token request straight to the handler (no socket,
// so it runs inside a synctest bubble) and returns the status and token response.
func serve(t *testing.T, s *Service, clientID string) (int, appServiceToken) {
	t.Helper()
	q := tokenQuery()
	if clientID != "" {
		q.Set("client_id", clientID)
	}
	req := httptest.NewRequest(http.MethodGet, appServiceTokenPath+"?"+q.Encode(), nil)
	req.Header.Set(identityHeaderName, s.Secret())
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return rec.Code, appServiceToken{}
	}
	return rec.Code, decode[appServiceToken](t, rec.Body.Bytes())
}

func TestCachedTokenUntilReusePoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := New(Config{Lifetime: 10 * time.Second, ReuseFraction: 0.5, Identities: []Identity{userA}})
		noErr(t, err)
		sys := s.SystemAssigned().ObjectID

		_, first := serve(t, s, "")
		time.Sleep(4 * time.Second) // before the reuse point (5 s): the same token
		_, again := serve(t, s, "")
		equal(t, first, again)

		_, other := serve(t, s, userA.ClientID) // another identity has its own token
		isTrue(t, other.AccessToken != first.AccessToken)

		time.Sleep(time.Second) // at the reuse point: a new token
		_, fresh := serve(t, s, "")
		isTrue(t, fresh.AccessToken != first.AccessToken, "token reused past the reuse point")
		equal(t, 10*time.Second, lifetimeOf(t, verify(t, s, fresh.AccessToken, DefaultAudience)))

		st := s.Stats()
		equal(t, int64(4), st.Requests)
		equal(t, int64(1), st.CacheHits)
		equal(t, map[string]int64{sys: 2, userA.ObjectID: 1}, st.Issued)
	})
}

func TestSetLifetimeDropsCachedTokens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := New(Config{})
		noErr(t, err)
		_, hour := serve(t, s, "")
		equal(t, time.Hour, lifetimeOf(t, verify(t, s, hour.AccessToken, DefaultAudience)))

		s.SetLifetime(4 * time.Second)
		_, short := serve(t, s, "")
		equal(t, 4*time.Second, lifetimeOf(t, verify(t, s, short.AccessToken, DefaultAudience)))
		time.Sleep(1900 * time.Millisecond)
		_, again := serve(t, s, "")
		equal(t, short, again)
		time.Sleep(100 * time.Millisecond)
		_, fresh := serve(t, s, "")
		isTrue(t, fresh != short)
		equal(t, int64(3), s.Stats().IssuedTotal())
	})
}

func TestDelayFault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := New(Config{})
		noErr(t, err)
		s.SetFault(Fault{Delay: 3 * time.Second})
		start := time.Now()
		status, _ := serve(t, s, "")
		equal(t, http.StatusOK, status)
		equal(t, 3*time.Second, time.Since(start), "fake time spent answering")
	})
}

func TestOnIssueSeesEachNewTokenOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type issued struct {
			oid, token string
			exp        time.Time
		}
		var got []issued
		s, err := New(Config{Lifetime: 10 * time.Second, OnIssue: func(oid, token string, exp time.Time) {
			got = append(got, issued{oid, token, exp})
		}})
		noErr(t, err)
		_, first := serve(t, s, "")
		_, again := serve(t, s, "") // a cache hit: not issued again
		time.Sleep(5 * time.Second)
		_, fresh := serve(t, s, "")
		sys := s.SystemAssigned().ObjectID
		equal(t, first, again)
		equal(t, []issued{
			{sys, first.AccessToken, time.Now().Add(5 * time.Second).Truncate(time.Second)},
			{sys, fresh.AccessToken, time.Now().Add(10 * time.Second).Truncate(time.Second)},
		}, got)
	})
}
