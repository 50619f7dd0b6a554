//go:build darwin || freebsd

package socket

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The system calls that differ between Linux (sys_linux.go) and the BSDs.

// ppoll waits as ppoll(2) would, with poll(2): the timeout is rounded up
// to milliseconds. ts nil waits without limit.
func ppoll(fds unsafe.Pointer, n int, ts *syscall.Timespec) (int, syscall.Errno) {
	ms := -1
	if ts != nil {
		ms = int((ts.Nano() + 999_999) / 1_000_000)
	}
	var pfds []unix.PollFd
	if n > 0 {
		pfds = unsafe.Slice((*unix.PollFd)(fds), n)
	}
	r, err := unix.Poll(pfds, ms)
	if err != nil {
		if e, ok := err.(syscall.Errno); ok {
			return 0, e
		}
		return 0, syscall.EINVAL
	}
	return r, 0
}

// wakeFd is a descriptor pair that a select's poll watches (r) and
// another goroutine writes to (w) to end the wait: a pipe here.
type wakeFd struct{ r, w int }

func newWakeFd() (wakeFd, error) {
	var p [2]int
	syscall.ForkLock.RLock()
	err := syscall.Pipe(p[:])
	if err == nil {
		syscall.CloseOnExec(p[0])
		syscall.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return wakeFd{-1, -1}, err
	}
	syscall.SetNonblock(p[0], true)
	syscall.SetNonblock(p[1], true)
	return wakeFd{p[0], p[1]}, nil
}

func wakeFdSignal(fd wakeFd) {
	one := [1]byte{1}
	syscall.Write(fd.w, one[:])
}

func drainWakeFd(fd wakeFd) {
	var buf [64]byte
	for {
		if n, _ := syscall.Read(fd.r, buf[:]); n < len(buf) {
			return
		}
	}
}

func closeWakeFd(fd wakeFd) {
	syscall.Close(fd.r)
	syscall.Close(fd.w)
}
