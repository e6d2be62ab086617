// Package gateway emulates the Microsoft Entra ID authentication of Azure
// Managed Redis: a RESP proxy in front of a real redis-server.
//
// Clients authenticate with AUTH <object-id> <access-token> (or HELLO … AUTH
// …). The gateway verifies the token (RS256 signature, issuer, audience,
// nbf/exp, oid = user name, access policy assignment) and rewrites the
// command into an AUTH for a backend ACL user that carries the object ID's
// access policy; a refused token becomes an AUTH for a user that does not
// exist. Every reply, including NOAUTH, WRONGPASS, NOPERM and the HELLO
// reply, therefore comes from the real server, and pipelined replies stay in
// order because the reply stream is copied byte for byte.
//
// Like Azure, the gateway closes a connection when the token it last
// authenticated with expires, unless a successful AUTH with a later token
// arrived on that connection first. Success is taken from the server's own
// reply, so an AUTH the server refuses (inside a RESP2 subscription, queued in
// MULTI) does not extend the connection's life.
//
// SetRoundTrip (Config.RoundTrip) gives the connections between clients and the gateway the
// round-trip time of a real network, TCP and TLS handshakes included, in user space: the kernel's
// netem qdisc is not available on every machine this runs on.
//
// Decisions where Azure's behaviour is not documented:
//   - The default policy is "+@all -@admin ~* &*": all data commands and keys,
//     but no administrative commands (ACL, CONFIG, DEBUG, MONITOR, …), as on
//     Azure, and so that a client cannot change the backend's users.
//   - Revoke removes the assignment: later AUTHs fail, but connections that
//     are already authenticated keep working until their token expires
//     (Azure documents that updating an assignment does not disconnect).
//   - AUTH inside MULTI/EXEC authenticates at the server but does not move
//     the connection's expiry.
//   - A token's RS256 signature is verified the first time it is seen and
//     remembered while the key set holds the key that signed it; its claims
//     (expiry, not-before, issuer, audience) and the access policy are
//     checked on every AUTH. The answers are those of verifying every time,
//     and the CPU of 30 verifications of one token per rotation stays off
//     the cores the bench measures.
//   - After CLIENT REPLY OFF|SKIP or MONITOR the gateway can no longer match
//     replies to commands; it then treats a verified AUTH as successful when
//     it forwards it.
package gateway
