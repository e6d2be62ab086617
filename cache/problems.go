package cache

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/funcredis/funcredis/handler"
	"github.com/funcredis/funcredis/pool"
	"github.com/redis/go-redis/v9"
)

// Problem type slugs (handler.ProblemType(slug)) this package answers with.
//
// Bad input: invalid-key, invalid-ttl, invalid-increment, invalid-precondition, malformed-json,
// invalid-batch, too-many-keys, duplicate-key, value-too-large, unsupported-media-type,
// method-not-allowed, not-found, precondition-failed, not-an-integer.
// Service trouble (503 + Retry-After): no-access-policy, token-expired, identity-unavailable,
// redis-unavailable; and redis-error (502) for a command Redis refused for another reason.
const (
	slugNoAccessPolicy      = "no-access-policy"
	slugTokenExpired        = "token-expired"
	slugIdentityUnavailable = "identity-unavailable"
	slugRedisUnavailable    = "redis-unavailable"
	slugRedisError          = "redis-error"
)

// writeInput answers a bad-input error from a parser.
func writeInput(w http.ResponseWriter, err error) {
	var ie *inputError
	if !errors.As(err, &ie) {
		ie = &inputError{status: 400, slug: "bad-request", detail: "the request is invalid"}
	}
	handler.WriteProblem(w, handler.Problem{Type: handler.ProblemType(ie.slug), Status: ie.status, Detail: ie.detail})
}

// writeProblem answers a problem of one of this package's slugs.
func writeProblem(w http.ResponseWriter, status int, slug, detail string) {
	handler.WriteProblem(w, handler.Problem{Type: handler.ProblemType(slug), Status: status, Detail: detail})
}

// writeRedisError answers a failed Redis command: 503 with Retry-After and a type naming the
// cause for identity and connectivity trouble, 502 for a command Redis refused otherwise.
// The detail is the pool's class message, which says what to do and holds no secret.
func writeRedisError(ctx context.Context, w http.ResponseWriter, err error) {
	class := pool.ClassOf(err)
	slug, retry := "", "1"
	switch {
	case errors.Is(class, pool.ErrNoAccessPolicy):
		slug, retry = slugNoAccessPolicy, "10"
	case errors.Is(class, pool.ErrTokenExpired):
		slug, retry = slugTokenExpired, "5"
	case errors.Is(class, pool.ErrIdentityUnreachable), errors.Is(class, pool.ErrIdentityNotFound),
		errors.Is(class, pool.ErrWrongAudience), errors.Is(class, pool.ErrInvalidToken):
		slug, retry = slugIdentityUnavailable, "5"
	case errors.Is(class, pool.ErrRedisUnreachable), isConnectivity(err):
		slug = slugRedisUnavailable
	}
	handler.Log(ctx, "redis command failed", "class", class.String(), "problem", slug)
	if slug == "" {
		writeProblem(w, http.StatusBadGateway, slugRedisError, "redis refused the command")
		return
	}
	detail := "redis is unavailable"
	if class != nil {
		detail = class.Advice()
	}
	w.Header().Set("Retry-After", retry)
	writeProblem(w, http.StatusServiceUnavailable, slug, detail)
}

// isConnectivity reports errors that mean Redis could not be reached or answer in time.
func isConnectivity(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, net.ErrClosed)
}
