// Package pool is a warm, process-wide go-redis client for Azure Managed
// Redis authenticated with Microsoft Entra ID tokens (user name = the
// token's oid, password = the token), which keeps every connection
// authenticated for as long as the process lives.
//
// Use one Pool per process: LoadConfig, New, Warm before serving, every
// command through Client, Health for probes; the package Example shows it.
//
// # Tokens
//
// A Provider holds one long-lived azcore.TokenCredential. It asks for the
// next token at the configured share of the lifetime (0.75), but never before
// azidentity would hand out a new one (RefreshOn, else 5 minutes before
// expiry) — a token equal to the current one is not a new token — and always
// early enough that every connection carries the new token by ExpiresOn − 3
// min (scaled down for short tokens), jittered. Failures are retried forever
// with capped, jittered backoff, also after expiry; they are reported in
// Health and logs, never through go-redis's CredentialsListener.OnError
// (go-redis closes every connection on OnError). New connections get the
// current valid token at once; with none valid, all of them share one
// request bounded by DialTimeout.
//
// The Provider (Pool.TokenProvider) is also a go-redis
// auth.StreamingCredentialsProvider, for a client of your own that should
// share the pool's tokens; Pool itself uses it as a CredentialsProviderContext
// and re-authenticates connections as below.
//
// # Connections
//
// go-redis v9.23 re-authenticates a connection only when it passes through
// its pool after a new token, never a pub/sub connection, and its
// mark-and-reject hook dials a new connection for every marked one a caller
// meets; Azure closes a connection whose token expired. So the pool wraps
// every connection it dials and, after each new token:
//
//   - prefixes the next command written on each connection with
//     AUTH <oid> <new token> and removes the AUTH's reply before go-redis
//     reads (busy connections re-authenticate with no extra round trip);
//   - borrows the idle connections and PINGs them, so they too have a next
//     command (an app idle for hours keeps live, authenticated connections);
//   - at the re-authentication deadline, closes any connection that still
//     carries the old token, before Azure would. go-redis discards such a
//     connection before its next use.
//
// What remains true:
//
//   - Pub/sub connections are never re-authenticated (messages may arrive on
//     them at any time, and RESP2 refuses AUTH in subscribed mode). The pool
//     closes them at the deadline; go-redis's PubSub reconnects and
//     resubscribes with the new token. Messages published during that
//     reconnect are lost, as pub/sub is at-most-once anyway.
//   - A connection held outside the pool (Client.Conn, Watch, a blocking
//     command) re-authenticates with its next command; one held idle across
//     the deadline is closed then. Keep blocking timeouts well under the
//     token lifetime.
//   - Pipelines use the main pool (PipelinePoolSize -1), so one pool is kept
//     authenticated.
//   - Cluster detection (REDIS_CLUSTER=auto) asks the server once at New; if
//     Redis cannot be reached then, a plain client is used. Set REDIS_CLUSTER
//     explicitly in Azure (the Bicep does).
//
// # Failures
//
// Errors of the seed's failure scenarios match one of the failure classes
// ErrNoAccessPolicy, ErrTokenExpired, ErrWrongAudience, ErrInvalidToken,
// ErrIdentityUnreachable, ErrIdentityNotFound and ErrRedisUnreachable with
// errors.Is. ClassOf finds the class of any error, a Redis command's too; the
// class's String is its stable name ("no_access_policy") and its Advice says
// what to do.
package pool
