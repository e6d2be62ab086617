package host

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// route is a compiled ASP.NET Core route template, restricted to whole-segment parameters:
// literals, {name}, {name?}, {name=default}, {*rest} / {**rest} and constraints {name:int}.
type route struct {
	template string
	segments []segment
}

type segment struct {
	literal     string // set for a literal segment
	param       string // set for a parameter segment
	optional    bool
	catchAll    bool
	def         *string
	constraints []constraint
}

type constraint func(string) bool

// compileRoute parses a template such as "orders/{id:int?}".
func compileRoute(tmpl string) (*route, error) {
	r := &route{template: strings.Trim(tmpl, "/")}
	if r.template == "" {
		return r, nil
	}
	parts := strings.Split(r.template, "/")
	for i, p := range parts {
		if !strings.HasPrefix(p, "{") {
			if strings.ContainsAny(p, "{}") {
				return nil, fmt.Errorf("segment %q: complex segments are not supported", p)
			}
			r.segments = append(r.segments, segment{literal: p})
			continue
		}
		if !strings.HasSuffix(p, "}") {
			return nil, fmt.Errorf("segment %q: complex segments are not supported", p)
		}
		seg, err := parseParam(p[1 : len(p)-1])
		if err != nil {
			return nil, fmt.Errorf("segment %q: %w", p, err)
		}
		if seg.catchAll && i != len(parts)-1 {
			return nil, errors.New("a catch-all parameter must be the last segment")
		}
		r.segments = append(r.segments, seg)
	}
	for i, s := range r.segments {
		if s.optional && i != len(r.segments)-1 {
			return nil, errors.New("only the last segment can be optional")
		}
	}
	return r, nil
}

func parseParam(body string) (segment, error) {
	s := segment{}
	switch {
	case strings.HasPrefix(body, "**"):
		s.catchAll, body = true, body[2:]
	case strings.HasPrefix(body, "*"):
		s.catchAll, body = true, body[1:]
	}
	if strings.HasSuffix(body, "?") {
		s.optional, body = true, strings.TrimSuffix(body, "?")
	}
	if i := strings.Index(body, "="); i >= 0 {
		d := body[i+1:]
		s.def, body = &d, body[:i]
	}
	parts := splitConstraints(body)
	s.param = parts[0]
	if s.param == "" {
		return s, errors.New("empty parameter name")
	}
	for _, c := range parts[1:] {
		fn, err := parseConstraint(c)
		if err != nil {
			return s, err
		}
		s.constraints = append(s.constraints, fn)
	}
	return s, nil
}

// splitConstraints splits "name:c1(a:b):c2" on colons outside parentheses.
func splitConstraints(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ':':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

var guidRE = regexp.MustCompile(`^(?i)\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$`)

func parseConstraint(c string) (constraint, error) {
	name, arg := c, ""
	if i := strings.Index(c, "("); i >= 0 && strings.HasSuffix(c, ")") {
		name, arg = c[:i], c[i+1:len(c)-1]
	}
	num := func(s string) (int64, error) { return strconv.ParseInt(strings.TrimSpace(s), 10, 64) }
	switch strings.ToLower(name) {
	case "int":
		return func(v string) bool { _, err := strconv.ParseInt(v, 10, 32); return err == nil }, nil
	case "long":
		return func(v string) bool { _, err := strconv.ParseInt(v, 10, 64); return err == nil }, nil
	case "bool":
		return func(v string) bool { return strings.EqualFold(v, "true") || strings.EqualFold(v, "false") }, nil
	case "double", "float", "decimal":
		return func(v string) bool { _, err := strconv.ParseFloat(v, 64); return err == nil }, nil
	case "guid":
		return guidRE.MatchString, nil
	case "alpha":
		return regexp.MustCompile(`^(?i)[a-z]*$`).MatchString, nil
	case "minlength", "maxlength", "length", "min", "max":
		n, err := num(arg)
		if err != nil {
			return nil, fmt.Errorf("constraint %q: %w", c, err)
		}
		switch strings.ToLower(name) {
		case "minlength":
			return func(v string) bool { return int64(len([]rune(v))) >= n }, nil
		case "maxlength":
			return func(v string) bool { return int64(len([]rune(v))) <= n }, nil
		case "length":
			return func(v string) bool { return int64(len([]rune(v))) == n }, nil
		case "min":
			return func(v string) bool { x, err := num(v); return err == nil && x >= n }, nil
		default:
			return func(v string) bool { x, err := num(v); return err == nil && x <= n }, nil
		}
	case "range":
		lo, hi, ok := strings.Cut(arg, ",")
		a, err1 := num(lo)
		b, err2 := num(hi)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("constraint %q: want range(min,max)", c)
		}
		return func(v string) bool { x, err := num(v); return err == nil && x >= a && x <= b }, nil
	case "regex":
		re, err := regexp.Compile("(?i)" + arg)
		if err != nil {
			return nil, fmt.Errorf("constraint %q: %w", c, err)
		}
		return re.MatchString, nil
	}
	return nil, fmt.Errorf("unknown route constraint %q", name)
}

