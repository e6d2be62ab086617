package tokenservice

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkTokenRequest measures one App Service token request through the
// handler: a cache hit, and a fresh RS256 signature (ReuseFraction tiny).
func BenchmarkTokenRequest(b *testing.B) {
	for _, bc := range []struct {
		name  string
		reuse float64
	}{{"cached", 1}, {"fresh", 1e-12}} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := New(Config{ReuseFraction: bc.reuse})
			if err != nil {
				b.Fatal(err)
			}
			target := appServiceTokenPath + "?" + tokenQuery().Encode()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, target, nil)
				req.Header.Set(identityHeaderName, s.Secret())
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
