// Package ratelimit is the ratelimit function, an example of a function that
// embeds the process-wide pool: POST /api/ratelimit/{key} takes one unit of
// the key's budget, a sliding window of Limit requests per Window shared by
// every instance of the app.
//
// # HTTP contract
//
//   - ?limit=N and ?window=D (a Go duration such as 10s) override the
//     settings for this request; limit is 1..RATELIMIT_MAX_LIMIT and window
//     1ms..24h. Callers of one key should agree on them: the window is checked
//     with whatever the current request says.
//   - Allowed: 200 with RateLimit-Limit, RateLimit-Remaining and
//     RateLimit-Reset (whole seconds until the oldest counted request leaves
//     the window) and the same figures as JSON
//     {"key","limit","remaining","reset_ms"}.
//   - Exceeded: 429 problem of type ProblemType("rate-limited") with
//     Retry-After (whole seconds, at least 1) and RateLimit-* headers.
//   - A key is 1..128 bytes of letters, digits and "._:-"; another key is
//     a 400 problem "invalid-key"; a bad limit or window is "invalid-limit"
//     or "invalid-window".
//   - Redis trouble is answered by redisproblem.Write, as in the cache
//     function: a 503 problem with Retry-After whose type names the cause
//     (redis-unavailable, token-expired, …).
//
// # Redis layout and atomicity
//
// Each key is a sorted set at <RATELIMIT_KEY_PREFIX><key> whose members are
// the admitted requests scored by the Redis server's clock in milliseconds.
// One Lua script (EVALSHA, loaded on first use) drops members older than the
// window, counts, admits or refuses, and sets the key's expiry to the window:
// the check and the update are one atomic step, so N concurrent callers get
// exactly Limit successes, and the server's clock is the only clock. The
// script touches one key, so it runs unchanged on clustered caches.
package ratelimit
