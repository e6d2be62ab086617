package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/funcredis/funcredis/emulator/localstack"
	"github.com/funcredis/funcredis/emulator/redisserver"
	"github.com/funcredis/funcredis/internal/redistest"
	"github.com/funcredis/funcredis/pool"
)

// startRun runs the stack in-process and returns its exports once it printed
// `ready`, and a function that stops it and returns run's error.
func startRun(t *testing.T, args ...string) (map[string]string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, pw)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	stop := sync.OnceValue(func() error {
		cancel()
		go io.Copy(io.Discard, pr)
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Error("run did not return within 30s of cancel")
			return nil
		}
	})
	t.Cleanup(func() { _ = stop() })
	exports, err := readExports(bufio.NewScanner(pr))
	if err != nil {
		t.Fatalf("reading output: %v (run: %v)", err, <-done)
	}
	return exports, stop
}

// readExports reads `export NAME=value` lines up to `ready`.
func readExports(sc *bufio.Scanner) (map[string]string, error) {
	out := map[string]string{}
	for sc.Scan() {
		line := sc.Text()
		if line == "ready" {
			return out, nil
		}
		if rest, ok := strings.CutPrefix(line, "export "); ok {
			k, v, _ := strings.Cut(rest, "=")
			out[k] = strings.Trim(v, "'")
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, io.ErrUnexpectedEOF
}

// TestExportsWork starts the emulators and uses the printed settings the way
// the handler does: pool.LoadConfig from the environment, the real azidentity
// managed-identity credential, go-redis through the TLS gateway.
func TestExportsWork(t *testing.T) {
	if !redisserver.Installed() {
		t.Skip("needs redis-server: without it localstack serves miniredis without the gateway")
	}
	for _, tls := range []bool{true, false} {
		t.Run("tls="+strconv.FormatBool(tls), func(t *testing.T) {
			exports, stop := startRun(t, "-handler=false", "-tls="+strconv.FormatBool(tls), "-token-lifetime=30s")
			for _, name := range []string{"REDIS_HOST", "REDIS_TLS", "REDIS_TLS_CA_FILE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "AZURE_CLIENT_ID", "EMULATOR_ADMIN"} {
				if _, ok := exports[name]; !ok {
					t.Errorf("no export %s", name)
				}
			}
			p := poolFromExports(t, exports)

			var stats struct {
				Tokens struct {
					Issued map[string]int64 `json:"issued"`
				} `json:"tokens"`
				Gateway struct {
					AuthOK int64 `json:"auth_ok"`
				} `json:"gateway"`
			}
			getJSON(t, exports["EMULATOR_ADMIN"]+"/stats", &stats)
			if stats.Tokens.Issued[localstack.AppObjectID] == 0 || stats.Gateway.AuthOK == 0 {
				t.Errorf("admin stats = %+v, want tokens issued to the local identity and AUTHs through the gateway", stats)
			}
			p.Close()
			if err := stop(); err != nil {
				t.Errorf("run returned %v after cancel", err)
			}
		})
	}
}

// poolFromExports sets the exports in the environment, builds a pool from
// it as the handler does, and checks a SET and GET through it.
func poolFromExports(t *testing.T, exports map[string]string) *pool.Pool {
	t.Helper()
	for k, v := range exports {
		t.Setenv(k, v)
	}
	// One warm-up connection: go-redis v9.23 races on its shared options
	// when several connections fail the maint-notifications handshake at
	// once (pool.Warm dials MinIdleConns concurrently).
	t.Setenv("REDIS_MIN_IDLE_CONNS", "1")
	cfg, err := pool.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := pool.New(ctx, cfg, pool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if err := p.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Client().Set(ctx, "localstack:k", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := p.Client().Get(ctx, "localstack:k").Result(); err != nil || got != "v" {
		t.Fatalf("GET = %q, %v", got, err)
	}
	return p
}

// TestExistingRedis puts the gateway in front of a Redis the user runs,
// with and without a password.
func TestExistingRedis(t *testing.T) {
	for _, pw := range []string{"backend-secret", ""} {
		t.Run("password="+strconv.FormatBool(pw != ""), func(t *testing.T) {
			srv := redistest.MustReal(t, redistest.Options{Password: pw})
			// Tokens under 5 minutes: MSAL keeps managed-identity tokens in a
			// process-wide cache and would hand a 1h token of an earlier
			// subtest's token service (another signing key) to this one.
			exports, stop := startRun(t, "-handler=false", "-token-lifetime=30s", "-redis-addr", srv.Addr, "-redis-password", pw)
			if exports["REDIS_AUTH"] != "entra" || exports["REDIS_HOST"] == srv.Addr {
				t.Errorf("exports = %v, want Entra through the gateway", exports)
			}
			poolFromExports(t, exports).Close()
			if err := stop(); err != nil {
				t.Error(err)
			}
			// The user's server outlives the stack.
			if err := redisserver.Ping(srv.Addr, pw); err != nil {
				t.Errorf("existing Redis after stop: %v", err)
			}
		})
	}
	if err := run(context.Background(), []string{"-handler=false", "-redis-addr", "127.0.0.1:1"}, io.Discard); err == nil {
		t.Error("an unreachable -redis-addr was accepted")
	}
}

// TestEmbeddedFallback hides redis-server: the stack says so and serves
// miniredis without the gateway.
func TestEmbeddedFallback(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-handler=false", "-token-lifetime=30s"}, pw); pw.Close() }()
	sc := bufio.NewScanner(pr)
	var notes []string
	exports := map[string]string{}
	for sc.Scan() && sc.Text() != "ready" {
		line := sc.Text()
		if n, ok := strings.CutPrefix(line, "# "); ok {
			notes = append(notes, n)
		}
		if rest, ok := strings.CutPrefix(line, "export "); ok {
			k, v, _ := strings.Cut(rest, "=")
			exports[k] = strings.Trim(v, "'")
		}
	}
	go io.Copy(io.Discard, pr)
	if len(notes) == 0 || !strings.Contains(notes[0], "miniredis") {
		t.Errorf("notes = %q, want the fallback said plainly", notes)
	}
	if exports["REDIS_AUTH"] != "none" || exports["REDIS_TLS"] != "false" {
		t.Errorf("exports = %v, want REDIS_AUTH=none without TLS", exports)
	}
	poolFromExports(t, exports).Close()
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-token-lifetime=0s"},
		{"-azure", "-handler=false"},
		{"stray"},
	} {
		if err := run(context.Background(), args, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}

// TestSignalLeavesNoProcess runs the built command with the whole stack
// (a stub handler under the host emulator), sends SIGTERM to it or SIGINT to
// its process group (as a terminal's Ctrl-C does), and checks that it exits
// and that no child process it started remains.
func TestSignalLeavesNoProcess(t *testing.T) {
	if !redisserver.Installed() {
		t.Skip("needs redis-server")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "localstack")
	build(t, bin, ".")
	root := stubRoot(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "-root", root, "-addr", "127.0.0.1:0", "-token-lifetime", "10s")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			sc := bufio.NewScanner(stdout)
			if _, err := readExports(sc); err != nil {
				t.Fatal(err)
			}
			var base string
			for sc.Scan() {
				if u, ok := strings.CutPrefix(sc.Text(), "curl -i "); ok && strings.HasSuffix(u, "/api/health") {
					base = strings.TrimSuffix(u, "/api/health")
					break
				}
			}
			go io.Copy(io.Discard, stdout)
			var got map[string]any
			getJSON(t, base+"/api/health", &got)
			if got["REDIS_AUTH"] != "entra" || got["SAMPLE_ONLY"] != "from-sample" || got["has_identity"] != true || got["REDIS_HOST"] == "" {
				t.Errorf("handler settings = %v, want the stack's settings over the sample's", got)
			}
			children := childPIDs(t, cmd.Process.Pid)
			if len(children) < 2 {
				t.Fatalf("children = %v, want redis-server and the handler", children)
			}
			target := cmd.Process.Pid
			if sig == syscall.SIGINT {
				target = -target
			}
			if err := syscall.Kill(target, sig); err != nil {
				t.Fatal(err)
			}
			waited := make(chan error, 1)
			go func() { waited <- cmd.Wait() }()
			select {
			case err := <-waited:
				if err != nil {
					t.Errorf("exit after %v: %v", sig, err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("still running 30s after %v", sig)
			}
			for _, pid := range children {
				if alive(pid) {
					t.Errorf("child %d (%s) survived", pid, comm(pid))
				}
			}
		})
	}
}

func build(t *testing.T, out, pkg string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// stubRoot makes a script root with host.json, local.settings.sample.json,
// one HTTP function "health" and the stub handler as bin/handler.
func stubRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("host.json", `{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"bin/handler"},"enableForwardingHttpRequest":true}}`)
	write("local.settings.sample.json", `{"IsEncrypted":false,"Values":{"REDIS_AUTH":"password","SAMPLE_ONLY":"from-sample"}}`)
	write("health/function.json", `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","methods":["get"],"route":"health"},{"type":"http","direction":"out","name":"res"}]}`)
	build(t, filepath.Join(root, "bin", "handler"), "./testdata/stubhandler")
	return root
}

// childPIDs lists the processes whose parent is pid.
func childPIDs(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("needs /proc")
	}
	var out []int
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid(n) == pid {
			out = append(out, n)
		}
	}
	return out
}

// statFields returns /proc/<pid>/stat's fields after the command name.
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

func ppid(pid int) int {
	f := statFields(pid)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	f := statFields(pid)
	return len(f) > 0 && f[0] != "Z"
}

func comm(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return strings.TrimSpace(string(b))
}

func TestLogHandlerUnwrapsHandlerLines(t *testing.T) {
	var b strings.Builder
	log := newLogger(&b)
	log.Info(`{"level":"INFO","msg":"token acquired"}`, "category", "Host.Function.Console", "pid", 7)
	log.Info("stopping")
	want := "handler| {\"level\":\"INFO\",\"msg\":\"token acquired\"}\n"
	if got := b.String(); !strings.HasPrefix(got, want) || !strings.Contains(got, "msg=stopping") {
		t.Errorf("log =\n%s\nwant the handler's line unquoted, then the stack's own line", got)
	}
}

// TestCurlsForAnyScriptRoot: the curl lines follow the script root's own functions, as for an app
// that is not this repository.
func TestCurlsForAnyScriptRoot(t *testing.T) {
	root := t.TempDir()
	write := func(name, body string) {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("host.json", `{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"bin/handler"},"enableForwardingHttpRequest":true}}`)
	write("orders/function.json", `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","methods":["post","get"],"route":"orders/{id:int}/items/{*rest}"},{"type":"http","direction":"out","name":"res"}]}`)
	write("hello/function.json", `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","methods":["get"]},{"type":"http","direction":"out","name":"res"}]}`)
	write("nightly/function.json", `{"bindings":[{"type":"timerTrigger","direction":"in","name":"timer","schedule":"0 */5 * * * *"}]}`)
	var b strings.Builder
	if err := printCurls(&b, options{root: root}, "http://h"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"curl -i http://h/api/hello\n",
		"curl -i -X POST -H 'Content-Type: application/json' --data '{}' http://h/admin/functions/nightly\n",
		"curl -i -X POST http://h/api/orders/id/items/rest\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("curl lines lack %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "cache") {
		t.Errorf("curl lines name a function the root does not have:\n%s", b.String())
	}
}
