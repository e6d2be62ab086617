package gateway

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// keySet resolves a token's kid to an RSA public key, from fixed keys or a
// JWKS document.
type keySet struct {
	url    string
	client *http.Client

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

func newKeySet(keys map[string]*rsa.PublicKey, url string) *keySet {
	ks := &keySet{url: url, client: &http.Client{Timeout: 5 * time.Second}}
	if len(keys) > 0 {
		ks.url = ""
		ks.keys = make(map[string]*rsa.PublicKey, len(keys))
		for kid, k := range keys {
			ks.keys[kid] = k
		}
	}
	return ks
}

// key is a jwt.Keyfunc.
func (ks *keySet) key(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if k, ok := ks.lookup(kid); ok {
		return k, nil
	}
	if ks.url == "" || time.Since(ks.fetched) < jwksRefresh {
		return nil, keyError(kid)
	}
	ks.fetched = time.Now()
	keys, err := ks.fetch()
	if err != nil {
		return nil, err
	}
	ks.keys = keys
	if k, ok := ks.lookup(kid); ok {
		return k, nil
	}
	return nil, keyError(kid)
}

// holds reports whether kid still resolves to key, without fetching: a key set that a JWKS fetch
// has replaced no longer vouches for the tokens its old keys verified.
func (ks *keySet) holds(kid string, key *rsa.PublicKey) bool {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	k, ok := ks.lookup(kid)
	return ok && k == key
}

func (ks *keySet) lookup(kid string) (*rsa.PublicKey, bool) {
	if kid == "" && len(ks.keys) == 1 {
		for _, k := range ks.keys {
			return k, true
		}
	}
	k, ok := ks.keys[kid]
	return k, ok
}

// jwk is one RSA key of a JWKS document (RFC 7517).
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func (ks *keySet) fetch() (map[string]*rsa.PublicKey, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ks.client.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ks.url, nil)
	if err != nil {
		return nil, fmt.Errorf("gateway: JWKS request: %w", err)
	}
	resp, err := ks.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("gateway: fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("gateway: fetch JWKS: status %s", resp.Status)
	}
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("gateway: decode JWKS: %w", err)
	}
	keys := make(map[string]*rsa.PublicKey, len(doc.Keys))
	for _, k := range doc.Keys {
		if k.Kty != "RSA" {
			continue
		}
		pub, err := k.rsa()
		if err != nil {
			return nil, fmt.Errorf("gateway: JWKS key %q: %w", k.Kid, err)
		}
		keys[k.Kid] = pub
	}
	return keys, nil
}

func (k jwk) rsa() (*rsa.PublicKey, error) {
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil {
		return nil, fmt.Errorf("modulus: %w", err)
	}
	e, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil {
		return nil, fmt.Errorf("exponent: %w", err)
	}
	exp := new(big.Int).SetBytes(e)
	if !exp.IsInt64() || exp.Int64() < 3 || exp.Int64() > 1<<31-1 {
		return nil, fmt.Errorf("exponent out of range")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())}, nil
}
