package pool

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// ErrorClass is a failure class: one of the four failure scenarios of the
// README's Troubleshooting table, or a neighbour of one. The Err* variables
// are the classes. Every error the pool returns for one of them matches its
// class with errors.Is, ClassOf finds it, and Advice says what to do about it.
type ErrorClass struct {
	name   string
	msg    string
	advice string
}

// Error is the class's short message, such as "pool: no access policy".
func (c *ErrorClass) Error() string { return c.msg }

// String is the class's stable name for health output, logs, metrics and
// problem types, such as "no_access_policy". A nil *ErrorClass, which ClassOf
// returns for an error of no class, is "other".
func (c *ErrorClass) String() string {
	if c == nil {
		return "other"
	}
	return c.name
}

// Advice says what happened and what to do about it, in a sentence fit for an
// operator or an HTTP problem's detail. It holds no secret. A nil *ErrorClass
// has none ("").
func (c *ErrorClass) Advice() string {
	if c == nil {
		return ""
	}
	return c.advice
}

// The failure classes.
var (
	// ErrNoAccessPolicy: Redis refused a valid token (WRONGPASS). The identity
	// has no access policy assignment on the cache.
	ErrNoAccessPolicy = &ErrorClass{"no_access_policy", "pool: no access policy",
		"redis refused the token (WRONGPASS): the identity has no access policy assignment; " +
			"assign it under Authentication → Microsoft Entra Authentication (Bicep: accessPolicyAssignments with its object ID)"}
	// ErrTokenExpired: no unexpired token could be obtained in time.
	ErrTokenExpired = &ErrorClass{"token_expired", "pool: token expired",
		"the Entra token has expired and no new one could be obtained; " +
			"check that the identity endpoint is reachable (IDENTITY_ENDPOINT / IMDS) — the pool keeps retrying"}
	// ErrWrongAudience: the token is not for Redis.
	ErrWrongAudience = &ErrorClass{"wrong_audience", "pool: wrong token audience",
		"the token's audience is not Azure Redis; " +
			"set REDIS_TOKEN_SCOPE to https://redis.azure.com/.default (the default)"}
	// ErrInvalidToken: the credential returned something that is not a usable
	// Entra access token (not a JWT, or no oid claim to use as user name).
	ErrInvalidToken = &ErrorClass{"invalid_token", "pool: invalid token",
		"the credential returned a token without a usable oid claim; " +
			"use an Entra access token (not an encrypted or ID token) or set REDIS_USERNAME to the identity's object ID"}
	// ErrIdentityUnreachable: the token endpoint could not be reached or
	// failed transiently. The pool keeps retrying with backoff.
	ErrIdentityUnreachable = &ErrorClass{"identity_unreachable", "pool: identity endpoint unreachable",
		"the identity endpoint is unreachable or failing; " +
			"on Azure check the app's managed identity is enabled, locally use REDIS_CREDENTIAL=azurecli or a service principal — the pool keeps retrying"}
	// ErrIdentityNotFound: the identity endpoint answered that the identity
	// does not exist or the credential is misconfigured.
	ErrIdentityNotFound = &ErrorClass{"identity_not_found", "pool: identity not found",
		"the identity was not found or the credential is misconfigured; " +
			"check AZURE_CLIENT_ID (the user-assigned identity's client ID) is assigned to this app, or the service principal settings"}
	// ErrRedisUnreachable: Redis could not be reached.
	ErrRedisUnreachable = &ErrorClass{"redis_unreachable", "pool: redis unreachable",
		"redis is unreachable; check REDIS_HOST (Azure Managed Redis: <name>.<region>.redis.azure.net:10000), TLS and network rules"}
)

// classes are the failure classes in the order ClassOf tries them: an error
// that matches two (a token that expired because the identity endpoint is
// down) is of the first.
var classes = []*ErrorClass{ErrNoAccessPolicy, ErrTokenExpired, ErrWrongAudience, ErrInvalidToken,
	ErrIdentityUnreachable, ErrIdentityNotFound, ErrRedisUnreachable}

// classError is an error of one class with its cause. Its message is the
// class's message followed by the cause; the cause never contains a token.
type classError struct {
	class *ErrorClass
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

// wrap returns cause as an error of class c.
func (c *ErrorClass) wrap(cause error) error { return &classError{class: c, cause: cause} }

// ClassOf returns the class of err: the class the pool returned it with or,
// for the error of a Redis command run through the pool, ErrNoAccessPolicy for
// WRONGPASS and ErrRedisUnreachable for network failures and timeouts. It
// returns nil for nil and for an error of no class.
func ClassOf(err error) *ErrorClass {
	if err == nil {
		return nil
	}
	for _, c := range classes {
		if errors.Is(err, c) {
			return c
		}
	}
	switch {
	case strings.HasPrefix(err.Error(), "WRONGPASS"):
		return ErrNoAccessPolicy
	case errors.Is(err, context.DeadlineExceeded), isNetError(err):
		return ErrRedisUnreachable
	}
	return nil
}

// classify returns err wrapped in its class (see ClassOf) so that errors.Is
// finds the class; an error already of a class, or of none, is returned
// unchanged.
func classify(err error) error {
	c := ClassOf(err)
	if c == nil || errors.Is(err, c) {
		return err
	}
	return c.wrap(err)
}

// classifyTokenError maps a credential's GetToken error to a class.
func classifyTokenError(err error) error {
	// A 4xx from the identity endpoint means it answered and refused: the
	// identity does not exist or the credential is wrong. Everything else
	// (no endpoint, 5xx, timeouts, refused connections) is transient.
	var failed *azidentity.AuthenticationFailedError
	if errors.As(err, &failed) && failed.RawResponse != nil && failed.RawResponse.StatusCode >= 400 && failed.RawResponse.StatusCode < 500 {
		return ErrIdentityNotFound.wrap(err)
	}
	return ErrIdentityUnreachable.wrap(err)
}

func isNetError(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "EOF")
}
