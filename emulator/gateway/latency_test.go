package gateway

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9"
)

// In fake time: the client's first bytes arrive after a handshake's round trip and half of
// another, every later piece half a round trip after it was sent, in order however many are in
// flight, and what the server wrote before Close still arrives, before the end of the stream.
func TestLatencyConnDelays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rtt = 10 * time.Millisecond
		client, raw := net.Pipe()
		server := newLatencyConn(raw, rtt, func(t time.Time) { time.Sleep(time.Until(t)) })
		start := time.Now()
		go func() {
			_, _ = client.Write([]byte("hello"))
			time.Sleep(rtt)
			_, _ = client.Write([]byte(" one"))
			_, _ = client.Write([]byte(" two"))
		}()
		read := func(want string) time.Duration {
			t.Helper()
			buf := make([]byte, len(want))
			if _, err := io.ReadFull(server, buf); err != nil || string(buf) != want {
				t.Fatalf("read %q, %v; want %q", buf, err, want)
			}
			return time.Since(start)
		}
		if at := read("hello"); at != rtt+rtt/2 {
			t.Errorf("first bytes at %v, want %v", at, rtt+rtt/2)
		}
		if at := read(" one two"); at != rtt+rtt/2 {
			t.Errorf("pipelined bytes at %v, want %v (sent at %v)", at, rtt+rtt/2, rtt)
		}

		sent := time.Now()
		if _, err := server.Write([]byte("reply")); err != nil {
			t.Fatal(err)
		}
		server.Close()
		got, err := io.ReadAll(client)
		if string(got) != "reply" || err != nil {
			t.Errorf("after Close the client read %q, %v; want the reply, then the end", got, err)
		}
		if at := time.Since(sent); at != rtt/2 {
			t.Errorf("reply arrived after %v, want %v", at, rtt/2)
		}
		if _, err := server.Write([]byte("x")); err == nil {
			t.Error("Write after Close succeeded")
		}
	})
}

// Through the TLS gateway with a round-trip time, connections accepted from then on work as
// before, the TLS handshake, large values and pipelines included, and so do those accepted
// before.
func TestRoundTripThroughTheGateway(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.TLS = true })
	ctx := context.Background()
	opts := func(o *redis.Options) { o.TLSConfig = tlsConfig(t, e.g.CAFile()) }
	before := e.client(t, testOID, e.signer.token(t, testOID, time.Hour), opts)
	if err := before.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	e.g.SetRoundTrip(2 * time.Millisecond)
	c := e.client(t, testOID, e.signer.token(t, testOID, time.Hour), opts)
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10)
	if err := c.Set(ctx, "big", big, 0).Err(); err != nil {
		t.Fatal(err)
	}
	cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, "big")
		p.Incr(ctx, "n")
		p.Get(ctx, "big")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := cmds[2].(*redis.StringCmd).Val(); v != string(big) || cmds[1].(*redis.IntCmd).Val() != 1 {
		t.Fatalf("pipeline through the delayed link: %d bytes, incr %d", len(v), cmds[1].(*redis.IntCmd).Val())
	}
	if err := before.Get(ctx, "big").Err(); err != nil {
		t.Fatal(err)
	}
}
