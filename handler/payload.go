package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// payloadResponse is the body the host reads with ReadAsAsync<HttpScriptInvocationResult>.
type payloadResponse struct {
	Outputs     map[string]any `json:"Outputs"`
	Logs        []string       `json:"Logs"`
	ReturnValue any            `json:"ReturnValue,omitempty"`
}

// servePayload runs one payload-mode invocation of fn. HTTP functions always answer 200
// application/json, their failures carried as problem responses in the HTTP output so Logs reach
// the host; a non-HTTP function that fails answers a 500 problem so the host's retry and poison
// handling apply (its log lines already went to stdout through slog).
func (a *App) servePayload(w http.ResponseWriter, r *http.Request, fn *Function) {
	start := time.Now()
	id := r.Header.Get(invocationIDHeader)
	st := newInvocationState(r.Context(), a.logger, fn, id, true)
	logger := st.log()
	var ctx context.Context = st

	inv, err := readInvocation(w, r)
	if err != nil {
		logger.Error("invalid invocation request", "error", err)
		inv = &Invocation{}
	}
	inv.FunctionName, inv.InvocationID = fn.Name, id
	httpHandler, invHandler := a.handlers(strings.ToLower(fn.Name))
	switch {
	case fn.IsHTTP() && (invHandler == nil || err != nil):
		a.invokeHTTP(ctx, w, fn, inv, httpHandler, err, logger, start)
	case err != nil:
		writePayloadFailure(w, st, start, problem(http.StatusBadRequest, "invalid-invocation", "Invalid invocation request", "the invocation request is not a JSON object with Data and Metadata"))
	case invHandler == nil:
		writePayloadFailure(w, st, start, noHandlerProblem(fn))
	default:
		a.invokeHandler(ctx, w, fn, inv, invHandler, st, logger, start)
	}
}

// readInvocation reads and decodes the invocation request body, bounded by maxInvocationBytes.
func readInvocation(w http.ResponseWriter, r *http.Request) (*Invocation, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxInvocationBytes))
	if err != nil {
		return nil, err
	}
	return decodeInvocation(body)
}

// invokeHTTP rebuilds the client's request, runs h against a recorder and answers the recorded
// response as the function's HTTP output. decodeErr is a failure to read the invocation itself.
func (a *App) invokeHTTP(ctx context.Context, w http.ResponseWriter, fn *Function, inv *Invocation, h http.Handler, decodeErr error, logger *slog.Logger, start time.Time) {
	st := ctx.Value(invocationKey{}).(*invocationState)
	rec := newRecorder()
	method := ""
	req, err := newHTTPRequest(ctx, inv.Data[fn.TriggerName], a.cfg.routePrefix, fn.Name)
	switch {
	case decodeErr != nil || err != nil:
		if err != nil {
			logger.Error("invalid HTTP trigger data", "error", err)
		}
		WriteProblem(rec, problem(http.StatusInternalServerError, "invalid-invocation", "Invalid invocation request",
			"the host's invocation request could not be read as an HTTP request"))
	case h == nil:
		method = req.Method
		WriteProblem(rec, noHandlerProblem(fn))
	case !fn.allows(req.Method):
		method = req.Method
		WriteMethodNotAllowed(rec, fn.Methods...)
	default:
		method = req.Method
		if p := runHandler(h, rec, req); p != nil {
			logger.Error("function panicked", "panic", p)
			rec = newRecorder()
			WriteProblem(rec, internalProblem())
		}
	}
	out, err := newHTTPOutput(method, rec)
	if errors.Is(err, errBinaryBody) {
		logger.Error("response body is not valid UTF-8; payload mode carries text only (serve binary bodies with forwarding)")
		rec = newRecorder()
		WriteProblem(rec, problem(http.StatusInternalServerError, "binary-body-unsupported", "Binary response body",
			"payload mode can carry only UTF-8 text bodies; enable customHandler.enableForwardingHttpRequest to serve binary content"))
		out, _ = newHTTPOutput(method, rec)
	}
	logs, outputs := st.snapshot()
	resp := payloadResponse{Logs: logs}
	resp.Outputs = a.protectedOutputs(fn, outputs, logger)
	switch fn.HTTPOutput {
	case "":
		logger.Warn("function has no http output binding; its response is dropped")
	case "$return":
		resp.ReturnValue = out
	default:
		resp.Outputs[fn.HTTPOutput] = out
	}
	writePayload(w, logger, resp)
	status, _ := strconv.Atoi(out.StatusCode)
	st.logDone("payload", method, status, start)
}

