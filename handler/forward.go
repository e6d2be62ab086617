package handler

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// routeEntry is one function behind a ServeMux pattern, with its parameters by position.
type routeEntry struct {
	fn     *Function
	params []*routeParam
}

// buildRoutes registers every forwarded function's route under /<routePrefix>/ in a ServeMux.
// Functions whose routes differ only in parameter names or constraints share a pattern and are
// told apart at request time, as ASP.NET does (constrained routes first).
func (a *App) buildRoutes() error {
	if !a.cfg.forwarding {
		return nil
	}
	groups := map[string][]routeEntry{}
	var order []string
	for i := range a.functions {
		fn := &a.functions[i]
		if !fn.Forwardable() {
			continue
		}
		segs, err := parseRoute(fn.Route)
		if err != nil {
			return fmt.Errorf("function %q: %w", fn.Name, err)
		}
		for _, mp := range muxPatterns(a.cfg.routePrefix, segs) {
			if _, ok := groups[mp.pattern]; !ok {
				order = append(order, mp.pattern)
			}
			groups[mp.pattern] = append(groups[mp.pattern], routeEntry{fn: fn, params: mp.params})
		}
	}
	mux := http.NewServeMux()
	for _, pattern := range order {
		entries := groups[pattern]
		slices.SortStableFunc(entries, func(x, y routeEntry) int {
			return cmp.Compare(constraintCount(y.params), constraintCount(x.params))
		})
		if err := handleSafely(mux, pattern, a.routeHandler(entries)); err != nil {
			return err
		}
	}
	a.mux = mux
	return nil
}

// handleSafely registers pattern, turning ServeMux's panic on conflicting patterns into an error.
func handleSafely(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("routes conflict: %v", p)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

// constraintCount is the number of constraints on params (more constrained routes win ties).
func constraintCount(params []*routeParam) int {
	n := 0
	for _, p := range params {
		n += len(p.constraints)
	}
	return n
}

// routeHandler picks, among the functions sharing one pattern, the first whose constraints match
// and whose methods allow the request: no match is 404, a match with the wrong method 405.
func (a *App) routeHandler(entries []routeEntry) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		matched := false
		for _, e := range entries {
			values, ok := e.match(r)
			if !ok {
				continue
			}
			matched = true
			if !e.fn.allows(r.Method) {
				allow = append(allow, e.fn.Methods...)
				continue
			}
			for i, p := range e.params {
				r.SetPathValue(p.name, values[i])
			}
			a.serveForwarded(w, r, e.fn)
			return
		}
		if !matched {
			writeNotFound(w)
			return
		}
		WriteMethodNotAllowed(w, allow...)
	})
}

// match returns the entry's parameter values from the request and whether its constraints hold.
func (e routeEntry) match(r *http.Request) ([]string, bool) {
	values := make([]string, len(e.params))
	for i, p := range e.params {
		v := r.PathValue("p" + strconv.Itoa(i))
		if v == "" && p.catchAll {
			values[i] = v
			continue
		}
		for _, c := range p.constraints {
			if !c.match(v) {
				return nil, false
			}
		}
		values[i] = v
	}
	return values, true
}

// serveForwarded runs fn's HTTP handler on a forwarded request: Log goes to slog only, a panic
// becomes a 500 problem when nothing was written yet, and one slog line records the invocation.
func (a *App) serveForwarded(w http.ResponseWriter, r *http.Request, fn *Function) {
	start := time.Now()
	st := newInvocationState(a.logger, fn, r.Header.Get("X-Azure-Functions-InvocationId"), false)
	sw := &statusWriter{ResponseWriter: w}
	h, _ := a.handlers(strings.ToLower(fn.Name))
	if h == nil {
		WriteProblem(sw, noHandlerProblem(fn))
	} else {
		r = r.WithContext(withInvocation(r.Context(), st))
		if p := runHandler(h, sw, r); p != nil {
			st.log().Error("function panicked", "panic", p)
			if sw.status == 0 {
				WriteProblem(sw, internalProblem())
			}
		}
	}
	st.logDone(r.Context(), "mode", "forwarded", "method", r.Method, "status", cmp.Or(sw.status, http.StatusOK),
		"duration", time.Since(start))
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
