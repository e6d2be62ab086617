package gateway

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	azpolicy "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/redis/go-redis/v9"

	"github.com/funcredis/funcredis/emulator/tokenservice"
	"github.com/funcredis/funcredis/internal/redistest"
)

// TestEndToEndManagedIdentity: the real azidentity managed-identity
// credential gets a token from the token service, and go-redis uses it over
// TLS through the gateway, which verifies it with the service's JWKS.
//
// MSAL Go caches managed-identity tokens process-wide (by client ID), so
// each run uses a user-assigned identity of its own; the system-assigned
// identity would get a token cached from an earlier run, signed by an
// earlier service's key.
func TestEndToEndManagedIdentity(t *testing.T) {
	id := tokenservice.Identity{ClientID: randomGUID(t), ObjectID: randomGUID(t)}
	ts, err := tokenservice.New(tokenservice.Config{Identities: []tokenservice.Identity{id}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ts.Close() })
	t.Setenv("IDENTITY_ENDPOINT", ts.Endpoint())
	t.Setenv("IDENTITY_HEADER", ts.Secret())

	srv := redistest.MustReal(t, redistest.Options{Password: backendPW})
	g, err := New(Config{
		Backend:         srv.Addr,
		BackendPassword: backendPW,
		Issuer:          ts.Issuer(),
		JWKSURL:         ts.JWKSURL(),
		TLS:             true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	if err := g.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	oid := id.ObjectID
	if err := g.AssignPolicy(oid, "default"); err != nil {
		t.Fatal(err)
	}

	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(id.ClientID)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := cred.GetToken(ctx, azpolicy.TokenRequestOptions{Scopes: []string{"https://redis.azure.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{
		Addr:      g.Addr(),
		Username:  oid,
		Password:  tok.Token,
		TLSConfig: tlsConfig(t, g.CAFile()),
	})
	t.Cleanup(func() { c.Close() })
	if err := c.Set(ctx, "greeting", "hello", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "greeting").Result(); err != nil || v != "hello" {
		t.Fatalf("GET = %q, %v", v, err)
	}
	if s := g.Stats(); s.AuthOK == 0 {
		t.Fatalf("stats = %+v", s)
	}
}

func randomGUID(t testing.TB) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
