package host

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// dispatch is one call to the handler under the host's rules: wait (bounded) for a ready
// handler, send the request built for it, and enforce functionTimeout by killing and restarting
// the handler. The caller must call done after reading the response body.
type dispatch struct {
	id       string
	proc     *proc
	timedOut atomic.Bool
	stop     func()
}

// begin waits for a ready handler and arms the timeout; ctx bounds the whole call.
func (h *Host) begin(ctx context.Context, function string) (*dispatch, context.Context, error) {
	// Invocations that arrive while the handler starts wait up to (MaxFailures+1) × InitTimeout.
	waitCtx, cancelWait := context.WithTimeout(ctx, time.Duration(MaxFailures+1)*h.cfg.InitTimeout)
	p, err := h.awaitReady(waitCtx)
	cancelWait()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrInvocationFailed, function, err)
	}
	d := &dispatch{id: newGUID(), proc: p}
	reqCtx, cancel := context.WithCancel(ctx)
	stopAfter := context.AfterFunc(p.ctx, cancel) // the handler died or was killed: fail the call
	var timer *time.Timer
	if h.timeout > 0 {
		timer = time.AfterFunc(h.timeout, func() {
			d.timedOut.Store(true)
			h.onTimeout(p, function, d.id)
		})
	}
	d.stop = func() {
		if timer != nil {
			timer.Stop()
		}
		stopAfter()
		cancel()
	}
	h.mu.Lock()
	h.stats.Invocations++
	h.mu.Unlock()
	h.log.Info("Executing function", "function", "Functions."+function, "invocationId", d.id)
	return d, reqCtx, nil
}

// end logs the outcome and releases the call.
func (h *Host) end(d *dispatch, function string, err error) error {
	d.stop()
	if err != nil && d.timedOut.Load() {
		err = fmt.Errorf("%w: timeout value of %s exceeded by function '%s' (Id: '%s')", ErrInvocationFailed, h.timeout, function, d.id)
	}
	if err != nil {
		h.mu.Lock()
		h.stats.FailedInvocations++
		h.mu.Unlock()
		h.log.Error("Executed function (Failed)", "function", "Functions."+function, "invocationId", d.id, "error", err)
		return err
	}
	h.log.Info("Executed function (Succeeded)", "function", "Functions."+function, "invocationId", d.id)
	return nil
}

// onTimeout kills the handler that ran the timed-out invocation; every in-flight call fails and
// the host starts a new process (not counted as a failure).
func (h *Host) onTimeout(p *proc, function, id string) {
	h.mu.Lock()
	h.stats.Timeouts++
	if h.cur == p && h.st == stateReady {
		h.setStateLocked(stateRestarting)
	}
	h.mu.Unlock()
	h.log.Error(fmt.Sprintf("A function timeout has occurred. Restarting worker process executing invocationId '%s'.", id), "function", function)
	_ = p.kill(true)
}

// hostHeaders adds the headers the host puts on every request to the handler.
func hostHeaders(req *http.Request, id string) {
	req.Header.Add("X-Azure-Functions-HostVersion", HostVersion)
	req.Header.Add("X-Azure-Functions-InvocationId", id)
	ua := "Azure-Functions-Host/" + HostVersion
	if prev := req.Header.Get("User-Agent"); prev != "" {
		ua = prev + " " + ua
	}
	req.Header.Set("User-Agent", ua)
}

// postPayload sends the invocation payload and reads the handler's answer.
func (h *Host) postPayload(ctx context.Context, d *dispatch, f *function, payload []byte) (*InvocationResult, error) {
	url := "http://127.0.0.1:" + strconv.Itoa(h.port) + "/" + f.name
	// No precomputed length: the body goes out chunked, as ObjectContent does.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, io.NopCloser(bytes.NewReader(payload)))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	hostHeaders(req, d.id)
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvocationFailed, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: read response: %w", ErrInvocationFailed, err)
	}
	res := &InvocationResult{InvocationID: d.id, StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Raw: raw}
	if err := parseResult(f, res); err != nil {
		return res, err
	}
	for _, l := range res.Logs {
		h.log.Info(l, "function", f.name, "invocationId", d.id, "category", "Function."+f.name+".User")
	}
	return res, nil
}

// Invoke runs a non-HTTP function, as POST /admin/functions/{name} does in Core Tools. data maps
// input binding names to values (strings, numbers and bools are encoded per Style, []byte as
// base64, maps and slices as JSON objects and arrays).
func (h *Host) Invoke(ctx context.Context, function string, data map[string]any) (*InvocationResult, error) {
	return h.InvokeWithMetadata(ctx, function, data, nil)
}

// InvokeWithMetadata is Invoke with trigger metadata (e.g. a queue message's DequeueCount),
// encoded like data; sys is always added.
func (h *Host) InvokeWithMetadata(ctx context.Context, function string, data, metadata map[string]any) (*InvocationResult, error) {
	f := h.findFunction(function)
	if f == nil {
		return nil, fmt.Errorf("%w: %s", ErrFunctionNotFound, function)
	}
	if f.isHTTP() {
		return nil, fmt.Errorf("function %s is HTTP-triggered: call it through %s", f.name, h.URL())
	}
	payload, err := triggerPayload(h.cfg.Style, f, data, metadata)
	if err != nil {
		return nil, err
	}
	d, reqCtx, err := h.begin(ctx, f.name)
	if err != nil {
		return nil, err
	}
	res, err := h.postPayload(reqCtx, d, f, payload)
	return res, h.end(d, f.name, err)
}

// serveInvocation runs an HTTP-triggered function in payload mode and writes the client response.
// Any failure gives the client an empty 500 (the host's exception middleware), and Logs are lost.
func (h *Host) serveInvocation(w http.ResponseWriter, r *http.Request, in incoming, f *function, params map[string]string, level string) {
	var body []byte
	if r.ContentLength > 0 {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
	}
	if params == nil {
		params = map[string]string{}
	}
	payload, err := httpPayload(h.cfg.Style, f, r, in, body, params, level)
	if err != nil {
		h.log.Error("build invocation payload", "function", f.name, "error", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	d, reqCtx, err := h.begin(r.Context(), f.name)
	if err != nil {
		h.log.Error("invocation not dispatched", "function", f.name, "error", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	res, err := h.postPayload(reqCtx, d, f, payload)
	if err = h.end(d, f.name, err); err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	if res.HTTP == nil {
		// No http output value: the host answers with an empty success. [inferred]
		w.WriteHeader(http.StatusOK)
		return
	}
	for k, v := range res.HTTP.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.HTTP.StatusCode)
	_, _ = w.Write(res.HTTP.Body)
}
