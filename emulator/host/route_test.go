package host

import (
	"maps"
	"strings"
	"testing"
	"time"
)

func TestRouteMatch(t *testing.T) {
	for _, tc := range []struct {
		tmpl, path string
		want       map[string]string // nil = no match
	}{
		{"orders/{id:int?}", "orders/5", map[string]string{"id": "5"}},
		{"orders/{id:int?}", "orders", map[string]string{}},
		{"orders/{id:int?}", "orders/x", nil},
		{"orders/{id:int}", "ORDERS/7", map[string]string{"id": "7"}},
		{"files/{*path}", "files/a/b/c", map[string]string{"path": "a/b/c"}},
		{"files/{*path}", "files", map[string]string{}},
		{"a/{b}", "a", nil},
		{"a/{b}", "a/x/y", nil},
		{"a/{b=def}", "a", map[string]string{"b": "def"}},
		{"g/{id:guid}", "g/0f8fad5b-d9cb-469f-a165-70867728950e", map[string]string{"id": "0f8fad5b-d9cb-469f-a165-70867728950e"}},
		{"n/{v:alpha:minlength(2)}", "n/ab", map[string]string{"v": "ab"}},
		{"n/{v:alpha:minlength(2)}", "n/a", nil},
		{"r/{v:range(1,3)}", "r/4", nil},
		{"r/{v:regex(^x+$)}", "r/xx", map[string]string{"v": "xx"}},
	} {
		r, err := compileRoute(tc.tmpl)
		if err != nil {
			t.Fatalf("%s: %v", tc.tmpl, err)
		}
		var parts []string
		if tc.path != "" {
			parts = strings.Split(tc.path, "/")
		}
		got, ok := r.match(parts)
		if ok != (tc.want != nil) || (ok && !maps.Equal(got, tc.want)) {
			t.Errorf("%s ~ %s = %v %v, want %v", tc.tmpl, tc.path, got, ok, tc.want)
		}
	}
	for _, bad := range []string{"a/{*x}/b", "{a?}/b", "x{y}", "a/{b:nope}"} {
		if _, err := compileRoute(bad); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}

func TestRoutePrecedence(t *testing.T) {
	lit, _ := compileRoute("items/special")
	con, _ := compileRoute("items/{id:int}")
	par, _ := compileRoute("items/{id}")
	all, _ := compileRoute("{*rest}")
	order := []*route{lit, con, par, all}
	for i := range order {
		for j := i + 1; j < len(order); j++ {
			if !routeLess(order[i], order[j]) || routeLess(order[j], order[i]) {
				t.Errorf("%q should precede %q", order[i].template, order[j].template)
			}
		}
	}
}

func TestParseTimeSpan(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"00:05:00": 5 * time.Minute, "00:00:01.5": 1500 * time.Millisecond, "1.02:00:00": 26 * time.Hour, "-1": noTimeout,
	} {
		if got, err := parseTimeSpan(in); err != nil || got != want {
			t.Errorf("%q = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"5m", "00:00:00.5", "x:y:z"} {
		if _, err := parseTimeSpan(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestConfigFromHostJSON(t *testing.T) {
	hj := `{"functionTimeout":"00:00:07","extensions":{"http":{"routePrefix":""}},
	  "customHandler":{"description":{"defaultExecutablePath":"bin/handler"}}}`
	a := newApp(t, appOpts{hostJSON: hj, noStart: true, cfg: func(c *Config) { c.FunctionTimeout = 0 },
		functions: map[string]string{
			"ok":    testFunctions["echo"],
			"host":  testFunctions["echo"],
			"1bad":  testFunctions["echo"],
			"dup":   `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req"},{"type":"http","direction":"out","name":"REQ"}]}`,
			"empty": `{"bindings":[]}`,
		}})
	if a.h.timeout != 7*time.Second || a.h.settings.routePrefix != "" || a.h.forward {
		t.Errorf("timeout %v prefix %q forward %v", a.h.timeout, a.h.settings.routePrefix, a.h.forward)
	}
	if len(a.h.fns) != 1 || a.h.fns[0].name != "ok" || a.h.fns[0].auth != "anonymous" {
		t.Errorf("indexed %d functions, want only ok", len(a.h.fns))
	}
	if _, err := New(Config{Root: t.TempDir()}); err == nil {
		t.Errorf("missing host.json accepted")
	}
}
