package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// invocationKey is the context key of the current invocation's state.
type invocationKey struct{}

// invocationState is what Log and SetOutput reach through the context of one invocation.
type invocationState struct {
	base    *slog.Logger
	attrs   []any // function and invocation_id
	collect bool  // payload mode: lines go to Logs too

	once   sync.Once
	logger *slog.Logger // base with attrs, built on first use

	mu      sync.Mutex
	logs    []string
	outputs map[string]any
}

// newInvocationState starts the state of one invocation of fn.
func newInvocationState(base *slog.Logger, fn *Function, invocationID string, collect bool) *invocationState {
	return &invocationState{base: base, attrs: []any{"function", fn.Name, "invocation_id", invocationID}, collect: collect}
}

// log is the invocation's logger. It is built on first use: most forwarded
// invocations log only their closing line, which needs no logger of its own.
func (st *invocationState) log() *slog.Logger {
	st.once.Do(func() { st.logger = st.base.With(st.attrs...) })
	return st.logger
}

// logDone writes the invocation's closing line.
func (st *invocationState) logDone(ctx context.Context, args ...any) {
	if st.base.Enabled(ctx, slog.LevelInfo) {
		st.base.InfoContext(ctx, "invocation", append(st.attrs, args...)...)
	}
}

// withInvocation returns ctx carrying st.
func withInvocation(ctx context.Context, st *invocationState) context.Context {
	return context.WithValue(ctx, invocationKey{}, st)
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
