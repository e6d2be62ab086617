package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors returned by the Host; match them with errors.Is.
var (
	// ErrHostStopped means the host gave up: MaxFailures counted failures within RestartWindow.
	ErrHostStopped = errors.New("functions host stopped: exceeded http worker restart retry count")
	// ErrHandlerExited means the handler exited with code 0; the host does not restart it.
	ErrHandlerExited = errors.New("handler exited with code 0 and is not restarted")
	// ErrClosed means Close was called.
	ErrClosed = errors.New("functions host closed")
	// ErrNoFunctions means the app has no functions, so the host never starts the handler.
	ErrNoFunctions = errors.New("no functions found: the handler is not started")
	// ErrInvocationFailed means an invocation failed (non-2xx, bad content type, bad body, timeout, crash).
	ErrInvocationFailed = errors.New("invocation failed")
	// ErrFunctionNotFound means no function has that name.
	ErrFunctionNotFound = errors.New("function not found")
)

// state is the dispatcher state of the host.
type state int

const (
	stateNew        state = iota
	stateStarting         // first launch, waiting for readiness
	stateReady            // the current process answered GET /
	stateRestarting       // a new process is being launched
	stateExited           // exit 0: no restart
	stateFailed           // gave up after MaxFailures
	stateClosed
)

// Stats counts what the host did with the handler.
type Stats struct {
	Starts            int         // processes launched
	Restarts          int         // launches after the first
	CountedFailures   int         // error events counted toward MaxFailures (all time)
	ReadinessFailures int         // launches that did not answer GET / within InitTimeout
	Exits             map[int]int // exit code → count; -1 = ended by a signal (SIGKILL)
	Invocations       int         // invocations sent to the handler (payload or forwarded)
	FailedInvocations int         // of those, failed ones (the client got a 500)
	Timeouts          int         // functionTimeout expiries (each restarted the handler)
}

// Host emulates the Azure Functions host driving one custom handler process.
type Host struct {
	cfg      Config
	log      *slog.Logger
	settings hostSettings
	spec     launchSpec
	fns      []*function
	forward  bool
	timeout  time.Duration // 0 = unbounded
	// bodyLimit is FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, else DefaultRequestBodyLimit.
	bodyLimit int64

	client *http.Client // payload and forwarding client (no redirects)
	probe  *http.Client // readiness client

	mu       sync.Mutex
	st       state
	changed  chan struct{} // closed and replaced on every state change
	cur      *proc
	termErr  error
	failures []time.Time
	stats    Stats
	port     int
	ln       net.Listener
	srv      *http.Server
	bg       context.Context
	bgCancel context.CancelFunc
	supDone  chan struct{}

	closeOnce sync.Once
}

// New reads host.json and every function.json under cfg.Root. Functions that fail validation
// are logged and skipped, as the host does.
func New(cfg Config) (*Host, error) {
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("script root: %w", err)
	}
	cfg.Root = root
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = DefaultInitTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hs, err := readHostJSON(root)
	if err != nil {
		return nil, err
	}
	fns, errs := readFunctions(root)
	for _, e := range errs {
		log.Error("function indexing failed", "error", e)
	}
	h := &Host{
		cfg: cfg, log: log, settings: hs, fns: fns,
		forward: hs.forwarding,
		spec: launchSpec{
			root: root, exe: hs.exePath, arguments: hs.arguments, workerPath: hs.workerPath,
			workerArgs: hs.workerArguments, workingDir: hs.workingDir, env: cfg.Env,
		},
		changed: make(chan struct{}),
		stats:   Stats{Exits: map[int]int{}},
	}
	if cfg.Forwarding != nil {
		h.forward = *cfg.Forwarding
	}
	h.bodyLimit, err = bodyLimit(cfg.Env)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.FunctionTimeout > 0:
		h.timeout = cfg.FunctionTimeout
	case hs.timeoutSet && hs.functionTimeout == noTimeout:
		h.timeout = 0
	case hs.timeoutSet:
		h.timeout = hs.functionTimeout
	default:
		h.timeout = DefaultFunctionTimeout
	}
	h.client = &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: 64},
		// The host's HttpClient timeout is functionTimeout + 1 min; the functionTimeout kill fires first.
		Timeout:       clientTimeout(h.timeout),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	h.probe = &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	h.bg, h.bgCancel = context.WithCancel(context.Background())
	return h, nil
}

// bodyLimit is the app setting FUNCTIONS_REQUEST_BODY_SIZE_LIMIT (from env, else the process
// environment), else DefaultRequestBodyLimit. The host ignores a value that is not a number
// (HttpRequestBodySizeMiddleware: long.TryParse); the emulator refuses it, to say so early.
func bodyLimit(env []string) (int64, error) {
	v := os.Getenv("FUNCTIONS_REQUEST_BODY_SIZE_LIMIT")
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT" {
			v = val
		}
	}
	if v == "" {
		return DefaultRequestBodyLimit, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("FUNCTIONS_REQUEST_BODY_SIZE_LIMIT=%q is not a number of bytes", v)
	}
	return n, nil
}

