package pool

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// redisAppID is the application ID of Azure Redis: tokens for the resource
// https://redis.azure.com may carry it as their audience.
const redisAppID = "acca5fbb-b7e4-4009-81f1-37e38fd66d78"

// Token is an Entra access token for Redis with the user name it is used
// with. It implements go-redis's auth.Credentials. Its String and LogValue
// never show the token itself.
type Token struct {
	token    string
	username string
	// ExpiresOn is when the token expires (the earlier of azcore's ExpiresOn
	// and the JWT's exp).
	ExpiresOn time.Time
	// RefreshOn is when azidentity will hand out a new token (zero: 5
	// minutes before ExpiresOn, as azcore's bearer policy assumes).
	RefreshOn time.Time
	// AcquiredAt is when the pool received the token.
	AcquiredAt time.Time
	seq        uint64
}

// BasicAuth returns the user name (the token's oid, unless overridden) and
// the token as password, as Redis AUTH needs them.
func (t *Token) BasicAuth() (username, password string) { return t.username, t.token }

// RawCredentials returns the access token. go-redis does not use it.
func (t *Token) RawCredentials() string { return t.token }

// Username is the Redis user name the token is used with.
func (t *Token) Username() string { return t.username }

// Lifetime is the token's lifetime as seen by the pool.
func (t *Token) Lifetime() time.Duration { return t.ExpiresOn.Sub(t.AcquiredAt) }

// String describes the token without revealing it.
func (t *Token) String() string {
	return fmt.Sprintf("token(user=%s expires=%s)", t.username, t.ExpiresOn.UTC().Format(time.RFC3339))
}

// LogValue makes slog log the description, never the token.
func (t *Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// claims are the JWT claims the pool reads (the token is not verified here:
// Redis does that; the pool only needs the user name and to catch mistakes
// before Redis sees them).
type claims struct {
	OID string   `json:"oid"`
	Exp int64    `json:"exp"`
	Aud audience `json:"aud"`
}

// audience is a JWT "aud": a string or a list of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("aud is neither a string nor a list: %w", err)
	}
	*a = many
	return nil
}

// parseClaims decodes the payload of a JWT without verifying it.
func parseClaims(token string) (claims, error) {
	var c claims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return c, errors.New("not a JWT (expected three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return c, fmt.Errorf("JWT payload is not base64url: %w", err)
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return c, fmt.Errorf("JWT payload is not JSON: %w", err)
	}
	return c, nil
}

// audiences returns the audiences Redis accepts for a scope such as
// "https://redis.azure.com/.default".
func audiences(scope string) []string {
	resource := strings.TrimSuffix(strings.TrimSuffix(scope, "/.default"), "/")
	if resource == redisAppID || resource == "https://redis.azure.com" {
		return []string{"https://redis.azure.com", "https://redis.azure.com/", redisAppID}
	}
	return []string{resource, resource + "/"}
}

// checkToken validates what the pool can know about a token before Redis
// sees it and returns its user name and JWT expiry (zero when absent).
func checkToken(token, scope, usernameOverride string) (username string, exp time.Time, err error) {
	c, err := parseClaims(token)
	if err != nil {
		if usernameOverride != "" {
			return usernameOverride, time.Time{}, nil
		}
		return "", time.Time{}, ErrInvalidToken.wrap(err)
	}
	if len(c.Aud) > 0 && !slices.ContainsFunc(c.Aud, func(a string) bool { return slices.Contains(audiences(scope), a) }) {
		return "", time.Time{}, ErrWrongAudience.wrap(fmt.Errorf("token audience %q, want one of %q", []string(c.Aud), audiences(scope)))
	}
	if c.Exp > 0 {
		exp = time.Unix(c.Exp, 0)
	}
	if usernameOverride != "" {
		return usernameOverride, exp, nil
	}
	if c.OID == "" {
		return "", exp, ErrInvalidToken.wrap(errors.New("the token has no oid claim"))
	}
	return c.OID, exp, nil
}
