package gateway

import (
	"testing"
	"time"
)

// waitUntil really waits, each time it takes a timerfd from its pool: a timerfd that Go's
// netpoller did not watch would answer Read at once and the gateway would delay nothing. (Only
// the lower bound is checked; how late it wakes is the bench's to measure.)
func TestWaitUntilWaits(t *testing.T) {
	for i := range 50 {
		d := 200 * time.Microsecond
		if i%10 == 0 {
			d = 2 * time.Millisecond
		}
		start := time.Now()
		waitUntil(start.Add(d))
		if got := time.Since(start); got < d-wakeLatency {
			t.Fatalf("wait %d: waitUntil(now + %v) returned after %v", i, d, got)
		}
	}
}
