package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPackageName(t *testing.T) {
	taken := map[string]bool{"handler": true, "app": true}
	for _, c := range []struct{ folder, want string }{
		{"ratelimit", "ratelimit"},
		{"hello-http", "hellohttp"},
		{"nightly_job2", "nightlyjob2"},
		{"type", "typefn"},
		{"go", "gofn"},
		{"handler", "handlerfn"},
		{"app", "appfn"},
		{"main", "mainfn"},
	} {
		got, err := packageName(c.folder, taken)
		if err != nil || got != c.want {
			t.Errorf("packageName(%q) = %q, %v; want %q", c.folder, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "Hello", "1st", "-x", "a.b", "a/b", strings.Repeat("a", 129)} {
		if _, err := packageName(bad, nil); err == nil {
			t.Errorf("packageName(%q) accepted", bad)
		}
	}
}

// fakeRoot is a minimal app: go.mod and a functions.go.
func fakeRoot(t *testing.T, functions string) string {
	t.Helper()
	root := t.TempDir()
	must(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.com/app\n\ngo 1.26\n"), 0o644))
	must(t, os.MkdirAll(filepath.Join(root, "cmd", "handler"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "cmd", "handler", "functions.go"), []byte(functions), 0o644))
	return root
}

func TestRegisterEditsFunctionsGo(t *testing.T) {
	root := fakeRoot(t, `package main

import (
	"example.com/app/handler"
	"example.com/app/pool"
)

// register gives every function folder its handler.
func register(a *handler.App, pl *pool.Pool) error {
	cfg, err := load()
	if err != nil {
		return err
	}
	a.HandleHTTP("x", nil)
	return nil
}
`)
	var out bytes.Buffer
	must(t, newFunction(root, "pl", "timer", &out))
	must(t, newFunction(root, "cfg", "http", &out))
	got, err := os.ReadFile(filepath.Join(root, "cmd", "handler", "functions.go"))
	must(t, err)
	for _, want := range []string{
		"\tcfgfn \"example.com/app/cfg\"\n\t\"example.com/app/handler\"\n\tplfn \"example.com/app/pl\"\n\t\"example.com/app/pool\"\n",
		"\ta.HandleHTTP(\"x\", nil)\n\ta.HandleInvocation(\"pl\", plfn.New(pl.Client()))\n\ta.HandleHTTP(\"cfg\", cfgfn.New(pl.Client()))\n\treturn nil\n}",
	} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("functions.go lacks %q:\n%s", want, got)
		}
	}
	if err := newFunction(root, "pl", "timer", io.Discard); err == nil {
		t.Error("generating an existing folder again succeeded")
	}
}

func TestRegisterPrintsLineWhenShapeUnknown(t *testing.T) {
	root := fakeRoot(t, "package main\n\nfunc main() {}\n")
	before, _ := os.ReadFile(filepath.Join(root, "cmd", "handler", "functions.go"))
	var out bytes.Buffer
	must(t, newFunction(root, "hello", "http", &out))
	after, _ := os.ReadFile(filepath.Join(root, "cmd", "handler", "functions.go"))
	if !bytes.Equal(before, after) {
		t.Error("functions.go was changed")
	}
	if !strings.Contains(out.String(), `app.HandleHTTP("hello", hello.New(p.Client()))`) || !strings.Contains(out.String(), `"example.com/app/hello"`) {
		t.Errorf("output does not give the line and import to add:\n%s", out.String())
	}
	for _, f := range []string{"function.json", "function.go", "function_test.go"} {
		if _, err := os.Stat(filepath.Join(root, "hello", f)); err != nil {
			t.Error(err)
		}
	}
}

func TestBadTrigger(t *testing.T) {
	if err := newFunction(fakeRoot(t, "package main\n"), "x", "queue", io.Discard); err == nil {
		t.Error("trigger queue accepted")
	}
}

// TestRegistersInThisRepository adds a function to a copy of this repository's go.mod and
// cmd/handler/functions.go: the file keeps the shape the registry edits (the compile of an edited
// registry is in TestNewApp).
func TestRegistersInThisRepository(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"go.mod", "cmd/handler/functions.go"} {
		b, err := os.ReadFile(filepath.Join("..", "..", f))
		must(t, err)
		must(t, os.MkdirAll(filepath.Join(root, filepath.Dir(f)), 0o755))
		must(t, os.WriteFile(filepath.Join(root, f), b, 0o644))
	}
	var out bytes.Buffer
	must(t, newFunction(root, "hello-http", "http", &out))
	if !strings.Contains(out.String(), "registered in") {
		t.Fatalf("not registered:\n%s", out.String())
	}
	got, err := os.ReadFile(filepath.Join(root, "cmd", "handler", "functions.go"))
	must(t, err)
	if !bytes.Contains(got, []byte("\tapp.HandleHTTP(\"hello-http\", hellohttp.New(p.Client()))\n\treturn nil\n}")) {
		t.Errorf("functions.go:\n%s", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
