package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// supervise launches the handler and relaunches it following the host's rules until the host
// gives up, the handler exits 0, or Close is called.
func (h *Host) supervise() {
	defer close(h.supDone)
	for first := true; ; first = false {
		if h.closed() {
			return
		}
		h.mu.Lock()
		if !first {
			h.stats.Restarts++
			h.setStateLocked(stateRestarting)
		}
		h.stats.Starts++
		h.mu.Unlock()

		p, err := h.spec.start(h.port, h.log)
		if err != nil {
			h.log.Error("Failed to start http worker process.", "error", err)
			if h.countFailure(err) {
				return
			}
			continue
		}
		h.mu.Lock()
		if h.st == stateClosed {
			h.mu.Unlock()
			_ = p.kill(true)
			return
		}
		h.cur = p
		h.mu.Unlock()
		h.log.Info("handler process started", "pid", p.pid, "workerId", p.workerID, "port", h.port)

		switch h.pollReady(p) {
		case readyOK:
			h.mu.Lock()
			if h.st != stateClosed {
				h.setStateLocked(stateReady)
			}
			h.mu.Unlock()
			h.log.Info("Worker process started and initialized.", "pid", p.pid)
			<-p.done
		case readyTimeout:
			_ = p.kill(true)
			<-p.done
			h.recordExit(p)
			h.mu.Lock()
			h.stats.ReadinessFailures++
			h.mu.Unlock()
			err := fmt.Errorf("failed to start http worker process (workerId %s): initializing HttpWorker timed out after %s", p.workerID, h.cfg.InitTimeout)
			h.log.Error("Failed to start http worker process.", "workerId", p.workerID, "error", err)
			if h.countFailure(err) {
				return
			}
			continue
		case readyExited:
		}
		if h.closed() {
			return
		}
		h.recordExit(p)
		if p.intentional.Load() {
			continue // functionTimeout restart: the host disposed the channel itself
		}
		switch p.exitCode {
		case 0:
			h.log.Warn("handler exited with code 0; the host does not restart it", "pid", p.pid)
			h.setTerminal(stateExited, ErrHandlerExited)
			return
		case IntentionalRestartExitCode:
			h.log.Info("Language Worker Process exited and needs to be restarted.", "pid", p.pid)
			continue
		}
		err = fmt.Errorf("%s exited with code %s: %s", h.spec.exe, exitText(p.exitCode), p.stderr.lastLines())
		h.log.Error("Language Worker Process exited.", "pid", p.pid, "error", err)
		if h.countFailure(err) {
			return
		}
	}
}

func exitText(code int) string {
	if code < 0 {
		return "SIGKILL (signal)"
	}
	return strconv.Itoa(code) + " (0x" + strconv.FormatInt(int64(code), 16) + ")"
}

// recordExit counts the exit and drops keep-alive connections to the dead process, so the
// first call to its successor does not fail on a stale socket.
func (h *Host) recordExit(p *proc) {
	h.client.CloseIdleConnections()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stats.Exits[p.exitCode]++
	if h.cur == p {
		h.cur = nil
	}
}

func (h *Host) closed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.st == stateClosed
}

// countFailure records an error event; it reports true when the host gave up.
func (h *Host) countFailure(cause error) bool {
	now := time.Now()
	h.mu.Lock()
	h.stats.CountedFailures++
	kept := h.failures[:0]
	for _, t := range h.failures {
		if now.Sub(t) < RestartWindow {
			kept = append(kept, t)
		}
	}
	h.failures = append(kept, now)
	n := len(h.failures)
	h.mu.Unlock()
	if n < MaxFailures {
		return false
	}
	h.log.Error("Exceeded http worker restart retry count. Shutting down Functions Host", "error", cause)
	h.setTerminal(stateFailed, fmt.Errorf("%w (%d failures within %s; last: %w)", ErrHostStopped, n, RestartWindow, cause))
	return true
}

type readiness int

const (
	readyOK readiness = iota
	readyTimeout
	readyExited
)

// pollReady sends GET / every ReadinessInterval until any HTTP response (ready), the init
// window ends, or the process exits. A dial error means "keep waiting"; any other transport
// error counts as ready, as in DefaultHttpWorkerService.IsWorkerReady.
func (h *Host) pollReady(p *proc) readiness {
	deadline := time.Now().Add(h.cfg.InitTimeout)
	url := "http://127.0.0.1:" + strconv.Itoa(h.port) + "/"
	tick := time.NewTicker(ReadinessInterval)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithDeadline(p.ctx, deadline)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := h.probe.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			return readyOK
		}
		var op *net.OpError
		if !errors.As(err, &op) || op.Op != "dial" {
			if p.ctx.Err() == nil && time.Now().Before(deadline) {
				return readyOK
			}
		}
		select {
		case <-p.done:
			return readyExited
		case <-p.ctx.Done():
			<-p.done
			return readyExited
		case <-tick.C:
		}
		if !time.Now().Before(deadline) {
			return readyTimeout
		}
	}
}
