package localstack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/funcredis/funcredis/emulator/redisserver"
	"github.com/funcredis/funcredis/emulator/tokenservice"
	"github.com/funcredis/funcredis/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// start starts a stack for one test.
func start(t *testing.T, cfg Config) *Stack {
	t.Helper()
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// env turns Env's lines into a map.
func env(s *Stack) map[string]string {
	m := map[string]string{}
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// TestGatewayAcceptsTheAppIdentity talks to the TLS gateway as the handler would: the address,
// CA and identity of Env, a token of the app's identity as password.
func TestGatewayAcceptsTheAppIdentity(t *testing.T) {
	backend := redistest.MustReal(t, redistest.Options{Password: "random"})
	s := start(t, Config{Backend: backend.Server, TLS: true})
	e := env(s)
	if e["REDIS_HOST"] != s.Gateway.Addr() || e["REDIS_TLS"] != "true" || e["REDIS_AUTH"] != "entra" || e["AZURE_CLIENT_ID"] != AppClientID {
		t.Fatalf("Env = %v", e)
	}
	tlsConf, err := ClientTLS(e["REDIS_TLS_CA_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.Tokens.Token(AppObjectID)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: e["REDIS_HOST"], Username: AppObjectID, Password: tok, TLSConfig: tlsConf})
	defer rdb.Close()
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := redisserver.Ping(backend.Addr, backend.Password); err != nil {
		t.Errorf("the caller's backend after Close: %v", err)
	}
}

// TestBareInstallsIssuedTokens: with Bare the handler goes straight to the backend, and a token
// the token service hands out (over HTTP, as azidentity asks) opens it as the app's identity.
func TestBareInstallsIssuedTokens(t *testing.T) {
	backend := redistest.MustReal(t, redistest.Options{Password: "random"})
	s := start(t, Config{Backend: backend.Server, Bare: true})
	e := env(s)
	if s.Gateway != nil || e["REDIS_HOST"] != backend.Addr || e["REDIS_TLS"] != "false" || e["REDIS_AUTH"] != "entra" {
		t.Fatalf("gateway %v, Env %v; want the backend straight, with Entra", s.Gateway, e)
	}
	q := url.Values{"api-version": {"2019-08-01"}, "resource": {tokenservice.DefaultAudience}, "client_id": {AppClientID}}
	req, err := http.NewRequest(http.MethodGet, s.Tokens.Endpoint()+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-IDENTITY-HEADER", s.Tokens.Secret())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token response %d: %v", res.StatusCode, err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: e["REDIS_HOST"], Username: AppObjectID, Password: tok.AccessToken})
	defer rdb.Close()
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("the issued token on the bare backend: %v", err)
	}
}

// TestEmbedded hides redis-server: with Embedded the stack serves miniredis without the gateway;
// without it, it says redis-server is missing.
func TestEmbedded(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	s := start(t, Config{Embedded: true, TLS: true})
	if e := env(s); s.Gateway != nil || e["REDIS_HOST"] != s.Backend.Addr || e["REDIS_AUTH"] != "none" || e["REDIS_TLS"] != "false" {
		t.Errorf("gateway %v, Env %v; want miniredis directly, without TLS or Entra", s.Gateway, e)
	}
	if _, err := Start(context.Background(), Config{}); err == nil {
		t.Error("started without redis-server and without Embedded")
	}
}

func TestCopyScriptRoot(t *testing.T) {
	dir, bin := t.TempDir(), filepath.Join(t.TempDir(), "handler")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := CopyScriptRoot(dir, "../..", bin, false); err != nil {
		t.Fatal(err)
	}
	var hj struct {
		CustomHandler struct {
			Forwarding *bool `json:"enableForwardingHttpRequest"`
		} `json:"customHandler"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "host.json"))
	if err != nil || json.Unmarshal(b, &hj) != nil || hj.CustomHandler.Forwarding == nil || *hj.CustomHandler.Forwarding {
		t.Fatalf("host.json = %s (%v), want forwarding off", b, err)
	}
	fjs, _ := filepath.Glob(filepath.Join(dir, "*", "function.json"))
	var names []string
	for _, fj := range fjs {
		names = append(names, filepath.Base(filepath.Dir(fj)))
	}
	if !slices.Contains(names, "cache") || !slices.Contains(names, "health") {
		t.Errorf("function folders = %v", names)
	}
	if fi, err := os.Stat(filepath.Join(dir, "bin", "handler")); err != nil || fi.Mode()&0o100 == 0 {
		t.Errorf("bin/handler: %v %v", fi, err)
	}
}
