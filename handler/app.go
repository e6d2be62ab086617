package handler

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultWarmupTimeout is how long GET / waits for Options.Ready when Options.WarmupTimeout is
// zero: well under the host's 30 s initialization window. It is also WARMUP_TIMEOUT's default.
const DefaultWarmupTimeout = 10 * time.Second

// maxInvocationBytes bounds a payload-mode request body: the host's 100 MiB request limit,
// base64-inflated, plus room for headers and metadata.
const maxInvocationBytes = 160 << 20

// Options configures an App. The zero value serves the current directory, logs with
// slog.Default, and is ready at once.
type Options struct {
	Root          string          // script root holding host.json and the function folders (default ".")
	Logger        *slog.Logger    // default slog.Default()
	Ready         <-chan struct{} // closed when the app is warm; nil = ready at once
	WarmupTimeout time.Duration   // GET / answers after Ready or this long after New, whichever first (0 = DefaultWarmupTimeout)
}

// App serves the functions of one script root to the Functions host. Register every function's
// handler with HandleHTTP or HandleInvocation before serving, and call Check at start-up.
type App struct {
	logger    *slog.Logger
	cfg       hostConfig
	functions []Function
	byName    map[string]*Function // lower-case name → function
	routes    []*route             // forwarded routes in precedence order; nil when forwarding is off

	ready     <-chan struct{}
	deadline  time.Time
	readyOnce sync.Once

	mu     sync.RWMutex
	http   map[string]http.Handler      // lower-case name → handler
	invoke map[string]InvocationHandler // lower-case name → handler
	names  map[string]string            // lower-case name → name as registered
	dups   []string
}

// New reads host.json (routePrefix, forwarding flag) and every <dir>/function.json under
// opts.Root, and builds the forwarded-mode routes. Invalid folder names, function.json files the
// host would refuse, and routes this App cannot serve like the host are errors.
func New(opts Options) (*App, error) {
	if opts.Root == "" {
		opts.Root = "."
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.WarmupTimeout == 0 {
		opts.WarmupTimeout = DefaultWarmupTimeout
	}
	cfg, err := readHostConfig(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("handler: %w", err)
	}
	fns, err := readFunctions(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("handler: %w", err)
	}
	a := &App{
		logger:    opts.Logger,
		cfg:       cfg,
		functions: fns,
		byName:    make(map[string]*Function, len(fns)),
		ready:     opts.Ready,
		deadline:  time.Now().Add(opts.WarmupTimeout),
		http:      map[string]http.Handler{},
		invoke:    map[string]InvocationHandler{},
		names:     map[string]string{},
	}
	for i := range a.functions {
		a.byName[strings.ToLower(a.functions[i].Name)] = &a.functions[i]
	}
	if err := a.buildRoutes(); err != nil {
		return nil, fmt.Errorf("handler: %w", err)
	}
	return a, nil
}

// Functions returns the parsed function.json metadata, ordered by name.
func (a *App) Functions() []Function {
	return slices.Clone(a.functions)
}

// HandleHTTP registers h as the handler of the HTTP-triggered function in folder name. In payload
// mode h receives the client's request rebuilt from the invocation; in forwarded mode the request
// itself. Route parameters are read with r.PathValue in both.
func (a *App) HandleHTTP(name string, h http.Handler) {
	if h == nil {
		panic("handler: nil http.Handler for function " + name)
	}
	a.register(name, func(key string) { a.http[key] = h })
}

// HandleInvocation registers h as the payload-mode handler of function name (any trigger: timer,
// queue, …).
func (a *App) HandleInvocation(name string, h InvocationHandler) {
	if h == nil {
		panic("handler: nil InvocationHandler for function " + name)
	}
	a.register(name, func(key string) { a.invoke[key] = h })
}

// register records a handler under its case-insensitive function name, noting duplicates for Check.
func (a *App) register(name string, set func(key string)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	key := strings.ToLower(name)
	if _, ok := a.names[key]; ok {
		a.dups = append(a.dups, name)
	}
	a.names[key] = name
	set(key)
}

// Check returns an error naming every function folder without a handler, every handler without a
// function folder, every function registered twice, and every HTTP handler registered for a
// function whose trigger is not httpTrigger. Call it at start-up and in a test, so function.json
// files and Go handlers cannot drift apart.
func (a *App) Check() error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var errs []error
	for _, fn := range a.functions {
		key := strings.ToLower(fn.Name)
		_, hasHTTP := a.http[key]
		_, hasInvoke := a.invoke[key]
		switch {
		case !hasHTTP && !hasInvoke:
			errs = append(errs, fmt.Errorf("function folder %q has no handler (register it with HandleHTTP or HandleInvocation)", fn.Name))
		case hasHTTP && hasInvoke:
			errs = append(errs, fmt.Errorf("function %q has both an HTTP handler and an invocation handler", fn.Name))
		case hasHTTP && !fn.IsHTTP():
			errs = append(errs, fmt.Errorf("function %q has trigger %q, not httpTrigger: register it with HandleInvocation", fn.Name, fn.Trigger))
		case hasInvoke && a.cfg.forwarding && fn.Forwardable():
			errs = append(errs, fmt.Errorf("function %q is forwarded by the host (enableForwardingHttpRequest): register it with HandleHTTP", fn.Name))
		}
	}
	var orphans []string
	for key, name := range a.names {
		if a.byName[key] == nil {
			orphans = append(orphans, name)
		}
	}
	slices.Sort(orphans)
	for _, name := range orphans {
		errs = append(errs, fmt.Errorf("handler %q has no function folder (no %s/function.json)", name, name))
	}
	for _, name := range a.dups {
		errs = append(errs, fmt.Errorf("function %q is registered more than once", name))
	}
	return errors.Join(errs...)
}

