package handler

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// cacheFunctions is a script root shape like the product's: an HTTP function with a route
// parameter, a timer, a queue function with an output, and a $return HTTP function.
var cacheFunctions = map[string]string{
	"cache":  httpFunction("cache/{key}", "get", "put"),
	"ticker": `{"bindings":[{"name":"timer","type":"timerTrigger","direction":"in","schedule":"0 */5 * * * *"}]}`,
	"relay": `{"bindings":[{"name":"item","type":"queueTrigger","direction":"in","queueName":"in"},
	           {"name":"out","type":"queue","direction":"out","queueName":"out"},
	           {"name":"$return","type":"queue","direction":"out","queueName":"ret"}]}`,
	"hello": `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","methods":["get"]},{"type":"http","direction":"out","name":"$return"}]}`,
	"enqueue": `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","methods":["post"]},{"type":"http","direction":"out","name":"res"},
	           {"name":"msg","type":"queue","direction":"out","queueName":"q"}]}`,
	"template": "", // a folder without function.json is not a function
}

func httpReq(method, url, body string, params map[string]string) string {
	d := map[string]any{"Url": url, "Method": method, "Query": map[string]string{}, "Headers": map[string][]string{
		"Content-Type": {"text/plain"}, "x-functions-key": {"s3cret-key"}, "Authorization": {"Bearer s3cret-token"}}, "Params": params}
	if body != "" {
		d["Body"] = body
	}
	b, _ := json.Marshal(map[string]any{"Data": map[string]any{"req": d}, "Metadata": map[string]any{}})
	return string(b)
}

