package gateway

import (
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
)

// jwksServer serves s's public key as a JWKS document.
func jwksServer(t testing.TB, s *signer) *httptest.Server {
	t.Helper()
	doc := map[string]any{"keys": []map[string]string{{
		"kty": "RSA",
		"kid": s.kid,
		"use": "sig",
		"n":   base64.RawURLEncoding.EncodeToString(s.key.N.Bytes()),
		"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(s.key.E)).Bytes()),
	}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	return srv
}
