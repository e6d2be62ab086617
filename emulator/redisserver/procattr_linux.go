package redisserver

import "syscall"

// childProcAttr puts redis-server in its own process group, so a terminal's
// Ctrl-C reaches only this program (which then stops it in order), and has
// the kernel kill it should this program die without cleaning up.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
