package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/funcredis/funcredis/emulator/redisserver"
)

const module = "github.com/funcredis/funcredis"

func TestRequirementFor(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	must(t, err)
	dep := func(version string, replace *debug.Module) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "example.com/app", Version: "(devel)"},
			Deps: []*debug.Module{{Path: module, Version: version, Replace: replace}}}
	}
	for _, c := range []struct {
		name    string
		replace string
		bi      *debug.BuildInfo
		want    requirement // zero: an error
	}{
		{"go run @version", "", &debug.BuildInfo{Main: debug.Module{Path: module, Version: "v1.2.0"}}, requirement{Version: "v1.2.0"}},
		{"go run @commit", "", &debug.BuildInfo{Main: debug.Module{Path: module, Version: "v0.0.0-20261130010203-abcdef123456"}},
			requirement{Version: "v0.0.0-20261130010203-abcdef123456"}},
		{"go tool in an app", "", dep("v1.3.0", nil), requirement{Version: "v1.3.0"}},
		{"go tool in an app on a checkout", "", dep(placeholderVersion, &debug.Module{Path: repo}), requirement{Version: placeholderVersion, Replace: repo}},
		{"-replace wins", repo, &debug.BuildInfo{Main: debug.Module{Path: module, Version: "v1.2.0"}}, requirement{Version: placeholderVersion, Replace: repo}},
		{"checkout", "", &debug.BuildInfo{Main: debug.Module{Path: module, Version: "(devel)"}}, requirement{}},
		{"modified checkout", "", &debug.BuildInfo{Main: debug.Module{Path: module, Version: "v1.2.1-0.20261130010203-abcdef123456+dirty"}}, requirement{}},
		{"relative replace in an app", "", dep(placeholderVersion, &debug.Module{Path: "../funcredis"}), requirement{}},
		{"no build info", "", nil, requirement{}},
		{"-replace elsewhere", t.TempDir(), nil, requirement{}},
	} {
		got, err := requirementFor(module, c.replace, c.bi)
		if got != c.want || (err == nil) != (c.want != requirement{}) {
			t.Errorf("%s: requirementFor = %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
}

// files lists the files under dir, slash-separated and sorted.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	must(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	}))
	slices.Sort(out)
	return out
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return string(b)
}

// TestNewAppFiles checks what newApp writes, with and without the options, without building it.
func TestNewAppFiles(t *testing.T) {
	req := requirement{Version: "v1.2.0"}
	dir := filepath.Join(t.TempDir(), "Orders_API")
	must(t, newApp(dir, appOptions{Module: "example.com/orders-api", Function: "hello", Req: req}, io.Discard))
	infra := []string{"infra/abbreviations.json", "infra/app/function.bicep", "infra/app/identity.bicep", "infra/app/monitoring.bicep",
		"infra/app/redis.bicep", "infra/app/storage.bicep", "infra/main.bicep", "infra/main.parameters.json"}
	want := append([]string{".gitignore", "Makefile", "README.md", "azure.yaml",
		"cmd/handler/functions.go", "cmd/handler/functions_test.go", "cmd/handler/main.go", "go.mod",
		"hello/function.go", "hello/function.json", "hello/function_test.go", "host.json"}, infra...)
	want = append(want, "local.settings.sample.json")
	slices.Sort(want)
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Errorf("files = %q\nwant %q", got, want)
	}
	for _, f := range append([]string{"host.json", "cmd/handler/main.go", "cmd/handler/functions_test.go"}, infra...) {
		if read(t, filepath.Join(dir, f)) != read(t, filepath.Join("..", "..", f)) {
			t.Errorf("%s differs from this repository's", f)
		}
	}
	gomod := read(t, filepath.Join(dir, "go.mod"))
	for _, w := range []string{"module example.com/orders-api\n", "require " + module + " v1.2.0\n", "\t" + module + "/cmd/localstack\n"} {
		if !strings.Contains(gomod, w) {
			t.Errorf("go.mod lacks %q:\n%s", w, gomod)
		}
	}
	if strings.Contains(gomod, "replace") {
		t.Errorf("go.mod replaces funcredis without -replace:\n%s", gomod)
	}
	settings := read(t, filepath.Join(dir, "local.settings.sample.json"))
	if !json.Valid([]byte(settings)) || strings.Contains(settings, "CACHE_") || strings.Contains(settings, "RATELIMIT_") || !strings.Contains(settings, "REDIS_HOST") {
		t.Errorf("local.settings.sample.json:\n%s", settings)
	}
	if y := read(t, filepath.Join(dir, "azure.yaml")); !strings.Contains(y, "\nname: orders-api\n") {
		t.Errorf("azure.yaml does not name the app:\n%s", y)
	}
	for _, f := range []string{"README.md", "Makefile", "cmd/handler/functions.go"} {
		if s := read(t, filepath.Join(dir, f)); strings.Contains(s, "cache") || strings.Contains(s, "<no value>") {
			t.Errorf("%s mentions cache or an unfilled value:\n%s", f, s)
		}
	}

	withAll := filepath.Join(t.TempDir(), "all")
	must(t, newApp(withAll, appOptions{Module: "example.com/all", Function: "hello", Timer: "nightly", WithCache: true,
		Req: requirement{Version: placeholderVersion, Replace: "/src/my funcredis"}}, io.Discard))
	for _, f := range []string{"cache/function.json", "cache-batch/function.json", "cache-incr/function.json", "nightly/function.go"} {
		if _, err := os.Stat(filepath.Join(withAll, f)); err != nil {
			t.Error(err)
		}
	}
	if s := read(t, filepath.Join(withAll, "local.settings.sample.json")); !strings.Contains(s, "CACHE_MAX_TTL") || strings.Contains(s, "RATELIMIT_") {
		t.Errorf("local.settings.sample.json with -with-cache:\n%s", s)
	}
	if s := read(t, filepath.Join(withAll, "cmd/handler/functions.go")); !strings.Contains(s, "cache.LoadConfig()") ||
		!strings.Contains(s, "\tapp.HandleInvocation(\"nightly\", nightly.New(p.Client()))\n\treturn nil\n}") {
		t.Errorf("functions.go:\n%s", s)
	}
	if s := read(t, filepath.Join(withAll, "go.mod")); !strings.Contains(s, "replace "+module+` => "/src/my funcredis"`) {
		t.Errorf("go.mod does not replace funcredis with the quoted checkout:\n%s", s)
	}
}

