package host

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Each test here states a behaviour of the real Functions host and where it comes from, and
// holds the emulator to it.

// payloadRequest is Data.req of an echoed payload-mode invocation.
type payloadRequest struct {
	URL     string `json:"Url"`
	Method  string
	Headers map[string][]string
	Params  map[string]string
	Body    *string
}

func echoedRequest(t *testing.T, body []byte) payloadRequest {
	t.Helper()
	var req payloadRequest
	must(t, json.Unmarshal(decodeEcho(t, body).Payload.Data["req"], &req))
	return req
}

// The host adds Body to the payload only when Content-Length > 0, and copies every request
// header (GetRequestAsJObject in Azure/azure-functions-host
// src/WebJobs.Script/Extensions/HttpRequestExtensions.cs): a chunked body is not in the payload,
// its Transfer-Encoding header is; Content-Length: 0 is a request without Body.
func TestPayloadBodyOnlyWithContentLength(t *testing.T) {
	a := newApp(t, appOpts{})
	must(t, a.startErr)
	pr, pw := io.Pipe()
	go func() { _, _ = pw.Write([]byte("chunked data")); _ = pw.Close() }()
	resp, body := a.do(t, http.MethodPost, "/api/echo", pr, map[string]string{"Content-Type": "text/plain"})
	if resp.StatusCode != 200 {
		t.Fatalf("chunked POST: %d %s", resp.StatusCode, body)
	}
	req := echoedRequest(t, body)
	if req.Body != nil || strings.Join(req.Headers["Transfer-Encoding"], ",") != "chunked" {
		t.Errorf("chunked: Body %v, Transfer-Encoding %q; want no Body and the header", req.Body, req.Headers["Transfer-Encoding"])
	}
	_, body = a.do(t, http.MethodPost, "/api/echo", strings.NewReader(""), nil)
	req = echoedRequest(t, body)
	if req.Body != nil || strings.Join(req.Headers["Content-Length"], ",") != "0" || req.Headers["Transfer-Encoding"] != nil {
		t.Errorf("Content-Length 0: Body %v, headers %v", req.Body, req.Headers)
	}
}

// ASP.NET Core routing, which the host uses for HTTP triggers: literal segments match
// case-insensitively and one trailing slash is ignored (PathTokenizer in dotnet/aspnetcore
// src/Http/Routing/src/PathTokenizer.cs); the method constraint compares case-insensitively
// (HttpMethodRouteConstraintTests there accept "PosT"); Kestrel decodes the path except %2F, so
// an encoded slash stays in its route value (UrlDecoder in src/Shared/UrlDecoder/UrlDecoder.cs).
// Forwarding sends new Uri(displayUrl).AbsolutePath (DefaultHttpWorkerService.GetPathValue), %2F
// kept, and HttpClient spells known methods in upper case (HttpMethod.Normalize in dotnet/runtime).
func TestRoutingAsASPNetCore(t *testing.T) {
	a := newApp(t, appOpts{})
	must(t, a.startErr)
	for _, c := range []struct{ method, path string }{
		{"GET", "/API/Echo"}, {"GET", "/api/echo/"}, {"get", "/api/echo"}, {"PoSt", "/api/echo"},
	} {
		if resp, body := a.do(t, c.method, c.path, nil, nil); resp.StatusCode != 200 {
			t.Errorf("%s %s: %d %s", c.method, c.path, resp.StatusCode, body)
		}
	}
	if resp, _ := a.do(t, "GET", "/api/echo//", nil, nil); resp.StatusCode != 404 {
		t.Errorf("two trailing slashes: %d, want 404", resp.StatusCode)
	}
	_, body := a.do(t, "GET", "/api/items/7/a%2Fb%20c", nil, nil)
	if req := echoedRequest(t, body); req.Params["rest"] != "a%2Fb c" || !strings.HasSuffix(req.URL, "/api/items/7/a%2Fb%20c") {
		t.Errorf("Params %v, Url %q; want rest a%%2Fb c", req.Params, req.URL)
	}

	on := true
	f := newApp(t, appOpts{cfg: func(c *Config) { c.Forwarding = &on }})
	must(t, f.startErr)
	_, body = f.do(t, "get", "/api/FWD/a%2Fb%20c/%41", nil, nil)
	var e forwardedEcho
	must(t, json.Unmarshal(body, &e))
	if e.Method != "GET" || e.URI != "/api/FWD/a%2Fb%20c/A" {
		t.Errorf("forwarded %s %s, want GET /api/FWD/a%%2Fb%%20c/A", e.Method, e.URI)
	}
}

