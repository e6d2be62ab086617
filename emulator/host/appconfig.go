package host

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// hostSettings is what the emulator reads from host.json.
type hostSettings struct {
	exePath         string
	arguments       []string
	workerPath      string
	workerArguments []string
	workingDir      string
	forwarding      bool
	routePrefix     string
	functionTimeout time.Duration // 0: not set; unbounded is reported as noTimeout
	timeoutSet      bool
}

// noTimeout stands for functionTimeout "-1" (unbounded).
const noTimeout = time.Duration(-1)

// binding is one entry of function.json "bindings".
type binding struct {
	Name      string
	Type      string
	Direction string
	DataType  string
	AuthLevel string
	Methods   []string
	Route     string
}

func (b binding) isIn() bool  { return strings.EqualFold(b.Direction, "in") }
func (b binding) isOut() bool { return strings.EqualFold(b.Direction, "out") }

// function is one indexed function: its folder name and bindings.
type function struct {
	name     string
	bindings []binding
	trigger  *binding // first input binding whose type ends in "Trigger"
	httpOut  *binding // first output binding of type http
	route    *route   // nil unless HTTP-triggered
	methods  map[string]bool
	auth     string // anonymous | function | admin (HTTP-triggered only)
}

// isHTTP reports whether an httpTrigger starts the function.
func (f *function) isHTTP() bool {
	return f.trigger != nil && strings.EqualFold(f.trigger.Type, "httpTrigger")
}

// httpInAndOut is the host's IsHttpInAndOutFunction: exactly one input binding, an httpTrigger,
// and exactly one output binding, of type http. Only such functions are forwarded.
func (f *function) httpInAndOut() bool {
	var in, out []binding
	for _, b := range f.bindings {
		switch {
		case b.isIn():
			in = append(in, b)
		case b.isOut():
			out = append(out, b)
		}
	}
	return len(in) == 1 && len(out) == 1 &&
		strings.EqualFold(in[0].Type, "httpTrigger") && strings.EqualFold(out[0].Type, "http")
}

// output returns the output binding named name (exact match, as the host's dictionary does).
func (f *function) output(name string) (binding, bool) {
	for _, b := range f.bindings {
		if b.isOut() && b.Name == name {
			return b, true
		}
	}
	return binding{}, false
}

// functionNameRE is the host's Utility.FunctionNameValidationRegex.
var functionNameRE = regexp.MustCompile(`(?i)^[a-z][a-z0-9_\-]{0,127}$`)

// readHostJSON parses root/host.json. Keys are matched case-insensitively, as IConfiguration binds.
func readHostJSON(root string) (hostSettings, error) {
	s := hostSettings{routePrefix: "api"}
	raw, err := os.ReadFile(filepath.Join(root, "host.json"))
	if err != nil {
		return s, fmt.Errorf("read host.json: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return s, fmt.Errorf("parse host.json: %w", err)
	}
	ch, _ := lookup(doc, "customHandler").(map[string]any)
	if ch == nil {
		ch, _ = lookup(doc, "httpWorker").(map[string]any)
	}
	if ch == nil {
		return s, errors.New("host.json has no customHandler section")
	}
	desc, _ := lookup(ch, "description").(map[string]any)
	s.exePath, _ = lookup(desc, "defaultExecutablePath").(string)
	if strings.TrimSpace(s.exePath) == "" {
		return s, errors.New("host.json: WorkerDescription DefaultExecutablePath cannot be empty")
	}
	s.arguments = stringList(lookup(desc, "arguments"))
	s.workerPath, _ = lookup(desc, "defaultWorkerPath").(string)
	s.workerArguments = stringList(lookup(desc, "workerArguments"))
	s.workingDir, _ = lookup(desc, "workingDirectory").(string)
	s.forwarding = boolValue(lookup(ch, "enableForwardingHttpRequest"))

	if ext, ok := lookup(doc, "extensions").(map[string]any); ok {
		if h, ok := lookup(ext, "http").(map[string]any); ok {
			if p, ok := lookup(h, "routePrefix").(string); ok {
				s.routePrefix = strings.Trim(p, "/")
			}
		}
	}
	if ft, ok := lookup(doc, "functionTimeout").(string); ok {
		d, err := parseTimeSpan(ft)
		if err != nil {
			return s, fmt.Errorf("host.json functionTimeout: %w", err)
		}
		s.functionTimeout, s.timeoutSet = d, true
	}
	return s, nil
}

// readFunctions indexes every <root>/<name>/function.json. Invalid functions are returned as
// errors next to the valid ones, as the host reports them and goes on.
func readFunctions(root string) ([]*function, []error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, []error{fmt.Errorf("read script root: %w", err)}
	}
	var fns []*function
	var errs []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(root, e.Name(), "function.json"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("function %s: %w", e.Name(), err))
			continue
		}
		f, err := parseFunction(e.Name(), raw)
		if err == nil {
			err = validateRoute(f, fns)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("function %s: %w", e.Name(), err))
			continue
		}
		fns = append(fns, f)
	}
	sort.SliceStable(fns, func(i, j int) bool { return routeLess(fns[i].route, fns[j].route) })
	return fns, errs
}

