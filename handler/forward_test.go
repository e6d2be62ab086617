package handler

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

var forwardedFunctions = map[string]string{
	"cache":   httpFunction("cache/{key}", "get", "head", "put", "delete"),
	"orders":  httpFunction("orders/{id:int?}", "get"),
	"byname":  httpFunction("orders/{name:alpha}", "get"),
	"files":   httpFunction("files/{*path}", "get"),
	"special": httpFunction("cache/special", "get"),
	"health":  httpFunction("", "get"),
	"anyverb": httpFunction("any"),
	"ticker":  `{"bindings":[{"name":"timer","type":"timerTrigger","direction":"in","schedule":"0 */5 * * * *"}]}`,
}

// echo answers "<function> <name>=<value>…" for the named path values.
func echo(function string, names ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := []string{function}
		for _, n := range names {
			parts = append(parts, n+"="+r.PathValue(n))
		}
		if err := SetOutput(r.Context(), "x", 1); !errors.Is(err, ErrNotInvocation) {
			http.Error(w, "SetOutput in forwarded mode", 500)
			return
		}
		Log(r.Context(), "served")
		_, _ = w.Write([]byte(strings.Join(parts, " ")))
	})
}

func TestForwardedRouting(t *testing.T) {
	app, logs := newTestApp(t, forwardedHost, forwardedFunctions)
	app.HandleHTTP("cache", echo("cache", "key"))
	app.HandleHTTP("orders", echo("orders", "id"))
	app.HandleHTTP("byname", echo("byname", "name"))
	app.HandleHTTP("files", echo("files", "path"))
	app.HandleHTTP("special", echo("special"))
	app.HandleHTTP("health", echo("health"))
	app.HandleHTTP("anyverb", echo("anyverb"))
	tests := []struct {
		method, target string
		status         int
		body           string
	}{
		{"GET", "/api/cache/k1?code=s3cret", 200, "cache key=k1"},
		{"PUT", "/api/cache/a%2Fb", 200, "cache key=a/b"},
		{"GET", "/api/cache/special", 200, "special"},
		// The host's router (ASP.NET Core) matches literals case-insensitively and ignores one
		// trailing slash, and forwards the original path: the handler must route it the same.
		{"GET", "/API/Cache/k1", 200, "cache key=k1"},
		{"GET", "/api/health/", 200, "health"},
		{"GET", "/api/cache/special/", 200, "special"},
		{"get", "/api/orders/42", 200, "orders id=42"},          // methods compare case-insensitively
		{"PUT", "/api/cache/special", 200, "cache key=special"}, // special is GET-only
		{"GET", "/api/orders", 200, "orders id="},
		{"GET", "/api/orders/42", 200, "orders id=42"},
		{"GET", "/api/orders/bob", 200, "byname name=bob"},
		{"GET", "/api/orders/4x2", 404, ""},
		{"GET", "/api/orders/99999999999", 404, ""}, // not an int32
		{"GET", "/api/files", 200, "files path="},
		{"GET", "/api/files/a/b/c.txt", 200, "files path=a/b/c.txt"},
		{"GET", "/api/health", 200, "health"},
		{"PATCH", "/api/any", 200, "anyverb"},
		{"POST", "/api/cache/k1", 405, ""},
		{"POST", "/api/orders/42", 405, ""},
		{"GET", "/api/nosuch", 404, ""},
		{"GET", "/cache/k1", 404, ""},
		{"POST", "/cache", 404, ""}, // forwarded functions never arrive as payloads
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(tt.method, tt.target, nil)
		r.Header.Set("x-functions-key", "s3cret")
		app.ServeHTTP(w, r)
		if w.Code != tt.status || (tt.body != "" && w.Body.String() != tt.body) {
			t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.target, w.Code, w.Body, tt.status, tt.body)
		}
		if w.Code >= 400 && w.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: error is %q, not a problem", tt.method, tt.target, w.Header().Get("Content-Type"))
		}
	}
	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("POST", "/api/cache/k", nil))
	var p Problem
	_ = json.Unmarshal(w.Body.Bytes(), &p)
	if w.Header().Get("Allow") != "DELETE, GET, HEAD, PUT" || p.Type != ProblemType("method-not-allowed") || p.Status != 405 {
		t.Errorf("405: Allow %q, problem %+v", w.Header().Get("Allow"), p)
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("secret logged:\n%s", logs)
	}
	if !strings.Contains(logs.String(), `"mode":"forwarded"`) {
		t.Errorf("no forwarded invocation lines:\n%s", logs)
	}
}

