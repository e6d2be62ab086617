package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// invocationIDHeader is the host's X-Azure-Functions-InvocationId in the form net/http keys it
// by (textproto's canonical form), so looking it up on every request allocates nothing.
const invocationIDHeader = "X-Azure-Functions-Invocationid"

// invocationKey is the context key of the current invocation's state.
type invocationKey struct{}

// invocationState is the context of one invocation: the request's context, carrying what Log
// and SetOutput reach. Being a context.Context itself, it costs one allocation per invocation
// where context.WithValue would add a second.
type invocationState struct {
	context.Context
	base     *slog.Logger
	function string
	id       string
	collect  bool // payload mode: lines go to Logs too

	once   sync.Once
	logger *slog.Logger // base with function and invocation_id, built on first use

	mu      sync.Mutex
	logs    []string
	outputs map[string]any
}

// newInvocationState starts the state of one invocation of fn, within the request's context
// parent.
func newInvocationState(parent context.Context, base *slog.Logger, fn *Function, invocationID string, collect bool) *invocationState {
	return &invocationState{Context: parent, base: base, function: fn.Name, id: invocationID, collect: collect}
}

// Value implements context.Context: the state itself for invocationKey, else the parent's value.
func (st *invocationState) Value(key any) any {
	if key == (invocationKey{}) {
		return st
	}
	return st.Context.Value(key)
}

// log is the invocation's logger. It is built on first use: most invocations log nothing of
// their own.
func (st *invocationState) log() *slog.Logger {
	st.once.Do(func() { st.logger = st.base.With("function", st.function, "invocation_id", st.id) })
	return st.logger
}

// logDone writes the invocation's closing line: at Debug level, since the Functions host
// records every invocation's status and duration itself (Host.Results), and at Warn when the
// answer is a server error. Nothing is built when the level is off: this runs on every request.
func (st *invocationState) logDone(mode, method string, status int, start time.Time) {
	level := slog.LevelDebug
	if status >= http.StatusInternalServerError {
		level = slog.LevelWarn
	}
	if !st.base.Enabled(st, level) {
		return
	}
	args := []any{"function", st.function, "invocation_id", st.id, "mode", mode}
	if method != "" {
		args = append(args, "method", method)
	}
	st.base.Log(st, level, "invocation", append(args, "status", status, "duration", time.Since(start))...)
}

// Log records a line for the current invocation: appended to Logs in payload mode, and always
// written with slog at Info level (with the function name and invocation id when ctx belongs to an
// invocation). args are slog key-value pairs or slog.Attrs; Logs gets "msg key=value …".
// Never pass secrets or request bodies: both destinations are persisted by the platform.
func Log(ctx context.Context, msg string, args ...any) {
	st, _ := ctx.Value(invocationKey{}).(*invocationState)
	logger := slog.Default()
	if st != nil {
		logger = st.log()
	}
	logger.InfoContext(ctx, msg, args...)
	if st == nil || !st.collect {
		return
	}
	line := formatLogLine(msg, args)
	st.mu.Lock()
	st.logs = append(st.logs, line)
	st.mu.Unlock()
}

// ErrNotInvocation is returned by SetOutput when ctx is not a payload-mode invocation.
var ErrNotInvocation = errors.New("handler: not a payload-mode invocation")

// SetOutput sets the value of output binding name for the current payload-mode invocation, so an
// HTTP function with extra bindings (a queue output, say) can fill them. Values are protected from
// the host's base64 quirk as described on Result. In forwarded mode there are no other bindings and
// it returns ErrNotInvocation.
func SetOutput(ctx context.Context, name string, value any) error {
	st, _ := ctx.Value(invocationKey{}).(*invocationState)
	if st == nil || !st.collect {
		return ErrNotInvocation
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.outputs == nil {
		st.outputs = map[string]any{}
	}
	st.outputs[name] = value
	return nil
}

// snapshot returns the collected Logs and outputs.
func (st *invocationState) snapshot() ([]string, map[string]any) {
	st.mu.Lock()
	defer st.mu.Unlock()
	outputs := make(map[string]any, len(st.outputs))
	for k, v := range st.outputs {
		outputs[k] = v
	}
	return append([]string(nil), st.logs...), outputs
}

// formatLogLine renders msg and slog-style args as "msg k=v k2=\"v 2\"".
func formatLogLine(msg string, args []any) string {
	r := slog.NewRecord(time.Time{}, slog.LevelInfo, msg, 0)
	r.Add(args...)
	var b strings.Builder
	b.WriteString(msg)
	var write func(prefix string, a slog.Attr)
	write = func(prefix string, a slog.Attr) {
		a.Value = a.Value.Resolve()
		if a.Equal(slog.Attr{}) {
			return
		}
		key := a.Key
		if prefix != "" {
			key = prefix + "." + key
		}
		if a.Value.Kind() == slog.KindGroup {
			for _, g := range a.Value.Group() {
				write(key, g)
			}
			return
		}
		v := a.Value.String()
		if v == "" || strings.ContainsAny(v, " \t\r\n\"=") {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(&b, " %s=%s", key, v)
	}
	r.Attrs(func(a slog.Attr) bool { write("", a); return true })
	return b.String()
}
