package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// modes are the two ways the host talks to the handler.
var modes = []struct {
	name       string
	forwarding bool
}{{"forwarded", true}, {"payload", false}}

func problemType(t testing.TB, b []byte) string {
	t.Helper()
	var p struct{ Type string }
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("not a problem: %q", b)
	}
	return strings.TrimPrefix(p.Type, "urn:funcredis:problem:")
}

func expect(t testing.TB, res *http.Response, b []byte, status int) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", res.Request.Method, res.Request.URL.Path, res.StatusCode, status, b)
	}
}

func TestOperations(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			a := startApp(t, m.forwarding)
			k := "ops-" + m.name
			u := "/api/cache/" + k

			res, b := a.do(t, "PUT", u+"?ttl=120", `{"v":1}`, "Content-Type: application/json", "If-None-Match: *")
			expect(t, res, b, 201)
			tag := res.Header.Get("ETag")
			res, b = a.do(t, "PUT", u, "other", "If-None-Match: *")
			expect(t, res, b, 412)

			res, b = a.do(t, "GET", u, "")
			expect(t, res, b, 200)
			if string(b) != `{"v":1}` || res.Header.Get("Content-Type") != "application/json" || res.Header.Get("ETag") != tag {
				t.Fatalf("GET: %q %v", b, res.Header)
			}
			if ttl := res.Header.Get("X-Cache-TTL"); ttl == "" || ttl > "120" {
				t.Fatalf("TTL %q", ttl)
			}
			res, b = a.do(t, "HEAD", u, "")
			expect(t, res, b, 200)
			if len(b) != 0 || res.Header.Get("ETag") != tag || res.Header.Get("X-Cache-TTL") == "" {
				t.Fatalf("HEAD: %q %v", b, res.Header)
			}
			res, b = a.do(t, "GET", u, "", "If-None-Match: "+tag)
			expect(t, res, b, 304)

			res, b = a.do(t, "PUT", u, "v2", "X-Cache-TTL: 60", "If-Match: "+tag)
			expect(t, res, b, 204)
			res, b = a.do(t, "PUT", u, "v3", "If-Match: "+tag)
			expect(t, res, b, 412)
			res, b = a.do(t, "DELETE", u, "", "If-Match: "+tag)
			expect(t, res, b, 412)
			res, b = a.do(t, "DELETE", u, "")
			expect(t, res, b, 204)
			res, b = a.do(t, "GET", u, "")
			expect(t, res, b, 404)
			res, b = a.do(t, "DELETE", u, "")
			expect(t, res, b, 404)

			res, b = a.do(t, "POST", u+"/incr?by=7", "")
			expect(t, res, b, 200)
			res, b = a.do(t, "POST", u+"/incr?by=-2", "")
			expect(t, res, b, 200)
			if !strings.Contains(string(b), `"value":5`) {
				t.Fatalf("incr: %s", b)
			}

			res, b = a.do(t, "POST", "/api/cache-batch", fmt.Sprintf(`{"set":[{"key":"%s-a","value":"A","ttl":30},{"key":"%s-b","value":"B","content_type":"text/plain"}]}`, k, k))
			expect(t, res, b, 200)
			res, b = a.do(t, "POST", "/api/cache-batch", fmt.Sprintf(`{"get":["%s-a","%s-b","%s-none"]}`, k, k, k))
			expect(t, res, b, 200)
			var out struct {
				Items []struct {
					Key, Value string
					Found      bool
					TTL        int64
				}
			}
			if err := json.Unmarshal(b, &out); err != nil || len(out.Items) != 3 ||
				out.Items[0].Value != "A" || out.Items[0].TTL < 1 || out.Items[1].Value != "B" || out.Items[2].Found {
				t.Fatalf("batch get: %s", b)
			}

			res, b = a.do(t, "GET", "/api/health", "", "x-functions-key: ")
			expect(t, res, b, 200)
			if !strings.Contains(string(b), `"state":"ready"`) && !strings.Contains(string(b), `"state":"degraded"`) {
				t.Fatalf("health: %s", b)
			}
			req, _ := http.NewRequest("GET", a.h.URL()+u, nil)
			if res, err := client.Do(req); err != nil || res.StatusCode != 401 {
				t.Fatalf("GET without the function key: %v %v", res, err)
			} else {
				res.Body.Close()
			}
			a.assertNoTokenInLogs(t)
		})
	}
}

