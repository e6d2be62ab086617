package pool

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9/auth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newTestProvider(t *testing.T, cred *fakeCred) *Provider {
	t.Helper()
	p := newProvider(cred, providerOptions{Logger: quiet, FetchTimeout: 2 * time.Second})
	t.Cleanup(func() { p.Close() })
	return p
}

func TestPlan(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name                   string
		life                   time.Duration
		refreshOn              time.Duration // after acquisition; 0 = none
		wantFrom, wantTo, wDdl time.Duration // window of fetchAt and the deadline, after acquisition
	}{
		// 1-hour service-principal token: azidentity returns a new token only
		// 5 min before expiry, so ask at 55 min (+ up to 1 min jitter); re-AUTH by 57 min.
		{"service principal 1h", time.Hour, 0, 55 * time.Minute, 56 * time.Minute, 57 * time.Minute},
		// 24-hour managed-identity token with RefreshOn at 12 h: the ratio (18 h) wins.
		{"managed identity 24h", 24 * time.Hour, 12 * time.Hour, 18 * time.Hour, 18*time.Hour + time.Minute, 24*time.Hour - 3*time.Minute},
		// 4-second test token: 75 % = 3 s, jitter ≤ 200 ms, deadline 3.8 s.
		{"test token 4s", 4 * time.Second, 0, 3 * time.Second, 3200 * time.Millisecond, 3800 * time.Millisecond},
		// RefreshOn later than the latest safe ask: ask at the latest safe time.
		{"late RefreshOn", time.Hour, 59 * time.Minute, 56 * time.Minute, 56 * time.Minute, 57 * time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := &Token{AcquiredAt: t0, ExpiresOn: t0.Add(c.life)}
			if c.refreshOn > 0 {
				tok.RefreshOn = t0.Add(c.refreshOn)
			}
			for range 50 {
				at, deadline := plan(tok, 0.75)
				assert.Equal(t, t0.Add(c.wDdl), deadline)
				assert.False(t, at.Before(t0.Add(c.wantFrom)), "fetch at %s", at.Sub(t0))
				assert.False(t, at.After(t0.Add(c.wantTo)), "fetch at %s", at.Sub(t0))
			}
		})
	}
}

func TestBackoffIsCappedAndJittered(t *testing.T) {
	for n := 1; n < 100; n++ {
		d := backoff(n, time.Hour)
		assert.GreaterOrEqual(t, d, time.Duration(0))
		assert.LessOrEqual(t, d, 30*time.Second)
	}
	assert.LessOrEqual(t, backoff(50, 4*time.Second), 200*time.Millisecond)
}

// Seconds-long tokens reach the endpoint on every request (MSAL's 5-minute
// window): the provider must still rotate at 75 % and notify each listener
// once per new token.
func TestProviderRotatesShortTokens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cred := &fakeCred{life: 4 * time.Second}
		p := newTestProvider(t, cred)
		l := &listener{}
		creds, unsubscribe, err := p.Subscribe(l)
		require.NoError(t, err)
		defer unsubscribe()
		_, first := creds.BasicAuth()

		time.Sleep(40 * time.Second) // ten lifetimes
		got, errs := l.snapshot()
		assert.Zero(t, errs, "OnError must never be called")
		assert.GreaterOrEqual(t, len(got), 10)
		assert.NotContains(t, got, first)
		seen := map[string]bool{}
		for _, g := range got {
			assert.False(t, seen[g], "a token was delivered twice")
			seen[g] = true
		}
		assert.True(t, p.status().Valid)
	})
}

// A 1-hour token: asking at 75 % only returns the cached token; the
// provider must not notify with it, must poll again, and must have the new
// token installed before the re-AUTH deadline (57 min).
func TestProviderDuplicateTokensAreNotNewTokens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cred := &fakeCred{life: time.Hour}
		p := newProvider(cred, providerOptions{Logger: quiet, RefreshRatio: 0.5})
		defer p.Close()
		l := &listener{}
		_, unsubscribe, err := p.Subscribe(l)
		require.NoError(t, err)
		defer unsubscribe()
		start := time.Now()

		time.Sleep(54 * time.Minute)
		got, _ := l.snapshot()
		assert.Empty(t, got, "no new token exists before 55 min")
		assert.Zero(t, p.status().DuplicateTokens, "the schedule must not ask before azidentity would answer with a new token")

		time.Sleep(3 * time.Minute) // now at 57 min: the deadline
		got, _ = l.snapshot()
		require.Len(t, got, 1)
		cur := p.Current()
		assert.True(t, cur.AcquiredAt.Sub(start) <= 56*time.Minute, "new token at %s", cur.AcquiredAt.Sub(start))
		_, minted := cred.counts()
		assert.Equal(t, 2, minted)
	})
}

