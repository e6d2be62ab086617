package gateway

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/redis/go-redis/v9"

	"github.com/funcredis/funcredis/internal/redistest"
)

const (
	testIssuer = "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/"
	testOID    = "4a1bd2c6-6f3e-4f5a-9d0e-3b7c2a1e9f10"
	otherOID   = "9e8d7c6b-5a49-4838-a726-1504f3e2d1c0"
	backendPW  = "backend-secret"
	wrongPass  = "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
)

// signer mints RS256 tokens the way Entra does.
type signer struct {
	key *rsa.PrivateKey
	kid string
}

func newSigner(t testing.TB) *signer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{key: key, kid: "test-kid"}
}

// claims returns valid claims for oid expiring after lifetime.
func (s *signer) claims(oid string, lifetime time.Duration) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"aud": "https://redis.azure.com",
		"iss": testIssuer,
		"oid": oid,
		"iat": now.Add(-time.Minute).Unix(),
		"nbf": now.Add(-time.Minute).Unix(),
		"exp": now.Add(lifetime).Unix(),
	}
}

func (s *signer) sign(t testing.TB, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = s.kid
	str, err := tok.SignedString(s.key)
	if err != nil {
		t.Fatal(err)
	}
	return str
}

// token returns a valid token for oid expiring after lifetime.
func (s *signer) token(t testing.TB, oid string, lifetime time.Duration) string {
	return s.sign(t, s.claims(oid, lifetime))
}

// env is a gateway in front of a private redis-server.
type env struct {
	g       *Gateway
	backend *redistest.Server
	signer  *signer
}

// newEnv starts a real redis-server with a password and a gateway in front
// of it, and assigns testOID the default policy.
func newEnv(t testing.TB, tune func(*Config)) *env {
	t.Helper()
	srv := redistest.MustReal(t, redistest.Options{Password: backendPW})
	s := newSigner(t)
	cfg := Config{
		Backend:         srv.Addr,
		BackendPassword: backendPW,
		Issuer:          testIssuer,
		Keys:            map[string]*rsa.PublicKey{s.kid: &s.key.PublicKey},
	}
	if tune != nil {
		tune(&cfg)
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	if err := g.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := g.AssignPolicy(testOID, "default"); err != nil {
		t.Fatal(err)
	}
	return &env{g: g, backend: srv, signer: s}
}

// rawConn is a RESP client that shows replies byte for byte.
type rawConn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// send writes commands, each a RESP array of its space-separated words.
func (c *rawConn) send(cmds ...string) {
	c.t.Helper()
	var b []byte
	for _, cmd := range cmds {
		var args [][]byte
		for _, w := range strings.Fields(cmd) {
			args = append(args, []byte(w))
		}
		b = appendCommand(b, args...)
	}
	c.write(b)
}

func (c *rawConn) write(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next reply's raw bytes.
func (c *rawConn) read() string {
	c.t.Helper()
	s, err := c.tryRead(10 * time.Second)
	if err != nil {
		c.t.Fatalf("read reply: %v", err)
	}
	return s
}

func (c *rawConn) tryRead(timeout time.Duration) (string, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(timeout))
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	var p reply
	err := (&replyReader{r: c.br, w: w}).next(&p)
	w.Flush()
	return out.String(), err
}

// do sends one command and returns its reply.
func (c *rawConn) do(cmd string) string {
	c.t.Helper()
	c.send(cmd)
	return c.read()
}

// closed waits (boundedly) for the server to close the connection and
// reports whether it did.
func (c *rawConn) closed() bool {
	c.t.Helper()
	_, err := c.tryRead(15 * time.Second)
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// client returns a go-redis client authenticated with token as oid.
func (e *env) client(t testing.TB, oid, token string, tune func(*redis.Options)) *redis.Client {
	t.Helper()
	opt := &redis.Options{
		Addr:            e.g.Addr(),
		Username:        oid,
		Password:        token,
		MaxRetries:      -1,
		DisableIdentity: true,
	}
	if tune != nil {
		tune(opt)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// tlsConfig trusts the gateway's CA file.
func tlsConfig(t testing.TB, caFile string) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("CA file holds no certificate")
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}
