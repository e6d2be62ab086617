// Command funcredis makes funcredis apps and functions from the files of the funcredis version it
// was built from:
//
//	funcredis new [-module example.com/orders-api] [-function hello] [-timer NAME] [-with-cache] [-replace DIR] DIR
//	funcredis function -name NAME [-trigger http|timer] [-root .]
//
// new creates DIR, a standalone app that depends on funcredis instead of copying it: go.mod
// requiring funcredis and declaring this command and cmd/localstack as tools (`go tool
// funcredis`, `go tool localstack`), host.json, one HTTP function and optionally one timer
// function from template/, cmd/handler (serve.Main and register), local.settings.sample.json,
// azure.yaml and infra/ as this repository has them, a Makefile (build, test, run, package,
// new-function) and a README; with -with-cache also the cache functions' folders. It then runs
// go mod tidy in DIR.
//
// The funcredis version the app requires is the one this command was built from: `go run
// github.com/funcredis/funcredis/cmd/funcredis@v1.2.0 new …` pins v1.2.0 (@latest: the latest
// release; @<commit>: its pseudo-version). Built from a checkout (make new-app), the command has
// no published version to pin; -replace DIR then makes the app require
// v0.0.0-00010101000000-000000000000 and replace it with the checkout at DIR.
//
// function (make new-function) creates <name>/function.json, <name>/function.go and
// <name>/function_test.go in the app at -root, with the folder name and a Go package name derived
// from it, then adds the function's import and its registration line to register() in
// cmd/handler/functions.go. When that file does not have the expected shape it changes nothing
// there and prints the line to add.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "funcredis:", err)
		}
		os.Exit(2)
	}
}

// usage is printed for a missing or unknown subcommand.
const usage = `usage:
  funcredis new [-module PATH] [-function NAME] [-timer NAME] [-with-cache] [-replace DIR] DIR
  funcredis function -name NAME [-trigger http|timer] [-root DIR]`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "new":
		return runNew(args[1:], stdout, stderr)
	case "function":
		fs := flag.NewFlagSet("funcredis function", flag.ContinueOnError)
		fs.SetOutput(stderr)
		name := fs.String("name", "", "function folder name: "+folderName.String())
		trigger := fs.String("trigger", "http", "http or timer")
		root := fs.String("root", ".", "the app's root (holds go.mod and cmd/handler)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("unexpected arguments: %v", fs.Args())
		}
		return newFunction(*root, *name, *trigger, stdout)
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

// runNew is `funcredis new`: the app, then go mod tidy in it.
func runNew(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("funcredis new", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o appOptions
	fs.StringVar(&o.Module, "module", "", "the app's module path (default: DIR's name)")
	fs.StringVar(&o.Function, "function", "hello", "folder name of the HTTP function")
	fs.StringVar(&o.Timer, "timer", "", "folder name of a timer function (default: none)")
	fs.BoolVar(&o.WithCache, "with-cache", false, "add funcredis's cache functions (cache, cache-incr, cache-batch)")
	replace := fs.String("replace", "", "a checkout of funcredis for the app to use instead of a published version")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("want one DIR after the flags\n" + usage)
	}
	dir := fs.Arg(0)
	module, _, err := ownGoMod()
	if err != nil {
		return err
	}
	bi, _ := debug.ReadBuildInfo()
	if o.Req, err = requirementFor(module, *replace, bi); err != nil {
		return err
	}
	if o.Module == "" {
		o.Module = filepath.Base(dir)
	}
	if err := newApp(dir, o, stdout); err != nil {
		return err
	}
	if err := goCommand(dir, stderr, "mod", "tidy"); err != nil {
		return fmt.Errorf("the app is in %s, but %w", dir, err)
	}
	fmt.Fprintf(stdout, "next: cd %s && make test && make run\n", dir)
	return nil
}

// goCommand runs the go command in dir, its output to w.
func goCommand(dir string, w io.Writer, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return nil
}
