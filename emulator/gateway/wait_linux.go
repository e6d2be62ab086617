package gateway

import (
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// wakeLatency is about how late a timerfd wakes its goroutine on the 2-core VMs the bench runs
// on (60–65 µs at the median when the process is idle, more under load). waitUntil sets the timer
// that much early, so that its delays are about on time.
const wakeLatency = 60 * time.Microsecond

// timer is a non-blocking timerfd that Go's netpoller watches.
type timer struct {
	f  *os.File
	rc syscall.RawConn
}

// timers holds the idle timerfds: a wait takes one and gives it back, so there are about as many
// as waits at once.
var timers = sync.Pool{New: func() any {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil
	}
	f := os.NewFile(uintptr(fd), "timerfd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil
	}
	return &timer{f: f, rc: rc}
}}

// waitUntil sleeps until about t. Go's timers cannot: when the runtime is idle it waits in epoll
// with a timeout in whole milliseconds, so every sleep under 1 ms takes at least 1 ms, and a
// round trip of 0.5 ms would become 2. A timerfd has nanoseconds and is one more file in that
// epoll: the goroutine waits like one reading a socket, and no thread sleeps in a system call.
// (nanosleep, the other way to sleep less than a millisecond, blocks a thread per delay and makes
// the runtime hand that thread's processor to another: at concurrency 32 and 1 ms that took
// about twice the CPU per request, on the cores the bench measures.) Without a timerfd it falls
// back to Go's timers.
func waitUntil(t time.Time) {
	d := time.Until(t) - wakeLatency
	if d <= 0 {
		return
	}
	tm, _ := timers.Get().(*timer)
	if tm == nil {
		time.Sleep(d)
		return
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	var err error
	if cerr := tm.rc.Control(func(fd uintptr) { err = unix.TimerfdSettime(int(fd), 0, &spec, nil) }); cerr != nil || err != nil {
		tm.f.Close()
		time.Sleep(d)
		return
	}
	var expirations [8]byte
	if _, err := tm.f.Read(expirations[:]); err != nil {
		tm.f.Close() // it may still fire: not for another wait
		return
	}
	timers.Put(tm)
}
