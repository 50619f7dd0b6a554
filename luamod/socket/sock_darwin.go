//go:build darwin

package socket

import "syscall"

// macOS has no MSG_NOSIGNAL: every socket gets SO_NOSIGPIPE instead, so
// a send to a closed peer fails with EPIPE rather than raise SIGPIPE.
const msgNoSignal = 0

// newSocket opens a non-blocking, close-on-exec socket. macOS has no
// SOCK_NONBLOCK/SOCK_CLOEXEC: the flags are set afterwards, under
// ForkLock as Go's net package does, so no child inherits the socket.
func newSocket(family, typ int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := syscall.Socket(family, typ, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	if err := prepare(fd); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

// acceptNonblock accepts a connection as a non-blocking, close-on-exec
// descriptor.
func acceptNonblock(fd int) (int, syscall.Sockaddr, error) {
	syscall.ForkLock.RLock()
	nfd, sa, err := syscall.Accept(fd)
	if err == nil {
		syscall.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, nil, err
	}
	if err := prepare(nfd); err != nil {
		syscall.Close(nfd)
		return -1, nil, err
	}
	return nfd, sa, nil
}

func prepare(fd int) error {
	if err := syscall.SetNonblock(fd, true); err != nil {
		return err
	}
	return syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_NOSIGPIPE, 1)
}
