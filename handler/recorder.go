package handler

import (
	"bytes"
	"io"
	"net/http"
)

// recorder is the http.ResponseWriter a function writes to in payload mode.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// newRecorder returns an empty recorder.
func newRecorder() *recorder { return &recorder{header: http.Header{}} }

// Header implements http.ResponseWriter.
func (rec *recorder) Header() http.Header { return rec.header }

// WriteHeader implements http.ResponseWriter; informational (1xx) statuses are not final and
// are ignored, as is any status after the first final one.
func (rec *recorder) WriteHeader(code int) {
	if rec.status != 0 || code < 200 {
		return
	}
	rec.status = code
}

// Write implements http.ResponseWriter.
func (rec *recorder) Write(p []byte) (int, error) {
	rec.WriteHeader(http.StatusOK)
	return rec.body.Write(p)
}

// WriteString implements io.StringWriter, so that io.WriteString does not copy s.
func (rec *recorder) WriteString(s string) (int, error) {
	rec.WriteHeader(http.StatusOK)
	return rec.body.WriteString(s)
}

// statusCode is the final status (200 when the function wrote nothing).
func (rec *recorder) statusCode() int {
	if rec.status == 0 {
		return http.StatusOK
	}
	return rec.status
}

// statusWriter wraps a forwarded-mode ResponseWriter to learn the status and whether anything was
// written (a panic after the header is out cannot become a problem response).
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader implements http.ResponseWriter.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// WriteString implements io.StringWriter, so that io.WriteString does not copy s.
func (w *statusWriter) WriteString(s string) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return io.WriteString(w.ResponseWriter, s)
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
