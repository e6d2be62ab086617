//go:build !linux

package redisserver

import "syscall"

// childProcAttr puts redis-server in its own process group, so a terminal's
// Ctrl-C reaches only this program, which then stops it.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
