package socket

import (
	"errors"
	"net"
	"syscall"

	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

// Adopt turns a TCP connection accepted by Go into a LuaSocket tcp{client}
// object that owns a duplicate of its descriptor; conn itself is closed.
// The socket module must be loaded in L (require "socket"). Loop
// goroutine only.
func Adopt(L *lua.LState, conn net.Conn) (lua.LValue, error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		conn.Close()
		return lua.LNil, errors.New("socket: connection has no descriptor")
	}
	family := syscall.AF_INET
	if a, ok := conn.LocalAddr().(*net.TCPAddr); !ok {
		conn.Close()
		return lua.LNil, errors.New("socket: not a TCP connection")
	} else if a.IP.To4() == nil {
		family = syscall.AF_INET6
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		conn.Close()
		return lua.LNil, err
	}
	nfd := -1
	var dupErr error
	if err := rc.Control(func(fd uintptr) {
		nfd, dupErr = syscall.Dup(int(fd))
	}); err != nil {
		dupErr = err
	}
	conn.Close()
	if dupErr != nil {
		return lua.LNil, dupErr
	}
	syscall.CloseOnExec(nfd)
	if err := syscall.SetNonblock(nfd, true); err != nil {
		syscall.Close(nfd)
		return lua.LNil, err
	}
	e := newEnv(L, scheduler.Of(L))
	s := e.newSock(L, clsClient, family)
	s.attach(nfd)
	return s.ud, nil
}
