package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// printNotes prints remarks as shell comments.
func printNotes(w io.Writer, notes []string) {
	for _, n := range notes {
		fmt.Fprintln(w, "# "+n)
	}
}

// printExports prints one `export NAME=value` line per "NAME=value"
// setting, the value quoted for POSIX shells.
func printExports(w io.Writer, settings []string) {
	for _, s := range settings {
		name, value, _ := strings.Cut(s, "=")
		fmt.Fprintf(w, "export %s=%s\n", name, shellQuote(value))
	}
}

// printCurls prints ready-to-paste curl lines for the functions the script
// root has. The host emulator checks no function keys (as Core Tools), so
// none is needed.
func printCurls(w io.Writer, o options, base string) {
	has := func(fn string) bool {
		_, err := os.Stat(filepath.Join(o.root, fn, "function.json"))
		return err == nil
	}
	fmt.Fprintln(w, "# try (Ctrl-C stops everything):")
	if has("cache") {
		fmt.Fprintf(w, "curl -i -X PUT -H 'Content-Type: text/plain' --data 'hello from funcredis' %s/api/cache/greeting\n", base)
		fmt.Fprintf(w, "curl -i %s/api/cache/greeting\n", base)
		fmt.Fprintf(w, "curl -i -X DELETE %s/api/cache/greeting\n", base)
	}
	if has("health") {
		fmt.Fprintf(w, "curl -s %s/api/health\n", base)
	}
	if has("ratelimit") {
		fmt.Fprintf(w, "curl -i -X POST %s/api/ratelimit/demo\n", base)
	}
}

// shellQuote quotes v for a POSIX shell unless it is plainly safe.
func shellQuote(v string) string {
	if v != "" && strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/=,+@%") == "" {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
