package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/funcredis/funcredis"
)

// placeholderVersion is what go.mod requires of a module that a replace directive supplies: the
// go command's own convention for a module with no published version.
const placeholderVersion = "v0.0.0-00010101000000-000000000000"

// requirement is how a new app's go.mod requires funcredis.
type requirement struct {
	Version string // the required version
	Replace string // absolute directory of a local checkout for a replace directive; "" for none
}

// requirementFor decides how a new app requires module (funcredis). With replace, a local
// checkout, the app requires placeholderVersion and replaces it with that directory. Otherwise the
// app requires the version this program was built from, as bi (debug.ReadBuildInfo) records it:
// `go run …/cmd/funcredis@v1.2.0` and `go install …@v1.2.0` record v1.2.0 (or the pseudo-version
// of a commit), and `go tool funcredis` in an app records the app's requirement. A build from a
// checkout records "(devel)", or a version of a commit that may not be published: that needs
// replace.
func requirementFor(module, replace string, bi *debug.BuildInfo) (requirement, error) {
	if replace != "" {
		dir, err := filepath.Abs(replace)
		if err != nil {
			return requirement{}, fmt.Errorf("-replace: %w", err)
		}
		got, err := modulePath(filepath.Join(dir, "go.mod"))
		if err != nil {
			return requirement{}, fmt.Errorf("-replace %s: %w", replace, err)
		}
		if got != module {
			return requirement{}, fmt.Errorf("-replace %s holds module %s, not %s", replace, got, module)
		}
		return requirement{Version: placeholderVersion, Replace: dir}, nil
	}
	if bi == nil {
		return requirement{}, errors.New("this binary has no build information: pass -replace with a checkout of " + module)
	}
	m := &bi.Main
	if m.Path != module {
		m = nil
		for _, d := range bi.Deps {
			if d.Path == module {
				m = d
			}
		}
	}
	switch {
	case m == nil:
		return requirement{}, fmt.Errorf("this binary was not built with %s: pass -replace with a checkout of it", module)
	case m.Replace != nil && m.Replace.Version == "" && filepath.IsAbs(m.Replace.Path):
		return requirement{Version: placeholderVersion, Replace: m.Replace.Path}, nil
	case m.Replace != nil:
		return requirement{}, fmt.Errorf("%s is replaced by %s here: pass -replace with a checkout of it", module, m.Replace.Path)
	case m.Version == "" || m.Version == "(devel)" || strings.Contains(m.Version, "+"):
		return requirement{}, fmt.Errorf("built from a checkout of %s (version %q): pass -replace with the checkout "+
			"(make new-app does), or run go run %s/cmd/funcredis@latest", module, m.Version, module)
	}
	return requirement{Version: m.Version}, nil
}

// ownGoMod returns the module path and the go version of funcredis's go.mod, as built in.
func ownGoMod() (module, goVersion string, err error) {
	src, err := fs.ReadFile(funcredis.Files(), "go.mod")
	if err != nil {
		return "", "", fmt.Errorf("funcredis's go.mod: %w", err)
	}
	return goModDirective(src, "module"), goModDirective(src, "go"), nil
}
