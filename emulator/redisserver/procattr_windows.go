package redisserver

import "syscall"

// childProcAttr: Windows has no process groups to set here.
func childProcAttr() *syscall.SysProcAttr { return nil }
