package main

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// proxyVersion is the version this checkout is published as in TestNewAppFromModuleProxy.
const proxyVersion = "v0.0.1"

// TestNewAppFromModuleProxy is the path of a user without a clone: go run
// …/cmd/funcredis@version new, with this checkout published as proxyVersion on a module proxy in a
// temporary folder (file:// GOPROXY; the dependencies from the module cache's downloads, else the
// usual proxy; a temporary module cache). The go command must accept the module zip (it refuses
// a file name Windows reserves, such as nul, anywhere in it), and the app must require that
// version, with no replace directive, and build and vet against it: what the zip holds
// (go:embed of the templates included) is what the user gets.
func TestNewAppFromModuleProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("publishes this checkout to a local module proxy and builds an app from it")
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	must(t, err)
	ls, err := exec.Command("git", "-C", repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("lists the module's files with git, and this is not a git checkout: %v", err)
	}
	env, err := exec.Command("go", "env", "GOMODCACHE", "GOPROXY").Output()
	must(t, err)
	cache, upstream, _ := strings.Cut(strings.TrimSpace(string(env)), "\n")
	tmp := t.TempDir()
	proxy := filepath.Join(tmp, "proxy")
	publish(t, repo, strings.Split(strings.TrimSuffix(string(ls), "\x00"), "\x00"), filepath.Join(proxy, module, "@v"))

	// The dependencies come from the module cache's downloads, then from the usual proxy for what
	// go mod tidy reads that no build here has downloaded (old go.mod files of the module graph).
	t.Setenv("GOPROXY", "file://"+filepath.ToSlash(proxy)+",file://"+filepath.ToSlash(filepath.Join(cache, "cache", "download"))+","+upstream)
	t.Setenv("GOMODCACHE", filepath.Join(tmp, "modcache"))
	t.Setenv("GOFLAGS", "-modcacherw -trimpath") // t.TempDir can remove it; builds share the build cache's dependencies
	t.Setenv("GOSUMDB", "off")                   // the version exists only here
	t.Setenv("GOWORK", "off")
	t.Setenv("GOTOOLCHAIN", "local")

	dir := filepath.Join(tmp, "orders-api")
	runIn(t, tmp, "go", "run", module+"/cmd/funcredis@"+proxyVersion, "new", "-module", "example.com/orders-api", "-with-cache", dir)
	mod := read(t, filepath.Join(dir, "go.mod"))
	if !strings.Contains(mod, module+" "+proxyVersion) || strings.Contains(mod, "replace") {
		t.Errorf("go.mod of the new app:\n%s\nwant it to require %s %s with no replace", mod, module, proxyVersion)
	}
	runIn(t, dir, "go", "build", "./...")
	runIn(t, dir, "go", "vet", "./...")
	runIn(t, dir, "go", "tool", "-n", "funcredis")
}

// publish writes the file proxy entries of module at proxyVersion into dir: list, .info, .mod
// and a .zip of files (paths relative to repo; a listed file that is gone is left out).
func publish(t *testing.T, repo string, files []string, dir string) {
	t.Helper()
	must(t, os.MkdirAll(dir, 0o755))
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(repo, filepath.FromSlash(name)))
		if os.IsNotExist(err) {
			continue
		}
		must(t, err)
		w, err := zw.Create(module + "@" + proxyVersion + "/" + name)
		must(t, err)
		_, err = w.Write(b)
		must(t, err)
	}
	must(t, zw.Close())
	must(t, os.WriteFile(filepath.Join(dir, proxyVersion+".zip"), buf.Bytes(), 0o644))
	mod, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, proxyVersion+".mod"), mod, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, proxyVersion+".info"), []byte(`{"Version":"`+proxyVersion+`","Time":"2026-11-30T00:00:00Z"}`), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "list"), []byte(proxyVersion+"\n"), 0o644))
}
