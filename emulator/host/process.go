package host

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// proc is one launch of the handler process.
type proc struct {
	cmd      *exec.Cmd
	pid      int
	workerID string
	// ctx is cancelled as soon as the process is gone or being killed: in-flight calls fail.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed once Wait returned and exitCode is set
	// exitCode is the process's exit code, -1 when a signal ended it.
	exitCode int
	// intentional marks a kill the host asked for (timeout, readiness, close): it is not an error event.
	intentional atomic.Bool
	stderr      *consoleWriter
}

// kill sends SIGKILL; intentional kills are not counted as failures.
func (p *proc) kill(intentional bool) error {
	if intentional {
		p.intentional.Store(true)
	}
	p.cancel()
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill handler pid %d: %w", p.pid, err)
	}
	return nil
}

// launchSpec is everything needed to start the handler, resolved once from host.json.
type launchSpec struct {
	root       string
	exe        string
	arguments  []string
	workerPath string
	workerArgs []string
	workingDir string
	env        []string // app settings
}

// command builds the exec.Cmd the way DefaultWorkerProcessFactory does.
func (s launchSpec) command(port int, workerID string) *exec.Cmd {
	exe := s.exe
	if !filepath.IsAbs(exe) {
		if cand := filepath.Join(s.root, exe); fileExists(cand) {
			exe = cand
		}
	}
	hostVars := []string{
		"FUNCTIONS_CUSTOMHANDLER_PORT=" + strconv.Itoa(port),
		"FUNCTIONS_HTTPWORKER_PORT=" + strconv.Itoa(port),
		"FUNCTIONS_CUSTOMHANDLER_WORKER_ID=" + workerID,
		"FUNCTIONS_HTTPWORKER_ID=" + workerID,
		"FUNCTIONS_APP_ROOT_PATH=" + s.root,
	}
	env := append(append(os.Environ(), s.env...), hostVars...)

	// Arguments are joined into one string without quoting, then split again by the OS
	// process start, so an argument containing a space becomes two.
	line := strings.Join(expandAll(s.arguments, env), " ")
	if s.workerPath != "" {
		line += ` "` + s.workerPath + `"`
	}
	if len(s.workerArgs) > 0 {
		line += " " + strings.Join(expandAll(s.workerArgs, env), " ")
	}
	cmd := exec.Command(exe, splitCommandLine(line)...)
	cmd.Env = env
	cmd.Dir = s.root
	switch {
	case s.workingDir == "":
	case filepath.IsAbs(s.workingDir):
		cmd.Dir = s.workingDir
	default:
		cmd.Dir = filepath.Join(s.root, s.workingDir)
	}
	return cmd
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

var percentVar = regexp.MustCompile(`%([^%\s]+)%`)

// expandAll replaces %VAR% from env; unresolved tokens are deleted, as the host does.
func expandAll(args, env []string) []string {
	vals := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vals[strings.ToUpper(k)] = v
		}
	}
	out := make([]string, 0, len(args))
	for _, a := range args {
		out = append(out, percentVar.ReplaceAllStringFunc(a, func(tok string) string {
			return vals[strings.ToUpper(strings.Trim(tok, "%"))]
		}))
	}
	return out
}

// splitCommandLine splits on whitespace and groups double-quoted runs, like .NET's
// ProcessStartInfo.Arguments parsing on Unix.
func splitCommandLine(line string) []string {
	var out []string
	var cur strings.Builder
	inQuote, has := false, false
	for _, c := range line {
		switch {
		case c == '"':
			inQuote, has = !inQuote, true
		case (c == ' ' || c == '\t') && !inQuote:
			if has {
				out = append(out, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteRune(c)
			has = true
		}
	}
	if has {
		out = append(out, cur.String())
	}
	return out
}

// start launches the process and wires its console output to the logger.
func (s launchSpec) start(port int, log *slog.Logger) (*proc, error) {
	workerID := newGUID()
	cmd := s.command(port, workerID)
	p := &proc{cmd: cmd, workerID: workerID, done: make(chan struct{})}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	out := &consoleWriter{log: log, stderr: false}
	p.stderr = &consoleWriter{log: log, stderr: true}
	cmd.Stdout, cmd.Stderr = out, p.stderr
	cmd.WaitDelay = killWait
	if err := cmd.Start(); err != nil {
		p.cancel()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p.pid = cmd.Process.Pid
	out.setPID(p.pid)
	p.stderr.setPID(p.pid)
	go func() {
		_ = cmd.Wait() // the exit status is read from ProcessState
		out.flush()
		p.stderr.flush()
		p.exitCode = exitCodeOf(cmd)
		p.cancel()
		close(p.done)
	}()
	return p, nil
}

func exitCodeOf(cmd *exec.Cmd) int {
	if cmd.ProcessState == nil {
		return -1
	}
	if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
		if st.Signaled() {
			return -1
		}
		return st.ExitStatus()
	}
	return cmd.ProcessState.ExitCode()
}

// consoleWriter turns the handler's stdout or stderr into log lines: stdout at Info, stderr
// at Error, or Warn when the line contains "warn" (case-insensitive). It keeps the last 3
// stderr lines for the exit message.
type consoleWriter struct {
	log    *slog.Logger
	stderr bool
	pid    int

	mu   sync.Mutex
	buf  []byte
	last []string
}

func (w *consoleWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(string(bytes.TrimRight(w.buf[:i], "\r")))
		w.buf = w.buf[i+1:]
	}
	return len(b), nil
}

func (w *consoleWriter) setPID(pid int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pid = pid
}

func (w *consoleWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = nil
	}
}

func (w *consoleWriter) emit(line string) {
	if line == "" {
		return
	}
	category := "Host.Function.Console"
	switch {
	case strings.HasPrefix(line, "LanguageWorkerConsoleLog"):
		line, category = strings.TrimPrefix(line, "LanguageWorkerConsoleLog"), "Worker.HttpWorkerProcess"
	case strings.HasPrefix(line, "azfuncjsonlog:"):
		line, category = strings.TrimPrefix(line, "azfuncjsonlog:"), "Host.Function.Console.Tooling"
	}
	level := slog.LevelInfo
	if w.stderr {
		level = slog.LevelError
		if strings.Contains(strings.ToLower(line), "warn") {
			level = slog.LevelWarn
		}
		w.last = append(w.last, line)
		if len(w.last) > 3 {
			w.last = w.last[1:]
		}
	}
	w.log.Log(context.Background(), level, line, "category", category, "pid", w.pid)
}

// lastLines returns the last stderr lines, for the exit message.
func (w *consoleWriter) lastLines() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.last, "\n")
}

// newGUID returns a random (version 4) GUID in the host's lower-case form.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
