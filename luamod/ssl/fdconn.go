//go:build linux

package ssl

import (
	"errors"
	"github.com/copas-lua/copas-lua/luamod/socket"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// fdConn is the net.Conn under a tls.Conn: the descriptor taken over from
// a socket.core TCP object, used with plain non-blocking system calls.
//
// Two modes, so crypto/tls never sees a fatal error just because a wait
// ended:
//   - during the handshake (pacer set), a would-block is handed to the
//     pacer, which waits for readiness or for the loop's next command;
//   - afterwards (data mode) Read returns errWouldBlock, a temporary
//     net.Error that tls.Conn survives (it keeps partial records), and Write
//     never blocks: what the kernel does not take is queued in out and
//     flushed by later operations. A write deadline therefore never breaks
//     the TLS stream (crypto/tls makes write errors permanent).
//
// Read may run on the handshake goroutine or the loop goroutine, never both
// at once; out is guarded by mu because tls.Conn may write from either.
type fdConn struct {
	f  *os.File
	rc syscall.RawConn
	fd int

	pre []byte // bytes the TCP object had buffered: replayed first

	pace atomic.Pointer[handshaker]

	mu      sync.Mutex
	out     []byte
	werr    error
	discard bool // drop writes (after we sent our own fatal alert)
}

func newFdConn(f *os.File, fd int, pre []byte) *fdConn {
	c := &fdConn{f: f, fd: fd, pre: pre}
	c.rc, _ = f.SyscallConn()
	return c
}

func (c *fdConn) sysRead(p []byte) (n int, err error) {
	if c.rc == nil {
		return 0, net.ErrClosed
	}
	cerr := c.rc.Control(func(fd uintptr) {
		for {
			n, err = syscall.Read(int(fd), p)
			if err != syscall.EINTR {
				return
			}
		}
	})
	if cerr != nil {
		return 0, net.ErrClosed
	}
	if n < 0 {
		n = 0
	}
	return n, err
}

func (c *fdConn) sysWrite(p []byte) (n int, err error) {
	if c.rc == nil {
		return 0, net.ErrClosed
	}
	cerr := c.rc.Control(func(fd uintptr) {
		for {
			r, _, e := syscall.Syscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(unsafe.SliceData(p))),
				uintptr(len(p)), syscall.MSG_NOSIGNAL, 0, 0)
			if e == syscall.EINTR {
				continue
			}
			if e != 0 {
				n, err = 0, e
			} else {
				n, err = int(r), nil
			}
			return
		}
	})
	if cerr != nil {
		return 0, net.ErrClosed
	}
	return n, err
}

// Read implements net.Conn for crypto/tls.
func (c *fdConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	for {
		n, err := c.sysRead(p)
		switch {
		case err == nil && n == 0:
			return 0, io.EOF
		case err == nil:
			return n, nil
		case err != syscall.EAGAIN:
			return 0, err
		}
		h := c.pace.Load()
		if h == nil {
			return 0, errWouldBlock
		}
		if err := h.wait(dirRead); err != nil {
			return 0, err
		}
	}
}

// Write implements net.Conn for crypto/tls: it queues what the kernel
// does not take. During the handshake it waits until everything is out.
func (c *fdConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.discard {
		c.mu.Unlock()
		return len(p), nil
	}
	if c.werr != nil {
		err := c.werr
		c.mu.Unlock()
		return 0, err
	}
	rest := p
	if len(c.out) == 0 {
		n, err := c.sysWrite(p)
		if err != nil && err != syscall.EAGAIN {
			c.werr = err
			c.mu.Unlock()
			return 0, err
		}
		rest = p[n:]
	}
	c.out = append(c.out, rest...)
	c.mu.Unlock()
	if h := c.pace.Load(); h != nil {
		for {
			empty, err := c.flush()
			if err != nil {
				return 0, err
			}
			if empty {
				break
			}
			if err := h.wait(dirWrite); err != nil {
				return 0, err
			}
		}
	}
	return len(p), nil
}

