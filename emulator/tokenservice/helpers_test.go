package tokenservice

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Identities the tests assign to the app.
var (
	userA = Identity{
		ClientID:   "aaaaaaaa-0000-4000-8000-00000000000a",
		ObjectID:   "aaaaaaaa-0000-4000-8000-0000000000a0",
		ResourceID: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-a",
	}
	userB = Identity{
		ClientID: "bbbbbbbb-0000-4000-8000-00000000000b",
		ObjectID: "bbbbbbbb-0000-4000-8000-0000000000b0",
	}
)

// startService starts a service on a free loopback port and closes it when the test ends.
func startService(t *testing.T, cfg Config) *Service {
	t.Helper()
	if cfg.Identities == nil {
		cfg.Identities = []Identity{userA, userB}
	}
	s, err := New(cfg)
	noErr(t, err)
	noErr(t, s.Start("127.0.0.1:0"))
	t.Cleanup(func() { noErr(t, s.Close()) })
	return s
}

// verify checks the token's signature with the service's public keys and the
// claims every token from s carries, and returns its claims.
func verify(t *testing.T, s *Service, token, audience string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		return s.PublicKeys()[kid], nil
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithAudience(audience),
		jwt.WithIssuer(s.Issuer()),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	noErr(t, err)
	equal[any](t, s.TenantID(), claims["tid"])
	equal(t, claims["oid"], claims["sub"])
	return claims
}

// lifetimeOf returns exp − iat of verified claims.
func lifetimeOf(t *testing.T, claims jwt.MapClaims) time.Duration {
	t.Helper()
	exp, err := claims.GetExpirationTime()
	noErr(t, err)
	iat, err := claims.GetIssuedAt()
	noErr(t, err)
	return exp.Sub(iat.Time)
}

// get sends a GET with the given query and headers and returns status and body.
func get(t *testing.T, client *http.Client, rawURL string, query url.Values, header map[string]string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	u := rawURL
	if query != nil {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	noErr(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	noErr(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	noErr(t, err)
	return resp.StatusCode, body
}

// tokenQuery is the query azidentity sends for the Redis scope.
func tokenQuery(extra ...string) url.Values {
	q := url.Values{"api-version": {"2019-08-01"}, "resource": {DefaultAudience}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q
}

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	noErr(t, json.Unmarshal(body, &v), "body: %s", body)
	return v
}
