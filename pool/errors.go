package pool

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Failure classes. Test for them with errors.Is; every error the pool returns
// for one of these situations wraps exactly one of them, and its message says
// what to do (the four failure scenarios of the README's Troubleshooting table
// and their neighbours).
var (
	// ErrNoAccessPolicy: Redis refused a valid token (WRONGPASS). The identity
	// has no access policy assignment on the cache.
	ErrNoAccessPolicy = errors.New("redis refused the token (WRONGPASS): the identity has no access policy assignment; " +
		"assign it under Authentication → Microsoft Entra Authentication (Bicep: accessPolicyAssignments with its object ID)")
	// ErrTokenExpired: no unexpired token could be obtained in time.
	ErrTokenExpired = errors.New("the Entra token has expired and no new one could be obtained; " +
		"check that the identity endpoint is reachable (IDENTITY_ENDPOINT / IMDS) — the pool keeps retrying")
	// ErrWrongAudience: the token is not for Redis.
	ErrWrongAudience = errors.New("the token's audience is not Azure Redis; " +
		"set REDIS_TOKEN_SCOPE to https://redis.azure.com/.default (the default)")
	// ErrInvalidToken: the credential returned something that is not a usable
	// Entra access token (not a JWT, or no oid claim to use as user name).
	ErrInvalidToken = errors.New("the credential returned a token without a usable oid claim; " +
		"use an Entra access token (not an encrypted or ID token) or set REDIS_USERNAME to the identity's object ID")
	// ErrIdentityUnreachable: the token endpoint could not be reached or
	// failed transiently. The pool keeps retrying with backoff.
	ErrIdentityUnreachable = errors.New("the identity endpoint is unreachable or failing; " +
		"on Azure check the app's managed identity is enabled, locally use REDIS_CREDENTIAL=azurecli or a service principal — the pool keeps retrying")
	// ErrIdentityNotFound: the identity endpoint answered that the identity
	// does not exist or the credential is misconfigured.
	ErrIdentityNotFound = errors.New("the identity was not found or the credential is misconfigured; " +
		"check AZURE_CLIENT_ID (the user-assigned identity's client ID) is assigned to this app, or the service principal settings")
	// ErrRedisUnreachable: Redis could not be reached.
	ErrRedisUnreachable = errors.New("redis is unreachable; check REDIS_HOST (Azure Managed Redis: <name>.<region>.redis.azure.net:10000), TLS and network rules")
)

// classError is an error of one class with its cause. Its message is the
// class's advice followed by the cause; the cause never contains a token.
type classError struct {
	class error
	cause error
}

func (e *classError) Error() string {
	if e.cause == nil {
		return e.class.Error()
	}
	return e.class.Error() + ": " + e.cause.Error()
}

func (e *classError) Is(target error) bool { return target == e.class }

func (e *classError) Unwrap() error { return e.cause }

func classed(class, cause error) error { return &classError{class: class, cause: cause} }

// Class returns the failure class err belongs to (one of the Err* values of
// this package), or nil when it belongs to none.
func Class(err error) error {
	for _, c := range []error{ErrNoAccessPolicy, ErrTokenExpired, ErrWrongAudience, ErrInvalidToken,
		ErrIdentityUnreachable, ErrIdentityNotFound, ErrRedisUnreachable} {
		if errors.Is(err, c) {
			return c
		}
	}
	return nil
}

// ClassName is a short stable name for a class ("no_access_policy", …), for
// health output, metrics and problem types. It is "" for nil and "other" for
// an error of no class.
func ClassName(err error) string {
	switch Class(err) {
	case ErrNoAccessPolicy:
		return "no_access_policy"
	case ErrTokenExpired:
		return "token_expired"
	case ErrWrongAudience:
		return "wrong_audience"
	case ErrInvalidToken:
		return "invalid_token"
	case ErrIdentityUnreachable:
		return "identity_unreachable"
	case ErrIdentityNotFound:
		return "identity_not_found"
	case ErrRedisUnreachable:
		return "redis_unreachable"
	}
	if err == nil {
		return ""
	}
	return "other"
}

// classifyTokenError maps a credential's GetToken error to a class.
func classifyTokenError(err error) error {
	// A 4xx from the identity endpoint means it answered and refused: the
	// identity does not exist or the credential is wrong. Everything else
	// (no endpoint, 5xx, timeouts, refused connections) is transient.
	var failed *azidentity.AuthenticationFailedError
	if errors.As(err, &failed) && failed.RawResponse != nil && failed.RawResponse.StatusCode >= 400 && failed.RawResponse.StatusCode < 500 {
		return classed(ErrIdentityNotFound, err)
	}
	return classed(ErrIdentityUnreachable, err)
}

// Classify maps an error from a Redis command run through the pool to its
// class, so callers can tell "fix the access policy" from "Redis is down".
// Errors already classed (from the credential path) keep their class; an
// error of no class is returned unchanged.
func Classify(err error) error {
	if err == nil || Class(err) != nil {
		return err
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "WRONGPASS"):
		return classed(ErrNoAccessPolicy, err)
	case errors.Is(err, context.DeadlineExceeded), isNetError(err):
		return classed(ErrRedisUnreachable, err)
	}
	return err
}

func isNetError(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "EOF")
}