// A 24-hour managed-identity token with RefreshOn at half-life.
func TestProviderManagedIdentity24h(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cred := &fakeCred{life: 24 * time.Hour, refreshHalf: true}
		p := newTestProvider(t, cred)
		l := &listener{}
		_, unsubscribe, err := p.Subscribe(l)
		require.NoError(t, err)
		defer unsubscribe()
		time.Sleep(18*time.Hour - time.Second)
		got, _ := l.snapshot()
		assert.Empty(t, got)
		time.Sleep(2 * time.Minute)
		got, _ = l.snapshot()
		assert.Len(t, got, 1)
		calls, _ := cred.counts()
		assert.Equal(t, 2, calls, "one request per token: no polling when RefreshOn has passed")
	})
}

// An outage shorter than the remaining lifetime is invisible: new
// connections get the valid token at once, listeners see no error, and the
// next token arrives after recovery.
func TestProviderShortOutageIsInvisible(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cred := &fakeCred{life: time.Hour}
		p := newTestProvider(t, cred)
		l := &listener{}
		_, unsubscribe, err := p.Subscribe(l)
		require.NoError(t, err)
		defer unsubscribe()

		time.Sleep(54 * time.Minute)
		cred.set(func(f *fakeCred) { f.fail = errEndpointDown })
		time.Sleep(2 * time.Minute) // failing from 55 to 56 min
		for range 5 {
			_, pw, err := p.Credentials(context.Background())
			require.NoError(t, err)
			assert.NotEmpty(t, pw)
		}
		st := p.status()
		assert.Positive(t, st.RefreshFailures)
		assert.ErrorIs(t, st.LastError, ErrIdentityUnreachable)
		cred.set(func(f *fakeCred) { f.fail = nil })
		time.Sleep(time.Minute)
		got, errs := l.snapshot()
		assert.Len(t, got, 1)
		assert.Zero(t, errs)
		assert.Nil(t, p.status().LastError)
	})
}

// An outage past expiry: new connections get ErrTokenExpired quickly
// (no hammering: the loop's backoff rules), the provider keeps retrying,
// and recovers by itself once the endpoint is back.
func TestProviderOutagePastExpiryRecovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cred := &fakeCred{life: 10 * time.Minute}
		p := newTestProvider(t, cred)
		_, err := p.Token(context.Background())
		require.NoError(t, err)
		cred.set(func(f *fakeCred) { f.fail = errEndpointDown })

		time.Sleep(20 * time.Minute)
		_, err = p.Token(context.Background())
		require.ErrorIs(t, err, ErrTokenExpired)
		assert.ErrorIs(t, err, ErrIdentityUnreachable)
		calls, _ := cred.counts()
		assert.Less(t, calls, 200, "capped backoff: no hammering")
		assert.False(t, p.status().Valid)

		cred.set(func(f *fakeCred) { f.fail = nil })
		time.Sleep(time.Minute)
		tok, err := p.Token(context.Background())
		require.NoError(t, err)
		assert.True(t, tok.ExpiresOn.After(time.Now()))
	})
}

// At cold start every dial waits for one shared request.
func TestProviderColdStartSharesOneRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cred := &fakeCred{life: time.Hour, hang: true}
		p := newTestProvider(t, cred)
		var wg sync.WaitGroup
		errs := make([]error, 50)
		for i := range errs {
			wg.Go(func() { _, _, errs[i] = p.Credentials(context.Background()) })
		}
		synctest.Wait()
		cred.set(func(f *fakeCred) { f.hang = false })
		wg.Wait() // the hanging request times out after FetchTimeout (2 s)
		for _, err := range errs {
			require.ErrorIs(t, err, ErrIdentityUnreachable)
		}
		calls, _ := cred.counts()
		assert.Equal(t, 1, calls, "50 dials, one token request")

		time.Sleep(time.Minute) // backoff, then the loop gets a token
		var wg2 sync.WaitGroup
		for range 50 {
			wg2.Go(func() {
				_, _, err := p.Credentials(context.Background())
				assert.NoError(t, err)
			})
		}
		wg2.Wait()
		_, minted := cred.counts()
		assert.Equal(t, 1, minted)
	})
}