// flush writes queued bytes without blocking; empty reports whether
// nothing is left.
func (c *fdConn) flush() (empty bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.out) > 0 {
		if c.werr != nil {
			return false, c.werr
		}
		n, err := c.sysWrite(c.out)
		if err == syscall.EAGAIN {
			return false, nil
		}
		if err != nil {
			c.werr = err
			c.out = nil
			return false, err
		}
		c.out = c.out[n:]
	}
	c.out = nil
	return true, nil
}

// sendRaw writes b now (best effort) and drops every later write: used to
// send a fatal alert crypto/tls cannot send itself.
func (c *fdConn) sendRaw(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.out) == 0 {
		_, _ = c.sysWrite(b)
	}
	c.discard = true
}

func (c *fdConn) Close() error { return c.f.Close() }

func (c *fdConn) LocalAddr() net.Addr  { return sockAddr(c.fd, syscall.Getsockname) }
func (c *fdConn) RemoteAddr() net.Addr { return sockAddr(c.fd, syscall.Getpeername) }

// Deadlines are managed by the owner of the connection (setDeadline);
// crypto/tls's own calls (closeNotify sets one) are ignored.
func (c *fdConn) SetDeadline(time.Time) error      { return nil }
func (c *fdConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fdConn) SetWriteDeadline(time.Time) error { return nil }

func (c *fdConn) setDeadline(d int, t time.Time) {
	if d == dirRead {
		_ = c.f.SetReadDeadline(t)
	} else {
		_ = c.f.SetWriteDeadline(t)
	}
}

func sockAddr(fd int, get func(int) (syscall.Sockaddr, error)) net.Addr {
	sa, err := get(fd)
	if err != nil {
		return &net.TCPAddr{}
	}
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
	case *syscall.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	}
	return &net.TCPAddr{}
}

const (
	dirRead  = 0
	dirWrite = 1
)

// pastDeadline ends a wait at once.
var pastDeadline = time.Unix(1, 0)

// The handshake runs on its own goroutine (crypto/tls has no resumable
// handshake). The loop drives it with commands; after each command the
// goroutine sends exactly one report: done, a callback to run on the loop
// (followed by more reports), or "want read/write" when a wait ended
// without readiness — its deadline passed, or the command asked for a
// single non-blocking step (timeout 0). The goroutine then waits for the
// next command, so a timed-out handshake can be continued, as in LuaSec.
type handshaker struct {
	fc   *fdConn
	cmd  chan hsCmd
	rep  chan hsReport
	quit chan struct{}
	step bool // current command is a single step (handshake goroutine only)
}

type hsCmd struct{ step bool }

type hsReport struct {
	done bool
	err  error
	want int
	cb   *callback
}

// callback is Lua work the handshake needs (the server ALPN function):
// run on the loop goroutine, then the answer goes back on reply.
type callback struct {
	x       *sslctx
	offered []string
	reply   chan []string
}

func newHandshaker(fc *fdConn) *handshaker {
	return &handshaker{fc: fc, cmd: make(chan hsCmd, 1), rep: make(chan hsReport, 1), quit: make(chan struct{})}
}

// wait is called on the handshake goroutine when the descriptor would
// block in direction d. It returns nil when the operation should be tried
// again.
func (h *handshaker) wait(d int) error {
	if !h.step {
		err := socket.WaitIO(h.fc.rc, d == dirWrite)
		if err == nil {
			return nil
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
	}
	select {
	case h.rep <- hsReport{want: d}:
	case <-h.quit:
		return net.ErrClosed
	}
	select {
	case c := <-h.cmd:
		h.step = c.step
		return nil
	case <-h.quit:
		return net.ErrClosed
	}
}

// ask has the loop run the ALPN function of x (through whoever reads the reports) and returns
// its answer; nil if the connection is closed meanwhile.
func (h *handshaker) ask(x *sslctx, offered []string) []string {
	cb := &callback{x: x, offered: offered, reply: make(chan []string, 1)}
	select {
	case h.rep <- hsReport{cb: cb}:
	case <-h.quit:
		return nil
	}
	select {
	case r := <-cb.reply:
		return r
	case <-h.quit:
		return nil
	}
}