// handlers returns the registered handlers of the function with lower-case key.
func (a *App) handlers(key string) (http.Handler, InvocationHandler) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.http[key], a.invoke[key]
}

// ServeHTTP answers the host: GET / is the readiness probe, POST /<FunctionName> a payload-mode
// invocation, and with forwarding on, /<routePrefix>/<route> a forwarded request. Anything else is
// a 404 problem.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		a.serveReadiness(w, r)
		return
	}
	if r.Method == http.MethodPost {
		if fn := a.payloadFunction(r.URL.Path); fn != nil {
			a.servePayload(w, r, fn)
			return
		}
	}
	if a.serveRoute(w, r) {
		return
	}
	writeNotFound(w)
}

// payloadFunction returns the function that path /<name> invokes in payload mode, or nil.
// Functions the host forwards never arrive as payloads.
func (a *App) payloadFunction(path string) *Function {
	name, ok := strings.CutPrefix(path, "/")
	if !ok || strings.Contains(name, "/") {
		return nil
	}
	fn := a.byName[strings.ToLower(name)]
	if fn == nil || (a.cfg.forwarding && fn.Forwardable()) {
		return nil
	}
	return fn
}

// writeNotFound writes the 404 problem for a path that is no function.
func writeNotFound(w http.ResponseWriter) {
	WriteProblem(w, problem(http.StatusNotFound, "not-found", "No function serves this path", ""))
}

// serveReadiness answers GET / once the app is ready or the warm-up deadline has passed; every
// later probe returns at once. A probe whose client goes away stops waiting.
func (a *App) serveReadiness(w http.ResponseWriter, r *http.Request) {
	warm := a.waitReady(r)
	if r.Context().Err() != nil {
		return
	}
	a.readyOnce.Do(func() {
		if warm {
			a.logger.Info("handler ready", "warm", true)
		} else {
			a.logger.Warn("handler ready before warm-up finished", "warm", false)
		}
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if warm {
		_, _ = w.Write([]byte(`{"status":"ready"}` + "\n"))
	} else {
		_, _ = w.Write([]byte(`{"status":"warming"}` + "\n"))
	}
}

// waitReady blocks until Ready is closed, the deadline passes or the request ends, and reports
// whether the app is warm.
func (a *App) waitReady(r *http.Request) bool {
	if a.ready == nil {
		return true
	}
	select {
	case <-a.ready:
		return true
	default:
	}
	wait := time.Until(a.deadline)
	if wait <= 0 {
		return false
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-a.ready:
		return true
	case <-t.C:
		return false
	case <-r.Context().Done():
		return false
	}
}