func TestPayloadHTTPFunction(t *testing.T) {
	app, logs := newTestApp(t, payloadHost, cacheFunctions)
	app.HandleHTTP("cache", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		Log(r.Context(), "cache op", "key", r.PathValue("key"), "bytes", len(body))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("X-Two", "a")
		w.Header().Add("X-Two", "b")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"key":"` + r.PathValue("key") + `","code":"` + r.URL.Query().Get("code") + `"}`))
	}))
	w := invoke(t, app, "cache", httpReq("PUT", "https://fa/api/cache/k1?code=s3cret-code", "s3cret-body", map[string]string{"key": "k1"}))
	p := readPayload(t, w)
	out := readHTTPOutput(t, p, "res")
	if out.StatusCode != "201" || out.Headers["Content-Type"] != "application/json" || out.Headers["X-Two"] != "a, b" ||
		out.Body != `{"key":"k1","code":"s3cret-code"}` {
		t.Errorf("HTTP output %+v", out)
	}
	if len(p.Logs) != 1 || p.Logs[0] != "cache op key=k1 bytes=11" {
		t.Errorf("Logs %q", p.Logs)
	}
	line := invocationLine(t, logs)
	if line["function"] != "cache" || line["method"] != "PUT" || line["status"] != 201.0 || line["invocation_id"] != "inv-1234" || line["duration"] == nil {
		t.Errorf("invocation log line %v", line)
	}
	for _, secret := range []string{"s3cret"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
}

// invocationLine returns the one "invocation" slog line, failing unless there is exactly one.
func invocationLine(t *testing.T, logs interface{ String() string }) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "invocation" {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d invocation lines in:\n%s", len(found), logs)
	}
	return found[0]
}

func TestPayloadFailuresStay2xx(t *testing.T) {
	tests := []struct {
		name, function, body string
		handler              http.HandlerFunc
		wantStatus, wantType string
		wantLogs             int
		wantAllow            string
	}{
		{
			name: "panic", function: "cache", body: httpReq("GET", "http://h/api/cache/k", "", map[string]string{"key": "k"}),
			handler: func(w http.ResponseWriter, r *http.Request) {
				Log(r.Context(), "before panic")
				_, _ = w.Write([]byte("partial"))
				panic("boom")
			},
			wantStatus: "500", wantType: ProblemType("internal"), wantLogs: 1,
		},
		{
			name: "application error", function: "cache", body: httpReq("GET", "http://h/api/cache/k", "", map[string]string{"key": "k"}),
			handler: func(w http.ResponseWriter, r *http.Request) {
				Log(r.Context(), "not found")
				WriteProblem(w, Problem{Type: ProblemType("key-not-found"), Status: 404})
			},
			wantStatus: "404", wantType: ProblemType("key-not-found"), wantLogs: 1,
		},
		{
			name: "wrong method", function: "cache", body: httpReq("DELETE", "http://h/api/cache/k", "", map[string]string{"key": "k"}),
			handler:    func(w http.ResponseWriter, r *http.Request) { t.Error("handler called") },
			wantStatus: "405", wantType: ProblemType("method-not-allowed"), wantAllow: "GET, PUT",
		},
		{
			name: "binary body", function: "cache", body: httpReq("GET", "http://h/api/cache/k", "", map[string]string{"key": "k"}),
			handler:    func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte{0xff, 0x00, 0xfe}) },
			wantStatus: "500", wantType: ProblemType("binary-body-unsupported"),
		},
		{
			name: "unreadable invocation", function: "cache", body: `{"Data":`,
			wantStatus: "500", wantType: ProblemType("invalid-invocation"),
		},
		{
			name: "unreadable trigger data", function: "cache", body: `{"Data":{"req":{"Url":"http://h/%zz"}}}`,
			wantStatus: "500", wantType: ProblemType("invalid-invocation"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, _ := newTestApp(t, payloadHost, cacheFunctions)
			if tt.handler != nil {
				app.HandleHTTP("cache", tt.handler)
			}
			p := readPayload(t, invoke(t, app, tt.function, tt.body))
			out := readHTTPOutput(t, p, "res")
			var prob Problem
			_ = json.Unmarshal([]byte(out.Body), &prob)
			if out.StatusCode != tt.wantStatus || prob.Type != tt.wantType || out.Headers["Content-Type"] != "application/problem+json" {
				t.Errorf("HTTP output %+v", out)
			}
			if len(p.Logs) != tt.wantLogs {
				t.Errorf("Logs %q, want %d", p.Logs, tt.wantLogs)
			}
			if out.Headers["Allow"] != tt.wantAllow {
				t.Errorf("Allow %q, want %q", out.Headers["Allow"], tt.wantAllow)
			}
			if strings.Contains(out.Body, "boom") || strings.Contains(out.Body, "partial") {
				t.Errorf("problem leaks the panic or partial body: %s", out.Body)
			}
		})
	}
}

func TestPayloadReturnHTTPOutput(t *testing.T) {
	app, _ := newTestApp(t, payloadHost, cacheFunctions)
	app.HandleHTTP("hello", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	p := readPayload(t, invoke(t, app, "hello", httpReq("GET", "http://h/api/hello", "", nil)))
	var rv map[string]json.RawMessage
	if err := json.Unmarshal(p.ReturnValue, &rv); err != nil {
		t.Fatalf("ReturnValue %s: %v", p.ReturnValue, err)
	}
	// The host honours statusCode on a $return object only when it has a body key.
	if string(rv["statusCode"]) != `"204"` || rv["body"] == nil {
		t.Errorf("ReturnValue %s", p.ReturnValue)
	}
}

func TestPayloadHTTPFunctionWithQueueOutput(t *testing.T) {
	app, _ := newTestApp(t, payloadHost, cacheFunctions)
	app.HandleHTTP("enqueue", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := SetOutput(r.Context(), "MSG", "abcd"); err != nil {
			t.Error(err)
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	p := readPayload(t, invoke(t, app, "enqueue", httpReq("POST", "http://h/api/enqueue", "x", nil)))
	// "abcd" is valid base64: the host would decode it to 3 garbage bytes. Sent as base64 of its
	// text, it decodes back to "abcd". The key takes the binding's spelling.
	if string(p.Outputs["msg"]) != `"`+base64.StdEncoding.EncodeToString([]byte("abcd"))+`"` {
		t.Errorf("outputs %v", p.Outputs)
	}
	if out := readHTTPOutput(t, p, "res"); out.StatusCode != "202" {
		t.Errorf("res %+v", out)
	}
}

func TestPayloadInvocationHandler(t *testing.T) {
	app, logs := newTestApp(t, payloadHost, cacheFunctions)
	app.HandleInvocation("relay", InvocationHandlerFunc(func(ctx context.Context, inv *Invocation) (*Result, error) {
		var item string
		if err := inv.Decode("item", &item); err != nil {
			return nil, err
		}
		var dequeues int
		_ = inv.DecodeMetadata("DequeueCount", &dequeues)
		Log(ctx, "relaying", "dequeues", dequeues)
		return &Result{
			Outputs:     map[string]any{"out": []string{"test", item}, "nosuch": 1},
			Logs:        []string{"done"},
			ReturnValue: "QUJD",
		}, nil
	}))
	app.HandleInvocation("ticker", InvocationHandlerFunc(func(ctx context.Context, inv *Invocation) (*Result, error) {
		Log(ctx, "tick")
		return nil, errors.New("redis unavailable")
	}))
	p := readPayload(t, invoke(t, app, "relay", `{"Data":{"item":"\"HelloWorld\""},"Metadata":{"DequeueCount":"4"}}`))
	if string(p.Outputs["out"]) != `["test","HelloWorld"]` {
		t.Errorf("out %s (arrays are delivered element by element, untouched)", p.Outputs["out"])
	}
	if string(p.ReturnValue) != `"`+base64.StdEncoding.EncodeToString([]byte("QUJD"))+`"` {
		t.Errorf("ReturnValue %s", p.ReturnValue)
	}
	if strings.Join(p.Logs, "|") != "relaying dequeues=4|done" {
		t.Errorf("Logs %q", p.Logs)
	}
	if !strings.Contains(logs.String(), "nosuch") {
		t.Error("no warning about an output without binding")
	}

	// A failing non-HTTP function fails the invocation so the host's retries apply.
	w := invoke(t, app, "ticker", timerPayload)
	if w.Code != http.StatusInternalServerError || w.Header().Get("Content-Type") != "application/problem+json" ||
		!strings.Contains(w.Body.String(), ProblemType("invocation-failed")) || strings.Contains(w.Body.String(), "redis unavailable") {
		t.Errorf("failed invocation answered %d %s", w.Code, w.Body)
	}
	if !strings.Contains(logs.String(), `"msg":"tick"`) {
		t.Error("the failed invocation's Log line is not on stdout")
	}
}

func TestPayloadPanickingInvocationHandler(t *testing.T) {
	app, _ := newTestApp(t, payloadHost, cacheFunctions)
	app.HandleInvocation("ticker", InvocationHandlerFunc(func(ctx context.Context, inv *Invocation) (*Result, error) {
		panic("boom")
	}))
	if w := invoke(t, app, "ticker", timerPayload); w.Code != http.StatusInternalServerError {
		t.Errorf("panicking invocation answered %d", w.Code)
	}
}

func TestUnknownPathsAndFunctions(t *testing.T) {
	app, _ := newTestApp(t, payloadHost, cacheFunctions)
	for _, target := range []string{"/nosuch", "/template", "/api/cache/k", "/cache/extra"} {
		w := invoke(t, app, strings.TrimPrefix(target, "/"), timerPayload)
		if w.Code != http.StatusNotFound || w.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("POST %s: %d %s", target, w.Code, w.Header().Get("Content-Type"))
		}
	}
	// No handler registered: the HTTP output says so, still 200.
	p := readPayload(t, invoke(t, app, "CACHE", httpReq("GET", "http://h/api/cache/k", "", nil)))
	if out := readHTTPOutput(t, p, "res"); out.StatusCode != "500" || !strings.Contains(out.Body, ProblemType("no-handler")) {
		t.Errorf("unregistered function: %+v", out)
	}
}
