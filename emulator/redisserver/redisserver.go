// Package redisserver starts private Redis servers on loopback for the local
// stack, the tests and the benchmark: a real redis-server on a free port
// (password in a 0600 config file, not on the command line; no persistence),
// or the embedded miniredis when no redis-server is installed.
package redisserver

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// ErrNotInstalled is returned by Start when redis-server is not on PATH.
var ErrNotInstalled = errors.New("redisserver: redis-server is not installed")

// Options configures a server. The zero value is a password-less server.
type Options struct {
	// Password is the default user's password (requirepass); "random"
	// makes one up (see Server.Password).
	Password string
	// Args are extra redis-server arguments, e.g. "--cluster-enabled", "yes".
	// The embedded server ignores them.
	Args []string
}

// Server is one private Redis server.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	// Password is the default user's password, or empty.
	Password string
	// Embedded is true for miniredis (no ACL users, no cluster).
	Embedded bool

	cmd    *exec.Cmd
	exited chan error
	dir    string
	mini   *miniredis.Miniredis
	once   sync.Once
}

// Installed reports whether redis-server is on PATH.
func Installed() bool {
	_, err := exec.LookPath("redis-server")
	return err == nil
}

// Start starts a redis-server, retrying on another port if one was taken.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if !Installed() {
		return nil, ErrNotInstalled
	}
	if opts.Password == "random" {
		opts.Password = randomHex(16)
	}
	var lastErr error
	for range 5 {
		s, err := launch(ctx, opts)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// StartEmbedded starts miniredis on a free loopback port.
func StartEmbedded(opts Options) (*Server, error) {
	if opts.Password == "random" {
		opts.Password = randomHex(16)
	}
	m := miniredis.NewMiniRedis()
	if opts.Password != "" {
		m.RequireAuth(opts.Password)
	}
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("start embedded miniredis: %w", err)
	}
	return &Server{Addr: m.Addr(), Password: opts.Password, Embedded: true, mini: m}, nil
}

func launch(ctx context.Context, opts Options) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "redisserver-")
	if err != nil {
		return nil, fmt.Errorf("redis-server data dir: %w", err)
	}
	conf := filepath.Join(dir, "redis.conf")
	confText := ""
	if opts.Password != "" {
		confText = "requirepass " + opts.Password + "\n"
	}
	if err := os.WriteFile(conf, []byte(confText), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("redis-server config: %w", err)
	}
	args := append([]string{conf,
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--dir", dir,
		"--daemonize", "no", "--logfile", filepath.Join(dir, "redis.log")}, opts.Args...)
	cmd := exec.Command("redis-server", args...)
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Password: opts.Password,
		cmd: cmd, exited: make(chan error, 1), dir: dir}
	go func() { s.exited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exited:
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			os.RemoveAll(dir)
			return nil, fmt.Errorf("redis-server exited (%v): %s", err, lastLines(string(log), 3))
		case <-ctx.Done():
			s.Close()
			return nil, ctx.Err()
		default:
		}
		if Ping(s.Addr, s.Password) == nil {
			return s, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Close()
	return nil, fmt.Errorf("redis-server on port %d did not answer within 10s", port)
}

// Close stops the server and removes its files; a Server that only names an
// existing server (Addr and Password set by the caller) is left alone. It is
// idempotent.
func (s *Server) Close() error {
	s.once.Do(func() {
		switch {
		case s.mini != nil:
			s.mini.Close()
			return
		case s.cmd == nil:
			return
		}
		_ = s.cmd.Process.Kill()
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
		}
		os.RemoveAll(s.dir)
	})
	return nil
}

// Ping checks that the Redis server at addr answers PING, after AUTH with pw
// when pw is set.
func Ping(addr, pw string) error {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	cmd := "*1\r\n$4\r\nPING\r\n"
	if pw != "" {
		cmd = fmt.Sprintf("*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n", len(pw), pw) + cmd
	}
	if _, err := c.Write([]byte(cmd)); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	if pw != "" {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if !strings.HasPrefix(line, "+OK") {
			return errors.New("redis refused the password")
		}
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("redis answered %q to PING", strings.TrimSpace(line))
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
