package handler

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// routeParam is one parameter of a function.json route template, e.g. {id:int?} or {*rest}.
type routeParam struct {
	name        string
	catchAll    bool
	optional    bool
	constraints []constraint
}

// constraint is one ASP.NET Core route constraint ({id:int}) with its check.
type constraint struct {
	text  string
	match func(string) bool
}

// segment is one path segment of a route template: a literal or a parameter.
type segment struct {
	literal string
	param   *routeParam
}

// routeParamName is the set of names a route parameter may have (Go ServeMux wildcards must be
// identifiers, and r.PathValue must find them).
var routeParamName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// parseRoute parses an ASP.NET Core route template into segments. It accepts literals, {name},
// {name?} in the last segment, {*name}/{**name} as the last segment, and the constraints in
// constraintFor; anything else (complex segments, default values, unknown constraints) is an error
// naming the problem, so a route that this App would serve differently from the host is refused.
func parseRoute(tmpl string) ([]segment, error) {
	tmpl = strings.Trim(tmpl, "/")
	if tmpl == "" {
		return nil, nil
	}
	parts := strings.Split(tmpl, "/")
	segs := make([]segment, 0, len(parts))
	names := map[string]bool{}
	for i, part := range parts {
		last := i == len(parts)-1
		if part == "" {
			return nil, fmt.Errorf("route %q: empty segment", tmpl)
		}
		inner, isParam := strings.CutPrefix(part, "{")
		if !isParam {
			if strings.ContainsAny(part, "{}") {
				return nil, fmt.Errorf("route %q: segment %q mixes text and a parameter; only whole-segment parameters are supported", tmpl, part)
			}
			segs = append(segs, segment{literal: part})
			continue
		}
		inner, closed := strings.CutSuffix(inner, "}")
		if !closed || strings.Contains(strings.NewReplacer("{{", "", "}}", "").Replace(inner), "}") {
			return nil, fmt.Errorf("route %q: segment %q mixes text and a parameter; only whole-segment parameters are supported", tmpl, part)
		}
		p, err := parseParam(strings.NewReplacer("{{", "{", "}}", "}").Replace(inner))
		if err != nil {
			return nil, fmt.Errorf("route %q: %w", tmpl, err)
		}
		if (p.catchAll || p.optional) && !last {
			return nil, fmt.Errorf("route %q: {%s} is optional or catch-all and must be the last segment", tmpl, inner)
		}
		if names[strings.ToLower(p.name)] {
			return nil, fmt.Errorf("route %q: parameter %q appears twice", tmpl, p.name)
		}
		names[strings.ToLower(p.name)] = true
		segs = append(segs, segment{param: p})
	}
	return segs, nil
}

// parseParam parses the inside of {…}: [*|**]name[:constraint…][?].
func parseParam(s string) (*routeParam, error) {
	p := &routeParam{}
	if rest, ok := strings.CutPrefix(s, "**"); ok {
		p.catchAll, s = true, rest
	} else if rest, ok := strings.CutPrefix(s, "*"); ok {
		p.catchAll, s = true, rest
	}
	if rest, ok := strings.CutSuffix(s, "?"); ok {
		p.optional, s = true, rest
	}
	parts := splitTopLevel(s, ':')
	if strings.Contains(parts[0], "=") {
		return nil, fmt.Errorf("parameter {%s}: default values are not supported", s)
	}
	p.name = parts[0]
	if !routeParamName.MatchString(p.name) {
		return nil, fmt.Errorf("parameter {%s}: name must be a letter or _ followed by letters, digits or _", s)
	}
	for _, c := range parts[1:] {
		if strings.Contains(c, "=") && !strings.Contains(c, "(") {
			return nil, fmt.Errorf("parameter {%s}: default values are not supported", s)
		}
		con, err := constraintFor(c)
		if err != nil {
			return nil, fmt.Errorf("parameter {%s}: %w", p.name, err)
		}
		p.constraints = append(p.constraints, con)
	}
	return p, nil
}

// splitTopLevel splits s at sep outside parentheses (regex(a:b) stays one part).
func splitTopLevel(s string, sep byte) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case sep:
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

