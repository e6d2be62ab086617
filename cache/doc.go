// Package cache is the cache function: GET, HEAD, PUT and DELETE of raw byte values on
// /api/cache/{key}, atomic counters on /api/cache/{key}/incr (folder cache-incr) and batch get
// and set on /api/cache-batch (folder cache-batch).
//
// # Redis layout
//
// A value is stored as a plain Redis string at <CACHE_KEY_PREFIX><key> holding exactly the
// request body bytes, so any other Redis client reads the same bytes (GET cache:foo). Its
// Content-Type, when the PUT sent one, is stored at "{<CACHE_KEY_PREFIX><key>}:ct" with the same
// expiry; the hash tag puts both keys in one cluster slot, so the MULTI (unconditional writes) and
// the Lua scripts (conditional writes) that write them are
// atomic on clustered caches too. Keys may not contain '{' or '}', so the value key hashes to
// the same slot as the tag. A counter is the decimal text INCRBY keeps.
//
// The ETag is the strong validator "\"<sha1 hex of the bytes>\"", computed by Go on reads and by
// redis.sha1hex inside the write scripts, so If-Match and If-None-Match: * are checked and
// applied atomically by one script.
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
