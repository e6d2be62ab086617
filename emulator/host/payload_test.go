package host

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// echoed is what the test handler's echo answers: the payload and headers it received.
type echoed struct {
	Payload struct {
		Data     map[string]json.RawMessage
		Metadata map[string]json.RawMessage
	}
	Headers map[string][]string
	Path    string
	Chunked bool
}

func decodeEcho(t *testing.T, body []byte) echoed {
	t.Helper()
	var e echoed
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("echo body: %v\n%s", err, body)
	}
	return e
}

func jsonOf(t *testing.T, raw json.RawMessage) any {
	t.Helper()
	var v any
	must(t, json.Unmarshal(raw, &v))
	return v
}

func TestHTTPPayloadHostStyle(t *testing.T) {
	a := newApp(t, appOpts{})
	must(t, a.startErr)
	resp, body := a.do(t, http.MethodPost, "/api/echo?x=1&x=2&code=zzz&name=a%20b",
		strings.NewReader(`{"a":"s","n":4,"arr":[1]}`), map[string]string{"Content-Type": "application/json", "X-Multi": "v"})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("echo: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !bytes.HasPrefix(body, []byte("{\n  \"chunked\": true,\n")) {
		t.Errorf("object body not written as indented JSON:\n%.80s", body)
	}
	e := decodeEcho(t, body)
	if e.Path != "/echo" || !e.Chunked {
		t.Errorf("path %q chunked %v, want /echo sent chunked", e.Path, e.Chunked)
	}
	for k, want := range map[string]string{
		"Content-Type":                   "application/json; charset=utf-8",
		"User-Agent":                     "Azure-Functions-Host/" + HostVersion,
		"X-Azure-Functions-Hostversion":  HostVersion,
		"X-Azure-Functions-Invocationid": "",
	} {
		got := e.Headers[http.CanonicalHeaderKey(k)]
		if len(got) != 1 || (want != "" && got[0] != want) || got[0] == "" {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	var req struct {
		Url, Method, Body string
		Query             map[string]string
		Headers           map[string][]string
		Params            map[string]string
		Identities        []map[string]any
	}
	must(t, json.Unmarshal(e.Payload.Data["req"], &req))
	if req.Url != a.h.URL()+"/api/echo?x=1&x=2&code=zzz&name=a%20b" || req.Method != "POST" {
		t.Errorf("Url %q Method %q", req.Url, req.Method)
	}
	if req.Query["x"] != "1,2" || req.Query["code"] != "zzz" || req.Query["name"] != "a b" {
		t.Errorf("Query = %v", req.Query)
	}
	if got := req.Headers["X-Multi"]; len(got) != 1 || got[0] != "v" {
		t.Errorf("Headers are arrays: %v", req.Headers)
	}
	if req.Body != `{"a":"s","n":4,"arr":[1]}` || req.Params == nil || len(req.Identities) != 1 {
		t.Errorf("Body %q Params %v Identities %v", req.Body, req.Params, req.Identities)
	}
	md := e.Payload.Metadata
	for k, want := range map[string]any{"x": `"1,2"`, "a": `"s"`, "n": "4", "name": `"a b"`} {
		if got := jsonOf(t, md[k]); got != want {
			t.Errorf("Metadata[%s] = %#v, want double-encoded %#v", k, got, want)
		}
	}
	for _, k := range []string{"code", "arr"} {
		if _, ok := md[k]; ok {
			t.Errorf("Metadata has %q", k)
		}
	}
	var hdrs map[string]string
	must(t, json.Unmarshal(md["Headers"], &hdrs))
	if hdrs["X-Multi"] != "v" {
		t.Errorf("Metadata.Headers = %v", hdrs)
	}
	var sys map[string]string
	must(t, json.Unmarshal(md["sys"], &sys))
	if sys["MethodName"] != "echo" || sys["UtcNow"] == "" || len(sys["RandGuid"]) != 36 {
		t.Errorf("sys = %v", sys)
	}
	waitFor(t, "invocation log", func() bool { r, ok := a.logs.find("echo echo"); return ok && r.attrs["function"] == "echo" })
}

func TestHTTPPayloadDocsStyleAndRouteParams(t *testing.T) {
	a := newApp(t, appOpts{cfg: func(c *Config) { c.Style = StyleDocs }})
	must(t, a.startErr)
	_, body := a.do(t, http.MethodGet, "/api/items/42/x/y?n=5", nil, nil)
	e := decodeEcho(t, body)
	var req struct {
		Query  string
		Params map[string]string
		Body   *string
	}
	must(t, json.Unmarshal(e.Payload.Data["req"], &req))
	if req.Query != `{"n":"5"}` || req.Params["id"] != "42" || req.Params["rest"] != "x/y" || req.Body != nil {
		t.Errorf("docs-style req: Query %q Params %v Body %v", req.Query, req.Params, req.Body)
	}
	if got := jsonOf(t, e.Payload.Metadata["n"]); got != "5" {
		t.Errorf("Metadata n = %#v, want single-encoded", got)
	}
	if got := jsonOf(t, e.Payload.Metadata["id"]); got != "42" {
		t.Errorf("Metadata id = %#v", got)
	}
}

func TestBinaryBodyIsBase64(t *testing.T) {
	a := newApp(t, appOpts{})
	must(t, a.startErr)
	_, body := a.do(t, http.MethodPost, "/api/echo", strings.NewReader("\x00\x01"), map[string]string{"Content-Type": "application/octet-stream"})
	var req struct{ Body string }
	must(t, json.Unmarshal(decodeEcho(t, body).Payload.Data["req"], &req))
	if req.Body != "AAE=" {
		t.Errorf("octet-stream Body = %q, want base64", req.Body)
	}
}

func TestInvokeNonHTTPPayload(t *testing.T) {
	for _, tc := range []struct {
		style           PayloadStyle
		wantMsg, wantDQ any
	}{
		{StyleHost, `"HelloWorld"`, "1"},
		{StyleDocs, "HelloWorld", float64(1)},
	} {
		t.Run(tc.style.String(), func(t *testing.T) {
			a := newApp(t, appOpts{cfg: func(c *Config) { c.Style = tc.style }})
			must(t, a.startErr)
			res, err := a.h.InvokeWithMetadata(ctxT(t), "queue", map[string]any{"msg": "HelloWorld"}, map[string]any{"DequeueCount": 1, "QueueTrigger": "x"})
			must(t, err)
			var p struct {
				Outputs map[string]struct{ Body echoed }
			}
			must(t, json.Unmarshal(res.Raw, &p))
			e := p.Outputs["res"].Body
			if e.Path != "/queue" {
				t.Fatalf("path %q", e.Path)
			}
			if got := jsonOf(t, e.Payload.Data["msg"]); got != tc.wantMsg {
				t.Errorf("Data.msg = %#v, want %#v", got, tc.wantMsg)
			}
			if got := jsonOf(t, e.Payload.Metadata["DequeueCount"]); got != tc.wantDQ {
				t.Errorf("DequeueCount = %#v, want %#v", got, tc.wantDQ)
			}
			if _, ok := e.Payload.Metadata["QueueTrigger"]; ok {
				t.Errorf("keys ending in trigger must be dropped")
			}
			if len(res.Logs) != 1 || res.Logs[0] != "echo queue" {
				t.Errorf("Logs = %q", res.Logs)
			}
		})
	}
}

func TestInvokeRejectsUnknownInputsAndHTTPFunctions(t *testing.T) {
	a := newApp(t, appOpts{})
	must(t, a.startErr)
	if _, err := a.h.Invoke(ctxT(t), "queue", map[string]any{"nope": 1}); err == nil {
		t.Errorf("unknown input accepted")
	}
	if _, err := a.h.Invoke(ctxT(t), "echo", nil); err == nil {
		t.Errorf("HTTP function invoked through Invoke")
	}
}

func TestConcurrentInvocations(t *testing.T) {
	a := newApp(t, appOpts{})
	must(t, a.startErr)
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for range 20 {
		wg.Go(func() {
			resp, _ := a.do(t, http.MethodGet, "/api/echo", nil, nil)
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("concurrent call: %d", c)
		}
	}
	if s := a.h.Stats(); s.Invocations != 20 {
		t.Errorf("invocations = %d", s.Invocations)
	}
}
