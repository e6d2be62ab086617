//go:build !linux

package gateway

import "time"

// waitUntil sleeps until t. Off Linux it uses Go's timers, whose resolution may be a
// millisecond: round-trip times under a few milliseconds come out longer than asked.
func waitUntil(t time.Time) { time.Sleep(time.Until(t)) }
