package handler

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// functionNamePattern is the host's rule for function (folder) names
// (Utility.FunctionNameValidationRegex, case-insensitive).
var functionNamePattern = regexp.MustCompile(`(?i)^[a-z][a-z0-9_\-]{0,127}$`)

// Binding is one entry of a function.json "bindings" array.
type Binding struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Direction string `json:"direction"`
	DataType  string `json:"dataType"`
}

// IsTrigger reports whether b is an input whose type ends in "Trigger" (httpTrigger, timerTrigger, …).
func (b Binding) IsTrigger() bool {
	return strings.EqualFold(b.Direction, "in") && strings.HasSuffix(strings.ToLower(b.Type), "trigger")
}

// Function is the metadata of one function folder, as parsed from its function.json.
type Function struct {
	Name        string    // folder name, spelled as on disk; the payload-mode path is "/" + Name
	Trigger     string    // trigger binding type, e.g. "httpTrigger", "timerTrigger"
	TriggerName string    // trigger binding name, the key of its value in Data
	Methods     []string  // HTTP methods in upper case; nil means every method
	Route       string    // route template without the prefix; the function name when function.json has none
	AuthLevel   string    // "anonymous", "function" (the host's default) or "admin"
	HTTPOutput  string    // name of the http output binding ("res", "$return"), "" if none
	Bindings    []Binding // every binding, in function.json order
}

// IsHTTP reports whether the function has an HTTP trigger.
func (f Function) IsHTTP() bool { return strings.EqualFold(f.Trigger, "httpTrigger") }

// Forwardable reports whether the host forwards this function's requests when forwarding is on:
// exactly one input, an httpTrigger, and exactly one output, of type http.
func (f Function) Forwardable() bool {
	var in, out []Binding
	for _, b := range f.Bindings {
		if strings.EqualFold(b.Direction, "in") {
			in = append(in, b)
		} else if strings.EqualFold(b.Direction, "out") {
			out = append(out, b)
		}
	}
	return len(in) == 1 && len(out) == 1 &&
		strings.EqualFold(in[0].Type, "httpTrigger") && strings.EqualFold(out[0].Type, "http")
}

// binding returns the binding named name (case-insensitive) and whether it exists.
func (f Function) binding(name string) (Binding, bool) {
	for _, b := range f.Bindings {
		if strings.EqualFold(b.Name, name) {
			return b, true
		}
	}
	return Binding{}, false
}

// allows reports whether the function accepts method, compared case-insensitively as the host's
// HttpMethodRouteConstraint does.
func (f Function) allows(method string) bool {
	return f.Methods == nil || slices.Contains(f.Methods, strings.ToUpper(method))
}

// hostConfig is what the App needs from host.json.
type hostConfig struct {
	routePrefix string
	forwarding  bool // enableForwardingHttpRequest or enableProxyingHttpRequest: HTTP-in-and-out functions arrive on their original path
}

// readHostConfig reads <root>/host.json. Keys match case-insensitively, as the host binds them.
func readHostConfig(root string) (hostConfig, error) {
	raw, err := os.ReadFile(filepath.Join(root, "host.json"))
	if err != nil {
		return hostConfig{}, fmt.Errorf("read host.json: %w", err)
	}
	type workerSection struct {
		EnableForwardingHTTPRequest bool `json:"enableForwardingHttpRequest"`
		EnableProxyingHTTPRequest   bool `json:"enableProxyingHttpRequest"`
	}
	var doc struct {
		Extensions struct {
			HTTP struct {
				RoutePrefix *string `json:"routePrefix"`
			} `json:"http"`
		} `json:"extensions"`
		CustomHandler *workerSection `json:"customHandler"`
		HTTPWorker    *workerSection `json:"httpWorker"` // legacy name; customHandler wins
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return hostConfig{}, fmt.Errorf("parse host.json: %w", err)
	}
	cfg := hostConfig{routePrefix: "api"}
	if p := doc.Extensions.HTTP.RoutePrefix; p != nil {
		cfg.routePrefix = strings.Trim(*p, "/")
	}
	w := doc.CustomHandler
	if w == nil {
		w = doc.HTTPWorker
	}
	if w != nil {
		cfg.forwarding = w.EnableForwardingHTTPRequest || w.EnableProxyingHTTPRequest
	}
	return cfg, nil
}

