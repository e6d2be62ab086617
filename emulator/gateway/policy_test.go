package gateway

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestCustomAccessPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if err := e.g.AssignPolicy(otherOID, "+@read +@connection ~*"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	writer := e.client(t, testOID, e.signer.token(t, testOID, time.Hour), nil)
	if err := writer.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	reader := e.client(t, otherOID, e.signer.token(t, otherOID, time.Hour), nil)
	if v, err := reader.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("read-only GET = %q, %v", v, err)
	}
	err := reader.Set(ctx, "k", "w", 0).Err()
	if err == nil || err.Error() != "NOPERM User amr-"+otherOID+" has no permissions to run the 'set' command" &&
		err.Error() != "NOPERM this user has no permissions to run the 'set' command" {
		t.Fatalf("read-only SET error = %v", err)
	}
	// Updating the assignment applies to the open connection at once.
	if err := e.g.AssignPolicy(otherOID, "default"); err != nil {
		t.Fatal(err)
	}
	if err := reader.Set(ctx, "k", "w", 0).Err(); err != nil {
		t.Fatalf("SET after the policy became default: %v", err)
	}
	// The default policy has no administrative commands.
	c := dialRaw(t, e.g.Addr())
	c.do("AUTH " + testOID + " " + e.signer.token(t, testOID, time.Hour))
	for _, cmd := range []string{"CONFIG GET maxmemory", "ACL SETUSER amr-x on nopass", "MONITOR", "CLIENT LIST"} {
		if got := c.do(cmd); got[:7] != "-NOPERM" {
			t.Errorf("%s = %q", cmd, got)
		}
	}
}

func TestAssignPolicyRefusesPasswordRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, access := range []string{"+@all nopass", "+@all >secret", "on +@all", "reset"} {
		if err := e.g.AssignPolicy(otherOID, access); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("AssignPolicy(%q) = %v", access, err)
		}
	}
	for _, oid := range []string{"", "a b", "x:y"} {
		if err := e.g.AssignPolicy(oid, ""); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("AssignPolicy(oid %q) = %v", oid, err)
		}
	}
}

// TestRevoke: later AUTHs are refused (no_policy); an authenticated
// connection keeps working.
func TestRevoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	token := e.signer.token(t, testOID, time.Hour)
	live := e.client(t, testOID, token, func(o *redis.Options) { o.PoolSize = 1 })
	if err := live.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.g.Revoke(testOID); err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, e.g.Addr())
	if got := c.do("AUTH " + testOID + " " + token); got != wrongPass {
		t.Fatalf("AUTH after Revoke = %q", got)
	}
	if got := e.g.Stats().AuthFailed[ReasonNoPolicy]; got != 1 {
		t.Fatalf("no_policy = %d", got)
	}
	if err := live.Ping(ctx).Err(); err != nil {
		t.Fatalf("authenticated connection after Revoke: %v", err)
	}
	if err := e.g.AssignPolicy(testOID, ""); err != nil {
		t.Fatal(err)
	}
	if got := c.do("AUTH " + testOID + " " + token); got != "+OK\r\n" {
		t.Fatalf("AUTH after a new assignment = %q", got)
	}
}