func clientTimeout(ft time.Duration) time.Duration {
	if ft <= 0 {
		return 0
	}
	return ft + time.Minute
}

// Start binds Addr, launches the handler and returns once it answered GET / (or the host gave
// up, or ctx ended). The host keeps running until Close, also after an error.
func (h *Host) Start(ctx context.Context) error {
	h.mu.Lock()
	if h.st != stateNew {
		h.mu.Unlock()
		return errors.New("host already started")
	}
	h.st = stateStarting
	h.mu.Unlock()

	ln, err := net.Listen("tcp", h.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", h.cfg.Addr, err)
	}
	port, err := freePort()
	if err != nil {
		_ = ln.Close()
		return err
	}
	h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	h.mu.Lock()
	h.ln, h.port = ln, port
	h.mu.Unlock()
	go func() { _ = h.srv.Serve(ln) }()

	if len(h.fns) == 0 {
		h.setTerminal(stateExited, ErrNoFunctions)
		h.log.Warn("no functions found; the handler is not started")
		return nil
	}
	h.supDone = make(chan struct{})
	go h.supervise()
	_, err = h.awaitReady(ctx)
	return err
}

// freePort picks the handler's port by binding 127.0.0.1:0, as WorkerUtilities.GetUnusedTcpPort does.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick handler port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL is the public base URL, e.g. "http://127.0.0.1:7071" (the bound address after Start).
func (h *Host) URL() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ln != nil {
		return "http://" + h.ln.Addr().String()
	}
	return "http://" + h.cfg.Addr
}

// HandlerPort is the port given to the handler in FUNCTIONS_CUSTOMHANDLER_PORT (0 before Start).
func (h *Host) HandlerPort() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.port
}

// PID is the current handler process id, 0 when none runs.
func (h *Host) PID() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cur == nil {
		return 0
	}
	return h.cur.pid
}

// Stats returns a copy of the counters.
func (h *Host) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.stats
	s.Exits = make(map[int]int, len(h.stats.Exits))
	for k, v := range h.stats.Exits {
		s.Exits[k] = v
	}
	return s
}

// Kill sends SIGKILL to the handler now. The host then applies its exit rules: a kill by
// signal is a counted failure followed by a restart.
func (h *Host) Kill() error {
	h.mu.Lock()
	p := h.cur
	if p == nil {
		h.mu.Unlock()
		return errors.New("no handler process running")
	}
	if h.st == stateReady {
		h.setStateLocked(stateRestarting)
	}
	h.mu.Unlock()
	return p.kill(false)
}

// WaitReady waits until the current handler process answered GET /, or the host gave up.
func (h *Host) WaitReady(ctx context.Context) error {
	_, err := h.awaitReady(ctx)
	return err
}

// awaitReady returns the ready process or the terminal error.
func (h *Host) awaitReady(ctx context.Context) (*proc, error) {
	for {
		h.mu.Lock()
		st, p, ch, terr := h.st, h.cur, h.changed, h.termErr
		h.mu.Unlock()
		switch st {
		case stateReady:
			if p != nil && p.ctx.Err() == nil {
				return p, nil
			}
			// The process is gone; the supervisor is about to change the state.
		case stateExited, stateFailed, stateClosed:
			return nil, terr
		case stateNew:
			return nil, errors.New("host not started")
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the handler to become ready: %w", ctx.Err())
		}
	}
}

// setStateLocked changes the state and wakes every waiter; h.mu must be held.
func (h *Host) setStateLocked(s state) {
	h.st = s
	close(h.changed)
	h.changed = make(chan struct{})
}

// setTerminal moves to a final state with its error, unless the host is already closed.
func (h *Host) setTerminal(s state, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.st == stateClosed {
		return
	}
	h.termErr = err
	h.setStateLocked(s)
}

// Close kills the handler with SIGKILL, waits up to 1 s for it to exit, and stops serving.
// It is idempotent.
func (h *Host) Close() error {
	h.closeOnce.Do(func() {
		h.mu.Lock()
		p := h.cur
		h.termErr = ErrClosed
		h.setStateLocked(stateClosed)
		h.mu.Unlock()
		h.bgCancel()
		if p != nil {
			_ = p.kill(true)
			select {
			case <-p.done:
			case <-time.After(killWait):
			}
		}
		if h.supDone != nil {
			select {
			case <-h.supDone:
			case <-time.After(killWait):
			}
		}
		if h.srv != nil {
			_ = h.srv.Close()
		}
		h.client.CloseIdleConnections()
	})
	return nil
}

// findFunction returns the function with that name (case-insensitive, as the host's lookup is).
func (h *Host) findFunction(name string) *function {
	for _, f := range h.fns {
		if strings.EqualFold(f.name, name) {
			return f
		}
	}
	return nil
}
