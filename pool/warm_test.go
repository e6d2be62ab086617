package pool

import (
	"bufio"
	"context"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9"
)

// serveAnyCommand plays a server older than HELLO (so the client falls back to RESP2) that
// answers every other command with +PONG, until conn closes: enough for a client that only
// PINGs.
func serveAnyCommand(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "*")))
		var name string
		for i := range n * 2 { // $len line, then the argument
			arg, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if i == 1 {
				name = strings.ToUpper(strings.TrimSpace(arg))
			}
		}
		reply := "+PONG\r\n"
		if name == "HELLO" {
			reply = "-ERR unknown command 'HELLO'\r\n"
		}
		if _, err := io.WriteString(conn, reply); err != nil {
			return
		}
	}
}

// dialTimes borrows n connections with the given spread from a fresh client that has idle
// connections already (dialed before the start), in a synctest bubble, and returns when each
// connection was dialed and when each borrow began its work, relative to the start.
func dialTimes(t *testing.T, n, idle int, spread time.Duration) (dials, work []time.Duration) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		start := time.Now()
		// An IP literal: go-redis would otherwise resolve localhost, which a bubble forbids.
		c := redis.NewClient(&redis.Options{
			Addr: "127.0.0.1:6379", Protocol: 2, DisableIdentity: true, PoolSize: n, MaxRetries: -1,
			Dialer: func(context.Context, string, string) (net.Conn, error) {
				mu.Lock()
				dials = append(dials, time.Since(start))
				mu.Unlock()
				client, server := net.Pipe()
				go serveAnyCommand(server)
				return client, nil
			},
		})
		defer c.Close()
		ctx := context.Background()
		if idle > 0 {
			if err := borrow(ctx, c, idle, 0, func(cn *redis.Conn) error { return cn.Ping(ctx).Err() }); err != nil {
				t.Fatal(err)
			}
			dials = nil
		}
		err := borrow(ctx, c, n, spread, func(cn *redis.Conn) error {
			mu.Lock()
			work = append(work, time.Since(start))
			mu.Unlock()
			return cn.Ping(ctx).Err()
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	slices.Sort(dials)
	slices.Sort(work)
	return dials, work
}

// Warm-up staggers its dials: each connection waits a random delay within the window, so a
// scale-out of many instances does not open every connection at the same instant (Azure's
// advice: https://learn.microsoft.com/azure/redis/best-practices-server-load#avoid-client-connection-spikes).
func TestBorrowStaggersDials(t *testing.T) {
	const n = 8
	at, _ := dialTimes(t, n, 0, time.Second)
	if len(at) != n {
		t.Fatalf("%d dials, want %d", len(at), n)
	}
	if at[n-1] >= time.Second {
		t.Errorf("a dial at %v, after the 1s window", at[n-1])
	}
	if at[0] == at[n-1] {
		t.Errorf("all %d dials at %v: not staggered", n, at[0])
	}
	// Without a spread (re-authentication passes over idle connections) nothing waits.
	if at, _ := dialTimes(t, n, 0, 0); len(at) != n || at[n-1] != 0 {
		t.Errorf("unstaggered dials at %v, want all at 0", at)
	}
}

// An idle connection needs no dial, so its borrow does not wait: warm-up PINGs the connection its
// first command opened at once, and only the new ones are staggered.
func TestBorrowTakesIdleConnectionsAtOnce(t *testing.T) {
	dials, work := dialTimes(t, 4, 1, time.Second)
	if len(dials) != 3 || len(work) != 4 {
		t.Fatalf("%d dials and %d borrows, want 3 and 4", len(dials), len(work))
	}
	if work[0] != 0 || dials[0] == 0 {
		t.Errorf("borrows began at %v, dials at %v: want the idle one at once, the dials later", work, dials)
	}
}

// The stagger never takes more than half of what the warm-up has left.
func TestStaggerFitsTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		if got := stagger(context.Background()); got != warmStagger {
			t.Errorf("no deadline: %v, want %v", got, warmStagger)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if got := stagger(ctx); got != 50*time.Millisecond {
			t.Errorf("100ms left: %v, want 50ms", got)
		}
	})
}