// parseFunction validates one function.json.
func parseFunction(name string, raw []byte) (*function, error) {
	if !functionNameRE.MatchString(name) || strings.EqualFold(name, "host") {
		return nil, fmt.Errorf("invalid function name %q", name)
	}
	var doc struct {
		Bindings []map[string]any `json:"bindings"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse function.json: %w", err)
	}
	if len(doc.Bindings) == 0 {
		return nil, errors.New("At least one binding must be declared.")
	}
	f := &function{name: name}
	seen := map[string]bool{}
	for _, m := range doc.Bindings {
		b := binding{}
		b.Name, _ = lookup(m, "name").(string)
		b.Type, _ = lookup(m, "type").(string)
		b.Direction, _ = lookup(m, "direction").(string)
		b.DataType, _ = lookup(m, "dataType").(string)
		b.AuthLevel, _ = lookup(m, "authLevel").(string)
		b.Methods = stringList(lookup(m, "methods"))
		b.Route, _ = lookup(m, "route").(string)
		if b.Name == "" || b.Type == "" {
			return nil, errors.New("every binding needs a name and a type")
		}
		if seen[strings.ToLower(b.Name)] {
			return nil, fmt.Errorf("multiple bindings with name %q discovered", b.Name)
		}
		seen[strings.ToLower(b.Name)] = true
		f.bindings = append(f.bindings, b)
	}
	for i := range f.bindings {
		b := &f.bindings[i]
		if f.trigger == nil && b.isIn() && strings.HasSuffix(strings.ToLower(b.Type), "trigger") {
			f.trigger = b
		}
		if f.httpOut == nil && b.isOut() && strings.EqualFold(b.Type, "http") {
			f.httpOut = b
		}
	}
	if f.trigger == nil {
		return nil, errors.New("no trigger binding")
	}
	if f.isHTTP() {
		f.auth = strings.ToLower(f.trigger.AuthLevel)
		if f.auth == "" {
			f.auth = "function"
		}
		if len(f.trigger.Methods) > 0 {
			f.methods = map[string]bool{}
			for _, m := range f.trigger.Methods {
				f.methods[strings.ToUpper(m)] = true
			}
		}
		tmpl := f.trigger.Route
		if tmpl == "" {
			tmpl = name
		}
		r, err := compileRoute(tmpl)
		if err != nil {
			return nil, fmt.Errorf("route %q: %w", tmpl, err)
		}
		f.route = r
	}
	return f, nil
}

// validateRoute is ScriptHost.ValidateFunction for HTTP functions (Azure/azure-functions-host
// src/WebJobs.Script/Host/ScriptHost.cs): a route starting with "admin" or "runtime" (trimmed of
// slashes, lower-cased, a plain prefix test) conflicts with the host's own APIs, and a route equal
// to an earlier function's (case-insensitive) conflicts when their methods intersect, no methods
// meaning all. The host logs the error and does not serve the function.
func validateRoute(f *function, earlier []*function) error {
	if !f.isHTTP() {
		return nil
	}
	route := strings.Trim(f.trigger.Route, "/")
	if strings.TrimSpace(f.trigger.Route) == "" {
		route = f.name
	}
	if lower := strings.ToLower(route); strings.HasPrefix(lower, "admin") || strings.HasPrefix(lower, "runtime") {
		return errors.New("The specified route conflicts with one or more built in routes.")
	}
	for _, o := range earlier {
		if o.route == nil || !strings.EqualFold(o.route.template, route) {
			continue
		}
		if f.methods == nil || o.methods == nil || intersect(f.methods, o.methods) {
			return fmt.Errorf("The route specified conflicts with the route defined by function '%s'.", o.name)
		}
	}
	return nil
}

// intersect reports whether two method sets share a method.
func intersect(a, b map[string]bool) bool {
	for m := range a {
		if b[m] {
			return true
		}
	}
	return false
}

// lookup finds key in m ignoring case; m may be nil.
func lookup(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

func stringList(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func boolValue(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		b, _ := strconv.ParseBool(x)
		return b
	}
	return false
}

// parseTimeSpan parses a .NET TimeSpan ("[-][d.]hh:mm:ss[.fffffff]") or "-1" (unbounded).
func parseTimeSpan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "-1" {
		return noTimeout, nil
	}
	var days int64
	rest := s
	if i := strings.Index(rest, "."); i >= 0 && i < strings.Index(rest, ":") {
		d, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid TimeSpan %q: %w", s, err)
		}
		days, rest = d, rest[i+1:]
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 3 {
		return 0, fmt.Errorf("invalid TimeSpan %q", s)
	}
	h, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[1], 10, 64)
	sec, err3 := strconv.ParseFloat(parts[2], 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return 0, fmt.Errorf("invalid TimeSpan %q: %w", s, err)
	}
	d := time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(sec*float64(time.Second))
	if d < time.Second {
		return 0, fmt.Errorf("functionTimeout %q is below the minimum of 1 second", s)
	}
	return d, nil
}

// input returns the input binding with that name (case-insensitive), or nil.
func (f *function) input(name string) *binding {
	for i := range f.bindings {
		if f.bindings[i].isIn() && strings.EqualFold(f.bindings[i].Name, name) {
			return &f.bindings[i]
		}
	}
	return nil
}
