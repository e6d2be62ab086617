package main

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"os/exec"
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

// fakeRoot is a minimal repository: go.mod and a functions.go.
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
	must(t, generate(root, "pl", "timer", &out))
	must(t, generate(root, "cfg", "http", &out))
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
	if err := generate(root, "pl", "timer", io.Discard); err == nil {
		t.Error("generating an existing folder again succeeded")
	}
}

func TestRegisterPrintsLineWhenShapeUnknown(t *testing.T) {
	root := fakeRoot(t, "package main\n\nfunc main() {}\n")
	before, _ := os.ReadFile(filepath.Join(root, "cmd", "handler", "functions.go"))
	var out bytes.Buffer
	must(t, generate(root, "hello", "http", &out))
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
	if err := generate(fakeRoot(t, "package main\n"), "x", "queue", io.Discard); err == nil {
		t.Error("trigger queue accepted")
	}
}

// TestGeneratedFunctionsBuildAndPass scaffolds an HTTP and a timer function
// into a copy of this repository, then vets and tests them and cmd/handler,
// whose registry test checks that every function folder has its handler.
func TestGeneratedFunctionsBuildAndPass(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a copy of the repository")
	}
	root := copyRepo(t, "..")
	for _, f := range []struct{ name, trigger string }{{"hello-http", "http"}, {"nightly_job", "timer"}} {
		var out bytes.Buffer
		must(t, generate(root, f.name, f.trigger, &out))
		if !strings.Contains(out.String(), "registered in") {
			t.Fatalf("%s was not registered:\n%s", f.name, out.String())
		}
	}
	pkgs := []string{"./hello-http/", "./nightly_job/", "./cmd/handler/"}
	goCmd(t, root, append([]string{"vet"}, pkgs...)...)
	goCmd(t, root, append([]string{"test", "-count=1"}, pkgs...)...)
	if out, err := exec.Command("gofmt", "-l", root+"/hello-http", root+"/nightly_job", root+"/cmd/handler").Output(); err != nil || len(out) > 0 {
		t.Errorf("gofmt -l: %s %v", out, err)
	}
}

func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// copyRepo copies the repository's files, without .git and build output.
func copyRepo(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() && rel != "." && (strings.HasPrefix(d.Name(), ".") || rel == "bin" || rel == "dist" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	must(t, err)
	return dst
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
