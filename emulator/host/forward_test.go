package host

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type forwardedEcho struct {
	Method, URI, Host, Body string
	Headers                 map[string][]string
	ContentLength           int64
	TransferEncoding        []string
}

func TestForwarding(t *testing.T) {
	on := true
	a := newApp(t, appOpts{cfg: func(c *Config) { c.Forwarding = &on }})
	must(t, a.startErr)
	pub, _ := url.Parse(a.h.URL())

	t.Run("path, rebuilt query and headers", func(t *testing.T) {
		resp, body := a.do(t, http.MethodGet, "/api/fwd/a%20b?name=Ink+And+Toner&x=1&x=2&code=k", nil,
			map[string]string{"X-Custom": "c", "User-Agent": "client/1", "X-Azure-Functions-InvocationId": "from-client"})
		var e forwardedEcho
		must(t, json.Unmarshal(body, &e))
		if resp.StatusCode != 200 || e.Method != "GET" {
			t.Fatalf("%d %+v", resp.StatusCode, e)
		}
		if want := "/api/fwd/a%20b?name=Ink%20And%20Toner&x=1%2C2&code=k"; e.URI != want {
			t.Errorf("URI = %q, want %q", e.URI, want)
		}
		if e.Host != pub.Host {
			t.Errorf("Host = %q, want the original %q", e.Host, pub.Host)
		}
		h := http.Header(e.Headers)
		if h.Get("X-Custom") != "c" || h.Get("X-Azure-Functions-HostVersion") != HostVersion ||
			h.Get("User-Agent") != "client/1 Azure-Functions-Host/"+HostVersion {
			t.Errorf("headers = %v", h)
		}
		if ids := h.Values("X-Azure-Functions-InvocationId"); len(ids) != 2 || ids[0] != "from-client" {
			t.Errorf("InvocationId values = %q, want the client's plus the host's", ids)
		}
	})
	t.Run("body with Content-Length", func(t *testing.T) {
		_, body := a.do(t, http.MethodPost, "/api/fwd/x", strings.NewReader("hello"), map[string]string{"Content-Type": "text/plain"})
		var e forwardedEcho
		must(t, json.Unmarshal(body, &e))
		if e.Body != "hello" || e.ContentLength != 5 || http.Header(e.Headers).Get("Content-Type") != "text/plain" {
			t.Errorf("%+v", e)
		}
	})
	t.Run("chunked body fails the invocation", func(t *testing.T) {
		// The host copies Transfer-Encoding: chunked into the HttpRequestMessage but a body only
		// for Content-Length > 0 (ToHttpRequestMessage in Azure/azure-functions-host
		// src/WebJobs.Script/Extensions/HttpRequestExtensions.cs), and HttpClient refuses to send
		// chunked without content ("'Transfer-Encoding: chunked' header can not be used when
		// content object is not specified", ValidateAndNormalizeRequest in dotnet/runtime): the
		// invocation fails, the client gets the host's empty 500, the handler sees nothing.
		before := a.h.Stats()
		pr, pw := io.Pipe()
		go func() { _, _ = pw.Write([]byte("chunked")); _ = pw.Close() }()
		resp, body := a.do(t, http.MethodPut, "/api/fwd/x", pr, map[string]string{"Content-Type": "text/plain"})
		after := a.h.Stats()
		if resp.StatusCode != 500 || len(body) != 0 || after.FailedInvocations != before.FailedInvocations+1 {
			t.Errorf("chunked PUT: %d %q, failed invocations %d → %d", resp.StatusCode, body, before.FailedInvocations, after.FailedInvocations)
		}
	})
	t.Run("Content-Length 0 stays an empty body", func(t *testing.T) {
		_, body := a.do(t, http.MethodPut, "/api/fwd/x", strings.NewReader(""), nil)
		var e forwardedEcho
		must(t, json.Unmarshal(body, &e))
		if e.Method != "PUT" || e.Body != "" || e.ContentLength != 0 || len(e.TransferEncoding) != 0 {
			t.Errorf("%+v", e)
		}
	})
	t.Run("redirects are not followed", func(t *testing.T) {
		resp, _ := a.do(t, http.MethodGet, "/api/fwd/redirect", nil, nil)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/api/fwd/elsewhere" {
			t.Errorf("%d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("response passes through", func(t *testing.T) {
		resp, body := a.do(t, http.MethodGet, "/api/fwd/status/418", nil, nil)
		if resp.StatusCode != 418 || string(body) != "status body" || resp.Header.Get("X-Handler") != "yes" {
			t.Errorf("%d %q %v", resp.StatusCode, body, resp.Header)
		}
	})
	t.Run("functions with other bindings use the payload", func(t *testing.T) {
		_, body := a.do(t, http.MethodGet, "/api/mixed", nil, nil)
		if e := decodeEcho(t, body); e.Path != "/mixed" {
			t.Errorf("mixed function path %q, want payload POST /mixed", e.Path)
		}
	})
}

func TestForwardingFromHostJSON(t *testing.T) {
	hj := strings.Replace(defaultHostJSON, `"enableForwardingHttpRequest": false`, `"EnableForwardingHttpRequest": true`, 1)
	a := newApp(t, appOpts{hostJSON: hj})
	must(t, a.startErr)
	_, body := a.do(t, http.MethodGet, "/api/echo", nil, nil)
	var e forwardedEcho
	must(t, json.Unmarshal(body, &e))
	if e.URI != "/api/echo" {
		t.Errorf("host.json forwarding (case-insensitive key) not applied: %s", body)
	}
}

func TestRoutingAndAuth(t *testing.T) {
	a := newApp(t, appOpts{cfg: func(c *Config) { c.FunctionKey, c.MasterKey = "k3y", "m4ster" }})
	must(t, a.startErr)
	for _, tc := range []struct {
		method, path string
		hdr          map[string]string
		status       int
	}{
		{"GET", "/api/secure", nil, 401},
		{"GET", "/api/secure?code=bad", nil, 401},
		{"GET", "/api/secure?code=k3y", nil, 200},
		{"GET", "/api/secure", map[string]string{"x-functions-key": "k3y"}, 200},
		{"GET", "/api/echo", nil, 200},
		{"GET", "/api/raw", nil, 404}, // POST-only: the method is a route constraint
		{"GET", "/api/nope", nil, 404},
		{"GET", "/echo", nil, 404}, // no /api prefix
		{"GET", "/api/items/abc/x", nil, 404},
		{"GET", "/api/ITEMS/7", nil, 200},
		{"GET", "/api/secure?code=m4ster", nil, 200}, // the master key opens function level too
		{"POST", "/admin/functions/queue", nil, 401},
		{"POST", "/admin/functions/queue", map[string]string{"x-functions-key": "k3y"}, 401}, // admin needs the master key
		{"POST", "/admin/functions/queue", map[string]string{"x-functions-key": "m4ster"}, 202},
		{"POST", "/admin/functions/missing", map[string]string{"x-functions-key": "m4ster"}, 404},
		{"GET", "/admin/host/status", map[string]string{"x-functions-key": "k3y"}, 401},
		{"GET", "/admin/host/status?code=m4ster", nil, 200},
	} {
		var body io.Reader
		if strings.HasPrefix(tc.path, "/admin/") {
			body = strings.NewReader(`{"input":"hi"}`)
		}
		if resp, _ := a.do(t, tc.method, tc.path, body, tc.hdr); resp.StatusCode != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
	}
	_, body := a.do(t, "GET", "/api/items/7?code=k3y", nil, nil)
	var req struct {
		Params     map[string]string
		Identities []struct{ Claims []struct{ Value string } }
	}
	must(t, json.Unmarshal(decodeEcho(t, body).Payload.Data["req"], &req))
	if req.Params["id"] != "7" || len(req.Identities) != 1 || req.Identities[0].Claims[0].Value != "Function" {
		t.Errorf("Params %v Identities %+v", req.Params, req.Identities)
	}
	_, body = a.do(t, "GET", "/api/items/7?code=m4ster", nil, nil)
	must(t, json.Unmarshal(decodeEcho(t, body).Payload.Data["req"], &req))
	if len(req.Identities) != 1 || req.Identities[0].Claims[0].Value != "Admin" {
		t.Errorf("master key: Identities %+v, want the Admin level", req.Identities)
	}
	waitFor(t, "admin invocation", func() bool { return a.h.Stats().Invocations >= 7 })
}
