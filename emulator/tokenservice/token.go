package tokenservice

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// wrongAudience is the aud of tokens issued while Fault.WrongAudience is set: a
// real Azure audience that Azure Managed Redis does not accept.
const wrongAudience = "https://management.azure.com"

// cacheKey identifies the cached token of one identity for one audience.
type cacheKey struct{ objectID, audience string }

// cachedToken is a token the endpoint handed out and will hand out again until reuseUntil.
type cachedToken struct {
	token               string
	issuedAt, expiresOn time.Time
	reuseUntil          time.Time
}

// Mint signs a token with exactly the given claims (for tests: expired, wrong
// audience, no oid, …) with the service's key and key ID.
func (s *Service) Mint(claims map[string]any) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
	t.Header["kid"] = s.kid
	t.Header["x5t"] = s.kid
	signed, err := t.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("tokenservice: sign token: %w", err)
	}
	return signed, nil
}

// Token issues a fresh token for the identity with the given object ID, with the
// configured lifetime and audience. It bypasses the cache, the faults and the
// counters. An object ID the service does not know still gets a token (without
// appid), which lets tests present identities that have no access policy.
func (s *Service) Token(objectID string) (token string, expiresOn time.Time, err error) {
	if objectID == "" {
		return "", time.Time{}, errors.New("tokenservice: empty object ID")
	}
	id, ok := s.lookup(selector{objectID: objectID})
	if !ok {
		id = Identity{ObjectID: objectID}
	}
	s.mu.Lock()
	lifetime := s.lifetime
	s.mu.Unlock()
	return s.mint(id, s.audience, time.Now(), lifetime)
}

// PublicKeys returns the verification keys by key ID (what the gateway verifies with).
func (s *Service) PublicKeys() map[string]*rsa.PublicKey {
	return map[string]*rsa.PublicKey{s.kid: &s.key.PublicKey}
}

// mint signs an access token for id with Entra's v1 claims.
func (s *Service) mint(id Identity, audience string, issued time.Time, lifetime time.Duration) (string, time.Time, error) {
	iat := issued.Unix()
	exp := iat + lifetimeSeconds(lifetime)
	uti, err := tokenID()
	if err != nil {
		return "", time.Time{}, err
	}
	claims := map[string]any{
		"aud":      audience,
		"iss":      s.Issuer(),
		"iat":      iat,
		"nbf":      iat,
		"exp":      exp,
		"oid":      id.ObjectID,
		"sub":      id.ObjectID,
		"tid":      s.tenantID,
		"idtyp":    "app",
		"appidacr": "2",
		"uti":      uti,
		"ver":      "1.0",
	}
	if id.ClientID != "" {
		claims["appid"] = id.ClientID
	}
	if id.ResourceID != "" {
		claims["xms_mirid"] = id.ResourceID
	}
	token, err := s.Mint(claims)
	return token, time.Unix(exp, 0), err
}

// issue returns the token for id and the requested resource: the cached one while
// it may be reused, else a new one. hit reports a cache hit.
func (s *Service) issue(id Identity, resource string, wrongAud bool) (tok cachedToken, hit bool, err error) {
	audience := s.audienceFor(resource)
	if wrongAud {
		audience = wrongAudience
	}
	key := cacheKey{objectID: strings.ToLower(id.ObjectID), audience: audience}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.cache[key]; ok && now.Before(c.reuseUntil) {
		s.stats.CacheHits++
		return c, true, nil
	}
	token, exp, err := s.mint(id, audience, now, s.lifetime)
	if err != nil {
		return cachedToken{}, false, err
	}
	issuedAt := time.Unix(now.Unix(), 0)
	c := cachedToken{
		token:      token,
		issuedAt:   issuedAt,
		expiresOn:  exp,
		reuseUntil: issuedAt.Add(time.Duration(float64(exp.Sub(issuedAt)) * s.reuse)),
	}
	s.cache[key] = c
	s.stats.Issued[id.ObjectID]++
	return c, false, nil
}

// audienceFor maps a requested resource to the token's aud: the configured
// audience when they differ only by a trailing slash, else the resource itself.
func (s *Service) audienceFor(resource string) string {
	if strings.TrimSuffix(resource, "/") == strings.TrimSuffix(s.audience, "/") {
		return s.audience
	}
	return resource
}

// jwks returns the JSON Web Key Set publishing the signing key, in Entra's shape.
func (s *Service) jwks() map[string]any {
	pub := &s.key.PublicKey
	return map[string]any{"keys": []map[string]any{{
		"kty":    "RSA",
		"use":    "sig",
		"alg":    "RS256",
		"kid":    s.kid,
		"x5t":    s.kid,
		"n":      base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":      base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		"issuer": s.Issuer(),
	}}}
}

// lifetimeSeconds rounds a lifetime up to whole seconds, at least one: expires_on
// and exp are whole Unix seconds.
func lifetimeSeconds(d time.Duration) int64 {
	secs := int64((d + time.Second - 1) / time.Second)
	return max(secs, 1)
}

// tokenID returns a random token identifier (the uti claim), so that two tokens
// minted in the same second differ.
func tokenID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("tokenservice: random token ID: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
