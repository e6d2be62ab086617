package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestDropAll(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	token := e.signer.token(t, testOID, time.Hour)
	a, b := dialRaw(t, e.g.Addr()), dialRaw(t, e.g.Addr())
	a.do("AUTH " + testOID + " " + token)
	b.do("PING") // unauthenticated connections are dropped too
	if n := e.g.DropAll(); n != 2 {
		t.Fatalf("DropAll = %d, want 2", n)
	}
	if !a.closed() || !b.closed() {
		t.Fatal("a connection survived DropAll")
	}
	// go-redis reconnects on its own.
	c := e.client(t, testOID, token, func(o *redis.Options) { o.MaxRetries = 2 })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if s := e.g.Stats(); s.ClosedByFault != 2 || s.Active != 1 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestRefuseNew(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	token := e.signer.token(t, testOID, time.Hour)
	open := e.client(t, testOID, token, func(o *redis.Options) { o.PoolSize = 1 })
	if err := open.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	e.g.RefuseNew(true)
	if err := e.client(t, testOID, token, nil).Ping(ctx).Err(); err == nil {
		t.Fatal("a new connection was served while refusing")
	}
	if err := open.Ping(ctx).Err(); err != nil {
		t.Fatalf("existing connection while refusing new ones: %v", err)
	}
	e.g.RefuseNew(false)
	if err := e.client(t, testOID, token, nil).Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if s := e.g.Stats(); s.Refused == 0 {
		t.Fatalf("stats = %+v", s)
	}
}

// TestPause holds a command sent during a pause and answers it afterwards.
func TestPause(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := dialRaw(t, e.g.Addr())
	c.do("AUTH " + testOID + " " + e.signer.token(t, testOID, time.Hour))
	e.g.Pause(time.Second)
	c.send("PING")
	_, err := c.tryRead(50 * time.Millisecond)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("reply during a pause: %v", err)
	}
	if got := c.read(); got != "+PONG\r\n" {
		t.Fatalf("after the pause: %q", got)
	}
	e.g.SetDelay(time.Millisecond)
	if got := c.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("with a delay: %q", got)
	}
}

func TestAdminHandler(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	srv := httptest.NewServer(e.g.AdminHandler())
	t.Cleanup(srv.Close)
	post := func(path string, want int) *http.Response {
		t.Helper()
		resp, err := http.Post(srv.URL+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != want {
			t.Fatalf("POST %s = %s, want %d", path, resp.Status, want)
		}
		return resp
	}
	c := dialRaw(t, e.g.Addr())
	c.do("AUTH " + testOID + " " + e.signer.token(t, testOID, time.Hour))

	var dropped struct{ Dropped int }
	if err := json.NewDecoder(post("/faults/drop", http.StatusOK).Body).Decode(&dropped); err != nil || dropped.Dropped != 1 {
		t.Fatalf("drop = %+v, %v", dropped, err)
	}
	post("/faults/pause?for=1ms", http.StatusNoContent)
	post("/faults/pause?for=soon", http.StatusBadRequest)
	post("/faults/delay?d=0", http.StatusNoContent)
	post("/network/rtt?d=0", http.StatusNoContent)
	post("/network/rtt?d=-1ms", http.StatusBadRequest)
	post("/faults/refuse?on=false", http.StatusNoContent)
	post("/faults/refuse", http.StatusBadRequest)
	post("/policies?oid="+otherOID+"&access=%2B%40read+~*", http.StatusNoContent)
	post("/policies?oid=a:b", http.StatusBadRequest)
	post("/faults/revoke?oid="+testOID, http.StatusNoContent)
	c = dialRaw(t, e.g.Addr())
	if got := c.do("AUTH " + testOID + " " + e.signer.token(t, testOID, time.Hour)); got != wrongPass {
		t.Fatalf("AUTH after revoke = %q", got)
	}
	if got := c.do("AUTH " + otherOID + " " + e.signer.token(t, otherOID, time.Hour)); got != "+OK\r\n" {
		t.Fatalf("AUTH after assignment = %q", got)
	}

	resp, err := http.Get(srv.URL + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s Stats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	if s.ClosedByFault != 1 || s.AuthOK != 2 || s.AuthFailed[ReasonNoPolicy] != 1 || s.Connections != 2 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.TLS = true })
	if e.g.CAFile() == "" {
		t.Fatal("no CA file")
	}
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := e.client(t, testOID, e.signer.token(t, testOID, time.Hour), func(o *redis.Options) {
			o.Protocol = proto
			o.TLSConfig = tlsConfig(t, e.g.CAFile())
		})
		if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatalf("RESP%d over TLS: %v", proto, err)
		}
	}
	plain := e.client(t, testOID, e.signer.token(t, testOID, time.Hour), nil)
	if err := plain.Ping(ctx).Err(); err == nil {
		t.Fatal("plaintext client served by a TLS gateway")
	}
	ca := e.g.CAFile()
	e.g.Close()
	if err := e.g.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ca); err == nil {
		t.Fatal("temporary CA file left after Close")
	}
}
