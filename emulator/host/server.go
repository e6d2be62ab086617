package host

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// incoming is a client request as the host's ASP.NET Core pipeline sees it.
type incoming struct {
	scheme string // "https" behind the front end (AppServiceHeaderFixupMiddleware sets it from X-Forwarded-Proto), else "http"
	path   string // Request.Path: decoded except %2F
}

// ServeHTTP serves the public endpoint: /api/<route> for HTTP functions, POST
// /admin/functions/{name} for non-HTTP functions, and GET /admin/host/status. Unknown paths get
// an empty 404, as from the host.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The documented URL limit; the status is Kestrel's for a request line over its limit
	// (RequestLineTooLong → 414) [inferred: the docs give only the size].
	if len(r.RequestURI) > MaxURLBytes {
		w.WriteHeader(http.StatusRequestURITooLong)
		return
	}
	in := incoming{scheme: "http", path: aspNetPath(r.URL.EscapedPath())}
	if h.cfg.FrontEnd {
		r, in = frontEnd(r)
	}
	switch {
	case in.path == "/" || in.path == "":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "Azure Functions host emulator: your functions app is up and running.\n")
		return
	case strings.EqualFold(in.path, "/admin/host/status"):
		h.serveStatus(w, r)
		return
	case len(in.path) > len("/admin/functions/") && strings.EqualFold(in.path[:len("/admin/functions/")], "/admin/functions/"):
		h.serveAdminInvoke(w, r, in.path[len("/admin/functions/"):])
		return
	}
	f, params := h.matchRoute(in.path, r.Method)
	if f == nil {
		w.WriteHeader(http.StatusNotFound)
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
	if r.ContentLength > h.bodyLimit {
		// Kestrel refuses the body when the host first reads it (forwarding it, or building the
		// payload) with a 413 BadHttpRequestException, and the host's ExceptionMiddleware turns the
		// failed invocation into an empty 500: "Azure Functions return a 500 if request is too
		// large" (https://github.com/Azure/azure-functions-host/issues/10519).
		h.log.Error("Request body too large.", "function", f.name, "limit", h.bodyLimit)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	if h.forward && f.httpInAndOut() {
		h.forwardRequest(w, r, in, f)
		return
	}
	h.serveInvocation(w, r, in, f, params, level)
}

// frontEnd applies what App Service's front end does to a request before the host sees it: TLS
// ends there, so the host sees https through X-Forwarded-Proto
// (https://learn.microsoft.com/azure/app-service/configure-ssl-bindings#handle-tls-termination);
// X-Forwarded-For carries the client address
// (https://learn.microsoft.com/azure/app-service/configure-language-dotnetcore#detect-https-session);
// X-ARR-LOG-ID is on every external request (HttpRequestExtensions.IsAppServiceInternalRequest
// in Azure/azure-functions-host), DISGUISED-HOST holds the site's host name
// (AppServiceHeaderFixupMiddleware there); and the URL path is decoded, %2F included, with the raw
// one kept in X-Waws-Unencoded-Url (RestoreRawRequestPathMiddleware there, and the App Service
// team in https://github.com/Azure/azure-functions-host/pull/9402).
func frontEnd(r *http.Request) (*http.Request, incoming) {
	r = r.Clone(r.Context())
	client, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		client = r.RemoteAddr
	}
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("X-Forwarded-For", client)
	r.Header.Set("X-ARR-LOG-ID", newGUID())
	r.Header.Set("DISGUISED-HOST", r.Host)
	r.Header.Set("X-Waws-Unencoded-Url", r.RequestURI)
	decoded, err := url.PathUnescape(r.URL.EscapedPath())
	if err != nil {
		decoded = r.URL.EscapedPath()
	}
	return r, incoming{scheme: "https", path: aspNetPath(decoded)}
}

// matchRoute finds the HTTP function for a Request.Path and method, in precedence order. A path
// that matches but whose method is not allowed is not a match: the host's router treats methods
// as a route constraint (HttpMethodRouteConstraint, which compares them case-insensitively), so
// the client gets 404. Route values are the path's segments as ASP.NET holds them (%2F kept).
func (h *Host) matchRoute(path, method string) (*function, map[string]string) {
	parts := pathSegments(path)
	for _, lit := range pathSegments("/" + h.settings.routePrefix) {
		if len(parts) == 0 || !strings.EqualFold(parts[0], lit) {
			return nil, nil
		}
		parts = parts[1:]
	}
	for _, f := range h.fns {
		if f.route == nil {
			continue
		}
		if f.methods != nil && !f.methods[strings.ToUpper(method)] {
			continue
		}
		if params, ok := f.route.match(parts); ok {
			return f, params
		}
	}
	return nil, nil
}

// authorize checks the key for the auth level and returns the caller's level for Identities. The
// master key (admin level) is distinct from function keys: authLevel function accepts either,
// authLevel admin and the admin API only the master key
// (https://learn.microsoft.com/azure/azure-functions/function-keys-how-to#understand-keys).
func (h *Host) authorize(r *http.Request, level string) (string, bool) {
	if h.cfg.FunctionKey == "" && h.cfg.MasterKey == "" {
		return "Admin", true
	}
	key := r.Header.Get("x-functions-key")
	if key == "" {
		key = r.URL.Query().Get("code")
	}
	switch {
	case matches(key, h.cfg.MasterKey):
		return "Admin", true
	case matches(key, h.cfg.FunctionKey):
		return "Function", level != "admin"
	}
	return "Anonymous", level == "anonymous"
}

// matches compares a presented key with a configured one in constant time; an empty key never
// matches.
func matches(presented, configured string) bool {
	return presented != "" && configured != "" && subtle.ConstantTimeCompare([]byte(presented), []byte(configured)) == 1
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
		w.WriteHeader(http.StatusNotFound)
		return
	}
	var in struct {
		Input any `json:"input"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, h.bodyLimit)).Decode(&in); err != nil && !errors.Is(err, io.EOF) {
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
