package pool

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/redis/go-redis/v9/auth"
)

// fakeCred is an azcore.TokenCredential that behaves like azidentity's
// cache: it returns its cached token until the token's RefreshOn (when
// refreshHalf) or until 5 minutes before expiry, and then mints a new one.
type fakeCred struct {
	mu          sync.Mutex
	life        time.Duration
	refreshHalf bool   // set RefreshOn at half the lifetime (MSAL, managed identity > 2h)
	oid         string // default "oid-1"
	aud         string // default https://redis.azure.com
	fail        error  // when set, GetToken fails with it
	hang        bool   // when set, GetToken blocks until ctx ends
	calls       int
	minted      int
	cached      azcore.AccessToken
	onMint      func(token string, exp time.Time)
}

func (f *fakeCred) GetToken(ctx context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
	f.mu.Lock()
	f.calls++
	hang, fail := f.hang, f.fail
	f.mu.Unlock()
	if hang {
		<-ctx.Done()
		return azcore.AccessToken{}, ctx.Err()
	}
	if fail != nil {
		return azcore.AccessToken{}, fail
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if f.cached.Token != "" {
		refresh := f.cached.RefreshOn
		if refresh.IsZero() {
			refresh = f.cached.ExpiresOn.Add(-5 * time.Minute)
		}
		if now.Before(refresh) {
			return f.cached, nil
		}
	}
	f.minted++
	exp := now.Add(f.life)
	at := azcore.AccessToken{Token: fakeJWT(f.oidOr(), f.audOr(), exp, f.minted), ExpiresOn: exp}
	if f.refreshHalf {
		at.RefreshOn = now.Add(f.life / 2)
	}
	f.cached = at
	if f.onMint != nil {
		f.onMint(at.Token, exp)
	}
	return at, nil
}

func (f *fakeCred) set(fn func(f *fakeCred)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeCred) counts() (calls, minted int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.minted
}

// oidOr returns the oid claim: "-" means none, "" the default.
func (f *fakeCred) oidOr() string {
	if f.oid == "-" {
		return ""
	}
	if f.oid == "" {
		return "oid-1"
	}
	return f.oid
}

func (f *fakeCred) audOr() string {
	if f.aud == "" {
		return "https://redis.azure.com"
	}
	return f.aud
}

// fakeJWT builds an unsigned JWT with the claims the pool reads.
func fakeJWT(oid, aud string, exp time.Time, n int) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." +
		enc(map[string]any{"oid": oid, "aud": aud, "exp": exp.Unix(), "n": n}) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprint("sig", n)))
}

var errEndpointDown = errors.New("dial tcp 127.0.0.1:1: connect: connection refused")

// listener is a go-redis CredentialsListener that records what it is told.
type listener struct {
	mu   sync.Mutex
	got  []string // passwords (tokens) received by OnNext
	errs int
}

func (l *listener) OnNext(c auth.Credentials) {
	_, pw := c.BasicAuth()
	l.mu.Lock()
	l.got = append(l.got, pw)
	l.mu.Unlock()
}

func (l *listener) OnError(error) {
	l.mu.Lock()
	l.errs++
	l.mu.Unlock()
}

func (l *listener) snapshot() (got []string, errs int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.got...), l.errs
}