// FUNCTIONS_REQUEST_BODY_SIZE_LIMIT (default 104857600, HttpRequestSizeMiddleware in
// Azure/azure-functions-host src/WebJobs.Script.WebHost/Middleware) is enforced by Kestrel when
// the host reads the body; the failed binding or forward becomes an empty 500, not a 413: "Azure
// Functions return a 500 if request is too large"
// (https://github.com/Azure/azure-functions-host/issues/10519), ExceptionMiddleware there.
func TestRequestBodyLimit(t *testing.T) {
	on := true
	for _, fwd := range []bool{false, true} {
		a := newApp(t, appOpts{env: []string{"FUNCTIONS_REQUEST_BODY_SIZE_LIMIT=10"}, cfg: func(c *Config) {
			if fwd {
				c.Forwarding = &on
			}
		}})
		must(t, a.startErr)
		path := "/api/echo"
		if fwd {
			path = "/api/fwd/x"
		}
		before := a.h.Stats().Invocations
		if resp, body := a.do(t, "POST", path, strings.NewReader("12345678901"), nil); resp.StatusCode != 500 || len(body) != 0 {
			t.Errorf("forwarding %v, 11 bytes: %d %q, want an empty 500", fwd, resp.StatusCode, body)
		}
		if a.h.Stats().Invocations != before {
			t.Errorf("forwarding %v: the handler was called for a body over the limit", fwd)
		}
		if resp, body := a.do(t, "POST", path, strings.NewReader("1234567890"), nil); resp.StatusCode != 200 {
			t.Errorf("forwarding %v, 10 bytes: %d %s", fwd, resp.StatusCode, body)
		}
	}
	if a, err := New(Config{Root: t.TempDir(), Env: []string{"FUNCTIONS_REQUEST_BODY_SIZE_LIMIT=ten"}}); err == nil || a != nil {
		t.Error("a limit that is not a number was accepted")
	}
}

// The HTTP trigger's URL is limited to 4 KB (4,096 bytes)
// (https://learn.microsoft.com/azure/azure-functions/functions-bindings-http-webhook-trigger#limits);
// the status is Kestrel's for an over-long request line, 414 [inferred].
func TestURLLengthLimit(t *testing.T) {
	a := newApp(t, appOpts{})
	must(t, a.startErr)
	base := "/api/echo?q="
	if resp, _ := a.do(t, "GET", base+strings.Repeat("x", MaxURLBytes-len(base)), nil, nil); resp.StatusCode != 200 {
		t.Errorf("4096-byte URL: %d", resp.StatusCode)
	}
	if resp, body := a.do(t, "GET", base+strings.Repeat("x", MaxURLBytes-len(base)+1), nil, nil); resp.StatusCode != 414 || len(body) != 0 {
		t.Errorf("4097-byte URL: %d %q", resp.StatusCode, body)
	}
}

