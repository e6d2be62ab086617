//go:build linux || darwin

package main

import (
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
)

// TestNewAppRemovesWhatItWrote makes writing fail half-way for real: a file size limit of 512
// bytes lets the small files through and fails the first larger one (EFBIG; SIGXFSZ is ignored
// meanwhile, as it would otherwise end the process). Whatever newApp wrote must be gone: a new
// folder entirely, an empty one it was given left empty.
func TestNewAppRemovesWhatItWrote(t *testing.T) {
	req := requirement{Version: "v1.2.0"}
	empty := t.TempDir()
	for name, dir := range map[string]string{
		"a new folder":      filepath.Join(t.TempDir(), "app"),
		"an existing empty": empty,
	} {
		err := withFileSizeLimit(t, 512, func() error {
			return newApp(dir, appOptions{Module: "example.com/a", Function: "hello", Timer: "nightly", Req: req}, io.Discard)
		})
		if err == nil {
			t.Fatalf("%s: newApp succeeded under a 512-byte file size limit", name)
		}
		entries, statErr := os.ReadDir(dir)
		switch {
		case dir == empty && (statErr != nil || len(entries) > 0):
			t.Errorf("%s: after %v, the folder holds %d entries (%v)", name, err, len(entries), statErr)
		case dir != empty && statErr == nil:
			t.Errorf("%s: after %v, the folder is still there with %d entries", name, err, len(entries))
		}
	}
}

// withFileSizeLimit runs f with the process's file size limit at limit bytes.
func withFileSizeLimit(t *testing.T, limit uint64, f func() error) error {
	t.Helper()
	var old syscall.Rlimit
	must(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old))
	signal.Ignore(syscall.SIGXFSZ)
	defer signal.Reset(syscall.SIGXFSZ)
	must(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: limit, Max: old.Max}))
	defer func() { must(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)) }()
	return f()
}
