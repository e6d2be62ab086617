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
//   - writes AUTH <oid> <new token> in front of the next command on each
//     connection, at the first moment it is safe: at a command boundary,
//     with every reply read and no MULTI, WATCH or subscription open; the
//     AUTH's reply (the next reply that is not a RESP3 push) is removed
//     before go-redis reads, and the connection counts as re-authenticated
//     only if it was OK. Busy connections re-authenticate with no extra
//     round trip;
//   - borrows the idle connections and PINGs them, so they too have a next
//     command (an app idle for hours keeps live, authenticated connections);
//   - at the re-authentication deadline, retires any connection that still
//     carries the old token, before Azure would close it: an idle one is
//     closed at once, a busy one as soon as its replies are read, never
//     with a command in flight (go-redis would retry it: an INCR would count
//     twice). go-redis's health check discards a retired connection before
//     its next use; a write to one fails before a byte is sent and go-redis
//     retries it elsewhere. Health counts busy retirements (RetiredBusy).
//
// To do this exactly the wrapper frames the byte stream, not the Write
// calls: go-redis writes through a 32 KiB buffer, so one command can arrive
// in several Writes and one Write can hold many commands. Commands and
// replies are followed across calls by their lengths (resp.go); a value is
// skipped by length, never scanned, so a value that looks like RESP stays a
// value. A stream it cannot frame makes the connection untouchable: never
// re-authenticated in line, retired at the deadline. The proof is the
// differential fuzz test FuzzWire, against a bare redis-server (make fuzz),
// and the e2e test TestBareServerLargeValues. Both validate what the
// wrapper relies on in go-redis: one goroutine at a time writes a batch of
// commands, flushes it, then reads the replies, and nothing autopipelines.
// TestGoRedisVersionValidated pins the go-redis version this was validated
// against; an upgrade fails it until both tests have been run again.
//
// go-redis's pre-use health check peeks at the socket through the
// wrapper's SyscallConn: over TCP it sees the real socket (a connection the
// server closed is dead before it is used); under TLS it sees "healthy,
// nothing to read", as go-redis concludes for every TLS connection, since a
// peek at TLS records can neither tell a close nor read without blocking.
// Both report a retired connection as closed.
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
//     authenticated; its default size adds the 10 connections go-redis's
//     pipeline pool would hold, and REDIS_POOL_SIZE stays the one bound.
//   - Cluster detection (REDIS_CLUSTER=auto) asks the server once at New; if
//     Redis cannot be reached then, a plain client is used. Set REDIS_CLUSTER
//     explicitly in Azure (the Bicep does).
//
// # Failures
//
// Errors of the four failure scenarios (README, Troubleshooting) match one
// of the failure classes ErrNoAccessPolicy, ErrTokenExpired,
// ErrWrongAudience, ErrInvalidToken, ErrIdentityUnreachable,
// ErrIdentityNotFound and ErrRedisUnreachable with errors.Is. ClassOf finds
// the class of any error, a Redis command's too; the class's String is its
// stable name ("no_access_policy") and its Advice says what to do.
//
// Part of funcredis's stable public API (README, "Public API"): apps made by funcredis new
// compile against it.
package pool
