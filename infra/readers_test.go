package infra_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The readers stand in for a Bicep compiler and a YAML library, so they must
// refuse what they do not understand rather than read past it.

func TestParseBicepSettings(t *testing.T) {
	f := parseBicep("x.bicep", strings.Join([]string{
		"resource site 'Microsoft.Web/sites@2024-04-01' = {",
		"  properties: {",
		"    siteConfig: {",
		"      appSettings: [",
		"        // a comment",
		"        { name: 'A', value: 'x' }",
		"        { name: 'B', value: '${a}:${b}' } // trailing comment",
		"        {",
		"          name: 'HIDDEN'",
		"          value: 'y'",
		"        }",
		"      ]",
		"    }",
		"  }",
		"  resource child 'config' = {",
		"}",
	}, "\n"))
	var names []string
	for _, s := range f.Settings {
		names = append(names, s.Name+"="+s.Value)
	}
	if want := []string{"A='x'", "B='${a}:${b}'"}; !slices.Equal(names, want) {
		t.Errorf("settings = %v, want %v", names, want)
	}
	if len(f.Problems) != 4 { // the 4 lines of the multi-line entry
		t.Errorf("problems = %q, want one per line of the multi-line entry", f.Problems)
	}
	if len(f.Resources) != 2 || f.Resources[0].APIVersion != "2024-04-01" || f.Resources[1].APIVersion != "" {
		t.Errorf("resources = %+v", f.Resources)
	}

	for _, src := range []string{
		"appSettings: concat(a, b)",
		"appSettings: [\n{ name: 'A', value: 'x' }\n",
		"resource cfg 'Microsoft.Web/sites/config@2024-04-01' = {",
		"appSettingsKeyValuePairs: { A: 'x' }",
	} {
		if f := parseBicep("x.bicep", src); len(f.Problems) == 0 {
			t.Errorf("%q: no problem reported", src)
		}
	}
}

func TestParseBicepModules(t *testing.T) {
	f := parseBicep("main.bicep", strings.Join([]string{
		"param a string",
		"param b string = 'x'",
		"module m './m.bicep' = {",
		"  name: 'm'",
		"  params: {",
		"    one: '${x}-${y}'",
		"    two: {",
		"      nested: 1",
		"    }",
		"    three: union(t, { k: 'v' })",
		"  }",
		"}",
		"output o string = m.outputs.p",
	}, "\n"))
	if len(f.Modules) != 1 || !slices.Equal(f.Modules[0].Params, []string{"one", "two", "three"}) {
		t.Errorf("modules = %+v", f.Modules)
	}
	if f.Params["a"] || !f.Params["b"] || !f.Outputs["o"] || len(f.Problems) != 0 {
		t.Errorf("params = %v, outputs = %v, problems = %q", f.Params, f.Outputs, f.Problems)
	}
}

func TestReadYAMLPaths(t *testing.T) {
	y, err := readYAMLPaths("# c\nservices:\n  api:\n    host: function # c\n    hooks:\n      prepackage:\n        run: make package\nname: x\nv: \">= 1.2\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if y["services.api.host"] != "function" || y["services.api.hooks.prepackage.run"] != "make package" || y["name"] != "x" || y["v"] != ">= 1.2" {
		t.Errorf("paths = %v", y)
	}
	for _, src := range []string{"a:\n  - b\n", "a: { b: c }\n", "a:\n\tb: c\n", "a: |\n  x\n", "a: 1\na: 2\n", "a: \"x\\\"y\"\n", "a: >= 1\n"} {
		if _, err := readYAMLPaths(src); err == nil {
			t.Errorf("%q: no error", src)
		}
	}
}

func TestReadEnvconfig(t *testing.T) {
	root := t.TempDir()
	write := func(path, src string) {
		t.Helper()
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example\n")
	write("cfg/config.go", "package cfg\n\ntype Inner struct{ X string `envconfig:\"X\"` }\n\n"+
		"type Config struct {\n"+
		"\tHost string `envconfig:\"REDIS_HOST\" required:\"true\"`\n"+
		"\tTLS bool `envconfig:\"REDIS_TLS\" default:\"true\"`\n"+
		"\tSkip string `ignored:\"true\"`\n"+
		"\tinternal int\n"+
		"\tUntagged string\n"+
		"\tNested Inner\n"+
		"\tInner\n"+
		"}\n")
	write("cfg/config_test.go", "package cfg\n\ntype T struct{ A string `envconfig:\"TEST_ONLY\"` }\n")
	write("emulator/e.go", "package emulator\n\ntype E struct{ A string `envconfig:\"EMULATOR_ONLY\"` }\n")
	write("x/testdata/t.go", "package t\n\ntype E struct{ A string `envconfig:\"TESTDATA_ONLY\"` }\n")

	settings, problems, err := readEnvconfig(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range settings {
		name := s.Name
		if s.Required {
			name += "!"
		}
		got = append(got, name)
	}
	if want := []string{"REDIS_HOST!", "REDIS_TLS", "X"}; !slices.Equal(got, want) {
		t.Errorf("settings = %v, want %v", got, want)
	}
	if len(problems) != 2 || !strings.Contains(problems[0]+problems[1], "Untagged") || !strings.Contains(problems[0]+problems[1], "Nested") {
		t.Errorf("problems = %q, want the untagged and the nested field", problems)
	}
}