// invokeHandler runs an InvocationHandler and answers its Result.
func (a *App) invokeHandler(ctx context.Context, w http.ResponseWriter, fn *Function, inv *Invocation, h InvocationHandler, st *invocationState, logger *slog.Logger, start time.Time) {
	res, err := callInvocation(ctx, h, inv)
	if err != nil {
		logger.Error("function failed", "error", err)
		writePayloadFailure(w, st, start, problem(http.StatusInternalServerError, "invocation-failed", "Function failed",
			"the function returned an error; see the handler's log"))
		return
	}
	if res == nil {
		res = &Result{}
	}
	logs, outputs := st.snapshot()
	for k, v := range res.Outputs {
		outputs[k] = v
	}
	resp := payloadResponse{Logs: append(logs, res.Logs...), ReturnValue: res.ReturnValue}
	resp.Outputs = a.protectedOutputs(fn, outputs, logger)
	if b, ok := fn.binding("$return"); ok && !strings.EqualFold(b.Type, "http") && resp.ReturnValue != nil {
		resp.ReturnValue = protectOutput(b, resp.ReturnValue)
	}
	writePayload(w, logger, resp)
	st.logDone("payload", "", http.StatusOK, start)
}

// callInvocation calls h, turning a panic into an error that does not carry the panic value.
func callInvocation(ctx context.Context, h InvocationHandler, inv *Invocation) (res *Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			Log(ctx, "function panicked", "panic", p)
			err = errors.New("function panicked")
		}
	}()
	return h.Invoke(ctx, inv)
}

// protectedOutputs keys outputs by binding name and shields them from the base64 quirk, warning
// about names that match no output binding.
func (a *App) protectedOutputs(fn *Function, outputs map[string]any, logger *slog.Logger) map[string]any {
	out, unknown := outputsFor(fn, outputs)
	if len(unknown) > 0 {
		logger.Warn("outputs match no output binding in function.json; the host drops them", "outputs", unknown)
	}
	return out
}

// writePayload answers 200 application/json with resp. An output the function set that is not
// JSON-encodable is dropped (and logged) rather than failing the invocation, so the HTTP output
// and the Logs still reach the host.
func writePayload(w http.ResponseWriter, logger *slog.Logger, resp payloadResponse) {
	if resp.Logs == nil {
		resp.Logs = []string{}
	}
	body, err := encodeJSON(resp)
	if err != nil {
		for name, v := range resp.Outputs {
			if _, err := encodeJSON(v); err != nil {
				logger.Error("output is not JSON-encodable; dropped", "output", name, "error", err)
				delete(resp.Outputs, name)
			}
		}
		if _, err := encodeJSON(resp.ReturnValue); err != nil {
			logger.Error("return value is not JSON-encodable; dropped", "error", err)
			resp.ReturnValue = nil
		}
		body, _ = encodeJSON(resp)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// encodeJSON encodes v without HTML escaping (the host reads the text as-is).
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return buf.Bytes(), err
}

// writePayloadFailure answers a failed non-HTTP invocation: a problem with p.Status, so the host
// treats the invocation as failed.
func writePayloadFailure(w http.ResponseWriter, st *invocationState, start time.Time, p Problem) {
	WriteProblem(w, p)
	st.logDone("payload", "", p.Status, start)
}
