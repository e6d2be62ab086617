package gateway

import (
	"context"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/redis/go-redis/v9"
)

func TestNoAuthBeforeAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := dialRaw(t, e.g.Addr())
	for _, cmd := range []string{"GET k", "SET k v", "PING", "SUBSCRIBE ch"} {
		if got := c.do(cmd); got != "-NOAUTH Authentication required.\r\n" {
			t.Errorf("%s before AUTH = %q", cmd, got)
		}
	}
	if got := c.do("QUIT"); got != "+OK\r\n" {
		t.Errorf("QUIT = %q", got)
	}
	if !c.closed() {
		t.Error("connection open after QUIT")
	}
}

func TestAuthWithValidToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, aud := range Audiences {
		c := dialRaw(t, e.g.Addr())
		claims := e.signer.claims(testOID, time.Hour)
		claims["aud"] = aud
		if got := c.do("AUTH " + testOID + " " + e.signer.sign(t, claims)); got != "+OK\r\n" {
			t.Fatalf("AUTH with aud %s = %q", aud, got)
		}
		if got := c.do("SET k v"); got != "+OK\r\n" {
			t.Fatalf("SET = %q", got)
		}
		if got := c.do("ACL WHOAMI"); got != "$40\r\namr-"+testOID+"\r\n" {
			t.Fatalf("backend user = %q", got)
		}
	}
	// Inline commands work too.
	c := dialRaw(t, e.g.Addr())
	c.write([]byte("AUTH " + testOID + " " + e.signer.token(t, testOID, time.Hour) + "\r\nGET k\r\n"))
	if got := c.read() + c.read(); got != "+OK\r\n$1\r\nv\r\n" {
		t.Fatalf("inline AUTH, GET = %q", got)
	}
	if s := e.g.Stats(); s.AuthOK != int64(len(Audiences))+1 || s.ReAuths != 0 {
		t.Fatalf("stats = %+v", s)
	}
}

// TestRefusedTokens checks each way a token is refused: the client sees
// exactly Azure's WRONGPASS, the counter names the reason.
func TestRefusedTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	stranger := newSigner(t)
	stranger.kid = e.signer.kid
	with := func(k string, v any) string {
		c := e.signer.claims(testOID, time.Hour)
		c[k] = v
		return e.signer.sign(t, c)
	}
	hs256, err := jwt.NewWithClaims(jwt.SigningMethodHS256, e.signer.claims(testOID, time.Hour)).SignedString([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	unknownKid := newSigner(t)
	unknownKid.kid = "other"
	cases := []struct {
		name, user, token, reason string
	}{
		{"expired", testOID, with("exp", time.Now().Add(-time.Second).Unix()), ReasonExpired},
		{"not yet valid", testOID, with("nbf", time.Now().Add(time.Hour).Unix()), ReasonNotYetValid},
		{"other audience", testOID, with("aud", "https://storage.azure.com"), ReasonWrongAudience},
		{"other issuer", testOID, with("iss", "https://sts.windows.net/other/"), ReasonWrongIssuer},
		{"wrong user name", otherOID, e.signer.token(t, testOID, time.Hour), ReasonUserMismatch},
		{"object ID without policy", otherOID, e.signer.token(t, otherOID, time.Hour), ReasonNoPolicy},
		{"other signing key", testOID, stranger.token(t, testOID, time.Hour), ReasonBadSignature},
		{"unknown kid", testOID, unknownKid.token(t, testOID, time.Hour), ReasonBadSignature},
		{"HS256", testOID, hs256, ReasonBadSignature},
		{"not a JWT", testOID, "not-a-token", ReasonMalformed},
		{"no exp", testOID, func() string { c := e.signer.claims(testOID, time.Hour); delete(c, "exp"); return e.signer.sign(t, c) }(), ReasonMalformed},
		{"backend password", "default", backendPW, ReasonMalformed},
	}
	for _, tc := range cases {
		before := e.g.Stats().AuthFailed[tc.reason]
		c := dialRaw(t, e.g.Addr())
		if got := c.do("AUTH " + tc.user + " " + tc.token); got != wrongPass {
			t.Errorf("%s: AUTH = %q", tc.name, got)
		}
		if got := c.do("HELLO 3 AUTH " + tc.user + " " + tc.token); got != wrongPass {
			t.Errorf("%s: HELLO = %q", tc.name, got)
		}
		if got := c.do("GET k"); got != "-NOAUTH Authentication required.\r\n" {
			t.Errorf("%s: GET after refused AUTH = %q", tc.name, got)
		}
		if got := e.g.Stats().AuthFailed[tc.reason] - before; got != 2 {
			t.Errorf("%s: AuthFailed[%s] grew by %d, want 2", tc.name, tc.reason, got)
		}
	}
	// AUTH <password> alone (the default user) is never an object ID.
	c := dialRaw(t, e.g.Addr())
	if got := c.do("AUTH " + backendPW); got != wrongPass {
		t.Errorf("AUTH <backend password> = %q", got)
	}
	if s := e.g.Stats(); s.AuthOK != 0 {
		t.Errorf("AuthOK = %d", s.AuthOK)
	}
}

func TestRefusedTokensThroughGoRedis(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	expired := e.signer.claims(testOID, time.Hour)
	expired["exp"] = time.Now().Add(-time.Minute).Unix()
	audience := e.signer.claims(testOID, time.Hour)
	audience["aud"] = "https://vault.azure.net"
	cases := map[string]struct{ user, token string }{
		"expired":        {testOID, e.signer.sign(t, expired)},
		"other audience": {testOID, e.signer.sign(t, audience)},
		"wrong user":     {otherOID, e.signer.token(t, testOID, time.Hour)},
		"no policy":      {otherOID, e.signer.token(t, otherOID, time.Hour)},
	}
	for name, tc := range cases {
		for _, proto := range []int{2, 3} {
			c := e.client(t, tc.user, tc.token, func(o *redis.Options) { o.Protocol = proto })
			err := c.Ping(context.Background()).Err()
			if err == nil || err.Error() != strings.TrimSuffix(wrongPass[1:], "\r\n") {
				t.Errorf("%s, RESP%d: Ping error = %v", name, proto, err)
			}
		}
	}
	for _, proto := range []int{2, 3} {
		c := e.client(t, testOID, e.signer.token(t, testOID, time.Hour), func(o *redis.Options) { o.Protocol = proto })
		ctx := context.Background()
		if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatalf("RESP%d: Set: %v", proto, err)
		}
		if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
			t.Fatalf("RESP%d: Get = %q, %v", proto, v, err)
		}
	}
}

