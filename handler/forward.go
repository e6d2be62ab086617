package handler

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// buildRoutes compiles every forwarded function's route under /<routePrefix>/, ordered by ASP.NET
// Core's precedence (literal, constrained parameter, parameter, catch-all).
func (a *App) buildRoutes() error {
	if !a.cfg.forwarding {
		return nil
	}
	for i := range a.functions {
		fn := &a.functions[i]
		if !fn.Forwardable() {
			continue
		}
		segs, err := parseRoute(fn.Route)
		if err != nil {
			return fmt.Errorf("function %q: %w", fn.Name, err)
		}
		a.routes = append(a.routes, newRoute(fn, a.cfg.routePrefix, segs))
	}
	slices.SortStableFunc(a.routes, func(x, y *route) int {
		switch {
		case x.before(y):
			return -1
		case y.before(x):
			return 1
		}
		return 0
	})
	return nil
}

// serveRoute serves a forwarded request as the host routes it: the first route, in precedence
// order, whose path matches and whose methods allow the request's method. It reports false when
// no route's path matches; a path that matches only with other methods is a 405.
func (a *App) serveRoute(w http.ResponseWriter, r *http.Request) bool {
	path := r.URL.EscapedPath()
	var buf [4]string // the values of a route's parameters, on the stack for up to four
	var allow []string
	for _, rt := range a.routes {
		values, ok := rt.match(path, buf[:0])
		if !ok {
			continue
		}
		if !rt.fn.allows(r.Method) {
			allow = append(allow, rt.fn.Methods...)
			continue
		}
		for i, p := range rt.params {
			r.SetPathValue(p.name, values[i])
		}
		a.serveForwarded(w, r, rt.fn)
		return true
	}
	if allow == nil {
		return false
	}
	WriteMethodNotAllowed(w, allow...)
	return true
}

// serveForwarded runs fn's HTTP handler on a forwarded request: Log goes to slog only, a panic
// becomes a 500 problem when nothing was written yet, and logDone records the invocation.
func (a *App) serveForwarded(w http.ResponseWriter, r *http.Request, fn *Function) {
	start := time.Now()
	st := newInvocationState(r.Context(), a.logger, fn, r.Header.Get(invocationIDHeader), false)
	sw := &statusWriter{ResponseWriter: w}
	h, _ := a.handlers(strings.ToLower(fn.Name))
	if h == nil {
		WriteProblem(sw, noHandlerProblem(fn))
	} else {
		r = r.WithContext(st)
		if p := runHandler(h, sw, r); p != nil {
			st.log().Error("function panicked", "panic", p)
			if sw.status == 0 {
				WriteProblem(sw, internalProblem())
			}
		}
	}
	st.logDone("forwarded", r.Method, cmp.Or(sw.status, http.StatusOK), start)
}

// runHandler calls h and returns the recovered panic value, if any. http.ErrAbortHandler is
// re-raised: it is net/http's way to abort a response on purpose.
func runHandler(h http.Handler, w http.ResponseWriter, r *http.Request) (p any) {
	defer func() {
		if p = recover(); p == http.ErrAbortHandler {
			panic(p)
		}
	}()
	h.ServeHTTP(w, r)
	return nil
}

// internalProblem is the 500 answered for a panicking function; it reveals nothing of the panic.
func internalProblem() Problem {
	return problem(http.StatusInternalServerError, "internal", "Internal error", "the function failed; see the handler's log")
}

// noHandlerProblem is the 500 answered for a function folder that has no (suitable) handler.
func noHandlerProblem(fn *Function) Problem {
	return problem(http.StatusInternalServerError, "no-handler", "Function not implemented",
		fmt.Sprintf("function %q has no handler for this mode; App.Check reports it at start-up", fn.Name))
}
