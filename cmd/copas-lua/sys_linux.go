//go:build linux

package main

import (
	"os"
	"syscall"
	"unsafe"
)

// raiseNoFileLimit raises the soft RLIMIT_NOFILE to the hard limit: a
// server holds one descriptor per connection. Go's runtime already does
// this at start-up and restores the old soft limit for child processes;
// Setrlimit is called only if the limit is still low, because calling it
// would make children (io.popen, os.execute) inherit the raised limit.
func raiseNoFileLimit() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil || lim.Cur >= lim.Max {
		return
	}
	lim.Cur = lim.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

// isTerminal is isatty(3): /dev/null is a character device but no tty.
func isTerminal(f *os.File) bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}
