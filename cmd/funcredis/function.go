package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/funcredis/funcredis"
)

// functionData fills a function template (template/http, template/timer).
type functionData struct {
	Name    string // folder and function name
	Package string // Go package name
}

// newFunction creates root/<name> from the trigger's template and registers it.
func newFunction(root, name, trigger string, out io.Writer) error {
	if trigger != "http" && trigger != "timer" {
		return fmt.Errorf("trigger %q: use http or timer", trigger)
	}
	reg, err := loadRegistry(root)
	if err != nil {
		return err
	}
	pkg, err := packageName(name, reg.taken)
	if err != nil {
		return err
	}
	dir := filepath.Join(root, name)
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s already exists", dir)
	}
	files, err := render("template/"+trigger, functionData{Name: name, Package: pkg})
	if err != nil {
		return err
	}
	if err := writeFiles(dir, files); err != nil {
		return err
	}
	fmt.Fprintf(out, "created %s/ (function.json, function.go, function_test.go; package %s)\n", name, pkg)

	call := "HandleHTTP"
	if trigger == "timer" {
		call = "HandleInvocation"
	}
	line, err := reg.add(name, pkg, call)
	if err != nil {
		fmt.Fprintf(out, "could not register it automatically (%v); add to register() in %s:\n\t%s\nand the import:\n\t%s\n",
			err, reg.path, line, importSpec(reg.module, name, pkg))
		return nil
	}
	fmt.Fprintf(out, "registered in %s:\n\t%s\n", reg.path, line)
	fmt.Fprintf(out, "next: go test ./%s/ && make run\n", name)
	return nil
}

// render executes the templates under dir of funcredis.Files with d: "a/b.go.tmpl" becomes
// "a/b.go", relative to dir.
func render(dir string, d any) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(funcredis.Files(), dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		src, err := fs.ReadFile(funcredis.Files(), p)
		if err != nil {
			return err
		}
		t, err := template.New(path.Base(p)).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, d); err != nil {
			return err
		}
		files[strings.TrimSuffix(strings.TrimPrefix(p, dir+"/"), ".tmpl")] = b.Bytes()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	return files, nil
}

// writeFiles writes files (slash-separated paths relative to dir), creating dir and the folders
// they need.
func writeFiles(dir string, files map[string][]byte) error {
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		// Their errors name the operation and the path already ("write <path>: …").
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			return err
		}
	}
	return nil
}
