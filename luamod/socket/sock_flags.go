//go:build linux || freebsd

package socket

import "syscall"

// msgNoSignal makes a send to a closed peer fail with EPIPE rather than
// raise SIGPIPE, even when copas-lua is embedded in a C program.
const msgNoSignal = syscall.MSG_NOSIGNAL

// newSocket opens a non-blocking, close-on-exec socket.
func newSocket(family, typ int) (int, error) {
	return syscall.Socket(family, typ|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
}

// acceptNonblock accepts a connection as a non-blocking, close-on-exec
// descriptor.
func acceptNonblock(fd int) (int, syscall.Sockaddr, error) {
	return syscall.Accept4(fd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
}