// ScriptHost.ValidateFunction (Azure/azure-functions-host src/WebJobs.Script/Host/ScriptHost.cs):
// a route starting with admin or runtime "conflicts with one or more built in routes", and a
// route equal to an earlier function's with intersecting methods "conflicts with the route
// defined by function"; the function is reported and not served.
func TestReservedAndDuplicateRoutesRefused(t *testing.T) {
	fn := func(route, methods string) string {
		return `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","route":"` + route +
			`","methods":` + methods + `},{"type":"http","direction":"out","name":"res"}]}`
	}
	a := newApp(t, appOpts{functions: map[string]string{
		"a1": fn("admin/x", "null"), "a2": fn("Administration", "null"), "a3": fn("/runtime/y", "null"),
		"d1": fn("dup", `["get"]`), "d2": fn("DUP/", `["GET","post"]`), "d3": fn("dup", `["put"]`),
	}})
	must(t, a.startErr)
	var names []string
	for _, f := range a.h.fns {
		names = append(names, f.name)
	}
	if strings.Join(names, ",") != "d1,d3" && strings.Join(names, ",") != "d3,d1" {
		t.Errorf("served functions %v, want d1 and d3", names)
	}
	for _, path := range []string{"/api/admin/x", "/api/administration", "/api/runtime/y"} {
		if resp, _ := a.do(t, "GET", path, nil, nil); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
	if resp, _ := a.do(t, "POST", "/api/dup", nil, nil); resp.StatusCode != 404 {
		t.Errorf("POST /api/dup (only the refused d2 allowed POST): %d", resp.StatusCode)
	}
	if _, ok := a.logs.find("function indexing failed"); !ok {
		t.Error("refused functions were not logged")
	}
}

// The default functionTimeout is 30 minutes on every plan but Windows Consumption, Flex
// included (ScriptJobHostOptionsSetup in Azure/azure-functions-host
// src/WebJobs.Script/Config/ScriptJobHostOptionsSetup.cs).
func TestFlexDefaultFunctionTimeout(t *testing.T) {
	a := newApp(t, appOpts{noStart: true, cfg: func(c *Config) { c.FunctionTimeout = 0 }})
	if a.h.timeout != 30*time.Minute {
		t.Errorf("default functionTimeout %v, want 30m", a.h.timeout)
	}
}

// An unmatched path gets an empty 404 from the host (no route, and ReservedRouteGuardMiddleware
// only sets the status code, in Azure/azure-functions-host src/WebJobs.Script.WebHost/Middleware).
func TestEmptyNotFound(t *testing.T) {
	a := newApp(t, appOpts{})
	must(t, a.startErr)
	for _, c := range []struct{ method, path string }{{"GET", "/api/nope"}, {"GET", "/nope"}, {"POST", "/admin/functions/missing"}} {
		resp, body := a.do(t, c.method, c.path, strings.NewReader("{}"), nil)
		if resp.StatusCode != 404 || len(body) != 0 {
			t.Errorf("%s %s: %d %q, want an empty 404", c.method, c.path, resp.StatusCode, body)
		}
	}
}

// Behind App Service's front end, TLS ends at the front end and the request reaches the host
// with X-Forwarded-Proto: https
// (https://learn.microsoft.com/azure/app-service/configure-ssl-bindings#handle-tls-termination),
// which the host on Linux Consumption and Flex makes its scheme (AppServiceHeaderFixupMiddleware
// in Azure/azure-functions-host), so the payload's Url is https; X-Forwarded-For carries the
// client (https://learn.microsoft.com/azure/app-service/configure-language-dotnetcore#detect-https-session),
// X-ARR-LOG-ID is on every external request (HttpRequestExtensions.IsAppServiceInternalRequest),
// and the front end decodes the path, %2F included, keeping the raw URL in X-Waws-Unencoded-Url
// (https://github.com/Azure/azure-functions-host/pull/9402).
func TestFrontEnd(t *testing.T) {
	a := newApp(t, appOpts{cfg: func(c *Config) { c.FrontEnd = true }})
	must(t, a.startErr)
	_, body := a.do(t, "GET", "/api/items/7/a%2Fb?x=1", nil, nil)
	req := echoedRequest(t, body)
	if !strings.HasPrefix(req.URL, "https://") || !strings.HasSuffix(req.URL, "/api/items/7/a/b?x=1") || req.Params["rest"] != "a/b" {
		t.Errorf("Url %q, Params %v", req.URL, req.Params)
	}
	h := http.Header(req.Headers)
	for name, want := range map[string]string{
		"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1", "X-Waws-Unencoded-Url": "/api/items/7/a%2Fb?x=1",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if h.Get("X-Arr-Log-Id") == "" || h.Get("Disguised-Host") == "" {
		t.Errorf("front-end headers missing: %v", h)
	}
}
