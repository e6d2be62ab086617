package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/funcredis/funcredis/handler"
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

// printCurls prints ready-to-paste curl lines for the functions of the script root: one per HTTP
// function (its first method, route parameters filled in with their names), the admin API's
// invocation for every other trigger, and a fuller example for the cache functions. The host
// emulator checks no function keys (as Core Tools), so none is needed.
func printCurls(w io.Writer, o options, base string) error {
	app, err := handler.New(handler.Options{Root: o.root})
	if err != nil {
		return fmt.Errorf("script root: %w", err)
	}
	fmt.Fprintln(w, "# try (Ctrl-C stops everything):")
	for _, fn := range app.Functions() {
		switch {
		case fn.Name == "cache":
			fmt.Fprintf(w, "curl -i -X PUT -H 'Content-Type: text/plain' --data 'hello from funcredis' %s/api/cache/greeting\n", base)
			fmt.Fprintf(w, "curl -i %s/api/cache/greeting\n", base)
			fmt.Fprintf(w, "curl -i -X DELETE %s/api/cache/greeting\n", base)
		case fn.Name == "cache-batch":
			fmt.Fprintf(w, "curl -i -X POST -H 'Content-Type: application/json' --data '{\"get\":[\"greeting\"]}' %s/api/cache-batch\n", base)
		case fn.IsHTTP():
			method := ""
			if len(fn.Methods) > 0 && fn.Methods[0] != http.MethodGet {
				method = "-X " + fn.Methods[0] + " "
			}
			fmt.Fprintf(w, "curl -i %s%s/api/%s\n", method, base, routeParam.ReplaceAllString(fn.Route, "$1"))
		default:
			fmt.Fprintf(w, "curl -i -X POST -H 'Content-Type: application/json' --data '{}' %s/admin/functions/%s\n", base, fn.Name)
		}
	}
	return nil
}

// routeParam matches a route parameter such as {key}, {id:int}, {id?} or {*rest}; its first group
// is the parameter's name.
var routeParam = regexp.MustCompile(`\{\*{0,2}([^}:?=*]+)[^}]*\}`)

// shellQuote quotes v for a POSIX shell unless it is plainly safe.
func shellQuote(v string) string {
	if v != "" && strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/=,+@%") == "" {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
