// Package redisproblem answers a Redis command that failed through the pool with an RFC 9457
// problem. It is the one mapping from the pool's failure classes, and from a request that ended
// before Redis answered, to an HTTP status, a problem type and Retry-After; every function uses it.
//
//	status  type                   Retry-After  when
//	503     no-access-policy       10           pool.ErrNoAccessPolicy (WRONGPASS)
//	503     token-expired          5            pool.ErrTokenExpired
//	503     identity-unavailable   5            pool.ErrIdentityUnreachable, ErrIdentityNotFound, ErrWrongAudience, ErrInvalidToken
//	503     redis-unavailable      1            pool.ErrRedisUnreachable, a closed or timed-out connection, the pool's
//	                                            wait for a connection, a deadline or a cancelled request
//	502     redis-error            —            a command Redis refused for another reason
//
// The detail of a 503 is the class's Advice, which says what to do and holds no secret.
//
// Part of funcredis's stable public API (README, "Public API"): apps made by funcredis new
// compile against it.
package redisproblem

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"

	"github.com/funcredis/funcredis/handler"
	"github.com/funcredis/funcredis/pool"
	"github.com/redis/go-redis/v9"
)

// For returns the problem that answers err, a failed Redis command, and its Retry-After in
// seconds (0: none).
func For(err error) (p handler.Problem, retryAfter int) {
	class := pool.ClassOf(err)
	slug := ""
	switch class {
	case pool.ErrNoAccessPolicy:
		slug, retryAfter = "no-access-policy", 10
	case pool.ErrTokenExpired:
		slug, retryAfter = "token-expired", 5
	case pool.ErrIdentityUnreachable, pool.ErrIdentityNotFound, pool.ErrWrongAudience, pool.ErrInvalidToken:
		slug, retryAfter = "identity-unavailable", 5
	case pool.ErrRedisUnreachable:
		slug, retryAfter = "redis-unavailable", 1
	default:
		if !unavailable(err) {
			return handler.Problem{Type: handler.ProblemType("redis-error"), Status: http.StatusBadGateway,
				Detail: "redis refused the command"}, 0
		}
		slug, retryAfter = "redis-unavailable", 1
	}
	detail := class.Advice()
	if detail == "" {
		detail = "redis is unavailable"
	}
	return handler.Problem{Type: handler.ProblemType(slug), Status: http.StatusServiceUnavailable, Detail: detail}, retryAfter
}

// Write logs err's class and answers the problem For returns, with its Retry-After.
func Write(ctx context.Context, w http.ResponseWriter, err error) {
	p, retryAfter := For(err)
	handler.Log(ctx, "redis command failed", "class", pool.ClassOf(err).String(), "problem", p.Type)
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	handler.WriteProblem(w, p)
}

// unavailable reports errors of no pool class that still mean Redis did not answer: a connection
// closed or timed out, no connection free in the pool's wait, or a request that ended first.
func unavailable(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, net.ErrClosed)
}