func TestProviderRejectsBadTokens(t *testing.T) {
	cases := []struct {
		name string
		cred *fakeCred
		want error
	}{
		{"wrong audience", &fakeCred{life: time.Hour, aud: "https://storage.azure.com"}, ErrWrongAudience},
		{"no oid", &fakeCred{life: time.Hour, oid: "-"}, ErrInvalidToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newTestProvider(t, c.cred)
				_, err := p.Token(context.Background())
				require.ErrorIs(t, err, c.want)
				assert.NotContains(t, err.Error(), "eyJ", "no token in errors")
			})
		})
	}
}

func TestCheckToken(t *testing.T) {
	exp := time.Unix(2000000000, 0)
	user, gotExp, err := checkToken(fakeJWT("abc", "https://redis.azure.com/", exp, 1), DefaultScope, "")
	require.NoError(t, err)
	assert.Equal(t, "abc", user)
	assert.Equal(t, exp, gotExp)
	_, _, err = checkToken(fakeJWT("abc", redisAppID, exp, 1), DefaultScope, "")
	require.NoError(t, err)
	_, _, err = checkToken("opaque-token", DefaultScope, "")
	assert.ErrorIs(t, err, ErrInvalidToken)
	user, _, err = checkToken("opaque-token", DefaultScope, "override")
	require.NoError(t, err)
	assert.Equal(t, "override", user)
	_, _, err = checkToken(fakeJWT("", "https://redis.azure.com", exp, 1), DefaultScope, "")
	assert.ErrorIs(t, err, ErrInvalidToken)
}

// Subscribe/unsubscribe from many goroutines while tokens rotate: run with -race.
func TestProviderListenerRaces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cred := &fakeCred{life: 2 * time.Second}
		p := newTestProvider(t, cred)
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				for range 20 {
					l := &listener{}
					_, u1, err := p.Subscribe(l)
					if !assert.NoError(t, err) {
						return
					}
					_, u2, err := p.Subscribe(l) // idempotent
					assert.NoError(t, err)
					time.Sleep(300 * time.Millisecond)
					assert.NoError(t, u1())
					assert.NoError(t, u2()) // a later unsubscribe is a no-op
					assert.NoError(t, u1())
				}
			})
		}
		wg.Wait()
		assert.Zero(t, p.status().Listeners, "every unsubscribe cancels")
	})
}

// A panicking listener does not stop the others from being notified.
func TestProviderSurvivesPanickingListener(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newTestProvider(t, &fakeCred{life: 4 * time.Second})
		good := &listener{}
		_, u1, err := p.Subscribe(panicky{})
		require.NoError(t, err)
		defer u1()
		_, u2, err := p.Subscribe(good)
		require.NoError(t, err)
		defer u2()
		time.Sleep(10 * time.Second)
		got, _ := good.snapshot()
		assert.NotEmpty(t, got)
	})
}

type panicky struct{}

func (panicky) OnNext(auth.Credentials) { panic("boom") }
func (panicky) OnError(error)           {}

func TestTokenNeverPrintsItself(t *testing.T) {
	tok := &Token{token: "secret-token-value", username: "oid", ExpiresOn: time.Unix(0, 0)}
	var buf syncBuffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "token", tok)
	assert.NotContains(t, buf.String(), "secret-token-value")
	assert.NotContains(t, tok.String(), "secret-token-value")
	assert.True(t, errors.Is(ErrTokenExpired.wrap(nil), ErrTokenExpired))
}

// The heap does not grow across 1000 rotations with subscribed listeners.
func TestProviderHeapAcross1000Rotations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newTestProvider(t, &fakeCred{life: 2 * time.Second}) // JWT exp has whole seconds
		var unsub []func() error
		for range 20 {
			_, u, err := p.Subscribe(&countingListener{})
			require.NoError(t, err)
			unsub = append(unsub, u)
		}
		time.Sleep(150 * time.Second) // warm: ~100 rotations
		heap := func() uint64 {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			return m.HeapAlloc
		}
		before, n0 := heap(), p.status().TokensAcquired
		time.Sleep(1600 * time.Second)
		rotations := p.status().TokensAcquired - n0
		after := heap()
		t.Logf("rotations=%d heap before=%d after=%d", rotations, before, after)
		assert.GreaterOrEqual(t, rotations, int64(1000))
		assert.Less(t, int64(after)-int64(before), int64(256<<10), "heap growth")
		for _, u := range unsub {
			u()
		}
	})
}

// countingListener counts OnNext calls and keeps nothing.
type countingListener struct{ n atomic.Int64 }

func (l *countingListener) OnNext(auth.Credentials) { l.n.Add(1) }
func (l *countingListener) OnError(error)           {}
