package infra_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// There is no Bicep compiler here, so these readers understand the small subset
// of Bicep that infra/ is written in, line by line, and report anything they do
// not understand as a problem instead of skipping it:
//
//   - app settings: an `appSettings: [` line opens a block that a line holding
//     only `]` closes; inside it every line is blank, a // comment, or exactly
//     `{ name: 'NAME', value: EXPRESSION }`;
//   - resources: `resource SYMBOL 'TYPE@APIVERSION' ...` on one line; a nested
//     child (`resource SYMBOL 'containers' = {`) has no apiVersion and inherits
//     its parent's;
//   - modules: `module SYMBOL 'PATH' = {` with a `params: {` block holding one
//     `key: value` per line (values may span lines if their braces balance);
//   - declarations: `param NAME TYPE [= DEFAULT]` and `output NAME TYPE = ...`,
//     each starting its own line.

// bicepFile is one parsed .bicep file.
type bicepFile struct {
	Path      string // relative to infra/
	Lines     []string
	Settings  []appSetting
	Resources []bicepResource
	Modules   []bicepModule
	Params    map[string]bool   // param name → has a default
	Defaults  map[string]string // param name → its default, as written
	Outputs   map[string]bool
	Problems  []string
}

// appSetting is one `{ name: 'X', value: ... }` entry of an appSettings array.
type appSetting struct {
	Name  string
	Value string // the Bicep expression, verbatim
	Pos   string
}

// bicepResource is one `resource` declaration.
type bicepResource struct {
	Symbol     string
	Type       string
	APIVersion string // empty for a nested child resource
	Pos        string
}

// bicepModule is one `module` declaration and the parameters it passes.
type bicepModule struct {
	Symbol string
	Path   string // as written, relative to the declaring file
	Params []string
	Pos    string
}

var (
	settingsOpenRE = regexp.MustCompile(`^\s*appSettings\s*:`)
	settingsLineRE = regexp.MustCompile(`^\s*\{\s*name:\s*'([^']+)'\s*,\s*value:\s*(.+?)\s*\}\s*(//.*)?$`)
	resourceRE     = regexp.MustCompile(`^\s*resource\s+([A-Za-z_]\w*)\s+'([^']+)'`)
	moduleRE       = regexp.MustCompile(`^\s*module\s+([A-Za-z_]\w*)\s+'([^']+)'\s*=\s*\{\s*$`)
	paramRE        = regexp.MustCompile(`^param\s+([A-Za-z_]\w*)\s+\w+(\s*=.*)?$`)
	outputRE       = regexp.MustCompile(`^output\s+([A-Za-z_]\w*)\s+\w+\s*=`)
	keyRE          = regexp.MustCompile(`^\s*([A-Za-z_]\w*)\s*:`)
	paramsOpenRE   = regexp.MustCompile(`^\s*params:\s*\{\s*$`)
)

// readBicepFiles parses every .bicep file under dir.
func readBicepFiles(dir string) ([]*bicepFile, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".bicep") {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", dir, err)
	}
	sort.Strings(paths)
	var files []*bicepFile
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read bicep: %w", err)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return nil, fmt.Errorf("bicep path: %w", err)
		}
		files = append(files, parseBicep(filepath.ToSlash(rel), string(src)))
	}
	return files, nil
}

// parseBicep reads one file's source (see the subset described above).
func parseBicep(path, src string) *bicepFile {
	f := &bicepFile{Path: path, Lines: strings.Split(src, "\n"), Params: map[string]bool{}, Defaults: map[string]string{}, Outputs: map[string]bool{}}
	pos := func(i int) string { return fmt.Sprintf("infra/%s:%d", path, i+1) }
	for i := 0; i < len(f.Lines); i++ {
		line := f.Lines[i]
		switch {
		case strings.Contains(line, "appSettingsKeyValuePairs"), strings.Contains(line, "Microsoft.Web/sites/config"):
			f.Problems = append(f.Problems, fmt.Sprintf("%s: app settings declared outside an appSettings array; this test cannot read them", pos(i)))
		case settingsOpenRE.MatchString(line):
			i = f.readSettings(i, pos)
		case moduleRE.MatchString(line):
			i = f.readModule(i, pos)
		case resourceRE.MatchString(line):
			m := resourceRE.FindStringSubmatch(line)
			typ, version, _ := strings.Cut(m[2], "@")
			f.Resources = append(f.Resources, bicepResource{Symbol: m[1], Type: typ, APIVersion: version, Pos: pos(i)})
		case paramRE.MatchString(line):
			m := paramRE.FindStringSubmatch(line)
			f.Params[m[1]] = m[2] != ""
			if m[2] != "" {
				f.Defaults[m[1]] = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(m[2]), "="))
			}
		case outputRE.MatchString(line):
			f.Outputs[outputRE.FindStringSubmatch(line)[1]] = true
		}
	}
	return f
}

// readSettings reads the appSettings block opened on line i and returns the
// index of its closing line.
func (f *bicepFile) readSettings(i int, pos func(int) string) int {
	if !strings.HasSuffix(strings.TrimSpace(f.Lines[i]), "[") {
		f.Problems = append(f.Problems, fmt.Sprintf("%s: appSettings must be an array literal opened on this line", pos(i)))
		return i
	}
	for j := i + 1; j < len(f.Lines); j++ {
		line := strings.TrimSpace(f.Lines[j])
		switch {
		case line == "]":
			return j
		case line == "" || strings.HasPrefix(line, "//"):
		case settingsLineRE.MatchString(line):
			m := settingsLineRE.FindStringSubmatch(line)
			f.Settings = append(f.Settings, appSetting{Name: m[1], Value: m[2], Pos: pos(j)})
		default:
			f.Problems = append(f.Problems, fmt.Sprintf("%s: not a one-line { name: 'X', value: ... } app setting: %q", pos(j), line))
		}
	}
	f.Problems = append(f.Problems, fmt.Sprintf("%s: appSettings array is never closed by a line holding only ]", pos(i)))
	return len(f.Lines)
}

// readModule reads the module declared on line i and returns the index of the
// last line it consumed.
func (f *bicepFile) readModule(i int, pos func(int) string) int {
	m := moduleRE.FindStringSubmatch(f.Lines[i])
	mod := bicepModule{Symbol: m[1], Path: m[2], Pos: pos(i)}
	defer func() { f.Modules = append(f.Modules, mod) }()
	j := i
	next := func() bool {
		j++
		if j < len(f.Lines) {
			return true
		}
		f.Problems = append(f.Problems, fmt.Sprintf("%s: module %s is never closed", mod.Pos, mod.Symbol))
		return false
	}
	for depth := 1; depth > 0; {
		if !next() {
			return j
		}
		if depth == 1 && paramsOpenRE.MatchString(f.Lines[j]) {
			for inner := 1; inner > 0; inner += braceBalance(f.Lines[j]) {
				if !next() {
					return j
				}
				if k := keyRE.FindStringSubmatch(f.Lines[j]); inner == 1 && k != nil {
					mod.Params = append(mod.Params, k[1])
				}
			}
			continue
		}
		depth += braceBalance(f.Lines[j])
	}
	return j
}

// braceBalance is the number of { minus the number of } on a line. Interpolations
// such as '${x}' balance themselves.
func braceBalance(line string) int {
	return strings.Count(line, "{") - strings.Count(line, "}")
}