func TestForwardedPanic(t *testing.T) {
	app, logs := newTestApp(t, forwardedHost, forwardedFunctions)
	app.HandleHTTP("cache", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/api/cache/k", nil)
	r.Header.Set("X-Azure-Functions-InvocationId", "inv-9")
	app.ServeHTTP(w, r)
	if w.Code != 500 || !strings.Contains(w.Body.String(), ProblemType("internal")) || strings.Contains(w.Body.String(), "boom") {
		t.Errorf("panic answered %d %s", w.Code, w.Body)
	}
	line := invocationLine(t, logs)
	if line["status"] != 500.0 || line["invocation_id"] != "inv-9" || line["method"] != "GET" {
		t.Errorf("invocation line %v", line)
	}
}

func TestForwardingStillServesPayloadFunctions(t *testing.T) {
	app, _ := newTestApp(t, forwardedHost, forwardedFunctions)
	called := false
	app.HandleInvocation("ticker", InvocationHandlerFunc(func(ctx context.Context, inv *Invocation) (*Result, error) {
		called = true
		return nil, nil
	}))
	p := readPayload(t, invoke(t, app, "ticker", timerPayload))
	if !called || len(p.Logs) != 0 {
		t.Errorf("timer not invoked in payload mode (called %v)", called)
	}
}

func TestRouteTemplates(t *testing.T) {
	good := []struct {
		tmpl, path string
		want       []string // parameter values; nil = no match
	}{
		{"cache/{key}", "/api/cache/k", []string{"k"}},
		{"cache/{key}", "/API/Cache/K", []string{"K"}},  // literals case-insensitive, values as sent
		{"cache/{key}", "/api/cache/k/", []string{"k"}}, // one trailing slash ignored
		{"cache/{key}", "/api/cache/k//", nil},
		{"cache/{key}", "/api/cache/a%2Fb", []string{"a/b"}}, // %2F stays inside its segment
		{"cache/{key}", "/api/cache", nil},
		{"cache/{key}", "/api/cache/a/b", nil},
		{"orders/{id:int?}", "/api/orders", []string{""}},
		{"orders/{id:int?}", "/api/orders/7", []string{"7"}},
		{"orders/{id:int?}", "/api/orders/x", nil},
		{"files/{*path}", "/api/files", []string{""}},
		{"files/{**path}", "/api/files/a/b%2Fc", []string{"a/b/c"}},
		{"{*route}", "/api", []string{""}}, // routePrefix "api" keeps the prefix
		{"a/{x:min(1):max(9)}/b", "/api/a/5/B", []string{"5"}},
		{"a/{x:min(1):max(9)}/b", "/api/a/10/b", nil},
		{"r/{id:regex(^\\d{{3}}$)}", "/api/r/123", []string{"123"}},
	}
	for _, tt := range good {
		segs, err := parseRoute(tt.tmpl)
		if err != nil {
			t.Errorf("parseRoute(%q): %v", tt.tmpl, err)
			continue
		}
		got, ok := newRoute(&Function{}, "api", segs).match(tt.path, nil)
		if ok != (tt.want != nil) || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s ~ %s = %q %v, want %q", tt.tmpl, tt.path, got, ok, tt.want)
		}
	}
	bad := map[string]string{
		"files/{name}.{ext}": "mixes text",
		"a/{id?}/b":          "last segment",
		"a/{*rest}/b":        "last segment",
		"a/{id=5}":           "default values",
		"a/{id:nosuch}":      "unsupported route constraint",
		"a/{id}/{id}":        "appears twice",
		"a/{1x}":             "name must be",
		"a/{id:min(x)}":      `constraint "min(x)"`,
	}
	for tmpl, want := range bad {
		if _, err := parseRoute(tmpl); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseRoute(%q) = %v, want an error containing %q", tmpl, err, want)
		}
	}
}

