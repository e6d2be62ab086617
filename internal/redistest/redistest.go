// Package redistest starts private Redis servers for tests: a real
// redis-server on a free loopback port when one is installed, otherwise an
// embedded miniredis (and it says so). Tests never touch a shared instance.
//
// Set FUNCREDIS_REQUIRE_REDIS_SERVER=1 (CI does) to make a missing
// redis-server a failure instead of a fallback.
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// RequireEnv names the environment variable that turns a missing
// redis-server into a failure.
const RequireEnv = "FUNCREDIS_REQUIRE_REDIS_SERVER"

// Options configures a server. The zero value is a password-less server.
type Options struct {
	// Password, when set, is the default user's password (requirepass).
	Password string
	// Args are extra redis-server arguments, e.g. "--cluster-enabled", "yes".
	// They are ignored by the embedded fallback.
	Args []string
}

// Server is one private Redis server.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	// Password is the default user's password, or empty.
	Password string
	// Real reports whether this is a real redis-server (false: miniredis).
	Real bool

	cmd  *exec.Cmd
	dir  string
	mini *miniredis.Miniredis
	once sync.Once
}

// Available reports whether a redis-server binary is on PATH.
func Available() bool {
	_, err := exec.LookPath("redis-server")
	return err == nil
}

// Start starts a server. Close it when done.
func Start(opts Options) (*Server, error) {
	if Available() {
		return startReal(opts)
	}
	if os.Getenv(RequireEnv) == "1" {
		return nil, fmt.Errorf("redistest: redis-server is not on PATH and %s=1", RequireEnv)
	}
	fmt.Fprintln(os.Stderr, "redistest: redis-server not found; falling back to embedded miniredis (install redis-server to test against real Redis)")
	m := miniredis.NewMiniRedis()
	if opts.Password != "" {
		m.RequireAuth(opts.Password)
	}
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("redistest: start miniredis: %w", err)
	}
	return &Server{Addr: m.Addr(), Password: opts.Password, mini: m}, nil
}

// StartReal starts a real redis-server or fails: for tests that need
// behaviour miniredis lacks (ACL users, cluster). Without redis-server and
// outside CI, the caller should skip.
func StartReal(opts Options) (*Server, error) {
	if !Available() {
		return nil, ErrNoRedisServer
	}
	return startReal(opts)
}

// ErrNoRedisServer is returned by StartReal when redis-server is missing.
var ErrNoRedisServer = errors.New("redistest: redis-server is not installed")

func startReal(opts Options) (*Server, error) {
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s, err := launch(port, opts)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func launch(port int, opts Options) (*Server, error) {
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, fmt.Errorf("redistest: temp dir: %w", err)
	}
	args := []string{
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--dir", dir,
		"--daemonize", "no", "--logfile", filepath.Join(dir, "redis.log"),
	}
	if opts.Password != "" {
		args = append(args, "--requirepass", opts.Password)
	}
	args = append(args, opts.Args...)
	cmd := exec.Command("redis-server", args...)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("redistest: start redis-server: %w", err)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Password: opts.Password, Real: true, cmd: cmd, dir: dir}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			os.RemoveAll(dir)
			return nil, fmt.Errorf("redistest: redis-server exited (%v): %s", err, lastLines(string(log), 5))
		default:
		}
		if s.ping() == nil {
			go func() { <-exited }()
			return s, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	os.RemoveAll(dir)
	return nil, fmt.Errorf("redistest: redis-server on port %d did not answer within 10s", port)
}

// ping sends PING (after AUTH when a password is set) and expects a reply.
func (s *Server) ping() error {
	c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	cmd := "PING\r\n"
	if s.Password != "" {
		cmd = "AUTH " + s.Password + "\r\nPING\r\n"
	}
	if _, err := c.Write([]byte(cmd)); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if strings.HasPrefix(line, "-LOADING") {
		return errors.New("loading")
	}
	return nil
}

// Close stops the server and removes its files. It is idempotent.
func (s *Server) Close() error {
	s.once.Do(func() {
		if s.mini != nil {
			s.mini.Close()
			return
		}
		_ = s.cmd.Process.Kill()
		os.RemoveAll(s.dir)
	})
	return nil
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
	if !Available() {
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

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redistest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
