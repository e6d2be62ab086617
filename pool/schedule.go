package pool

import (
	"math/rand/v2"
	"time"
)

// The refresh schedule. All of it is derived from one token's lifetime L so
// that 1-hour service-principal tokens, 24-hour managed-identity tokens and
// seconds-long test tokens follow the same rules, scaled.

// sdkRefreshWindow is how long before expiry azidentity (MSAL) stops
// returning a cached token, and azcore's bearer policy refreshes.
const sdkRefreshWindow = 5 * time.Minute

// plan says when to ask the credential for the next token and by when every
// connection must be re-authenticated with it.
//
//   - deadline = ExpiresOn − min(3 min, L/20): Azure's "send the new token at
//     least 3 minutes before expiry", scaled down for short tokens.
//   - the ask happens no earlier than the configured ratio of the lifetime
//     and no earlier than azidentity would return a new token (RefreshOn,
//     else ExpiresOn − 5 min) — asking earlier only gets the same token back —
//     but no later than deadline − min(1 min, L/20), to leave time to re-AUTH.
//   - it is jittered by up to min(1 min, L/20) so that instances sharing an
//     identity do not AUTH in lockstep.
func plan(t *Token, ratio float64) (fetchAt, deadline time.Time) {
	life := t.Lifetime()
	if life <= 0 {
		return t.AcquiredAt, t.ExpiresOn
	}
	deadline = t.ExpiresOn.Add(-min(3*time.Minute, life/20))
	latest := deadline.Add(-min(time.Minute, life/20))
	sdk := t.RefreshOn
	if sdk.IsZero() {
		sdk = t.ExpiresOn.Add(-sdkRefreshWindow)
	}
	earliest := t.AcquiredAt.Add(time.Duration(ratio * float64(life)))
	if sdk.After(earliest) {
		earliest = sdk
	}
	if earliest.After(latest) {
		earliest = latest
	}
	span := min(time.Minute, life/20, latest.Sub(earliest))
	return earliest.Add(jitter(span)), deadline
}

// pollInterval is how soon to ask again after the credential returned the
// token the pool already has.
func pollInterval(life time.Duration) time.Duration {
	return clamp(life/100, 50*time.Millisecond, 15*time.Second)
}

// backoff is the wait before retry number n (1-based) after failures:
// capped exponential with full jitter. Without a token, life is 0 and the
// 1-hour scale applies.
func backoff(n int, life time.Duration) time.Duration {
	if life <= 0 {
		life = time.Hour
	}
	base := clamp(life/400, 10*time.Millisecond, time.Second)
	ceiling := clamp(life/20, 100*time.Millisecond, 30*time.Second)
	d := ceiling
	if n < 30 && base<<n < ceiling {
		d = base << n
	}
	return jitter(d)
}

// attemptTimeout bounds one token request made by the refresh loop.
func attemptTimeout(life, dialTimeout time.Duration) time.Duration {
	if life <= 0 {
		return dialTimeout
	}
	return clamp(life/10, 100*time.Millisecond, 30*time.Second)
}

// usableMargin is how long before expiry a token stops being handed to new
// connections: a connection authenticated with it would be closed almost at once.
func usableMargin(life time.Duration) time.Duration {
	return min(5*time.Second, life/50)
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}

func clamp(d, lo, hi time.Duration) time.Duration {
	return max(lo, min(hi, d))
}
