package host

import (
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestLaunchEnvironmentArgumentsAndConsoleLogs(t *testing.T) {
	a := newApp(t, appOpts{env: []string{"TH_STDERR=boom happened|a WARNING here"}})
	must(t, a.startErr)
	env, args, cwd := a.launch(t, 1)
	port := strconv.Itoa(a.h.HandlerPort())
	if env["FUNCTIONS_CUSTOMHANDLER_PORT"] != port || env["FUNCTIONS_HTTPWORKER_PORT"] != port {
		t.Errorf("port vars = %q/%q, want %s", env["FUNCTIONS_CUSTOMHANDLER_PORT"], env["FUNCTIONS_HTTPWORKER_PORT"], port)
	}
	id := env["FUNCTIONS_CUSTOMHANDLER_WORKER_ID"]
	if len(id) != 36 || env["FUNCTIONS_HTTPWORKER_ID"] != id {
		t.Errorf("worker ids = %q/%q", id, env["FUNCTIONS_HTTPWORKER_ID"])
	}
	if env["FUNCTIONS_APP_ROOT_PATH"] != a.root || env["APP_SETTING"] != "setting-value" {
		t.Errorf("app root %q, app setting %q", env["FUNCTIONS_APP_ROOT_PATH"], env["APP_SETTING"])
	}
	// %VAR% expanded (host variables included); unresolved tokens deleted.
	if want := []string{"--port", port, "setting-value"}; !slices.Equal(args, want) {
		t.Errorf("args = %q, want %q", args, want)
	}
	if cwd != a.root {
		t.Errorf("cwd = %q, want app root %q", cwd, a.root)
	}
	waitFor(t, "console logs", func() bool {
		_, ok1 := a.logs.find("a WARNING here")
		_, ok2 := a.logs.find("boom happened")
		_, ok3 := a.logs.find("handler stdout start 1")
		return ok1 && ok2 && ok3
	})
	for msg, level := range map[string]slog.Level{"handler stdout start 1": slog.LevelInfo, "boom happened": slog.LevelError, "a WARNING here": slog.LevelWarn} {
		if r, _ := a.logs.find(msg); r.level != level || r.attrs["category"] != "Host.Function.Console" {
			t.Errorf("%q logged at %v (%q), want %v", msg, r.level, r.attrs["category"], level)
		}
	}
}

func TestWorkingDirectoryAndArgumentSplitting(t *testing.T) {
	hj := `{"customHandler":{"description":{"defaultExecutablePath":"bin/handler","workingDirectory":"sub",
	  "arguments":["two words"],"defaultWorkerPath":"w p","workerArguments":["--x"]}}}`
	a := newApp(t, appOpts{hostJSON: hj, noStart: true})
	must(t, os.Mkdir(filepath.Join(a.root, "sub"), 0o755))
	must(t, a.h.Start(ctxT(t)))
	_, args, cwd := a.launch(t, 1)
	if want := []string{"two", "words", "w p", "--x"}; !slices.Equal(args, want) {
		t.Errorf("args = %q, want %q (joined with spaces, worker path quoted)", args, want)
	}
	if want := filepath.Join(a.root, "sub"); cwd != want {
		t.Errorf("cwd = %q, want %q", cwd, want)
	}
}

func TestExecutableOnPathWhenNotUnderRoot(t *testing.T) {
	// A relative path that does not exist under the app root is used as given (PATH lookup).
	t.Setenv("PATH", filepath.Dir(handlerBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	a := newApp(t, appOpts{hostJSON: `{"customHandler":{"description":{"defaultExecutablePath":"handler"}}}`})
	must(t, a.startErr)
}

func TestReadinessWaitsForSlowListener(t *testing.T) {
	a := newApp(t, appOpts{env: []string{"TH_PLAN=slow:300ms"}})
	must(t, a.startErr)
	if s := a.h.Stats(); s.Starts != 1 || s.ReadinessFailures != 0 {
		t.Errorf("stats = %+v, want one start and no readiness failure", s)
	}
}

func TestReadinessTimeoutRestarts(t *testing.T) {
	a := newApp(t, appOpts{env: []string{"TH_PLAN=hang"}, cfg: func(c *Config) { c.InitTimeout = 300 * time.Millisecond }})
	must(t, a.startErr)
	s := a.h.Stats()
	if s.Starts != 2 || s.ReadinessFailures != 1 || s.CountedFailures != 1 || s.Exits[-1] != 1 {
		t.Errorf("stats = %+v, want 2 starts, 1 readiness failure (counted), 1 kill", s)
	}
}

func TestReadinessGivesUpAfterThreeFailures(t *testing.T) {
	a := newApp(t, appOpts{env: []string{"TH_PLAN=hang,hang,hang"}, cfg: func(c *Config) { c.InitTimeout = 200 * time.Millisecond }})
	if !errors.Is(a.startErr, ErrHostStopped) {
		t.Fatalf("Start = %v, want ErrHostStopped", a.startErr)
	}
	if s := a.h.Stats(); s.Starts != 3 || s.ReadinessFailures != 3 {
		t.Errorf("stats = %+v, want 3 starts and 3 readiness failures", s)
	}
	if resp, _ := a.do(t, http.MethodGet, "/api/echo", nil, nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("request after give-up: %d, want 503", resp.StatusCode)
	}
	if _, err := a.h.Invoke(ctxT(t), "queue", nil); !errors.Is(err, ErrHostStopped) {
		t.Errorf("Invoke after give-up = %v, want ErrHostStopped", err)
	}
}

func TestExitCodeRules(t *testing.T) {
	for _, tc := range []struct {
		plan             string
		wantErr          error
		starts, failures int
		exitCode         int
	}{
		{plan: "exit:200", starts: 2, failures: 0, exitCode: 200},
		{plan: "exit:1,exit:1", starts: 3, failures: 2, exitCode: 1},
		{plan: "exit:1,exit:200,exit:1", starts: 4, failures: 2, exitCode: 1},
		{plan: "exit:1,exit:1,exit:1", wantErr: ErrHostStopped, starts: 3, failures: 3, exitCode: 1},
		{plan: "exit:0", wantErr: ErrHandlerExited, starts: 1, failures: 0, exitCode: 0},
	} {
		t.Run(tc.plan, func(t *testing.T) {
			a := newApp(t, appOpts{env: []string{"TH_PLAN=" + tc.plan}})
			if !errors.Is(a.startErr, tc.wantErr) || (tc.wantErr == nil && a.startErr != nil) {
				t.Fatalf("Start = %v, want %v", a.startErr, tc.wantErr)
			}
			s := a.h.Stats()
			if s.Starts != tc.starts || s.CountedFailures != tc.failures || s.Exits[tc.exitCode] == 0 {
				t.Errorf("stats = %+v, want %d starts, %d counted failures, exit %d seen", s, tc.starts, tc.failures, tc.exitCode)
			}
		})
	}
}

func TestKillRestartsAndCounts(t *testing.T) {
	a := newApp(t, appOpts{})
	must(t, a.startErr)
	pid := a.h.PID()
	must(t, a.h.Kill())
	must(t, a.h.WaitReady(ctxT(t)))
	if a.h.PID() == pid || a.h.PID() == 0 {
		t.Fatalf("pid after kill = %d, was %d", a.h.PID(), pid)
	}
	if s := a.h.Stats(); s.Exits[-1] != 1 || s.CountedFailures != 1 || s.Restarts != 1 {
		t.Errorf("stats = %+v, want one SIGKILL exit, counted, one restart", s)
	}
	if resp, _ := a.do(t, http.MethodGet, "/api/echo", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("echo after restart: %d", resp.StatusCode)
	}
}

func TestCrashDuringInvocation(t *testing.T) {
	a := newApp(t, appOpts{})
	must(t, a.startErr)
	resp, body := a.script(t, "/api/raw", map[string]any{"exit": 3})
	if resp.StatusCode != http.StatusInternalServerError || len(body) != 0 {
		t.Errorf("crash: %d %q, want empty 500", resp.StatusCode, body)
	}
	must(t, a.h.WaitReady(ctxT(t)))
	waitFor(t, "restart", func() bool { return a.h.Stats().Starts == 2 })
	if s := a.h.Stats(); s.Exits[3] != 1 || s.CountedFailures != 1 {
		t.Errorf("stats = %+v", s)
	}
}

func TestExitZeroIsNotRestarted(t *testing.T) {
	a := newApp(t, appOpts{})
	must(t, a.startErr)
	resp, _ := a.script(t, "/api/raw", map[string]any{"exit": 0})
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("exit 0 during call: %d, want 500", resp.StatusCode)
	}
	waitFor(t, "exit recorded", func() bool { return a.h.Stats().Exits[0] == 1 })
	if err := a.h.WaitReady(ctxT(t)); !errors.Is(err, ErrHandlerExited) {
		t.Fatalf("WaitReady = %v, want ErrHandlerExited", err)
	}
	if resp, _ := a.do(t, http.MethodGet, "/api/echo", nil, nil); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("later call: %d, want 500", resp.StatusCode)
	}
	if s := a.h.Stats(); s.Starts != 1 || s.CountedFailures != 0 {
		t.Errorf("stats = %+v, want no restart", s)
	}
}

func TestFunctionTimeoutKillsAndRestarts(t *testing.T) {
	on := true
	a := newApp(t, appOpts{cfg: func(c *Config) { c.FunctionTimeout = 400 * time.Millisecond; c.Forwarding = &on }})
	must(t, a.startErr)
	pid := a.h.PID()
	codes := make(chan int, 2)
	go func() { // forwarded function
		resp, _ := a.do(t, http.MethodGet, "/api/fwd/sleep", nil, nil)
		codes <- resp.StatusCode
	}()
	go func() { // payload-mode function (it has a queue output, so it is not forwarded)
		resp, _ := a.script(t, "/api/mixed", map[string]any{"sleep": "30s"})
		codes <- resp.StatusCode
	}()
	for range 2 {
		if c := <-codes; c != http.StatusInternalServerError {
			t.Errorf("timed-out call: %d, want 500", c)
		}
	}
	must(t, a.h.WaitReady(ctxT(t)))
	if a.h.PID() == pid {
		t.Errorf("handler was not restarted")
	}
	s := a.h.Stats()
	if s.Timeouts < 1 || s.CountedFailures != 0 || s.FailedInvocations != 2 {
		t.Errorf("stats = %+v, want a timeout, no counted failure, 2 failed calls", s)
	}
	if resp, _ := a.do(t, http.MethodGet, "/api/echo", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("call after timeout restart: %d", resp.StatusCode)
	}
}

func TestCloseKillsHandlerAndIsIdempotent(t *testing.T) {
	a := newApp(t, appOpts{})
	must(t, a.startErr)
	pid := a.h.PID()
	must(t, a.h.Close())
	must(t, a.h.Close())
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("handler pid %d still alive after Close", pid)
	}
	if err := a.h.WaitReady(ctxT(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitReady after Close = %v", err)
	}
}

func TestNoFunctionsDoesNotStartHandler(t *testing.T) {
	a := newApp(t, appOpts{functions: map[string]string{}})
	must(t, a.startErr)
	if s := a.h.Stats(); s.Starts != 0 {
		t.Errorf("handler started without functions: %+v", s)
	}
	if err := a.h.WaitReady(ctxT(t)); !errors.Is(err, ErrNoFunctions) {
		t.Errorf("WaitReady = %v", err)
	}
}
