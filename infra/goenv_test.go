package infra_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// envSetting is one environment variable the Go code reads through an
// `envconfig:"NAME"` struct tag.
type envSetting struct {
	Name     string
	Required bool   // the tag carries required:"true"
	Pos      string // file:line, for messages
}

// skippedGoDirs are the repo-relative folders whose Go code never runs in Azure,
// so their settings say nothing about what the deployed handler reads.
var skippedGoDirs = map[string]bool{
	"emulator":       true, // local stand-ins for Entra, AMR and the Functions host
	"bench":          true, // benchmark harness
	"cmd/localstack": true, // `make run`: starts the emulators on one machine
	"dist":           true, // build output
	"bin":            true,
	"vendor":         true,
	"node_modules":   true,
}

// readEnvconfig parses every non-test Go file under root (skipping
// skippedGoDirs, testdata and hidden folders) with go/parser and returns the
// envconfig settings it declares. It also returns problems: struct shapes whose
// environment names this reader cannot see, because envconfig would derive them
// (an exported field without a tag in a struct that has tagged fields is read
// as its upper-cased name; a named struct-typed field prefixes its fields' names).
func readEnvconfig(root string) (settings []envSetting, problems []string, err error) {
	fset := token.NewFileSet()
	files := map[string][]*ast.File{} // directory → parsed files
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, relErr := filepath.Rel(root, path)
		if relErr != nil {
			return relErr
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || skippedGoDirs[rel]) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, parseErr := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if parseErr != nil {
			return fmt.Errorf("parse %s: %w", rel, parseErr)
		}
		dir := filepath.Dir(path)
		files[dir] = append(files[dir], f)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("walk %s: %w", root, err)
	}

	for _, pkgFiles := range files {
		structTypes := map[string]bool{} // struct types declared in this package
		for _, f := range pkgFiles {
			ast.Inspect(f, func(n ast.Node) bool {
				if ts, ok := n.(*ast.TypeSpec); ok {
					if _, ok := ts.Type.(*ast.StructType); ok {
						structTypes[ts.Name.Name] = true
					}
				}
				return true
			})
		}
		for _, f := range pkgFiles {
			ast.Inspect(f, func(n ast.Node) bool {
				st, ok := n.(*ast.StructType)
				if !ok {
					return true
				}
				s, p := envconfigStruct(fset, root, st, structTypes)
				settings = append(settings, s...)
				problems = append(problems, p...)
				return true
			})
		}
	}
	sort.Slice(settings, func(i, j int) bool { return settings[i].Name < settings[j].Name })
	sort.Strings(problems)
	return settings, problems, nil
}

// envconfigStruct returns the settings of one struct type and the problems of
// its shape. A struct without any envconfig tag is not a settings struct.
func envconfigStruct(fset *token.FileSet, root string, st *ast.StructType, structTypes map[string]bool) ([]envSetting, []string) {
	var settings []envSetting
	var untagged []*ast.Field
	for _, field := range st.Fields.List {
		tag := fieldTag(field)
		if tag.Get("ignored") == "true" {
			continue
		}
		name, ok := tag.Lookup("envconfig")
		if !ok {
			untagged = append(untagged, field)
			continue
		}
		settings = append(settings, envSetting{Name: name, Required: tag.Get("required") == "true", Pos: position(fset, root, field.Pos())})
	}
	if len(settings) == 0 {
		return nil, nil
	}
	var problems []string
	for _, field := range untagged {
		if isStruct(field, structTypes) {
			continue // reported below
		}
		for _, n := range field.Names {
			if n.IsExported() {
				problems = append(problems, fmt.Sprintf("%s: field %s has no envconfig tag, so envconfig reads it as %s; tag it (or mark it ignored:\"true\")",
					position(fset, root, field.Pos()), n.Name, strings.ToUpper(n.Name)))
			}
		}
	}
	for _, field := range st.Fields.List {
		// An embedded struct does not prefix its fields' names; a named one does.
		if len(field.Names) > 0 && fieldTag(field).Get("ignored") != "true" && isStruct(field, structTypes) {
			problems = append(problems, fmt.Sprintf("%s: field %s is a struct, so envconfig prefixes its fields' names; this test cannot see them (embed it or flatten it)",
				position(fset, root, field.Pos()), field.Names[0].Name))
		}
	}
	return settings, problems
}

// isStruct reports whether a field's type is (a pointer to) a struct type
// declared in the same package.
func isStruct(field *ast.Field, structTypes map[string]bool) bool {
	typ := field.Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	id, ok := typ.(*ast.Ident)
	return ok && structTypes[id.Name]
}

// fieldTag returns a field's struct tag (empty when it has none).
func fieldTag(field *ast.Field) reflect.StructTag {
	if field.Tag == nil {
		return ""
	}
	s, err := strconv.Unquote(field.Tag.Value)
	if err != nil {
		return ""
	}
	return reflect.StructTag(s)
}

// position renders a repo-relative file:line.
func position(fset *token.FileSet, root string, pos token.Pos) string {
	p := fset.Position(pos)
	if rel, err := filepath.Rel(root, p.Filename); err == nil {
		return fmt.Sprintf("%s:%d", filepath.ToSlash(rel), p.Line)
	}
	return p.String()
}
