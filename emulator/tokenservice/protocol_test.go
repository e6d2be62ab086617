package tokenservice

import (
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestAppServiceResponseFields(t *testing.T) {
	s := startService(t, Config{Lifetime: 90 * time.Second})
	status, body := get(t, http.DefaultClient, s.Endpoint(), tokenQuery("client_id", userB.ClientID),
		map[string]string{identityHeaderName: s.Secret()})
	equal(t, http.StatusOK, status, "body: %s", body)
	// Exactly the five fields App Service returns, expires_on as a string.
	fields := decode[map[string]any](t, body)
	equal(t, 5, len(fields), "fields: %v", fields)
	tok := decode[appServiceToken](t, body)
	equal(t, "Bearer", tok.TokenType)
	equal(t, DefaultAudience, tok.Resource)
	equal(t, userB.ClientID, tok.ClientID)
	claims := verify(t, s, tok.AccessToken, DefaultAudience)
	equal[any](t, userB.ObjectID, claims["oid"])
	exp, err := claims.GetExpirationTime()
	noErr(t, err)
	equal(t, strconv.FormatInt(exp.Unix(), 10), tok.ExpiresOn)
	equal(t, 90*time.Second, lifetimeOf(t, claims))
}

func TestAppServiceErrors(t *testing.T) {
	s := startService(t, Config{})
	good := map[string]string{identityHeaderName: s.Secret()}
	cases := []struct {
		name    string
		query   url.Values
		header  map[string]string
		status  int
		message string
		kind    string
	}{
		{"missing header", tokenQuery(), nil, http.StatusUnauthorized, msgBadIdentityHeader, ErrKindBadHeader},
		{"wrong header", tokenQuery(), map[string]string{identityHeaderName: "nope"}, http.StatusUnauthorized, msgBadIdentityHeader, ErrKindBadHeader},
		{"unknown client_id", tokenQuery("client_id", "cccccccc-0000-4000-8000-00000000000c"), good, http.StatusBadRequest, msgUnknownIdentity, ErrKindUnknownIdentity},
		{"unknown mi_res_id", tokenQuery("mi_res_id", "/subscriptions/x/nope"), good, http.StatusBadRequest, msgUnknownIdentity, ErrKindUnknownIdentity},
		{"selectors of two identities", tokenQuery("client_id", userA.ClientID, "object_id", userB.ObjectID), good, http.StatusBadRequest, msgUnknownIdentity, ErrKindUnknownIdentity},
		{"no resource", url.Values{"api-version": {"2019-08-01"}}, good, http.StatusBadRequest, msgResourceMissing, ErrKindBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.Stats().Errors[tc.kind]
			status, body := get(t, http.DefaultClient, s.Endpoint(), tc.query, tc.header)
			equal(t, tc.status, status, "body: %s", body)
			e := decode[appServiceError](t, body)
			equal(t, tc.status, e.StatusCode)
			equal(t, tc.message, e.Message)
			isTrue(t, len(e.CorrelationID) == 36, "correlationId %q", e.CorrelationID)
			equal(t, before+1, s.Stats().Errors[tc.kind])
		})
	}
	t.Run("old api-version", func(t *testing.T) {
		status, body := get(t, http.DefaultClient, s.Endpoint(), tokenQuery("api-version", "2017-09-01"), good)
		equal(t, http.StatusBadRequest, status)
		contains(t, string(body), "UnsupportedApiVersion")
	})
}

