package tokenservice

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// sdkLifetime is below MSAL's five-minute expiry margin, so MSAL's process-wide
// token cache never answers for the service and every GetToken reaches it.
const sdkLifetime = time.Minute

const redisScope = "https://redis.azure.com/.default"

// sdkCredential points the App Service environment variables at s and builds the
// real azidentity credential (which reads them at construction and per request).
func sdkCredential(t *testing.T, s *Service, secret string, opts *azidentity.ManagedIdentityCredentialOptions) *azidentity.ManagedIdentityCredential {
	t.Helper()
	t.Setenv("IDENTITY_ENDPOINT", s.Endpoint())
	t.Setenv("IDENTITY_HEADER", secret)
	cred, err := azidentity.NewManagedIdentityCredential(opts)
	noErr(t, err)
	return cred
}

func getToken(t *testing.T, cred *azidentity.ManagedIdentityCredential) (string, time.Time, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{redisScope}})
	return tok.Token, tok.ExpiresOn, err
}

func TestAzidentityGetsTokens(t *testing.T) {
	s := startService(t, Config{Lifetime: sdkLifetime})
	cases := []struct {
		name string
		id   azidentity.ManagedIDKind
		want Identity
	}{
		{"system-assigned", nil, s.SystemAssigned()},
		{"user-assigned by client ID", azidentity.ClientID(userA.ClientID), userA},
		{"user-assigned by resource ID", azidentity.ResourceID(userA.ResourceID), userA},
		{"user-assigned by object ID", azidentity.ObjectID(userB.ObjectID), userB},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.Stats()
			cred := sdkCredential(t, s, s.Secret(), &azidentity.ManagedIdentityCredentialOptions{ID: tc.id})
			token, expiresOn, err := getToken(t, cred)
			noErr(t, err)

			claims := verify(t, s, token, DefaultAudience)
			equal[any](t, tc.want.ObjectID, claims["oid"])
			equal[any](t, tc.want.ClientID, claims["appid"])
			equal(t, sdkLifetime, lifetimeOf(t, claims))
			exp, err := claims.GetExpirationTime()
			noErr(t, err)
			isTrue(t, expiresOn.Equal(exp.Time), "ExpiresOn %v, exp %v", expiresOn, exp.Time)
			// The identity's token is new, or the service's cached one (userA is asked twice).
			after := s.Stats()
			equal(t, before.Requests+1, after.Requests)
			equal(t, before.Issued[tc.want.ObjectID]+before.CacheHits+1, after.Issued[tc.want.ObjectID]+after.CacheHits)
		})
	}
}

func TestAzidentityUnknownIdentity(t *testing.T) {
	s := startService(t, Config{Lifetime: sdkLifetime})
	cred := sdkCredential(t, s, s.Secret(), &azidentity.ManagedIdentityCredentialOptions{
		ID: azidentity.ClientID("cccccccc-0000-4000-8000-00000000000c"),
	})
	_, _, err := getToken(t, cred)
	var authErr *azidentity.AuthenticationFailedError
	errorAs(t, err, &authErr)
	equal(t, http.StatusBadRequest, authErr.RawResponse.StatusCode)
	contains(t, err.Error(), msgUnknownIdentity)
	equal(t, int64(1), s.Stats().Errors[ErrKindUnknownIdentity])
}

func TestAzidentityWrongIdentityHeader(t *testing.T) {
	s := startService(t, Config{Lifetime: sdkLifetime})
	cred := sdkCredential(t, s, "not-the-secret", nil)
	_, _, err := getToken(t, cred)
	var authErr *azidentity.AuthenticationFailedError
	errorAs(t, err, &authErr)
	equal(t, http.StatusUnauthorized, authErr.RawResponse.StatusCode)
	notContains(t, err.Error(), s.Secret())
	equal(t, int64(1), s.Stats().Errors[ErrKindBadHeader])
}

func TestAzidentityOutageIsRetriedThenFails(t *testing.T) {
	s := startService(t, Config{Lifetime: sdkLifetime})
	s.SetFault(Fault{Mode: Status5xx, Status: http.StatusServiceUnavailable})
	cred := sdkCredential(t, s, s.Secret(), &azidentity.ManagedIdentityCredentialOptions{
		ClientOptions: policy.ClientOptions{Retry: policy.RetryOptions{
			MaxRetries: 2, RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond,
		}},
	})
	_, _, err := getToken(t, cred)
	var authErr *azidentity.AuthenticationFailedError
	errorAs(t, err, &authErr)
	equal(t, http.StatusServiceUnavailable, authErr.RawResponse.StatusCode)
	equal(t, int64(3), s.Stats().Errors[ErrKindFault5xx], "azcore retries a 503 MaxRetries times")

	s.SetFault(Fault{})
	_, _, err = getToken(t, cred)
	noErr(t, err)
}

func TestAzidentityHangEndsWithContext(t *testing.T) {
	s := startService(t, Config{Lifetime: sdkLifetime})
	s.SetFault(Fault{Mode: Hang})
	cred := sdkCredential(t, s, s.Secret(), &azidentity.ManagedIdentityCredentialOptions{
		ClientOptions: policy.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}},
	})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{redisScope}})
	// azidentity flattens MSAL's error into a message: the context error is not wrapped.
	var authErr *azidentity.AuthenticationFailedError
	errorAs(t, err, &authErr)
	isTrue(t, !errors.Is(err, context.DeadlineExceeded), "azidentity now wraps the context error: %v", err)
	contains(t, err.Error(), context.DeadlineExceeded.Error())
	isTrue(t, authErr.RawResponse == nil, "no HTTP response")
}

func TestAzidentityWrongAudience(t *testing.T) {
	s := startService(t, Config{Lifetime: sdkLifetime})
	s.SetFault(Fault{WrongAudience: true})
	cred := sdkCredential(t, s, s.Secret(), nil)
	token, _, err := getToken(t, cred)
	noErr(t, err, "the SDK does not look inside the token")
	verify(t, s, token, wrongAudience)
}