func TestNewAppRefuses(t *testing.T) {
	req := requirement{Version: "v1.2.0"}
	full := t.TempDir()
	must(t, os.WriteFile(filepath.Join(full, "x"), nil, 0o644))
	for name, c := range map[string]struct {
		dir string
		o   appOptions
	}{
		"a non-empty folder":        {full, appOptions{Module: "example.com/a", Function: "hello", Req: req}},
		"a bad module path":         {"", appOptions{Module: "example.com/a b", Function: "hello", Req: req}},
		"a bad function name":       {"", appOptions{Module: "example.com/a", Function: "Hello", Req: req}},
		"a function named infra":    {"", appOptions{Module: "example.com/a", Function: "infra", Req: req}},
		"a function named cache":    {"", appOptions{Module: "example.com/a", Function: "cache", WithCache: true, Req: req}},
		"a timer named as the http": {"", appOptions{Module: "example.com/a", Function: "hello", Timer: "hello", Req: req}},
	} {
		dir := c.dir
		if dir == "" {
			dir = filepath.Join(t.TempDir(), "app")
		}
		if err := newApp(dir, c.o, io.Discard); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestNewApp is the user's path: funcredis new from this checkout (-replace) into a temporary
// folder, make new-function there, then the app's own make test and make package, and make run
// serving the HTTP function through the host emulator with Entra tokens through the gateway.
func TestNewApp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds, tests, packages and runs a generated app")
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	must(t, err)
	dir := filepath.Join(t.TempDir(), "orders-api")
	var out, stderr bytes.Buffer
	if err := run([]string{"new", "-module", "example.com/orders-api", "-timer", "nightly", "-with-cache", "-replace", repo, dir}, &out, &stderr); err != nil {
		t.Fatalf("funcredis new: %v\n%s%s", err, out.String(), stderr.String())
	}
	t.Setenv("GOWORK", "off")
	runIn(t, dir, "make", "new-function", "NAME=orders")
	runIn(t, dir, "make", "test")
	runIn(t, dir, "make", "package")
	for _, f := range []string{"bin/handler", "host.json", "hello/function.json", "nightly/function.json", "orders/function.json", "cache/function.json"} {
		if _, err := os.Stat(filepath.Join(dir, "dist", f)); err != nil {
			t.Errorf("make package: %v", err)
		}
	}
	if !redisserver.Installed() && os.Getenv("FUNCREDIS_REQUIRE_REDIS_SERVER") != "1" {
		t.Skip("make run: needs redis-server for the Entra gateway")
	}
	serves(t, dir)
}

// runIn runs name with args in dir and fails the test with its output if it fails.
func runIn(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
	}
}

// serves runs the app's make run on a free port and checks that its HTTP function answers through
// the host emulator, with Redis behind the Entra gateway, then stops it with SIGINT to its process
// group, as Ctrl-C does.
func serves(t *testing.T, dir string) {
	cmd := exec.Command("make", "run", "RUN_FLAGS=-addr 127.0.0.1:0")
	cmd.Dir = dir
	cmd.Stderr = io.Discard
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		<-waited
	}()
	exports := map[string]string{}
	var hello string
	sc := bufio.NewScanner(stdout)
	for hello == "" && sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "export "); ok {
			k, v, _ := strings.Cut(rest, "=")
			exports[k] = strings.Trim(v, "'")
		}
		if u, ok := strings.CutPrefix(line, "curl -i "); ok && strings.HasSuffix(u, "/api/hello") {
			hello = u
		}
	}
	go io.Copy(io.Discard, stdout)
	if hello == "" {
		t.Fatalf("make run printed no curl line for /api/hello (exports %v)", exports)
	}
	// The gateway answers nothing before an AUTH with a token it verifies, so PONG through it
	// means the pool authenticated with an Entra token from the token service.
	if exports["REDIS_AUTH"] != "entra" || exports["REDIS_TLS"] != "true" {
		t.Errorf("make run's settings = %v, want Entra over TLS to the gateway", exports)
	}
	resp, err := http.Get(hello)
	must(t, err)
	defer resp.Body.Close()
	var got map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK || got["redis"] != "PONG" {
		t.Errorf("GET %s = %s %v (%v), want 200 with redis PONG", hello, resp.Status, got, err)
	}
}