func TestIMDSShape(t *testing.T) {
	s := startService(t, Config{})
	// A token request as curl sends it by hand: the resource with a trailing slash.
	query := url.Values{"api-version": {"2019-08-01"}, "resource": {"https://redis.azure.com/"}, "client_id": {userA.ClientID}}

	status, body := get(t, http.DefaultClient, s.IMDSEndpoint(), query, map[string]string{"Metadata": "true"})
	equal(t, http.StatusOK, status, "body: %s", body)
	tok := decode[imdsToken](t, body)
	equal(t, "https://redis.azure.com/", tok.Resource)
	equal(t, userA.ClientID, tok.ClientID)
	equal(t, "Bearer", tok.TokenType)
	expiresIn, err := strconv.Atoi(tok.ExpiresIn)
	noErr(t, err)
	isTrue(t, expiresIn == 3599 || expiresIn == 3600, "expires_in %q", tok.ExpiresIn)
	claims := verify(t, s, tok.AccessToken, DefaultAudience)
	equal[any](t, userA.ObjectID, claims["oid"])
	equal[any](t, userA.ResourceID, claims["xms_mirid"])

	for _, header := range []map[string]string{nil, {"Metadata": "false"}} {
		status, body = get(t, http.DefaultClient, s.IMDSEndpoint(), query, header)
		equal(t, http.StatusBadRequest, status)
		equal(t, imdsError{"bad_request_102", "Required metadata header not specified"}, decode[imdsError](t, body))
	}

	query.Set("client_id", "cccccccc-0000-4000-8000-00000000000c")
	status, body = get(t, http.DefaultClient, s.IMDSEndpoint(), query, map[string]string{"Metadata": "true"})
	equal(t, http.StatusBadRequest, status)
	equal(t, imdsError{"invalid_request", "Identity not found"}, decode[imdsError](t, body))
}

func TestJWKSPublishesTheSigningKey(t *testing.T) {
	s := startService(t, Config{TenantID: "11111111-2222-4333-8444-555555555555"})
	token, _, err := s.Token(userA.ObjectID)
	noErr(t, err)
	for _, u := range []string{s.JWKSURL(), s.URL() + "/" + s.TenantID() + "/discovery/v2.0/keys"} {
		status, body := get(t, http.DefaultClient, u, nil, nil)
		equal(t, http.StatusOK, status, "%s: %s", u, body)
		set := decode[struct {
			Keys []struct{ Kty, Kid, N, E string }
		}](t, body)
		equal(t, 1, len(set.Keys))
		k := set.Keys[0]
		n, err := base64.RawURLEncoding.DecodeString(k.N)
		noErr(t, err)
		e, err := base64.RawURLEncoding.DecodeString(k.E)
		noErr(t, err)
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		_, err = jwt.Parse(token, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithValidMethods([]string{"RS256"}))
		noErr(t, err, "verify with the published key from %s", u)
		isTrue(t, s.PublicKeys()[k.Kid].Equal(pub), "kid %s", k.Kid)
	}
	status, _ := get(t, http.DefaultClient, s.URL()+"/other-tenant/discovery/v2.0/keys", nil, nil)
	equal(t, http.StatusNotFound, status)
}

func TestMintAndToken(t *testing.T) {
	s, err := New(Config{Identities: []Identity{userA}, Lifetime: 3 * time.Second})
	noErr(t, err)
	token, expiresOn, err := s.Token(userA.ObjectID)
	noErr(t, err)
	claims := verify(t, s, token, DefaultAudience)
	equal[any](t, userA.ClientID, claims["appid"])
	equal(t, 3*time.Second, lifetimeOf(t, claims))
	exp, _ := claims.GetExpirationTime()
	isTrue(t, expiresOn.Equal(exp.Time))

	// An object ID without an identity (no access policy scenario) still gets a token.
	token, _, err = s.Token("dddddddd-0000-4000-8000-0000000000d0")
	noErr(t, err)
	claims = verify(t, s, token, DefaultAudience)
	_, hasAppID := claims["appid"]
	isTrue(t, !hasAppID)

	expired, err := s.Mint(map[string]any{"aud": DefaultAudience, "exp": time.Now().Add(-time.Minute).Unix()})
	noErr(t, err)
	_, err = jwt.Parse(expired, func(*jwt.Token) (any, error) { return &s.key.PublicKey, nil })
	isTrue(t, errors.Is(err, jwt.ErrTokenExpired), "expired token: %v", err)
	equal(t, int64(0), s.Stats().IssuedTotal(), "Token and Mint are not counted")
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []Config{
		{Lifetime: -time.Second},
		{ReuseFraction: 1.5},
		{Identities: []Identity{{ClientID: "only-client"}}},
	} {
		_, err := New(cfg)
		isTrue(t, err != nil, "New(%+v) accepted", cfg)
	}
	s, err := New(Config{})
	noErr(t, err)
	isTrue(t, s.Start("0.0.0.0:0") != nil, "non-loopback address accepted")
	noErr(t, s.Close())
	noErr(t, s.Close())
	isTrue(t, s.Start("127.0.0.1:0") != nil, "start after close")
}
