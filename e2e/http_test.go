package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestHTTPAsAzureDelivers sends through the host emulator, in both modes and with and without
// App Service's front end, what the Functions host changes about HTTP: bodies without a length,
// case and trailing slashes in paths, and %2F in a key.
func TestHTTPAsAzureDelivers(t *testing.T) {
	for _, m := range modes {
		for _, frontEnd := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/front-end=%v", m.name, frontEnd), func(t *testing.T) {
				a := startAppBehind(t, m.forwarding, frontEnd)
				u := fmt.Sprintf("/api/cache/http-%s-%v", m.name, frontEnd) // the backend is shared

				// A chunked body never reaches the handler: forwarding fails in the host (an empty
				// 500), payload mode carries no Body and the cache answers 411. Either way nothing
				// is stored.
				res, b := a.chunked(t, "PUT", u+"-chunky", "chunked body")
				if m.forwarding {
					if res.StatusCode != 500 || len(b) != 0 {
						t.Errorf("chunked PUT: %d %s, want the host's empty 500", res.StatusCode, b)
					}
				} else if res.StatusCode != http.StatusLengthRequired || problemType(t, b) != "length-required" || !strings.Contains(string(b), "Content-Length") {
					t.Errorf("chunked PUT: %d %s, want 411 length-required naming Content-Length", res.StatusCode, b)
				}
				res, b = a.do(t, "GET", u+"-chunky", "")
				expect(t, res, b, 404)

				// Content-Length: 0 is an empty value.
				res, b = a.do(t, "PUT", u+"-empty", "")
				expect(t, res, b, 201)
				res, b = a.do(t, "GET", u+"-empty", "")
				expect(t, res, b, 200)
				if len(b) != 0 {
					t.Errorf("empty value came back as %q", b)
				}

				// The host's router matches literals case-insensitively and ignores a trailing
				// slash, and forwards the path as sent.
				for _, path := range []string{strings.Replace(u, "/api/cache/", "/API/Cache/", 1) + "-empty", u + "-empty/", "/api/health/"} {
					res, b := a.do(t, "GET", path, "")
					expect(t, res, b, 200)
				}

				// %2F in a key: kept by the host, decoded by the front end; never a 404, always a
				// 400 naming the '/'.
				for _, c := range []struct{ method, path string }{{"PUT", "/api/cache/a%2Fb"}, {"POST", "/api/cache/a%2Fb/incr"}} {
					res, b := a.do(t, c.method, c.path, "x")
					if res.StatusCode != 400 || problemType(t, b) != "invalid-key" || !strings.Contains(string(b), `'/'`) {
						t.Errorf("%s %s: %d %s, want 400 invalid-key naming '/'", c.method, c.path, res.StatusCode, b)
					}
				}
				a.assertNoTokenInLogs(t)
			})
		}
	}
}

// chunked sends body with Transfer-Encoding: chunked and no Content-Length.
func (a *app) chunked(t testing.TB, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	pr, pw := io.Pipe()
	go func() { _, _ = io.WriteString(pw, body); _ = pw.Close() }()
	req, err := http.NewRequest(method, a.h.URL()+path, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-functions-key", functionKey)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}
