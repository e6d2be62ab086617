package gateway

import (
	"syscall"
	"time"
)

// prSetTimerSlack is prctl's PR_SET_TIMERSLACK.
const prSetTimerSlack = 29

// wakeLatency is about how late nanosleep wakes a thread on the 2-core VMs the bench runs on
// (50–60 µs at the median when idle, more under load). waitUntil sleeps that much less, so that
// its delays are about on time; it does not spin, which would take a core from what is measured.
const wakeLatency = 50 * time.Microsecond

// waitUntil sleeps until about t. Go's timers cannot: when the runtime is idle it waits in epoll
// with a timeout in whole milliseconds, so every sleep under 1 ms takes at least 1 ms, and a
// round trip of 0.5 ms would become 2. It asks the thread for a 1 ns timer slack (the default is
// 50 µs) and sleeps with nanosleep, which blocks only this goroutine's thread.
func waitUntil(t time.Time) {
	d := time.Until(t) - wakeLatency
	if d <= 0 {
		return
	}
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0)
	ts := syscall.NsecToTimespec(int64(d))
	_ = syscall.Nanosleep(&ts, nil)
}
