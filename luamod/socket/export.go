package socket

import (
	"os"
	"strings"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Accessors for other modules (ssl) that take over a TCP object's
// descriptor the way LuaSec does with getfd/setfd(SOCKET_INVALID).

// Taken is what TakeOver hands over: the descriptor (non-blocking, close
// on exec) wrapped in its os.File, and bytes the object had buffered but
// not yet returned to Lua (LuaSec would lose them; a caller may replay
// them as the start of the stream).
type Taken struct {
	File     *os.File // nil if the object had no descriptor (fd -1)
	Fd       int
	Buffered []byte
}

// IsTCP reports whether v is a socket.core TCP object (master, client or
// server). Loop goroutine only.
func IsTCP(v lua.LValue) bool {
	ud, ok := v.(*lua.LUserData)
	if !ok {
		return false
	}
	s, ok := ud.Value.(*sock)
	return ok && s.stream
}

// TakeOver detaches the descriptor of TCP object v: afterwards the object
// behaves as after setfd(-1) (getfd returns -1, operations say "closed")
// and the caller owns the returned file and must close it. ok is false if
// v is not a TCP object. Loop goroutine only; v must have no operation in
// progress.
func TakeOver(v lua.LValue) (t Taken, ok bool) {
	if !IsTCP(v) {
		return Taken{Fd: -1}, false
	}
	s := v.(*lua.LUserData).Value.(*sock)
	s.epoch++
	s.env.fdGone(s.fd)
	if len(s.buf) > 0 {
		t.Buffered = append([]byte(nil), s.buf...)
	}
	s.releaseChunk()
	t.Fd = s.fd
	if s.fd >= 0 && s.file == nil {
		s.attach(s.fd)
	}
	t.File = s.file
	s.fd, s.file, s.rc = -1, nil, nil
	s.box.f = nil
	return t, true
}

// Timeout is LuaSocket's pair of timeouts (block and total, in seconds;
// negative means none), shared with ssl connections. Not safe for
// concurrent use.
type Timeout = timeout

// NewTimeout returns the timeouts of a new object: none.
func NewTimeout() Timeout { return timeout{-1, -1} }

// Set is settimeout(t, mode): mode starting with "b" sets the block
// timeout, "r"/"t" the total one; false for any other mode.
func (t *timeout) Set(v float64, mode string) bool {
	switch {
	case strings.HasPrefix(mode, "b"):
		t.block = v
	case strings.HasPrefix(mode, "r"), strings.HasPrefix(mode, "t"):
		t.total = v
	default:
		return false
	}
	return true
}

// IsZero reports whether operations must never wait.
func (t timeout) IsZero() bool { return t.isZero() }

// Deadline is when an operation started at start gives up (false: never).
func (t timeout) Deadline(start time.Time) (time.Time, bool) { return t.deadline(start) }

// WaitIO blocks the calling goroutine until rc is ready for reading (or
// writing), its file's deadline passes (os.ErrDeadlineExceeded) or the
// file is closed. Safe from any goroutine.
func WaitIO(rc syscall.RawConn, write bool) error {
	if write {
		return waitIO(rc, dirWrite)
	}
	return waitIO(rc, dirRead)
}

// ClosingFD tells socket.select calls parked in L's tasks that descriptor
// fd is about to be closed, so they return at once and report it ready
// (its owner then finds it closed); the poll(2) they wait in would not
// notice the close. Modules that close a descriptor Lua code may select
// on (ssl connections) call it first. Loop goroutine only.
func ClosingFD(L *lua.LState, fd int) {
	if e := lookupEnv(L); e != nil {
		e.fdGone(fd)
	}
}