// TestHelloAnswersAsTheBackend compares HELLO through the gateway with HELLO
// sent straight to redis-server by the same ACL user.
func TestHelloAnswersAsTheBackend(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	p, _ := e.g.policyFor(testOID)
	token := e.signer.token(t, testOID, time.Hour)
	for _, proto := range []string{"2", "3"} {
		direct := dialRaw(t, e.backend.Addr)
		want := direct.do("HELLO " + proto + " AUTH " + p.user + " " + p.password + " SETNAME direct")
		via := dialRaw(t, e.g.Addr())
		got := via.do("HELLO " + proto + " AUTH " + testOID + " " + token + " SETNAME via")
		// Only the connection id differs.
		if mask(got) != mask(want) {
			t.Errorf("HELLO %s through the gateway = %q, backend answers %q", proto, got, want)
		}
		if got := via.do("CLIENT GETNAME"); got != "$3\r\nvia\r\n" {
			t.Errorf("CLIENT GETNAME = %q", got)
		}
	}
	// Errors that are not about authentication come from the server too.
	c := dialRaw(t, e.g.Addr())
	if got := c.do("HELLO 4 AUTH " + testOID + " " + token); !strings.HasPrefix(got, "-NOPROTO") {
		t.Errorf("HELLO 4 = %q", got)
	}
	if got := c.do("HELLO 3 AUTH " + testOID); !strings.HasPrefix(got, "-ERR Syntax error in HELLO option") {
		t.Errorf("HELLO with half an AUTH = %q", got)
	}
	if got := c.do("HELLO 3"); !strings.HasPrefix(got, "-NOAUTH HELLO must be called") {
		t.Errorf("HELLO without AUTH = %q", got)
	}
}

// mask hides the connection id in a HELLO reply.
func mask(s string) string {
	i := strings.Index(s, "$2\r\nid\r\n:")
	if i < 0 {
		return s
	}
	j := strings.Index(s[i+9:], "\r\n")
	return s[:i+9] + "N" + s[i+9+j:]
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	srv := jwksServer(t, s)
	e := newEnv(t, func(c *Config) {
		c.Keys = nil
		c.JWKSURL = srv.URL
	})
	c := dialRaw(t, e.g.Addr())
	if got := c.do("AUTH " + testOID + " " + s.token(t, testOID, time.Hour)); got != "+OK\r\n" {
		t.Fatalf("AUTH with a JWKS key = %q", got)
	}
	if got := c.do("AUTH " + testOID + " " + e.signer.token(t, testOID, time.Hour)); got != wrongPass {
		t.Fatalf("AUTH with a key not in the JWKS = %q", got)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	key := map[string]*rsa.PublicKey{"k": &newSigner(t).key.PublicKey}
	for name, cfg := range map[string]Config{
		"no backend": {Issuer: testIssuer, Keys: key},
		"no issuer":  {Backend: "127.0.0.1:1", Keys: key},
		"no keys":    {Backend: "127.0.0.1:1", Issuer: testIssuer},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}
