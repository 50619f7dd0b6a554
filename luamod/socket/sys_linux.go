//go:build linux

package socket

import (
	"syscall"
	"unsafe"
)

// The system calls that differ between Linux and the BSDs (sys_bsd.go).

// ppoll is ppoll(2) on n pollFd values at fds; ts nil waits without limit.
func ppoll(fds unsafe.Pointer, n int, ts *syscall.Timespec) (int, syscall.Errno) {
	r, _, e := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(fds), uintptr(n), uintptr(unsafe.Pointer(ts)), 0, 0, 0)
	return int(r), e
}

// wakeFd is a descriptor that a select's poll watches (r) and another
// goroutine writes to (w) to end the wait: one eventfd here.
type wakeFd struct{ r, w int }

func newWakeFd() (wakeFd, error) {
	fd, _, e := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if e != 0 {
		return wakeFd{-1, -1}, e
	}
	return wakeFd{int(fd), int(fd)}, nil
}

func wakeFdSignal(fd wakeFd) {
	one := [8]byte{1}
	syscall.Write(fd.w, one[:])
}

func drainWakeFd(fd wakeFd) {
	var buf [8]byte
	syscall.Read(fd.r, buf[:])
}

func closeWakeFd(fd wakeFd) { syscall.Close(fd.r) }
