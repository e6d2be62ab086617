package host

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// handlerBin is the test handler (testdata/handler), built once in TestMain.
var handlerBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hosttest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	handlerBin = filepath.Join(dir, "handler")
	out, err := exec.Command("go", "build", "-o", handlerBin, "./testdata/handler").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build test handler: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// testFunctions are the function folders every test app gets unless it brings its own.
var testFunctions = map[string]string{
	"echo":   `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","methods":["get","post"]},{"type":"http","direction":"out","name":"res"}]}`,
	"raw":    `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","methods":["post"]},{"type":"http","direction":"out","name":"res"}]}`,
	"items":  `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","route":"items/{id:int}/{*rest}"},{"type":"http","direction":"out","name":"res"}]}`,
	"secure": `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req"},{"type":"http","direction":"out","name":"res"}]}`,
	"fwd":    `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","route":"fwd/{*rest}"},{"type":"http","direction":"out","name":"res"}]}`,
	"mixed":  `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous"},{"type":"http","direction":"out","name":"res"},{"type":"queue","direction":"out","name":"outq"}]}`,
	"retfn":  `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","methods":["post"]},{"type":"http","direction":"out","name":"$return"}]}`,
	"queue":  `{"bindings":[{"type":"queueTrigger","direction":"in","name":"msg","queueName":"in"},{"type":"queue","direction":"out","name":"outq"},{"type":"queue","direction":"out","name":"bin","dataType":"binary"},{"type":"queue","direction":"out","name":"$return"}]}`,
	"merge":  `{"bindings":[{"type":"queueTrigger","direction":"in","name":"msg","queueName":"in"},{"type":"queue","direction":"out","name":"outq"}]}`,
}

const defaultHostJSON = `{
  "version": "2.0",
  "customHandler": {
    "description": {
      "defaultExecutablePath": "bin/handler",
      "arguments": ["--port", "%FUNCTIONS_CUSTOMHANDLER_PORT%", "%APP_SETTING%", "%MISSING%"]
    },
    "enableForwardingHttpRequest": false
  }
}`

type appOpts struct {
	hostJSON  string
	functions map[string]string
	env       []string // TH_* behaviour and app settings
	cfg       func(*Config)
	noStart   bool
}

type app struct {
	root, state string
	h           *Host
	logs        *logRecorder
	startErr    error
}

// newApp lays out a script root, creates the Host and starts it (unless noStart).
func newApp(t *testing.T, o appOpts) *app {
	t.Helper()
	a := &app{root: t.TempDir(), state: t.TempDir(), logs: &logRecorder{}}
	hj := o.hostJSON
	if hj == "" {
		hj = defaultHostJSON
	}
	must(t, os.WriteFile(filepath.Join(a.root, "host.json"), []byte(hj), 0o644))
	must(t, os.MkdirAll(filepath.Join(a.root, "bin"), 0o755))
	must(t, os.Symlink(handlerBin, filepath.Join(a.root, "bin", "handler")))
	fns := o.functions
	if fns == nil {
		fns = testFunctions
	}
	for name, fj := range fns {
		must(t, os.MkdirAll(filepath.Join(a.root, name), 0o755))
		must(t, os.WriteFile(filepath.Join(a.root, name, "function.json"), []byte(fj), 0o644))
	}
	cfg := Config{
		Root:            a.root,
		Addr:            "127.0.0.1:0",
		Env:             append([]string{"TH_STATE_DIR=" + a.state, "APP_SETTING=setting-value"}, o.env...),
		InitTimeout:     5 * time.Second,
		FunctionTimeout: 20 * time.Second,
		Logger:          slog.New(a.logs),
	}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	h, err := New(cfg)
	must(t, err)
	a.h = h
	t.Cleanup(func() { _ = h.Close() })
	if !o.noStart {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		a.startErr = h.Start(ctx)
	}
	return a
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// do sends a request to the host's public endpoint without following redirects.
func (a *app) do(t *testing.T, method, path string, body io.Reader, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, a.h.URL()+path, body)
	must(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp, b
}

// script posts a handler script to a payload-mode function and returns the client response.
func (a *app) script(t *testing.T, path string, s map[string]any) (*http.Response, []byte) {
	t.Helper()
	b, err := json.Marshal(s)
	must(t, err)
	return a.do(t, http.MethodPost, path, strings.NewReader(string(b)), map[string]string{"Content-Type": "application/json"})
}

// launch reads what the test handler recorded at its n-th start.
func (a *app) launch(t *testing.T, n int) (env map[string]string, args []string, cwd string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(a.state, fmt.Sprintf("launch-%d.json", n)))
	must(t, err)
	var l struct {
		Env  map[string]string
		Args []string
		Cwd  string
	}
	must(t, json.Unmarshal(b, &l))
	return l.Env, l.Args, l.Cwd
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// logRecorder is a slog.Handler that keeps records for assertions.
type logRecorder struct {
	mu   sync.Mutex
	recs []logRec
}

type logRec struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	rec := logRec{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool { rec.attrs[a.Key] = a.Value.String(); return true })
	l.mu.Lock()
	l.recs = append(l.recs, rec)
	l.mu.Unlock()
	return nil
}

// find returns the first record whose message equals msg.
func (l *logRecorder) find(msg string) (logRec, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.recs {
		if r.msg == msg {
			return r, true
		}
	}
	return logRec{}, false
}

// waitFor polls cond until it holds or 10 s pass (bounded, no timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
