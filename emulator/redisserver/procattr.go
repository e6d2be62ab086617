//go:build unix

package redisserver

import "syscall"

// childProcAttr puts redis-server in its own process group, so a terminal's
// Ctrl-C reaches only this program, which then stops it in order. (No
// Pdeathsig: Linux sends it when the spawning OS thread exits, not the
// process, which kills the server at random under Go's scheduler.)
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
