package handler

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestCheckNamesEveryMismatch(t *testing.T) {
	app, _ := newTestApp(t, forwardedHost, map[string]string{
		"cache":  httpFunction("cache/{key}", "get"),
		"health": httpFunction("", "get"),
		"ticker": `{"bindings":[{"name":"timer","type":"timerTrigger","direction":"in"}]}`,
		"dist":   "",
	})
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	inv := InvocationHandlerFunc(func(context.Context, *Invocation) (*Result, error) { return nil, nil })
	app.HandleHTTP("Cache", noop) // names are case-insensitive
	app.HandleHTTP("ticker", noop)
	app.HandleInvocation("health", inv)
	app.HandleHTTP("orphan", noop)
	app.HandleHTTP("cache", noop)
	err := app.Check()
	if err == nil {
		t.Fatal("Check passed")
	}
	for _, want := range []string{
		`function "ticker" has trigger "timerTrigger"`,
		`function "health" is forwarded by the host`,
		`handler "orphan" has no function folder`,
		`function "cache" is registered more than once`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "dist") {
		t.Errorf("a folder without function.json is reported: %v", err)
	}

	good, _ := newTestApp(t, payloadHost, map[string]string{"ticker": `{"bindings":[{"name":"timer","type":"timerTrigger","direction":"in"}]}`, "cache": httpFunction("cache/{key}")})
	if err := good.Check(); err == nil || !strings.Contains(err.Error(), `"cache" has no handler`) || !strings.Contains(err.Error(), `"ticker" has no handler`) {
		t.Errorf("Check = %v", err)
	}
	good.HandleInvocation("ticker", inv)
	good.HandleHTTP("cache", noop)
	if err := good.Check(); err != nil {
		t.Errorf("Check = %v", err)
	}
}

func TestFunctionsMetadata(t *testing.T) {
	app, _ := newTestApp(t, `{"extensions":{"http":{"routePrefix":""}},"customHandler":{"enableProxyingHttpRequest":true}}`, map[string]string{
		"cache":  httpFunction("/cache/{key}/", "get", "Put"),
		"hello":  `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous"},{"type":"http","direction":"out","name":"$return"}]}`,
		"ticker": `{"bindings":[{"name":"timer","type":"timerTrigger","direction":"in"}]}`,
	})
	fns := app.Functions()
	if len(fns) != 3 {
		t.Fatalf("functions %+v", fns)
	}
	c, h, tk := fns[0], fns[1], fns[2]
	if c.Name != "cache" || c.Route != "cache/{key}" || strings.Join(c.Methods, ",") != "GET,PUT" || c.AuthLevel != "function" || c.HTTPOutput != "res" || !c.Forwardable() {
		t.Errorf("cache %+v", c)
	}
	if h.Route != "hello" || h.Methods != nil || h.AuthLevel != "anonymous" || h.HTTPOutput != "$return" {
		t.Errorf("hello %+v", h)
	}
	if tk.Trigger != "timerTrigger" || tk.TriggerName != "timer" || tk.IsHTTP() || tk.Forwardable() {
		t.Errorf("ticker %+v", tk)
	}
	// routePrefix "" and proxying: routes sit at the root.
	app.HandleHTTP("cache", echo("cache", "key"))
	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("GET", "/cache/k", nil))
	if w.Body.String() != "cache key=k" {
		t.Errorf("GET /cache/k = %d %q", w.Code, w.Body)
	}
}

func TestNewRefusesWhatTheHostRefuses(t *testing.T) {
	tests := map[string]map[string]string{
		"only folder names":    {"1bad": httpFunction("x")},
		`(not "host")`:         {"host": httpFunction("x")},
		"at least one binding": {"empty": `{"bindings":[]}`},
		"used twice":           {"dup": `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req"},{"type":"http","direction":"out","name":"REQ"}]}`},
		"no trigger":           {"notrig": `{"bindings":[{"type":"http","direction":"out","name":"res"}]}`},
		"parse function.json":  {"broken": `{"bindings":`},
	}
	for want, fns := range tests {
		if _, err := New(Options{Root: writeRoot(t, payloadHost, fns)}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New(%v) = %v, want an error containing %q", fns, err, want)
		}
	}
	if _, err := New(Options{Root: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "host.json") {
		t.Errorf("New without host.json = %v", err)
	}
	root := writeRoot(t, payloadHost, nil)
	if err := os.WriteFile(filepath.Join(root, "host.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Root: root}); err == nil {
		t.Error("New accepted a broken host.json")
	}
}

// discard drops log lines.
var discard = slog.New(slog.DiscardHandler)

// probe sends GET / and returns the answer once it arrives.
func probe(app *App) <-chan *httptest.ResponseRecorder {
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		w := httptest.NewRecorder()
		app.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		done <- w
	}()
	return done
}

func TestReadinessWaitsForWarmPool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ready := make(chan struct{})
		app, err := New(Options{Root: writeRoot(t, payloadHost, nil), Logger: discard, Ready: ready, WarmupTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		answer := probe(app)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		select {
		case <-answer:
			t.Fatal("GET / answered before the pool was warm")
		default:
		}
		close(ready)
		synctest.Wait()
		w := <-answer
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"ready"`) {
			t.Errorf("GET / = %d %s", w.Code, w.Body)
		}
		start := time.Now()
		<-probe(app)
		if time.Since(start) != 0 {
			t.Error("a later probe waited")
		}
	})
}

func TestReadinessAnswersAfterWarmupTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app, err := New(Options{Root: writeRoot(t, payloadHost, nil), Logger: discard, Ready: make(chan struct{}), WarmupTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		w := <-probe(app)
		if waited := time.Since(start); waited != 10*time.Second {
			t.Errorf("GET / answered after %v, want the 10s warm-up timeout", waited)
		}
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"warming"`) {
			t.Errorf("GET / = %d %s", w.Code, w.Body)
		}
		start = time.Now()
		<-probe(app)
		if time.Since(start) != 0 {
			t.Error("a probe after the timeout waited")
		}
	})
}

func TestReadinessWithoutReadyChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app, err := New(Options{Root: writeRoot(t, payloadHost, nil), Logger: discard})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if w := <-probe(app); w.Code != 200 || time.Since(start) != 0 {
			t.Errorf("GET / = %d after %v", w.Code, time.Since(start))
		}
	})
}

func TestWriteProblem(t *testing.T) {
	w := httptest.NewRecorder()
	WriteProblem(w, Problem{Type: ProblemType("key-not-found"), Status: 404, Detail: "no such key"})
	if w.Code != 404 || w.Header().Get("Content-Type") != "application/problem+json" ||
		strings.TrimSpace(w.Body.String()) != `{"type":"urn:funcredis:problem:key-not-found","title":"Not Found","status":404,"detail":"no such key"}` {
		t.Errorf("%d %s %s", w.Code, w.Header(), w.Body)
	}
	w = httptest.NewRecorder()
	WriteProblem(w, Problem{})
	if w.Code != 500 || !strings.Contains(w.Body.String(), `"type":"about:blank"`) {
		t.Errorf("zero problem: %d %s", w.Code, w.Body)
	}
}