// match matches path segments (already split, prefix removed) and returns the route values.
func (r *route) match(parts []string) (map[string]string, bool) {
	values := map[string]string{}
	for i, s := range r.segments {
		if s.catchAll {
			rest := strings.Join(parts[min(i, len(parts)):], "/")
			switch {
			case rest == "" && s.def != nil:
				values[s.param] = *s.def
			case rest == "":
			case !checkAll(s.constraints, rest):
				return nil, false
			default:
				values[s.param] = rest
			}
			return values, true
		}
		if i >= len(parts) {
			switch {
			case s.def != nil:
				values[s.param] = *s.def
			case s.optional:
			default:
				return nil, false
			}
			continue
		}
		v := parts[i]
		if s.literal != "" {
			if !strings.EqualFold(s.literal, v) {
				return nil, false
			}
			continue
		}
		if v == "" || !checkAll(s.constraints, v) {
			return nil, false
		}
		values[s.param] = v
	}
	if len(parts) > len(r.segments) {
		return nil, false
	}
	return values, true
}

func checkAll(cs []constraint, v string) bool {
	for _, c := range cs {
		if !c(v) {
			return false
		}
	}
	return true
}

// rank is ASP.NET's per-segment precedence digit: literal 1, constrained parameter 3,
// parameter 4, catch-all 5. Lower sorts first.
func (s segment) rank() int {
	switch {
	case s.literal != "":
		return 1
	case s.catchAll:
		return 5
	case len(s.constraints) > 0:
		return 3
	}
	return 4
}

// routeLess orders routes by precedence so that the most specific template is tried first.
// Nil routes (non-HTTP functions) sort last.
func routeLess(a, b *route) bool {
	if a == nil || b == nil {
		return a != nil
	}
	for i := 0; i < len(a.segments) && i < len(b.segments); i++ {
		if ra, rb := a.segments[i].rank(), b.segments[i].rank(); ra != rb {
			return ra < rb
		}
	}
	return len(a.segments) > len(b.segments)
}

// aspNetPath is the request path as the host's ASP.NET Core Request.Path holds it: Kestrel
// decodes every percent-escape but %2F, which stays so that an encoded slash is not a separator
// (UrlDecoder in dotnet/aspnetcore src/Shared/UrlDecoder/UrlDecoder.cs: "Skip invalid hex values
// and %2F"). An escape that does not decode to valid UTF-8 is kept as sent.
func aspNetPath(escaped string) string {
	if !strings.Contains(escaped, "%") {
		return escaped
	}
	var b strings.Builder
	for i := 0; i < len(escaped); i++ {
		c := escaped[i]
		if c == '%' && i+2 < len(escaped) && isHex(escaped[i+1]) && isHex(escaped[i+2]) {
			v := unhex(escaped[i+1])<<4 | unhex(escaped[i+2])
			if v != '/' {
				b.WriteByte(v)
				i += 2
				continue
			}
		}
		b.WriteByte(c)
	}
	if !utf8.ValidString(b.String()) {
		return escaped
	}
	return b.String()
}

// uriPath escapes a decoded path for a URI the way .NET's Uri does for the forwarded request and
// the payload's Url: characters a path may hold stay, escapes already present (%2F) stay, every
// other byte becomes %XX.
func uriPath(p string) string {
	const upper = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]):
			b.WriteByte(c)
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(upper[c>>4])
			b.WriteByte(upper[c&15])
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// pathSegments splits a Request.Path as ASP.NET Core routing does (PathTokenizer in
// dotnet/aspnetcore src/Http/Routing/src/PathTokenizer.cs): without the leading slash, and
// ignoring one trailing slash, "because routing ignores a trailing slash".
func pathSegments(path string) []string {
	p := strings.TrimPrefix(path, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}
