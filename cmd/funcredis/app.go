package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/funcredis/funcredis"
)

// appOptions says what app newApp makes.
type appOptions struct {
	Module    string      // the app's module path
	Function  string      // folder name of the HTTP function
	Timer     string      // folder name of the timer function; "" for none
	WithCache bool        // add funcredis's cache functions (cache, cache-incr, cache-batch)
	Req       requirement // how go.mod requires funcredis
}

// appData fills the templates under template/app.
type appData struct {
	Name      string // the app's folder name
	Module    string
	Funcredis string // funcredis's module path
	Version   string // the funcredis version required
	Replace   string // go.mod's replace target, quoted when it must be; "" for none
	GoVersion string // go.mod's go line: funcredis's
	Function  string
	Timer     string
	WithCache bool
}

// appCopies are files of this repository an app gets unchanged, as infra/ (azure.yaml and
// local.settings.sample.json get adapted: addRepositoryFiles).
var appCopies = []string{"host.json", "cmd/handler/main.go", "cmd/handler/functions_test.go"}

// cacheFolders are the cache functions' folders; an app made with -with-cache gets their
// function.json (their code is package cache).
var cacheFolders = []string{"cache", "cache-batch", "cache-incr"}

// modulePattern is a conservative module path: what `go mod init` accepts, minus rare spellings.
var modulePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~-]*(/[A-Za-z0-9._~-]+)*$`)

// newApp creates dir, a standalone app: go.mod requiring funcredis as o.Req says (with
// funcredis's commands as tools), host.json, the functions, cmd/handler, the local settings,
// azure.yaml and infra/, a Makefile and a README. It does not run go mod tidy. When writing
// fails half-way, it removes what it wrote, so that dir is as before and a retry starts clean.
func newApp(dir string, o appOptions, out io.Writer) (err error) {
	if !modulePattern.MatchString(o.Module) {
		return fmt.Errorf("module path %q: want something like example.com/orders-api", o.Module)
	}
	if err := checkFolders(o); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return fmt.Errorf("%s exists and is not empty", dir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("new app: %w", err)
	}
	existed := err == nil
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("new app: %w", err)
	}
	module, goVersion, err := ownGoMod()
	if err != nil {
		return err
	}
	d := appData{
		Name: filepath.Base(abs), Module: o.Module, Funcredis: module,
		Version: o.Req.Version, Replace: goModPath(o.Req.Replace), GoVersion: goVersion,
		Function: o.Function, Timer: o.Timer, WithCache: o.WithCache,
	}
	files, err := render("template/app", d)
	if err != nil {
		return err
	}
	files[".gitignore"] = files["gitignore"]
	delete(files, "gitignore")
	if err := addRepositoryFiles(files, o); err != nil {
		return err
	}
	if files["azure.yaml"], err = azureYAML(files["azure.yaml"], d.Name); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			removeWritten(dir, existed)
		}
	}()
	if err := writeFiles(dir, files); err != nil {
		return err
	}
	if err := newFunction(dir, o.Function, "http", io.Discard); err != nil {
		return err
	}
	if o.Timer != "" {
		if err := newFunction(dir, o.Timer, "timer", io.Discard); err != nil {
			return err
		}
	}
	how := d.Funcredis + " " + d.Version
	if d.Replace != "" {
		how += " => " + d.Replace
	}
	fmt.Fprintf(out, "created %s: module %s, requiring %s\n", dir, o.Module, how)
	return nil
}

// removeWritten undoes a newApp that failed after it began writing: dir goes, or, when it
// existed (empty) before, what is in it.
func removeWritten(dir string, existed bool) {
	if !existed {
		_ = os.RemoveAll(dir)
		return
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		_ = os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// checkFolders refuses function folder names the host would refuse or that the app already uses.
func checkFolders(o appOptions) error {
	taken := map[string]string{"bin": "the handler binary", "cmd": "the handler's code", "dist": "the package", "infra": "the Bicep"}
	if o.WithCache {
		for _, f := range cacheFolders {
			taken[f] = "a cache function (-with-cache)"
		}
	}
	names := []string{o.Function}
	if o.Timer != "" {
		names = append(names, o.Timer)
	}
	for _, n := range names {
		if !folderName.MatchString(n) {
			return fmt.Errorf("function name %q must match %s", n, folderName)
		}
		if what, ok := taken[n]; ok {
			return fmt.Errorf("function name %q: the app's %s/ is %s", n, n, what)
		}
		taken[n] = "the other function"
	}
	return nil
}

// addRepositoryFiles adds to files the repository files an app gets: appCopies and infra/ unchanged,
// local.settings.sample.json without the settings of functions the app lacks, azure.yaml, and
// with o.WithCache the cache functions' function.json.
func addRepositoryFiles(files map[string][]byte, o appOptions) error {
	names := append([]string{"azure.yaml", "local.settings.sample.json"}, appCopies...)
	if o.WithCache {
		for _, f := range cacheFolders {
			names = append(names, f+"/function.json")
		}
	}
	err := fs.WalkDir(funcredis.Files(), "infra", func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("new app: %w", err)
	}
	for _, n := range names {
		if files[n], err = fs.ReadFile(funcredis.Files(), n); err != nil {
			return fmt.Errorf("new app: %w", err)
		}
	}
	drop := []string{`"RATELIMIT_`}
	if !o.WithCache {
		drop = append(drop, `"CACHE_`)
	}
	files["local.settings.sample.json"], err = dropSettings(files["local.settings.sample.json"], drop)
	return err
}

// dropSettings removes the lines of local.settings.sample.json that start with one of prefixes
// (one setting per line, as the file is written).
func dropSettings(src []byte, prefixes []string) ([]byte, error) {
	var b bytes.Buffer
	for line := range strings.Lines(string(src)) {
		trimmed := strings.TrimSpace(line)
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(trimmed, p) }) {
			b.WriteString(line)
		}
	}
	if !json.Valid(b.Bytes()) {
		return nil, errors.New("new app: local.settings.sample.json is no longer JSON without the dropped settings (is one of them last?)")
	}
	return b.Bytes(), nil
}

// azureYAML gives azure.yaml the app's name in place of funcredis's.
func azureYAML(src []byte, name string) ([]byte, error) {
	const line = "\nname: funcredis\n"
	if !bytes.Contains(src, []byte(line)) {
		return nil, fmt.Errorf("new app: azure.yaml has no line %q", strings.TrimSpace(line))
	}
	return bytes.Replace(src, []byte(line), []byte("\nname: "+azdName(name)+"\n"), 1), nil
}

// azdName is name in lower case with anything but letters, digits and '-' replaced by '-'.
func azdName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, name)
}

// goModPath quotes a path for go.mod when it holds a space or a quote.
func goModPath(p string) string {
	if strings.ContainsAny(p, " \t\"'`") {
		return strconv.Quote(p)
	}
	return p
}
