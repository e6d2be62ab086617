package main

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
	"time"

	"github.com/alicebob/miniredis/v2"
)

// backend is the Redis server behind the gateway: a private redis-server,
// the embedded miniredis fallback, or an existing server (-redis-addr).
type backend struct {
	Addr     string
	Password string
	// Embedded is true for the miniredis fallback, which has no ACL users
	// and so cannot sit behind the gateway.
	Embedded bool

	cmd    *exec.Cmd
	exited chan error // receives Wait's result once redis-server is gone
	dir    string
	mini   *miniredis.Miniredis
}

// startBackend starts a redis-server with a random requirepass on a free
// loopback port, or miniredis when no redis-server is installed.
func startBackend(ctx context.Context) (*backend, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		m := miniredis.NewMiniRedis()
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("start embedded miniredis: %w", err)
		}
		return &backend{Addr: m.Addr(), Embedded: true, mini: m}, nil
	}
	var lastErr error
	for range 3 {
		b, err := launchRedis(ctx)
		if err == nil {
			return b, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func launchRedis(ctx context.Context) (*backend, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "localstack-redis-")
	if err != nil {
		return nil, fmt.Errorf("redis-server data dir: %w", err)
	}
	pw := randomHex(16)
	// The password goes in a config file, not the command line, so ps does not show it.
	conf := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(conf, []byte("requirepass "+pw+"\n"), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("redis-server config: %w", err)
	}
	cmd := exec.Command("redis-server", conf,
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--dir", dir,
		"--daemonize", "no", "--logfile", filepath.Join(dir, "redis.log"))
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan error, 1)
	b := &backend{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Password: pw, cmd: cmd, exited: exited, dir: dir}
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			os.RemoveAll(dir)
			return nil, fmt.Errorf("redis-server exited (%v): %s", err, lastLines(string(log), 3))
		case <-ctx.Done():
			b.Close()
			return nil, ctx.Err()
		default:
		}
		if pingRedis(b.Addr, pw) == nil {
			return b, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Close()
	return nil, fmt.Errorf("redis-server on port %d did not answer within 10s", port)
}

// Close stops a server this program started; an existing server is left alone.
func (b *backend) Close() {
	switch {
	case b.mini != nil:
		b.mini.Close()
	case b.cmd != nil:
		_ = b.cmd.Process.Kill()
		select {
		case <-b.exited:
		case <-time.After(5 * time.Second):
		}
		os.RemoveAll(b.dir)
	}
}

// pingRedis sends AUTH (when pw is set) and PING, and expects +PONG.
func pingRedis(addr, pw string) error {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	cmd := "PING\r\n"
	if pw != "" {
		cmd = "AUTH " + pw + "\r\n" + cmd
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
			return errors.New("redis refused the backend password")
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
