package gateway

import (
	"crypto/rsa"
	"testing"
	"testing/synctest"
	"time"
)

// A token's signature is checked once, its claims on every AUTH: the same token is refused once
// it has expired, and a token that differs from a verified one only in its signature is refused.
func TestVerifierChecksClaimsEveryTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSigner(t)
		v := newVerifier(Config{Issuer: testIssuer, Keys: map[string]*rsa.PublicKey{s.kid: &s.key.PublicKey}})
		tok := s.token(t, testOID, time.Minute)
		for i := range 2 {
			if id, reason := v.verify(testOID, tok); reason != "" || id.oid != testOID {
				t.Fatalf("AUTH %d with a valid token: %q, %+v", i+1, reason, id)
			}
		}
		if _, reason := v.verify("someone-else", tok); reason != ReasonUserMismatch {
			t.Errorf("a verified token for another user: %q, want %q", reason, ReasonUserMismatch)
		}
		forged := tok[:len(tok)-4] + "AAAA"
		if forged == tok {
			forged = tok[:len(tok)-4] + "BBBB"
		}
		if _, reason := v.verify(testOID, forged); reason != ReasonBadSignature {
			t.Errorf("the verified token with its signature changed: %q, want %q", reason, ReasonBadSignature)
		}
		time.Sleep(time.Minute + time.Second)
		if _, reason := v.verify(testOID, tok); reason != ReasonExpired {
			t.Errorf("the verified token after it expired: %q, want %q", reason, ReasonExpired)
		}
	})
}

// A remembered token is verified again once the key set no longer holds the key that signed it,
// as a JWKS fetch after a key rollover would leave it: here the same kid now names another key.
func TestVerifierForgetsTokensOfReplacedKeys(t *testing.T) {
	old, next := newSigner(t), newSigner(t)
	v := newVerifier(Config{Issuer: testIssuer, Keys: map[string]*rsa.PublicKey{old.kid: &old.key.PublicKey}})
	tok := old.token(t, testOID, time.Minute)
	if _, reason := v.verify(testOID, tok); reason != "" {
		t.Fatalf("AUTH with a valid token: %q", reason)
	}
	v.keys.mu.Lock()
	v.keys.keys = map[string]*rsa.PublicKey{next.kid: &next.key.PublicKey}
	v.keys.mu.Unlock()
	if _, reason := v.verify(testOID, tok); reason != ReasonBadSignature {
		t.Errorf("the remembered token after its key was replaced: %q, want %q", reason, ReasonBadSignature)
	}
	if _, reason := v.verify(testOID, next.token(t, testOID, time.Minute)); reason != "" {
		t.Errorf("a token of the new key: %q", reason)
	}
}