// constraintFor returns the check for one ASP.NET Core route constraint. Supported: int, long,
// bool, double, float, decimal, guid, alpha, required, min(n), max(n), range(a,b), length(n),
// length(a,b), minlength(n), maxlength(n), regex(expr).
func constraintFor(text string) (constraint, error) {
	name, args, hasArgs := strings.Cut(text, "(")
	if hasArgs {
		var ok bool
		if args, ok = strings.CutSuffix(args, ")"); !ok {
			return constraint{}, fmt.Errorf("constraint %q: missing ')'", text)
		}
	}
	ints := func(n int) ([]int64, error) {
		fields := strings.Split(args, ",")
		if !hasArgs || len(fields) != n {
			return nil, fmt.Errorf("constraint %q: want %d integer argument(s)", text, n)
		}
		out := make([]int64, n)
		for i, f := range fields {
			v, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("constraint %q: %w", text, err)
			}
			out[i] = v
		}
		return out, nil
	}
	isInt := func(bits int) func(string) bool {
		return func(v string) bool { _, err := strconv.ParseInt(v, 10, bits); return err == nil }
	}
	intIn := func(lo, hi int64) func(string) bool {
		return func(v string) bool {
			n, err := strconv.ParseInt(v, 10, 64)
			return err == nil && n >= lo && n <= hi
		}
	}
	lenIn := func(lo, hi int64) func(string) bool {
		return func(v string) bool { n := int64(len([]rune(v))); return n >= lo && n <= hi }
	}
	c := constraint{text: text}
	var err error
	var a []int64
	switch strings.ToLower(name) {
	case "int":
		c.match = isInt(32)
	case "long":
		c.match = isInt(64)
	case "bool":
		c.match = func(v string) bool { return strings.EqualFold(v, "true") || strings.EqualFold(v, "false") }
	case "double", "float", "decimal":
		c.match = func(v string) bool { _, err := strconv.ParseFloat(v, 64); return err == nil }
	case "guid":
		c.match = isGUID
	case "alpha":
		c.match = func(v string) bool {
			return v != "" && strings.IndexFunc(v, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsLetter(r) }) < 0
		}
	case "required":
		c.match = func(v string) bool { return v != "" }
	case "min":
		if a, err = ints(1); err == nil {
			c.match = intIn(a[0], 1<<63-1)
		}
	case "max":
		if a, err = ints(1); err == nil {
			c.match = intIn(-1<<63, a[0])
		}
	case "range":
		if a, err = ints(2); err == nil {
			c.match = intIn(a[0], a[1])
		}
	case "length":
		if a, err = ints(1); err == nil {
			c.match = lenIn(a[0], a[0])
		} else if a, err = ints(2); err == nil {
			c.match = lenIn(a[0], a[1])
		}
	case "minlength":
		if a, err = ints(1); err == nil {
			c.match = lenIn(a[0], 1<<62)
		}
	case "maxlength":
		if a, err = ints(1); err == nil {
			c.match = lenIn(0, a[0])
		}
	case "regex":
		var re *regexp.Regexp
		if re, err = regexp.Compile("(?i)" + args); err == nil && hasArgs {
			c.match = re.MatchString
		} else if err == nil {
			err = fmt.Errorf("constraint %q: want regex(expression)", text)
		}
	default:
		return constraint{}, fmt.Errorf("unsupported route constraint %q", text)
	}
	if err != nil {
		return constraint{}, err
	}
	return c, nil
}

// isGUID reports whether v is a GUID in the 8-4-4-4-12 form, optionally in braces or parentheses,
// or as 32 hex digits (the forms .NET's Guid.TryParse accepts).
func isGUID(v string) bool {
	if len(v) == 38 && (v[0] == '{' && v[37] == '}' || v[0] == '(' && v[37] == ')') {
		v = v[1:37]
	}
	hex := func(s string) bool {
		for _, r := range s {
			if !unicode.Is(unicode.ASCII_Hex_Digit, r) {
				return false
			}
		}
		return true
	}
	if len(v) == 32 {
		return hex(v)
	}
	if len(v) != 36 || v[8] != '-' || v[13] != '-' || v[18] != '-' || v[23] != '-' {
		return false
	}
	return hex(strings.ReplaceAll(v, "-", ""))
}

// route is one forwarded function's route under the route prefix.
type route struct {
	fn     *Function
	segs   []segment     // the prefix's literals, then the route's segments
	params []*routeParam // the route's parameters, in order
}

// newRoute builds the route of fn under prefix from its parsed segments.
func newRoute(fn *Function, prefix string, segs []segment) *route {
	rt := &route{fn: fn}
	for _, lit := range strings.Split(prefix, "/") {
		if lit != "" {
			rt.segs = append(rt.segs, segment{literal: lit})
		}
	}
	rt.segs = append(rt.segs, segs...)
	for _, s := range rt.segs {
		if s.param != nil {
			rt.params = append(rt.params, s.param)
		}
	}
	return rt
}

// match reports whether the escaped request path matches the route and appends the parameter
// values, unescaped, to values, in the order of rt.params. The path is split as ASP.NET Core
// routing splits it: without the leading slash and ignoring one trailing slash ("/api/health/"
// is "api", "health"), and segments are unescaped one by one, so a %2F belongs to its segment
// rather than separating two. Literals compare case-insensitively, a parameter needs a
// non-empty segment that meets its constraints, an optional last parameter and a catch-all may
// be absent, and a catch-all takes the rest of the path, slashes included.
func (rt *route) match(path string, values []string) ([]string, bool) {
	rest := strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/")
	more := rest != "" // segments remain in rest
	for i, s := range rt.segs {
		if s.param != nil && s.param.catchAll {
			if !more {
				rest = ""
			}
			v, err := url.PathUnescape(rest)
			if err != nil || (v != "" && !s.param.meets(v)) {
				return nil, false
			}
			return append(values, v), true
		}
		if !more {
			if s.param != nil && s.param.optional && i == len(rt.segs)-1 {
				return append(values, ""), true
			}
			return nil, false
		}
		var seg string
		seg, rest, more = strings.Cut(rest, "/")
		v, err := url.PathUnescape(seg)
		if err != nil {
			return nil, false
		}
		if s.param == nil {
			if !strings.EqualFold(s.literal, v) {
				return nil, false
			}
			continue
		}
		if v == "" || !s.param.meets(v) {
			return nil, false
		}
		values = append(values, v)
	}
	if more {
		return nil, false
	}
	return values, true
}

// meets reports whether v satisfies every constraint of p.
func (p *routeParam) meets(v string) bool {
	for _, c := range p.constraints {
		if !c.match(v) {
			return false
		}
	}
	return true
}

// rank is ASP.NET Core's precedence digit of a segment: literal 1, constrained parameter 3,
// parameter 4, catch-all 5; lower is tried first.
func (s segment) rank() int {
	switch {
	case s.param == nil:
		return 1
	case s.param.catchAll:
		return 5
	case len(s.param.constraints) > 0:
		return 3
	}
	return 4
}

// before reports whether route a takes precedence over route b: compared segment by segment by
// rank, then the longer route first.
func (a *route) before(b *route) bool {
	for i := 0; i < len(a.segs) && i < len(b.segs); i++ {
		if ra, rb := a.segs[i].rank(), b.segs[i].rank(); ra != rb {
			return ra < rb
		}
	}
	return len(a.segs) > len(b.segs)
}