func TestBadInput(t *testing.T) {
	long := strings.Repeat("k", 257)
	cases := []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
		slug                     string
	}{
		{"over-long key", "GET", "/api/cache/" + long, "", nil, 400, "invalid-key"},
		{"space in key", "GET", "/api/cache/a%20b", "", nil, 400, "invalid-key"},
		{"brace in key", "PUT", "/api/cache/a%7Bb%7D", "x", nil, 400, "invalid-key"},
		{"non-ascii key", "GET", "/api/cache/%C3%A9", "", nil, 400, "invalid-key"},
		{"value too large", "PUT", "/api/cache/big", strings.Repeat("x", 4097), nil, 413, "value-too-large"},
		{"ttl zero", "PUT", "/api/cache/t?ttl=0", "x", nil, 400, "invalid-ttl"},
		{"ttl too long", "PUT", "/api/cache/t?ttl=3601", "x", nil, 400, "invalid-ttl"},
		{"ttl header not a number", "PUT", "/api/cache/t", "x", []string{"X-Cache-TTL: soon"}, 400, "invalid-ttl"},
		{"bad If-Match", "PUT", "/api/cache/t", "x", []string{"If-Match: nope"}, 400, "invalid-precondition"},
		{"wrong method", "POST", "/api/cache/t", "x", nil, 405, "method-not-allowed"},
		{"incr wrong method", "GET", "/api/cache/t/incr", "", nil, 405, "method-not-allowed"},
		{"incr bad by", "POST", "/api/cache/t/incr?by=x", "", nil, 400, "invalid-increment"},
		{"batch malformed", "POST", "/api/cache-batch", `{"get":[`, nil, 400, "malformed-json"},
		{"batch neither", "POST", "/api/cache-batch", `{}`, nil, 422, "invalid-batch"},
		{"batch too many", "POST", "/api/cache-batch", `{"get":["a","b","c","d","e","f"]}`, nil, 422, "too-many-keys"},
		{"batch duplicate", "POST", "/api/cache-batch", `{"get":["a","a"]}`, nil, 422, "duplicate-key"},
		{"batch bad key", "POST", "/api/cache-batch", `{"get":["a b"]}`, nil, 400, "invalid-key"},
		{"batch bad ttl", "POST", "/api/cache-batch", `{"set":[{"key":"a","value":"v","ttl":7200}]}`, nil, 400, "invalid-ttl"},
		{"batch too large", "POST", "/api/cache-batch", `{"set":[{"key":"a","value":"` + strings.Repeat("x", 4100) + `"}]}`, nil, 413, "value-too-large"},
		{"batch wrong method", "GET", "/api/cache-batch", "", nil, 405, "method-not-allowed"},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			a := startApp(t, m.forwarding)
			a.do(t, "PUT", "/api/cache/text", "not a number")
			res, b := a.do(t, "POST", "/api/cache/text/incr", "")
			expect(t, res, b, 409)
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					res, b := a.do(t, c.method, c.path, c.body, c.hdr...)
					if res.StatusCode != c.status || problemType(t, b) != c.slug {
						t.Fatalf("got %d %s, want %d %s", res.StatusCode, b, c.status, c.slug)
					}
					if c.status == 405 && res.Header.Get("Allow") == "" {
						t.Fatal("405 without Allow")
					}
				})
			}
			a.assertNoTokenInLogs(t)
		})
	}
}

// TestNoAccessPolicy runs the handler as an identity without an access policy: requests get
// 503 with the no-access-policy type and Retry-After, never a 500 or a secret.
func TestNoAccessPolicy(t *testing.T) {
	a := startApp(t, true, "AZURE_CLIENT_ID="+noPolicyClientID, "WARMUP_TIMEOUT=2s")
	res, b := a.do(t, "GET", "/api/cache/anything", "")
	expect(t, res, b, 503)
	if problemType(t, b) != "no-access-policy" || res.Header.Get("Retry-After") == "" {
		t.Fatalf("%v %s", res.Header, b)
	}
	res, b = a.do(t, "GET", "/api/health", "")
	if res.StatusCode == 200 && strings.Contains(string(b), `"state":"ready"`) {
		t.Fatalf("health says ready without access: %s", b)
	}
	a.assertNoTokenInLogs(t)
}
