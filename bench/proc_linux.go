package bench

import "syscall"

// childAttrs makes a child process get SIGTERM if the bench dies first, so
// no server outlives a killed bench.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
