package handler

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeRoot builds a script root with host.json and one folder per function.json text.
func writeRoot(t testing.TB, hostJSON string, functions map[string]string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "host.json"), []byte(hostJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, fj := range functions {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if fj == "" {
			continue // a folder without function.json
		}
		if err := os.WriteFile(filepath.Join(dir, "function.json"), []byte(fj), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const (
	payloadHost   = `{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"bin/handler"}}}`
	forwardedHost = `{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"bin/handler"},"enableForwardingHttpRequest":true}}`
)

// httpFunction returns a function.json for an HTTP function.
func httpFunction(route string, methods ...string) string {
	m, _ := json.Marshal(methods)
	if len(methods) == 0 {
		m = []byte("null")
	}
	return `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"function","methods":` + string(m) +
		`,"route":"` + route + `"},{"type":"http","direction":"out","name":"res"}]}`
}

// newTestApp builds an App over functions with logs at Debug captured in the returned buffer.
func newTestApp(t *testing.T, hostJSON string, functions map[string]string) (*App, *bytes.Buffer) {
	t.Helper()
	return newTestAppAt(t, slog.LevelDebug, hostJSON, functions)
}

// newTestAppAt is newTestApp with logs at level.
func newTestAppAt(t *testing.T, level slog.Level, hostJSON string, functions map[string]string) (*App, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	app, err := New(Options{
		Root:   writeRoot(t, hostJSON, functions),
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return app, &logs
}

// invoke POSTs a payload-mode invocation to the app and returns the recorded answer.
func invoke(t *testing.T, app *App, function, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/"+function, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	r.Header.Set("X-Azure-Functions-InvocationId", "inv-1234")
	w := httptest.NewRecorder()
	app.ServeHTTP(w, r)
	return w
}

// decodedPayload is a payload-mode answer as the host would read it.
type decodedPayload struct {
	Outputs     map[string]json.RawMessage
	Logs        []string
	ReturnValue json.RawMessage
}

// readPayload checks the host's requirements on a payload answer (200, application/json) and
// decodes it.
func readPayload(t *testing.T, w *httptest.ResponseRecorder) decodedPayload {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	var p decodedPayload
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, w.Body)
	}
	return p
}

// readHTTPOutput decodes the HTTP output binding value named name.
func readHTTPOutput(t *testing.T, p decodedPayload, name string) httpOutput {
	t.Helper()
	raw, ok := p.Outputs[name]
	if !ok {
		t.Fatalf("no output %q in %v", name, p.Outputs)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	if _, bad := fields["status"]; bad {
		t.Fatalf("HTTP output uses status, which the host ignores: %s", raw)
	}
	var out httpOutput
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("HTTP output %s: %v (statusCode and header values must be strings)", raw, err)
	}
	return out
}
