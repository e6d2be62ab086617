// Package redistest gives each test its own Redis server: a real
// redis-server on a free loopback port when one is installed, otherwise an
// embedded miniredis (and it says so). Tests never touch a shared instance.
//
// Set FUNCREDIS_REQUIRE_REDIS_SERVER=1 (CI does) to make a missing
// redis-server a failure instead of a fallback.
package redistest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/funcredis/funcredis/emulator/redisserver"
)

// RequireEnv names the environment variable that turns a missing
// redis-server into a failure.
const RequireEnv = "FUNCREDIS_REQUIRE_REDIS_SERVER"

// Options configures a server; see redisserver.Options.
type Options = redisserver.Options

// Server is one private Redis server.
type Server struct {
	*redisserver.Server
	// Real reports whether this is a real redis-server (false: miniredis).
	Real bool
}

// Start starts a real redis-server, or miniredis when none is installed and
// FUNCREDIS_REQUIRE_REDIS_SERVER is not 1. Close it when done.
func Start(opts Options) (*Server, error) {
	if redisserver.Installed() {
		return StartReal(opts)
	}
	if os.Getenv(RequireEnv) == "1" {
		return nil, fmt.Errorf("redistest: redis-server is not on PATH and %s=1", RequireEnv)
	}
	fmt.Fprintln(os.Stderr, "redistest: redis-server not found; falling back to embedded miniredis (install redis-server to test against real Redis)")
	s, err := redisserver.StartEmbedded(opts)
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	return &Server{Server: s}, nil
}

// StartReal starts a real redis-server or fails (redisserver.ErrNotInstalled):
// for tests that need what miniredis lacks (ACL users, cluster).
func StartReal(opts Options) (*Server, error) {
	s, err := redisserver.Start(context.Background(), opts)
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	return &Server{Server: s, Real: true}, nil
}

// Must starts a server for one test and closes it at the test's end.
func Must(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := Start(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// MustReal is Must for a real redis-server. Without one it skips the test,
// unless FUNCREDIS_REQUIRE_REDIS_SERVER=1, where it fails.
func MustReal(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if !redisserver.Installed() {
		if os.Getenv(RequireEnv) == "1" {
			tb.Fatalf("redis-server is not on PATH and %s=1", RequireEnv)
		}
		tb.Skip("needs a real redis-server (not installed); miniredis lacks this feature")
	}
	s, err := StartReal(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
