package redisproblem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/funcredis/funcredis/handler"
	"github.com/funcredis/funcredis/pool"
	"github.com/redis/go-redis/v9"
)

func TestFor(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	cases := []struct {
		name       string
		err        error
		status     int
		slug       string
		retryAfter int
		detail     string
	}{
		{"no access policy", fmt.Errorf("warm: %w", pool.ErrNoAccessPolicy), 503, "no-access-policy", 10, pool.ErrNoAccessPolicy.Advice()},
		{"WRONGPASS from a command", errors.New("WRONGPASS invalid username-password pair"), 503, "no-access-policy", 10, pool.ErrNoAccessPolicy.Advice()},
		{"token expired", pool.ErrTokenExpired, 503, "token-expired", 5, pool.ErrTokenExpired.Advice()},
		{"identity unreachable", pool.ErrIdentityUnreachable, 503, "identity-unavailable", 5, pool.ErrIdentityUnreachable.Advice()},
		{"identity not found", pool.ErrIdentityNotFound, 503, "identity-unavailable", 5, pool.ErrIdentityNotFound.Advice()},
		{"wrong audience", pool.ErrWrongAudience, 503, "identity-unavailable", 5, pool.ErrWrongAudience.Advice()},
		{"invalid token", pool.ErrInvalidToken, 503, "identity-unavailable", 5, pool.ErrInvalidToken.Advice()},
		{"redis unreachable", pool.ErrRedisUnreachable, 503, "redis-unavailable", 1, pool.ErrRedisUnreachable.Advice()},
		{"refused dial", refused, 503, "redis-unavailable", 1, pool.ErrRedisUnreachable.Advice()},
		{"deadline", fmt.Errorf("ratelimit: take: %w", context.DeadlineExceeded), 503, "redis-unavailable", 1, pool.ErrRedisUnreachable.Advice()},
		{"request cancelled", context.Canceled, 503, "redis-unavailable", 1, "redis is unavailable"},
		{"no free connection", redis.ErrPoolTimeout, 503, "redis-unavailable", 1, "redis is unavailable"},
		{"client closed", redis.ErrClosed, 503, "redis-unavailable", 1, "redis is unavailable"},
		{"truncated reply", io.ErrUnexpectedEOF, 503, "redis-unavailable", 1, pool.ErrRedisUnreachable.Advice()},
		{"refused command", errors.New("ERR unknown command 'FOO'"), 502, "redis-error", 0, "redis refused the command"},
		{"script error", fmt.Errorf("ratelimit: take: %w", errors.New("ERR user_script:1: Script attempted to access a non local key")), 502, "redis-error", 0, "redis refused the command"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, retryAfter := For(c.err)
			if p.Status != c.status || p.Type != handler.ProblemType(c.slug) || retryAfter != c.retryAfter || p.Detail != c.detail {
				t.Errorf("For(%v) = %d %s %q, Retry-After %d; want %d %s %q, %d",
					c.err, p.Status, p.Type, p.Detail, retryAfter, c.status, c.slug, c.detail, c.retryAfter)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	w := httptest.NewRecorder()
	Write(context.Background(), w, pool.ErrTokenExpired)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "5" ||
		w.Header().Get("Content-Type") != "application/problem+json" || !strings.Contains(w.Body.String(), `problem:token-expired"`) {
		t.Errorf("got %d %v %s", w.Code, w.Header(), w.Body)
	}
	w = httptest.NewRecorder()
	Write(context.Background(), w, errors.New("ERR wrong number of arguments"))
	if w.Code != http.StatusBadGateway || w.Header().Get("Retry-After") != "" {
		t.Errorf("got %d %v, want 502 without Retry-After", w.Code, w.Header())
	}
}
