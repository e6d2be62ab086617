package host

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// maxBodyBytes is the host's default request size limit (100 MB).
const maxBodyBytes = 100 << 20

// ServeHTTP serves the public endpoint: /api/<route> for HTTP functions, POST
// /admin/functions/{name} for non-HTTP functions, and GET /admin/host/status.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/" || r.URL.Path == "":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "Azure Functions host emulator: your functions app is up and running.\n")
		return
	case strings.EqualFold(r.URL.Path, "/admin/host/status"):
		h.serveStatus(w, r)
		return
	case len(r.URL.Path) > len("/admin/functions/") && strings.EqualFold(r.URL.Path[:len("/admin/functions/")], "/admin/functions/"):
		h.serveAdminInvoke(w, r, r.URL.Path[len("/admin/functions/"):])
		return
	}
	f, params := h.matchRoute(r)
	if f == nil {
		http.NotFound(w, r)
		return
	}
	level, ok := h.authorize(r, f.auth)
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	h.mu.Lock()
	st, terr := h.st, h.termErr
	h.mu.Unlock()
	if st == stateFailed || st == stateClosed {
		http.Error(w, "Function host is not running: "+terr.Error(), http.StatusServiceUnavailable)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if h.forward && f.httpInAndOut() {
		h.forwardRequest(w, r, f)
		return
	}
	h.serveInvocation(w, r, f, params, level)
}

// matchRoute finds the HTTP function for the request path and method. A path that matches but
// whose method is not allowed is not a match: the host's router treats methods as a route
// constraint, so the client gets 404.
func (h *Host) matchRoute(r *http.Request) (*function, map[string]string) {
	path := strings.Trim(r.URL.Path, "/")
	prefix := h.settings.routePrefix
	if prefix != "" {
		if len(path) < len(prefix) || !strings.EqualFold(path[:len(prefix)], prefix) ||
			(len(path) > len(prefix) && path[len(prefix)] != '/') {
			return nil, nil
		}
		path = strings.TrimPrefix(path[len(prefix):], "/")
	}
	var parts []string
	if path != "" {
		parts = strings.Split(path, "/")
	}
	for _, f := range h.fns {
		if f.route == nil {
			continue
		}
		if f.methods != nil && !f.methods[r.Method] {
			continue
		}
		if params, ok := f.route.match(parts); ok {
			return f, params
		}
	}
	return nil, nil
}

// authorize checks the key for the auth level; it returns the caller's level for Identities.
func (h *Host) authorize(r *http.Request, level string) (string, bool) {
	if h.cfg.FunctionKey == "" {
		return "Admin", true
	}
	key := r.Header.Get("x-functions-key")
	if key == "" {
		key = r.URL.Query().Get("code")
	}
	if key != "" && subtle.ConstantTimeCompare([]byte(key), []byte(h.cfg.FunctionKey)) == 1 {
		return "Function", true
	}
	return "Anonymous", level == "anonymous"
}

// serveStatus answers like the host's /admin/host/status.
func (h *Host) serveStatus(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.authorize(r, "admin"); !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	h.mu.Lock()
	st, terr := h.st, h.termErr
	h.mu.Unlock()
	state := map[state]string{
		stateNew: "Default", stateStarting: "Initialized", stateReady: "Running",
		stateRestarting: "Initialized", stateExited: "Running", stateFailed: "Error", stateClosed: "Stopped",
	}[st]
	body := map[string]any{"state": state, "version": HostVersion}
	if terr != nil {
		body["errors"] = []string{terr.Error()}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(body)
}

// serveAdminInvoke is Core Tools' POST /admin/functions/{name} with {"input": "..."}: the input
// becomes the trigger value, the call runs in the background and the client gets 202.
func (h *Host) serveAdminInvoke(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if _, ok := h.authorize(r, "admin"); !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f := h.findFunction(name)
	if f == nil {
		http.NotFound(w, r)
		return
	}
	var in struct {
		Input any `json:"input"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes)).Decode(&in); err != nil && !errors.Is(err, io.EOF) {
		http.Error(w, "invalid body: "+err.Error(), http.StatusBadRequest)
		return
	}
	data := map[string]any{}
	if in.Input != nil {
		data[f.trigger.Name] = in.Input
	}
	go func() {
		if _, err := h.Invoke(h.bg, f.name, data); err != nil && !errors.Is(err, context.Canceled) {
			h.log.Error("admin invocation failed", "function", f.name, "error", err)
		}
	}()
	w.WriteHeader(http.StatusAccepted)
}
