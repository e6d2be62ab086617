package gateway

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"sync"
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
//
// It checks a token's signature once: every connection of a client authenticates with the same
// token, and each RS256 verification (about 45 µs) is CPU the gateway takes from the cores the
// bench measures, where Azure's takes none of the client's. The claims (expiry, not-before,
// issuer, audience) are validated on every AUTH, so a token that has expired since is refused as
// before; a token with any byte changed is another token and is verified in full, and so is a
// remembered token whose signing key the key set no longer holds.
type verifier struct {
	parser    *jwt.Parser
	validator *jwt.Validator
	keys      *keySet

	mu     sync.Mutex
	signed map[string]signedToken // tokens whose signature verified, at most maxSigned
}

// signedToken is a token whose signature verified: its claims, and the key that verified it.
type signedToken struct {
	claims *claims
	kid    string
	key    *rsa.PublicKey
}

// maxSigned bounds verifier.signed: a token lives about an hour, and a client holds one or two.
const maxSigned = 64

func newVerifier(cfg Config) *verifier {
	opts := []jwt.ParserOption{
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(Audiences...),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(cfg.ClockSkew),
	}
	return &verifier{
		parser:    jwt.NewParser(append(opts, jwt.WithValidMethods([]string{"RS256"}))...),
		validator: jwt.NewValidator(opts...),
		keys:      newKeySet(cfg.Keys, cfg.JWKSURL),
		signed:    make(map[string]signedToken),
	}
}

// verify checks token for user. It returns the identity, or the reason it
// is refused.
func (v *verifier) verify(user, token string) (identity, string) {
	v.mu.Lock()
	st, ok := v.signed[token]
	v.mu.Unlock()
	c := st.claims
	var err error
	if ok && v.keys.holds(st.kid, st.key) {
		err = v.validator.Validate(c)
	} else {
		c, st = new(claims), signedToken{}
		keyOf := func(t *jwt.Token) (any, error) {
			k, err := v.keys.key(t)
			st.kid, _ = t.Header["kid"].(string)
			st.key, _ = k.(*rsa.PublicKey)
			return k, err
		}
		if _, err = v.parser.ParseWithClaims(token, c, keyOf); err == nil {
			st.claims = c
			v.remember(token, st)
		}
	}
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

// remember notes that token's signature verified, forgetting the others when there are too many.
func (v *verifier) remember(token string, st signedToken) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.signed) >= maxSigned {
		clear(v.signed)
	}
	v.signed[token] = st
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