// readFunctions reads every <root>/<folder>/function.json. A folder without function.json is not
// a function and is skipped (template/, dist/, bin/, Go packages); a function.json in a folder
// whose name the host would refuse is an error.
func readFunctions(root string) ([]Function, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("read script root: %w", err)
	}
	var fns []Function
	var errs []error
	seen := map[string]string{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(root, e.Name(), "function.json"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("function %q: %w", e.Name(), err))
			continue
		}
		fn, err := parseFunction(e.Name(), raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if other, dup := seen[strings.ToLower(fn.Name)]; dup {
			errs = append(errs, fmt.Errorf("function %q: same name as %q (function names are case-insensitive)", fn.Name, other))
			continue
		}
		if err := checkRoute(fn, fns); err != nil {
			errs = append(errs, err)
			continue
		}
		seen[strings.ToLower(fn.Name)] = fn.Name
		fns = append(fns, fn)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return fns, nil
}

// checkRoute refuses what the host refuses of an HTTP function's route (ScriptHost.ValidateFunction
// in Azure/azure-functions-host src/WebJobs.Script/Host/ScriptHost.cs): a route that starts with
// "admin" or "runtime" (the host's own APIs; a plain prefix test, so "administration" too), and a
// route equal to an earlier function's (case-insensitive, slashes trimmed) when their methods
// intersect (no methods means every method). The host logs such a function and does not serve it.
func checkRoute(fn Function, earlier []Function) error {
	if !fn.IsHTTP() {
		return nil
	}
	route := strings.ToLower(strings.Trim(fn.Route, "/"))
	if strings.HasPrefix(route, "admin") || strings.HasPrefix(route, "runtime") {
		return fmt.Errorf("function %q: route %q conflicts with the host's built-in routes (admin, runtime); the host would not serve it", fn.Name, fn.Route)
	}
	for _, other := range earlier {
		if !other.IsHTTP() || !strings.EqualFold(strings.Trim(other.Route, "/"), route) {
			continue
		}
		if fn.Methods == nil || other.Methods == nil || slices.ContainsFunc(fn.Methods, func(m string) bool { return slices.Contains(other.Methods, m) }) {
			return fmt.Errorf("function %q: route %q is already function %q's for the same methods; the host would not serve it", fn.Name, fn.Route, other.Name)
		}
	}
	return nil
}

// parseFunction validates one function.json as the host does and extracts its metadata.
func parseFunction(name string, raw []byte) (Function, error) {
	if !functionNamePattern.MatchString(name) || strings.EqualFold(name, "host") {
		return Function{}, fmt.Errorf("function %q: the host accepts only folder names matching ^[a-z][a-z0-9_\\-]{0,127}$ (not \"host\")", name)
	}
	var doc struct {
		Bindings []struct {
			Binding
			AuthLevel string   `json:"authLevel"`
			Methods   []string `json:"methods"`
			Route     *string  `json:"route"`
		} `json:"bindings"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return Function{}, fmt.Errorf("function %q: parse function.json: %w", name, err)
	}
	if len(doc.Bindings) == 0 {
		return Function{}, fmt.Errorf("function %q: at least one binding must be declared", name)
	}
	fn := Function{Name: name}
	names := map[string]bool{}
	for _, b := range doc.Bindings {
		if b.Name == "" {
			return Function{}, fmt.Errorf("function %q: a binding of type %q has no name", name, b.Type)
		}
		if names[strings.ToLower(b.Name)] {
			return Function{}, fmt.Errorf("function %q: binding name %q is used twice (names are case-insensitive)", name, b.Name)
		}
		names[strings.ToLower(b.Name)] = true
		fn.Bindings = append(fn.Bindings, b.Binding)
		switch {
		case b.IsTrigger():
			if fn.Trigger != "" {
				return Function{}, fmt.Errorf("function %q: more than one trigger (%s, %s)", name, fn.Trigger, b.Type)
			}
			fn.Trigger, fn.TriggerName = b.Type, b.Name
			if fn.IsHTTP() {
				fn.AuthLevel = strings.ToLower(b.AuthLevel)
				if fn.AuthLevel == "" {
					fn.AuthLevel = "function"
				}
				for _, m := range b.Methods {
					fn.Methods = append(fn.Methods, strings.ToUpper(m))
				}
				fn.Route = name
				if b.Route != nil && strings.Trim(*b.Route, "/") != "" {
					fn.Route = strings.Trim(*b.Route, "/")
				}
			}
		case strings.EqualFold(b.Type, "http") && strings.EqualFold(b.Direction, "out"):
			fn.HTTPOutput = b.Name
		}
	}
	if fn.Trigger == "" {
		return Function{}, fmt.Errorf("function %q: no trigger binding (type ending in \"Trigger\", direction \"in\")", name)
	}
	return fn, nil
}