func TestConstraints(t *testing.T) {
	tests := []struct {
		c     string
		ok    []string
		notOK []string
	}{
		{"int", []string{"1", "-5", "2147483647"}, []string{"x", "1.5", "2147483648"}},
		{"long", []string{"2147483648"}, []string{"x"}},
		{"bool", []string{"true", "False"}, []string{"1", "yes"}},
		{"guid", []string{"4e773554-f6b7-4ea2-b07d-4c5fd5aba741", "{4e773554-f6b7-4ea2-b07d-4c5fd5aba741}", "4e773554f6b74ea2b07d4c5fd5aba741"}, []string{"4e773554", "zz773554-f6b7-4ea2-b07d-4c5fd5aba741"}},
		{"alpha", []string{"abcXYZ"}, []string{"ab1", "é"}},
		{"range(1,5)", []string{"1", "5"}, []string{"0", "6"}},
		{"length(2,3)", []string{"ab", "abc"}, []string{"a", "abcd"}},
		{"regex(^k-\\d+$)", []string{"k-1", "K-22"}, []string{"k-", "xk-1"}},
	}
	for _, tt := range tests {
		c, err := constraintFor(tt.c)
		if err != nil {
			t.Fatalf("%s: %v", tt.c, err)
		}
		for _, v := range tt.ok {
			if !c.match(v) {
				t.Errorf("%s rejects %q", tt.c, v)
			}
		}
		for _, v := range tt.notOK {
			if c.match(v) {
				t.Errorf("%s accepts %q", tt.c, v)
			}
		}
	}
}

func TestNewRefusesUnservableRoutes(t *testing.T) {
	root := writeRoot(t, forwardedHost, map[string]string{"bad": httpFunction("files/{name}.{ext}", "get")})
	if _, err := New(Options{Root: root}); err == nil || !strings.Contains(err.Error(), `function "bad"`) {
		t.Errorf("New = %v", err)
	}
	// In payload mode the host routes, so the same function is fine.
	root = writeRoot(t, payloadHost, map[string]string{"bad": httpFunction("files/{name}.{ext}", "get")})
	if _, err := New(Options{Root: root}); err != nil {
		t.Errorf("payload mode: %v", err)
	}
}

func TestNewRefusesRoutesTheHostRefuses(t *testing.T) {
	// ScriptHost.ValidateHttpFunction and HttpRoutesConflict in Azure/azure-functions-host
	// (src/WebJobs.Script/Host/ScriptHost.cs): "The specified route conflicts with one or more
	// built in routes." for routes starting with admin or runtime, and "The route specified
	// conflicts with the route defined by function ..." for the same route with shared methods.
	for name, fns := range map[string]map[string]string{
		"admin":            {"a": httpFunction("admin/x", "get")},
		"administration":   {"a": httpFunction("Administration/x", "get")},
		"runtime":          {"a": httpFunction("/runtime/status", "get")},
		"default route":    {"admin": httpFunction("", "get")},
		"duplicate":        {"a": httpFunction("items/{id}", "get", "put"), "b": httpFunction("Items/{id}/", "put")},
		"duplicate of any": {"a": httpFunction("items", "get"), "b": httpFunction("items")},
	} {
		for _, hj := range []string{forwardedHost, payloadHost} {
			if _, err := New(Options{Root: writeRoot(t, hj, fns)}); err == nil || !strings.Contains(err.Error(), "the host would not serve it") {
				t.Errorf("%s: New = %v", name, err)
			}
		}
	}
	ok := map[string]string{"a": httpFunction("items", "get"), "b": httpFunction("items", "post"), "c": httpFunction("x/admin")}
	if _, err := New(Options{Root: writeRoot(t, forwardedHost, ok)}); err != nil {
		t.Errorf("same route with other methods, admin not first: %v", err)
	}
}

// The invocation line is Debug for an answer below 500 (the host records every invocation
// itself) and Warn for a server error; a body written with io.WriteString counts as written.
func TestForwardedInvocationLineLevel(t *testing.T) {
	app, logs := newTestAppAt(t, slog.LevelInfo, forwardedHost, forwardedFunctions)
	app.HandleHTTP("cache", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("key") == "fail" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_, _ = io.WriteString(w, "text")
	}))
	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("GET", "/api/cache/ok", nil))
	if w.Code != 200 || w.Body.String() != "text" || logs.Len() != 0 {
		t.Fatalf("success: %d %q, logged at Info: %s", w.Code, w.Body, logs.String())
	}
	app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/cache/fail", nil))
	if line := invocationLine(t, logs); line["level"] != "WARN" || line["status"] != 503.0 {
		t.Errorf("server error: %v", line)
	}
}
