// Package cache is the cache function: GET, HEAD, PUT and DELETE of raw byte values on
// /api/cache/{key}, atomic counters on /api/cache/{key}/incr (folder cache-incr) and batch get
// and set on /api/cache-batch (folder cache-batch).
//
// # Redis layout
//
// A value is stored as a plain Redis string at <CACHE_KEY_PREFIX><key> holding exactly the
// request body bytes, so any other Redis client reads the same bytes (GET cache:foo). Next to it,
// "{<CACHE_KEY_PREFIX><key>}:ct" holds its metadata, with the same expiry:
//
//	"<sha1 hex of the bytes>" <expiry, Unix milliseconds; 0: none> <Content-Type, may be empty>
//
// (the key's name is from the layout before, when it held only the Content-Type). The hash tag
// puts both keys in one cluster slot, so the MGET that reads them, the MULTI that writes them
// unconditionally (EXISTS, then one MSET, or two SET … PX with a TTL) and the Lua scripts
// (conditional writes, counters, deletes) are atomic on clustered caches too. Keys may not contain '{' or '}', so the value key hashes to the same
// slot as the tag. A counter is the decimal text INCRBY keeps.
//
// Why this layout: a GET is one MGET, one command and one atomic snapshot, instead of a MULTI of
// three commands (GET value, GET content type, PTTL) and a SHA-1 of the bytes on every read — the
// ETag is computed once, by the PUT, which has the bytes anyway, and X-Cache-TTL is the stored
// expiry minus the reading instance's clock (Redis itself expires both keys by its own clock,
// from the PUT's relative PX; instances' clocks agree to milliseconds). The value stays readable by any Redis client, which
// an envelope (metadata and bytes in one string) or a hash would have given up.
// BenchmarkReadShape and BenchmarkWriteShape measure the shapes; bench/results has the end-to-end
// figures.
//
// The cost: the metadata must change with the value. Every write through these functions does so
// atomically, INCR included (the script puts the new value's ETag in the metadata). A value whose
// metadata is missing or not of this form — written by another Redis client, or by an earlier
// version that stored only the Content-Type there — is still served: its ETag is computed from
// the bytes and its TTL asked of Redis, a second round trip. A client that rewrites a value
// behind the API must delete its metadata key (DEL "{cache:foo}:ct"), or GET keeps answering the
// old ETag and Content-Type; conditional writes and deletes are not fooled either way, since their
// scripts compare the SHA-1 of the current bytes, not the stored ETag.
//
// The ETag is the strong validator "\"<sha1 hex of the bytes>\"", so If-Match and If-None-Match: *
// are checked and applied atomically by one script.
//
// # HTTP contract
//
//   - PUT stores the body (at most CACHE_MAX_VALUE_BYTES, else 413) with an optional TTL in whole
//     seconds (?ttl= or the X-Cache-TTL header, 1..CACHE_MAX_TTL; absent: no expiry). It answers
//     201 when the key was created and 204 when it was replaced, with the new ETag.
//     If-None-Match: * makes it create-only and If-Match a compare-and-set; both answer 412 when
//     the condition fails. The body must come with a Content-Length (0 stores an empty value):
//     the Functions host forwards a body only with Content-Length > 0, so an empty body of unknown
//     length (chunked) is answered 411 length-required instead of being stored as empty; the
//     batch endpoint does the same.
//   - A key that is not allowed is 400 invalid-key naming the offending byte. The route is
//     cache/{*key}: Azure's front end decodes %2F before the host routes, so a key sent as a%2Fb
//     reaches the handler as a/b in every hosting and is refused for its '/', never a 404.
//   - GET and HEAD answer the bytes with the stored Content-Type (application/octet-stream when
//     none was stored), ETag, and X-Cache-TTL with the remaining seconds when the key expires.
//     If-None-Match with the current ETag answers 304.
//   - DELETE answers 204, or 404 when the key does not exist; If-Match makes it conditional (412).
//   - POST …/incr?by=n (default 1) adds n to a counter and answers {"key","value"}; a value that
//     is not an integer, or an overflow, is 409.
//   - POST /api/cache-batch with {"get":[keys]} or {"set":[{"key","value","ttl","content_type"}]}
//     handles up to CACHE_MAX_BATCH keys; values are JSON strings (UTF-8). Each set is atomic per
//     key, not across keys. The request body is bounded by CACHE_MAX_VALUE_BYTES.
//
// Bad input is a 4xx problem with a stable type (ProblemType slugs listed in problems.go);
// Redis or identity trouble is answered by redisproblem.Write: 503 with Retry-After and a type
// naming the cause, 502 for a command Redis refused.
//
// Part of funcredis's stable public API (README, "Public API"): an app made with funcredis new
// -with-cache registers New, NewIncr and NewBatch with LoadConfig, and the Redis layout above stays.
package cache
