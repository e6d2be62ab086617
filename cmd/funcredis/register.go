package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// registry is cmd/handler/functions.go, where register() gives every
// function folder its handler: this repository's or an app's.
type registry struct {
	path   string
	module string
	src    []byte
	file   *ast.File
	fset   *token.FileSet
	fn     *ast.FuncDecl   // register; nil when the file has none
	app    string          // register's *handler.App parameter
	pool   string          // register's *pool.Pool parameter
	taken  map[string]bool // names in scope inside register: imports, parameters and := variables
}

// loadRegistry reads the module path from go.mod and parses functions.go.
func loadRegistry(root string) (*registry, error) {
	mod, err := modulePath(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	r := &registry{path: filepath.Join(root, "cmd", "handler", "functions.go"), module: mod, app: "app", pool: "p", taken: map[string]bool{}}
	r.src, err = os.ReadFile(r.path)
	if err != nil {
		return nil, fmt.Errorf("read the function registry: %w", err)
	}
	r.fset = token.NewFileSet()
	r.file, err = parser.ParseFile(r.fset, r.path, r.src, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parse the function registry: %w", err)
	}
	for _, imp := range r.file.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		name := path.Base(p)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		r.taken[name] = true
	}
	for _, d := range r.file.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "register" && fd.Recv == nil {
			r.fn = fd
		}
	}
	if r.fn != nil {
		ast.Inspect(r.fn.Body, func(n ast.Node) bool {
			if a, ok := n.(*ast.AssignStmt); ok && a.Tok == token.DEFINE {
				for _, l := range a.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						r.taken[id.Name] = true
					}
				}
			}
			return true
		})
		for _, f := range r.fn.Type.Params.List {
			for _, n := range f.Names {
				r.taken[n.Name] = true
				switch typeString(f.Type) {
				case "*handler.App":
					r.app = n.Name
				case "*pool.Pool":
					r.pool = n.Name
				}
			}
		}
	}
	return r, nil
}

// add inserts the registration line at the end of register() and the
// package's import, and returns the line. On error the file is unchanged.
func (r *registry) add(name, pkg, call string) (string, error) {
	line := fmt.Sprintf("%s.%s(%q, %s.New(%s.Client()))", r.app, call, name, pkg, r.pool)
	if r.fn == nil || r.fn.Body == nil {
		return line, errors.New("no func register")
	}
	imp := r.module + "/" + name
	for _, i := range r.file.Imports {
		if i.Path.Value == strconv.Quote(imp) {
			return line, fmt.Errorf("%s is already imported", imp)
		}
	}
	var decl *ast.GenDecl
	for _, d := range r.file.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.IMPORT && gd.Rparen.IsValid() {
			decl = gd
			break
		}
	}
	if decl == nil {
		return line, errors.New("no parenthesised import block")
	}
	// Edit from the end of the file backwards so earlier offsets stay valid. The line goes
	// last in register's body, before a final return.
	at := r.fn.Body.Rbrace
	if n := len(r.fn.Body.List); n > 0 {
		if ret, ok := r.fn.Body.List[n-1].(*ast.ReturnStmt); ok {
			at = ret.Pos()
		}
	}
	lineStart := bytes.LastIndexByte(r.src[:r.offset(at)], '\n') + 1
	src := splice(r.src, lineStart, "\t"+line+"\n")
	src = splice(src, r.offset(decl.Rparen), "\t"+importSpec(r.module, name, pkg)+"\n")
	out, err := format.Source(src)
	if err != nil {
		return line, fmt.Errorf("format the edited registry: %w", err)
	}
	if err := os.WriteFile(r.path, out, 0o644); err != nil {
		return line, fmt.Errorf("write the function registry: %w", err)
	}
	return line, nil
}

// importSpec is the import line of a function package, named when the
// package name differs from the folder name.
func importSpec(module, name, pkg string) string {
	spec := strconv.Quote(module + "/" + name)
	if pkg != name {
		spec = pkg + " " + spec
	}
	return spec
}

func (r *registry) offset(p token.Pos) int { return r.fset.Position(p).Offset }

func splice(b []byte, at int, s string) []byte {
	out := make([]byte, 0, len(b)+len(s))
	out = append(out, b[:at]...)
	out = append(out, s...)
	return append(out, b[at:]...)
}

// typeString renders a parameter type such as *handler.App.
func typeString(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return "*" + typeString(t.X)
	case *ast.SelectorExpr:
		return typeString(t.X) + "." + t.Sel.Name
	case *ast.Ident:
		return t.Name
	}
	return ""
}

// modulePath reads the module line of go.mod.
func modulePath(gomod string) (string, error) {
	src, err := os.ReadFile(gomod)
	if err != nil {
		return "", fmt.Errorf("read go.mod (run from the app's root or pass -root): %w", err)
	}
	if m := goModDirective(src, "module"); m != "" {
		return m, nil
	}
	return "", fmt.Errorf("no module line in %s", gomod)
}

// goModDirective returns the argument of go.mod's first single-line directive named name
// ("module", "go"), unquoted, or "".
func goModDirective(src []byte, name string) string {
	for line := range strings.Lines(string(src)) {
		if arg, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			return strings.Trim(strings.TrimSpace(arg), `"`)
		}
	}
	return ""
}
