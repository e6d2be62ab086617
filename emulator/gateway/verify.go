package gateway

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Reasons an AUTH is refused, the keys of Stats.AuthFailed.
const (
	ReasonMalformed     = "malformed"         // not a JWT, or required claims missing
	ReasonBadSignature  = "bad_signature"     // signature, algorithm or key does not verify
	ReasonWrongAudience = "wrong_audience"    // aud is not Azure Managed Redis
	ReasonWrongIssuer   = "wrong_issuer"      // iss is not Config.Issuer
	ReasonExpired       = "expired"           // exp has passed
	ReasonNotYetValid   = "not_yet_valid"     // nbf is in the future
	ReasonUserMismatch  = "user_mismatch"     // the AUTH user name is not the oid claim
	ReasonNoPolicy      = "no_policy"         // the object ID has no access policy assignment
	ReasonServerRefused = "refused_by_server" // verified, but the server refused the AUTH (e.g. inside a RESP2 subscription)
)

var reasons = []string{
	ReasonMalformed, ReasonBadSignature, ReasonWrongAudience, ReasonWrongIssuer,
	ReasonExpired, ReasonNotYetValid, ReasonUserMismatch, ReasonNoPolicy, ReasonServerRefused,
}

// claims are the token claims the gateway reads.
type claims struct {
	jwt.RegisteredClaims
	OID string `json:"oid"`
}

// identity is a verified token: whom it authenticates, until when.
type identity struct {
	oid string
	exp time.Time
}

// verifier checks Entra access tokens.
type verifier struct {
	parser *jwt.Parser
	keys   *keySet
}

func newVerifier(cfg Config) *verifier {
	return &verifier{
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{"RS256"}),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(Audiences...),
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(cfg.ClockSkew),
		),
		keys: newKeySet(cfg.Keys, cfg.JWKSURL),
	}
}

// verify checks token for user. It returns the identity, or the reason it
// is refused.
func (v *verifier) verify(user, token string) (identity, string) {
	var c claims
	_, err := v.parser.ParseWithClaims(token, &c, v.keys.key)
	if err != nil {
		return identity{}, reasonFor(err)
	}
	if c.OID == "" || c.ExpiresAt == nil {
		return identity{}, ReasonMalformed
	}
	if c.OID != user {
		return identity{}, ReasonUserMismatch
	}
	return identity{oid: c.OID, exp: c.ExpiresAt.Time}, ""
}

// reasonFor classifies a jwt parse or validation error.
func reasonFor(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed), errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return ReasonMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return ReasonBadSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		return ReasonExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return ReasonNotYetValid
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return ReasonWrongAudience
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return ReasonWrongIssuer
	default:
		return ReasonMalformed
	}
}

// errUnknownKey is returned when no key matches a token's kid.
var errUnknownKey = errors.New("no signing key for the token's kid")

func keyError(kid string) error {
	return fmt.Errorf("%w %q", errUnknownKey, kid)
}
