package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// consoleCategory marks a line the handler process wrote to stdout or stderr.
const consoleCategory = "Host.Function.Console"

// logHandler writes the stack's own logs as slog text, and the handler
// process's console lines as they are, prefixed with "handler| ", so its
// JSON or text logs are not quoted inside another log line.
type logHandler struct {
	mu   *sync.Mutex
	w    io.Writer
	text slog.Handler
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(&logHandler{mu: &sync.Mutex{}, w: w, text: slog.NewTextHandler(w, nil)})
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.text.Enabled(ctx, l) }

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	console := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "category" && strings.HasPrefix(a.Value.String(), consoleCategory) {
			console = true
			return false
		}
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	if console {
		_, err := io.WriteString(h.w, "handler| "+strings.TrimRight(r.Message, "\n")+"\n")
		return err
	}
	return h.text.Handle(ctx, r)
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &logHandler{mu: h.mu, w: h.w, text: h.text.WithAttrs(as)}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{mu: h.mu, w: h.w, text: h.text.WithGroup(name)}
}
