package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/funcredis/funcredis/pool"
)

// proc is one server process the bench started (bin/handler, or this program in a -serve mode),
// listening on 127.0.0.1:port.
type proc struct {
	name    string
	cmd     *exec.Cmd
	port    int
	started time.Time // just before exec
	exited  chan struct{}
	log     *os.File
}

// startProc execs path with args and env plus FUNCTIONS_CUSTOMHANDLER_PORT; stdout and stderr go
// to <dir>/<name>.log. It does not wait for readiness.
func startProc(dir, name, path string, env []string, args ...string) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	// Clipped: callers pass one env to several servers (startTargets), and appending into its
	// spare capacity would make every server's slice end with the last server's port.
	cmd.Env = append(slices.Clip(env), "FUNCTIONS_CUSTOMHANDLER_PORT="+strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = f, f
	p := &proc{name: name, cmd: cmd, port: port, exited: make(chan struct{}), log: f}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// url is the base URL of the process.
func (p *proc) url() string { return "http://127.0.0.1:" + strconv.Itoa(p.port) }

// waitReady polls GET / as the host does (but every millisecond) and returns when it is answered
// with 200, measured from exec.
func (p *proc) waitReady(ctx context.Context, c *http.Client) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, "GET", p.url()+"/", nil)
		if err != nil {
			return 0, fmt.Errorf("%s readiness: %w", p.name, err)
		}
		res, err := c.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return time.Since(p.started), nil
			}
		}
		select {
		case <-p.exited:
			return 0, fmt.Errorf("%s exited before it was ready: %s", p.name, p.tail())
		case <-ctx.Done():
			return 0, fmt.Errorf("%s not ready: %w", p.name, ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
}

// stop kills the process and waits for it.
func (p *proc) stop() {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.log.Close()
}

// tail is the last lines of the process's log, for errors.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log.Name())
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}

// rssBytes reads VmRSS of pid from /proc.
func rssBytes(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("rss: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("rss %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("rss: no VmRSS line")
}

// health reads GET /api/health of a handler.
func health(ctx context.Context, c *http.Client, base string) (pool.Health, error) {
	var h pool.Health
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/health", nil)
	if err != nil {
		return h, fmt.Errorf("health: %w", err)
	}
	res, err := c.Do(req)
	if err != nil {
		return h, fmt.Errorf("health: %w", err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
		return h, fmt.Errorf("health: %w", err)
	}
	return h, nil
}
