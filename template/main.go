// Command template scaffolds a new function folder from the HTTP or timer
// template in this directory, and registers it in cmd/handler/functions.go:
//
//	go run ./template -name my-func -trigger http|timer   (make new-function NAME=my-func TRIGGER=http)
//
// It creates <name>/function.json, <name>/function.go and
// <name>/function_test.go with the folder name and a Go package name derived
// from it, then adds the function's import and its registration line to
// register() in cmd/handler/functions.go. When that file does not have the
// expected shape it changes nothing there and prints the line to add.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	name := flag.String("name", "", "function folder name: ^[a-z][a-z0-9_-]{0,127}$")
	trigger := flag.String("trigger", "http", "http or timer")
	root := flag.String("root", ".", "repository root (holds go.mod and cmd/handler)")
	flag.Parse()
	if err := generate(*root, *name, *trigger, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "new-function:", err)
		os.Exit(1)
	}
}
