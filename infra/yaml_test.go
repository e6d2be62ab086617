package infra_test

import (
	"fmt"
	"regexp"
	"strings"
)

var yamlLineRE = regexp.MustCompile(`^( *)([A-Za-z0-9_.$-]+):(?: +(.*))?$`)

// readYAMLPaths flattens the block-mapping subset of YAML that azure.yaml is
// written in (stdlib only, so no YAML library): every `key: value` line becomes
// "outer.inner.key" → "value". Blank lines and comments are skipped; anything
// else (lists, flow mappings, tabs, multi-line strings) is an error, so that the
// file cannot say something this reader silently misses.
func readYAMLPaths(src string) (map[string]string, error) {
	type level struct {
		indent int
		key    string
	}
	var stack []level
	out := map[string]string{}
	for i, line := range strings.Split(src, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		m := yamlLineRE.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("line %d: not a `key: value` block-mapping line: %q", i+1, line)
		}
		indent, key, value := len(m[1]), m[2], strings.TrimSpace(m[3])
		if c := strings.Index(value, " #"); c >= 0 {
			value = strings.TrimSpace(value[:c])
		}
		if inner, ok := strings.CutPrefix(value, `"`); ok {
			// A double-quoted scalar without escapes, e.g. ">= 1.20.0".
			if inner, ok = strings.CutSuffix(inner, `"`); !ok || strings.ContainsAny(inner, `"\`) {
				return nil, fmt.Errorf("line %d: quoted value %q uses YAML this reader does not understand", i+1, value)
			}
			value = inner
		} else if strings.ContainsAny(value, "{}[]|>\"'&*") {
			return nil, fmt.Errorf("line %d: value %q uses YAML this reader does not understand", i+1, value)
		}
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, level{indent, key})
		keys := make([]string, len(stack))
		for k, l := range stack {
			keys[k] = l.key
		}
		path := strings.Join(keys, ".")
		if _, dup := out[path]; dup {
			return nil, fmt.Errorf("line %d: duplicate key %s", i+1, path)
		}
		out[path] = value
	}
	return out, nil
}
