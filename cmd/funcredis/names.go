package main

import (
	"fmt"
	"go/token"
	"regexp"
	"strings"
)

// folderName is what the Functions host accepts as a function folder name.
var folderName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,127}$`)

// packageName derives the Go package name from a folder name: '-' and '_'
// are dropped, and "fn" is appended when the result is a Go keyword or one of
// the taken names (identifiers already in scope where the function is
// registered).
func packageName(folder string, taken map[string]bool) (string, error) {
	if !folderName.MatchString(folder) {
		return "", fmt.Errorf("function name %q must match %s", folder, folderName)
	}
	pkg := strings.NewReplacer("-", "", "_", "").Replace(folder)
	if token.IsKeyword(pkg) || taken[pkg] || pkg == "main" {
		pkg += "fn"
	}
	return pkg, nil
}
