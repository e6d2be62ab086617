package main

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

//go:embed http timer
var templates embed.FS

// data fills the templates.
type data struct {
	Name    string // folder and function name
	Package string // Go package name
}

// generate creates root/<name> from the trigger's template and registers it.
func generate(root, name, trigger string, out io.Writer) error {
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
	files, err := render(trigger, data{Name: name, Package: pkg})
	if err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("create the function folder: %w", err)
	}
	for file, body := range files {
		if err := os.WriteFile(filepath.Join(dir, file), body, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", file, err)
		}
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

// render executes the trigger's templates: "function.go.tmpl" becomes "function.go".
func render(trigger string, d data) (map[string][]byte, error) {
	entries, err := templates.ReadDir(trigger)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		src, err := templates.ReadFile(trigger + "/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		t, err := template.New(e.Name()).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", e.Name(), err)
		}
		var b bytes.Buffer
		if err := t.Execute(&b, d); err != nil {
			return nil, fmt.Errorf("template %s: %w", e.Name(), err)
		}
		files[strings.TrimSuffix(e.Name(), ".tmpl")] = b.Bytes()
	}
	return files, nil
}
