package socket

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

// TCP and UDP objects of socket.core.
//
// Every object owns a real non-blocking descriptor (or -1 before first use
// and after close, as in LuaSocket), so getfd, setoption and socket.select
// see what LuaSocket programs expect. The descriptor is wrapped in an
// os.File only to borrow Go's netpoller: all I/O is done with plain system
// calls on the loop goroutine, and the netpoller is used just to wait for
// readiness — on the calling goroutine outside tasks, on a helper goroutine
// while a task is parked. Loop-owned state (receive buffer, counters,
// class) is therefore never touched by another goroutine.

// class is the LuaSocket class of an object; its metatable follows it.
type class uint8

const (
	clsMaster class = iota
	clsClient
	clsServer
	clsUnconnected
	clsConnected
	nClasses
)

var classNames = [nClasses]string{"tcp{master}", "tcp{client}", "tcp{server}", "udp{unconnected}", "udp{connected}"}

// classSet is what a method accepts as self.
type classSet uint8

const (
	anyTCP classSet = 1<<clsMaster | 1<<clsClient | 1<<clsServer
	anyUDP classSet = 1<<clsUnconnected | 1<<clsConnected
)

func only(c class) classSet { return 1 << c }

func (cs classSet) String() string {
	switch cs {
	case anyTCP:
		return "tcp{any}"
	case anyUDP:
		return "udp{any}"
	}
	for c := class(0); c < nClasses; c++ {
		if cs == only(c) {
			return classNames[c]
		}
	}
	return "socket"
}

// timeout is LuaSocket's pair of timeouts, in seconds; negative means none.
type timeout struct{ block, total float64 }

// isZero is LuaSocket's timeout_iszero: a zero block timeout means "never
// wait", whatever the total timeout says.
func (t timeout) isZero() bool { return t.block == 0 }

// deadline returns when an operation that started at start must give up,
// and false when it may wait forever. LuaSocket measures both timeouts
// from the start of the call (timeout_getretry).
func (t timeout) deadline(start time.Time) (time.Time, bool) {
	d := -1.0
	if t.block >= 0 {
		d = t.block
	}
	if t.total >= 0 && (d < 0 || t.total < d) {
		d = t.total
	}
	if d < 0 {
		return time.Time{}, false
	}
	if d > 1e9 {
		d = 1e9
	}
	return start.Add(time.Duration(d * float64(time.Second))), true
}

// fileBox holds the os.File of a socket for its cleanup, which must not
// keep the socket itself reachable.
type fileBox struct{ f *os.File }

// sock is the Go side of a TCP or UDP object. Loop goroutine only, except
// the rc/file values copied into a helper goroutine for one wait.
type sock struct {
	env    *env
	ud     *lua.LUserData
	cls    class
	stream bool
	family int
	fd     int
	file   *os.File
	rc     syscall.RawConn
	box    *fileBox
	tm     timeout

	// Receive buffer (TCP): unread bytes, a suffix of *chunk, which is
	// pooled and handed back as soon as the buffer empties, so an idle
	// connection holds no buffer.
	chunk *[]byte
	buf   []byte

	received, sent float64
	birthday       time.Time

	dl    [2]time.Time // deadlines currently set on file (read, write)
	busy  [2]bool      // a parked operation waits in this direction
	queue [2][]func()  // parked operations waiting for busy to clear
	// polled: fd is in the loop's poll set (scheduler.Loop.WaitFD);
	// waits: the readiness callbacks armed there, per direction.
	polled bool
	waits  [2]func()
	// epoch counts closes by Lua (close, setfd, TakeOver): an operation
	// that waited across one ends with "closed" whatever the descriptor
	// looks like now.
	epoch uint32
	// acceptDelay is the current back-off of accept after running out
	// of descriptors (0: no such burst); acceptFails counts the burst.
	acceptDelay time.Duration
	acceptFails int
}

const (
	dirRead  = 0
	dirWrite = 1
	// dirBackoff (returned by ioOp.try only) asks to retry after the
	// op's back-off delay instead of waiting for readiness; the op then
	// occupies the read direction.
	dirBackoff = 2
)

const chunkSize = 16 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// leaked keeps files whose descriptor was given up by setfd: LuaSocket
// leaves such a descriptor open, and dropping the os.File would let its
// finalizer close a number that may belong to someone else by then.
var leaked struct {
	sync.Mutex
	files []*os.File
}

func (s *sock) bufEmpty() bool { return len(s.buf) == 0 }

// skip drops n buffered bytes, counting them as received.
func (s *sock) skip(n int) {
	s.received += float64(n)
	s.buf = s.buf[n:]
	if len(s.buf) == 0 {
		s.releaseChunk()
	}
}

func (s *sock) releaseChunk() {
	if s.chunk != nil {
		chunkPool.Put(s.chunk)
		s.chunk, s.buf = nil, nil
	}
}

// fill reads once from the descriptor into the empty buffer. It returns
// "" on success, errClosed at end of stream, or a LuaSocket error;
// wouldBlock is true if nothing could be read now.
func (s *sock) fill() (msg string, wouldBlock bool) {
	if s.fd < 0 {
		return errClosed, false
	}
	c := chunkPool.Get().(*[]byte)
	for {
		n, err := syscall.Read(s.fd, *c)
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			chunkPool.Put(c)
			return "", true
		}
		if err != nil {
			chunkPool.Put(c)
			return ioErrorString(err), false
		}
		if n == 0 {
			chunkPool.Put(c)
			return errClosed, false
		}
		s.chunk, s.buf = c, (*c)[:n]
		return "", false
	}
}

// attach makes fd the socket's descriptor, wrapped for the netpoller.
func (s *sock) attach(fd int) {
	f := os.NewFile(uintptr(fd), "socket")
	rc, err := f.SyscallConn()
	if err != nil {
		rc = nil
	}
	s.fd, s.file, s.rc = fd, f, rc
	s.box.f = f
	s.dl = [2]time.Time{}
	s.polled = false
}

// create opens a new descriptor of the given family, replacing (closing)
// the current one. It returns "" or LuaSocket's error.
func (s *sock) create(family int) string {
	s.destroy()
	typ := syscall.SOCK_DGRAM
	if s.stream {
		typ = syscall.SOCK_STREAM
	}
	fd, err := newSocket(family, typ)
	if err != nil {
		return ioErrorString(err)
	}
	if family == syscall.AF_INET6 {
		_ = syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 1)
	}
	s.family = family
	s.attach(fd)
	return ""
}

// close is the Lua-visible close: the descriptor goes, and every
// operation waiting on the object, parked or queued, and every
// socket.select parked on it, ends now with "closed".
func (s *sock) close() {
	s.epoch++
	s.destroy()
}

// destroy closes the descriptor; operations waiting on it end with
// "closed". The receive buffer survives, as in LuaSocket.
func (s *sock) destroy() {
	s.forget()
	s.env.fdGone(s.fd)
	if s.file != nil {
		s.file.Close()
	} else if s.fd >= 0 {
		syscall.Close(s.fd)
	}
	s.fd, s.file, s.rc = -1, nil, nil
	s.box.f = nil
	s.wakeAll()
}

// forget takes the descriptor out of the loop's poll set (dropping the
// callbacks armed there), before it is closed or given away.
func (s *sock) forget() {
	if s.polled || s.waits[0] != nil || s.waits[1] != nil {
		s.env.loop.ForgetFD(s.fd, &s.polled)
	}
}

// wakeAll ends the waits of operations parked on a descriptor that is
// gone: they retry and fail with "closed".
func (s *sock) wakeAll() {
	for d, fn := range s.waits {
		if fn != nil {
			s.waits[d] = nil
			fn()
		}
	}
}

// setfd replaces the descriptor number without closing the old one
// (LuaSocket's "very dangerous" setfd).
func (s *sock) setfd(fd int) {
	s.epoch++
	s.forget()
	s.env.fdGone(s.fd)
	if s.file != nil {
		leaked.Lock()
		leaked.files = append(leaked.files, s.file)
		leaked.Unlock()
	}
	s.fd, s.file, s.rc = -1, nil, nil
	s.box.f = nil
	s.wakeAll()
	if fd >= 0 {
		_ = syscall.SetNonblock(fd, true)
		s.attach(fd)
	}
}

// setDeadline sets the file's deadline for direction d, if it changed.
func (s *sock) setDeadline(d int, t time.Time) {
	if s.file == nil || s.dl[d].Equal(t) {
		return
	}
	s.dl[d] = t
	if d == dirRead {
		_ = s.file.SetReadDeadline(t)
	} else {
		_ = s.file.SetWriteDeadline(t)
	}
}

// readyCheck is the callback of one RawConn wait. The netpoller forgets
// readiness that arrived before the wait began (pollReset), so the first
// call asks the kernel directly with a zero-timeout poll(2); after a
// wakeup it reports ready and lets the loop retry the operation.
type readyCheck struct {
	events int16
	n      int
}

func (r *readyCheck) check(fd uintptr) bool {
	r.n++
	if r.n > 1 {
		return true
	}
	pfd := struct {
		fd      int32
		events  int16
		revents int16
	}{int32(fd), r.events, 0}
	var ts syscall.Timespec
	n, e := ppoll(unsafe.Pointer(&pfd), 1, &ts)
	return e == 0 && n > 0
}

// waitIO blocks the calling goroutine until rc is ready in direction d,
// its deadline passes or its file is closed. Safe from any goroutine.
func waitIO(rc syscall.RawConn, d int) error {
	if rc == nil {
		return os.ErrClosed
	}
	if d == dirWrite {
		r := readyCheck{events: 0x4} // POLLOUT
		return rc.Write(r.check)
	}
	r := readyCheck{events: 0x1} // POLLIN
	return rc.Read(r.check)
}

// waitErrorString maps the error of an interrupted wait: a deadline is a
// timeout, anything else means the file was closed under it.
func waitErrorString(err error) string {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return errTimeout
	}
	return errClosed
}

// ioOp is a socket operation that can make progress without blocking and
// be continued after a wait. All methods run on the loop goroutine.
type ioOp interface {
	// try advances the operation; it reports whether it finished and,
	// if not, the direction to wait for.
	try(s *sock) (done bool, dir int)
	// fail ends the operation with a LuaSocket error.
	fail(msg string)
	// results are the Lua return values.
	results() []lua.LValue
}

// run performs op for a Lua call: at once when possible; otherwise by
// parking the calling task, or, outside tasks, by blocking the calling
// goroutine, both honouring the socket's timeout. It must be the return
// statement of a method exposed through Loop.WrapGo.
func (s *sock) run(L *lua.LState, op ioOp, start time.Time) int {
	done, dir := op.try(s)
	if !done {
		dl, has := s.tm.deadline(start)
		loop := s.env.loop
		switch {
		case s.tm.isZero() || (has && !time.Now().Before(dl)):
			op.fail(errTimeout)
		case loop.CanPark(L):
			gen := s.epoch
			return loop.Yield(L, scheduler.OpFunc(func(w scheduler.Waiter) {
				s.park(&pending{op: op, w: w, dl: dl, has: has, gen: gen}, dir)
			}))
		default:
			s.block(op, dl, has, dir)
		}
	}
	return pushValues(L, op.results())
}

func pushValues(L *lua.LState, vals []lua.LValue) int {
	for _, v := range vals {
		L.Push(v)
	}
	return len(vals)
}

// block waits on the calling goroutine until op completes.
func (s *sock) block(op ioOp, dl time.Time, has bool, dir int) {
	for {
		if s.file == nil {
			op.fail(errClosed)
			return
		}
		if !has {
			dl = time.Time{}
		}
		if dir == dirBackoff {
			d := s.acceptDelay
			if has {
				d = min(d, time.Until(dl))
			}
			if d <= 0 {
				op.fail(errTimeout)
				return
			}
			time.Sleep(d)
		} else {
			s.setDeadline(dir, dl)
			if err := waitIO(s.rc, dir); err != nil {
				op.fail(waitErrorString(err))
				return
			}
		}
		var done bool
		if done, dir = op.try(s); done {
			return
		}
	}
}

// pending is a parked operation: the op, the task waiting for its
// results, its deadline (if has) and the socket's epoch when it started.
type pending struct {
	op  ioOp
	w   scheduler.Waiter
	dl  time.Time
	has bool
	gen uint32
}

// resume ends the wait of p with the op's results.
func (p *pending) resume() { p.w.Resume(p.op.results()...) }

// park waits for readiness in the loop's poll set (or, for dirBackoff,
// for the op's back-off delay) and continues p on the loop. One operation
// waits per direction; later ones queue behind it. A deadline is a loop
// timer.
func (s *sock) park(p *pending, dir int) {
	d := dir
	if dir == dirBackoff {
		d = dirRead
	}
	if s.busy[d] {
		s.queue[d] = append(s.queue[d], func() { s.retry(p) })
		return
	}
	if s.fd < 0 || s.epoch != p.gen {
		p.op.fail(errClosed)
		p.resume()
		return
	}
	loop := s.env.loop
	var tm, backoff *scheduler.Timer
	fd := s.fd
	// done ends this wait: the direction is free again for the next op.
	done := func() {
		s.busy[d] = false
		s.waits[d] = nil
		if tm != nil {
			loop.Stop(tm)
		}
		if backoff != nil {
			loop.Stop(backoff)
		}
	}
	// ready runs once: from the poll set, the back-off timer, or wakeAll
	// when the descriptor goes.
	ready := func() {
		done()
		s.retry(p)
		s.next(d)
	}
	if dir == dirBackoff {
		at := time.Now().Add(s.acceptDelay)
		if p.has && p.dl.Before(at) {
			at = p.dl
		}
		backoff = loop.At(at, func() {
			backoff = nil
			ready()
		})
	} else if err := loop.WaitFD(fd, d == dirWrite, &s.polled, ready); err != nil {
		p.op.fail(ioErrorString(err))
		p.resume()
		return
	}
	s.busy[d] = true
	s.waits[d] = ready
	if p.has {
		tm = loop.At(p.dl, func() {
			tm = nil
			if dir != dirBackoff {
				loop.CancelWaitFD(fd, d == dirWrite)
			}
			done()
			if p.w.Valid() {
				p.op.fail(errTimeout)
				p.resume()
			}
			s.next(d)
		})
	}
	p.w.OnCancel(func() {
		// The task was woken or killed: end the wait now.
		if dir != dirBackoff {
			loop.CancelWaitFD(fd, d == dirWrite)
		}
		done()
		s.next(d)
	})
}

// retry continues a parked op after a wait: it fails with "closed" if
// the object was closed meanwhile.
func (s *sock) retry(p *pending) {
	if !p.w.Valid() {
		return
	}
	if s.epoch != p.gen {
		p.op.fail(errClosed)
		p.resume()
		return
	}
	done, d := p.op.try(s)
	if !done && p.has && !time.Now().Before(p.dl) {
		p.op.fail(errTimeout)
		done = true
	}
	if done {
		p.resume()
		return
	}
	s.park(p, d)
}

// next starts queued operations while direction d is free.
func (s *sock) next(d int) {
	for !s.busy[d] && len(s.queue[d]) > 0 {
		f := s.queue[d][0]
		s.queue[d][0] = nil
		s.queue[d] = s.queue[d][1:]
		f()
	}
}

// env is the per-state part of the module: the loop and class metatables.
type env struct {
	loop *scheduler.Loop
	L    *lua.LState
	mts  [nClasses]*lua.LTable
	// selects are the socket.select calls parked on each descriptor.
	selects map[int][]*selCall
}

const envKey = "copas-lua.socket.env"

// lookupEnv returns L's env, or nil before the module is loaded.
func lookupEnv(L *lua.LState) *env {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if ud, ok := reg.RawGetString(envKey).(*lua.LUserData); ok {
		if e, ok := ud.Value.(*env); ok {
			return e
		}
	}
	return nil
}

func newEnv(L *lua.LState, loop *scheduler.Loop) *env {
	if e := lookupEnv(L); e != nil {
		return e
	}
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	e := &env{loop: loop, L: L}
	for c := class(0); c < nClasses; c++ {
		mt := L.NewTypeMetatable(classNames[c])
		idx := L.NewTable()
		idx.RawSetString("class", lua.LString(classNames[c]))
		mt.RawSetString("__index", idx)
		name := classNames[c]
		mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
			L.Push(lua.LString(fmt.Sprintf("%s: %p", name, L.Get(1))))
			return 1
		}))
		if c <= clsServer {
			mt.RawSetString("tcp{any}", lua.LTrue)
		} else {
			mt.RawSetString("udp{any}", lua.LTrue)
			mt.RawSetString("select{able}", lua.LTrue)
		}
		e.mts[c] = mt
	}
	ud := L.NewUserData()
	ud.Value = e
	reg.RawSetString(envKey, ud)
	return e
}

// watchFDs registers a parked select on its descriptors.
func (e *env) watchFDs(c *selCall) {
	if e.selects == nil {
		e.selects = map[int][]*selCall{}
	}
	for _, fd := range c.order {
		e.selects[fd] = append(e.selects[fd], c)
	}
}

// unwatchFDs forgets a select that ended.
func (e *env) unwatchFDs(c *selCall) {
	for _, fd := range c.order {
		list := e.selects[fd]
		for i, x := range list {
			if x == c {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(e.selects, fd)
		} else {
			e.selects[fd] = list
		}
	}
}

// fdGone wakes the selects parked on fd, which is about to be closed or
// given away; they report it ready.
func (e *env) fdGone(fd int) {
	if fd < 0 || len(e.selects) == 0 {
		return
	}
	list := e.selects[fd]
	delete(e.selects, fd)
	for _, c := range list {
		c.gone(fd)
	}
}

// newSock creates the Lua object for a socket of class c with no
// descriptor yet.
func (e *env) newSock(L *lua.LState, c class, family int) *sock {
	s := &sock{env: e, cls: c, stream: c <= clsServer, family: family, fd: -1,
		box: &fileBox{}, tm: timeout{-1, -1}, birthday: time.Now()}
	ud := L.NewUserData()
	ud.Value = s
	ud.Metatable = e.mts[c]
	s.ud = ud
	// gopher-lua has no __gc: close the descriptor of an unreachable
	// object. The os.File would close it too, but only after its own
	// finalizer runs a cycle later.
	runtime.AddCleanup(s, func(b *fileBox) {
		if f := b.f; f != nil {
			f.Close()
		}
	}, s.box)
	return s
}

// creator returns socket.tcp/udp-style constructors: an object of class c
// with a descriptor of family, or none yet for AF_UNSPEC.
func (e *env) creator(c class, family int) lua.LGFunction {
	return func(L *lua.LState) int {
		s := e.newSock(L, c, family)
		if family != syscall.AF_UNSPEC {
			if msg := s.create(family); msg != "" {
				return fail(L, msg)
			}
		}
		L.Push(s.ud)
		return 1
	}
}

// setClass changes the object's class and metatable.
func (s *sock) setClass(c class) {
	s.cls = c
	s.ud.Metatable = s.env.mts[c]
}

// addMethod installs fn as method name of every class in set's family
// (tcp or udp), checking self against set. Methods that may wait are
// exposed through Loop.WrapGo (multiple-results position, gopher-lua
// defect D2).
func (e *env) addMethod(name string, set classSet, yields bool, fn func(c *call, s *sock) int) {
	L := e.L
	lvl := 1
	if yields {
		lvl = 2
	}
	g := func(L *lua.LState) int {
		c := &call{L: L, name: name, lvl: lvl, method: true}
		return fn(c, c.self(set))
	}
	var f lua.LValue
	if yields {
		f = e.loop.WrapGo(g)
	} else {
		f = L.NewFunction(g)
	}
	family := anyTCP
	if set&anyUDP != 0 {
		family = anyUDP
	}
	for c := class(0); c < nClasses; c++ {
		if family&only(c) != 0 {
			e.mts[c].RawGetString("__index").(*lua.LTable).RawSetString(name, f)
		}
	}
}

// call carries what argument errors need: the Lua-visible function name
// and how far up the Lua caller is (2 behind a WrapGo wrapper).
type call struct {
	L      *lua.LState
	name   string
	lvl    int
	method bool
}

func (c *call) where() string {
	dbg, ok := c.L.GetStack(c.lvl)
	if !ok {
		return ""
	}
	if _, err := c.L.GetInfo("Sl", dbg, lua.LNil); err != nil || dbg.CurrentLine <= 0 || dbg.Source == scheduler.ShimSource {
		return ""
	}
	return fmt.Sprintf("%s:%d: ", dbg.Source, dbg.CurrentLine)
}

// argError raises Lua 5.1's luaL_argerror message. Methods are assumed to
// be called with colon syntax, so self is "bad self" and the other
// arguments count from 1 as in C LuaSocket's messages.
func (c *call) argError(n int, msg string) {
	var m string
	if c.method {
		n--
	}
	if c.method && n == 0 {
		m = fmt.Sprintf("calling '%s' on bad self (%s)", c.name, msg)
	} else {
		m = fmt.Sprintf("bad argument #%d to '%s' (%s)", n, c.name, msg)
	}
	c.L.Error(lua.LString(c.where()+m), 0)
}

func (c *call) typeName(n int) string {
	if n > c.L.GetTop() {
		return "no value"
	}
	return c.L.Get(n).Type().String()
}

func (c *call) typeError(n int, want string) {
	c.argError(n, fmt.Sprintf("%s expected, got %s", want, c.typeName(n)))
}

func (c *call) self(set classSet) *sock {
	if ud, ok := c.L.Get(1).(*lua.LUserData); ok {
		if s, ok := ud.Value.(*sock); ok && set&only(s.cls) != 0 {
			return s
		}
	}
	c.argError(1, set.String()+" expected")
	return nil
}

func (c *call) isNone(n int) bool { return n > c.L.GetTop() || c.L.Get(n) == lua.LNil }

// luaNumberString is Lua 5.1's number-to-string conversion (%.14g).
func luaNumberString(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 14, 64)
}

// toNumber is lua_isnumber/lua_tonumber: numbers and numeric strings.
func toNumber(v lua.LValue) (float64, bool) {
	switch x := v.(type) {
	case lua.LNumber:
		return float64(x), true
	case lua.LString:
		s := strings.TrimSpace(string(x))
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, true
		}
		if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
			if n, err := strconv.ParseUint(s[2:], 16, 64); err == nil {
				return float64(n), true
			}
		}
	}
	return 0, false
}

// toLString is lua_tolstring: strings and numbers.
func toLString(v lua.LValue) (string, bool) {
	switch x := v.(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		return luaNumberString(float64(x)), true
	}
	return "", false
}

func (c *call) checkString(n int) string {
	if n <= c.L.GetTop() {
		if s, ok := toLString(c.L.Get(n)); ok {
			return s
		}
	}
	c.typeError(n, "string")
	return ""
}

func (c *call) optString(n int, def string) string {
	if c.isNone(n) {
		return def
	}
	return c.checkString(n)
}

func (c *call) checkNumber(n int) float64 {
	if n <= c.L.GetTop() {
		if f, ok := toNumber(c.L.Get(n)); ok {
			return f
		}
	}
	c.typeError(n, "number")
	return 0
}

func (c *call) optNumber(n int, def float64) float64 {
	if c.isNone(n) {
		return def
	}
	return c.checkNumber(n)
}

// checkOption is luaL_checkoption.
func (c *call) checkOption(n int, def string, opts []string) int {
	name := def
	if !c.isNone(n) || def == "" {
		name = c.checkString(n)
	}
	for i, o := range opts {
		if o == name {
			return i
		}
	}
	c.argError(n, fmt.Sprintf("invalid option '%s'", name))
	return 0
}

// ret pushes results and returns their count.
func ret(L *lua.LState, vals ...lua.LValue) int {
	for _, v := range vals {
		L.Push(v)
	}
	return len(vals)
}

func fail(L *lua.LState, msg string) int { return ret(L, lua.LNil, lua.LString(msg)) }

var one = lua.LNumber(1)

// addCommonMethods installs the methods TCP and UDP objects share.
func (e *env) addCommonMethods(set classSet) {
	e.addMethod("close", set, false, func(c *call, s *sock) int {
		s.close()
		return ret(c.L, one)
	})
	e.addMethod("getfd", set, false, func(c *call, s *sock) int {
		return ret(c.L, lua.LNumber(s.fd))
	})
	e.addMethod("setfd", set, false, func(c *call, s *sock) int {
		s.setfd(int(c.checkNumber(2)))
		return 0
	})
	e.addMethod("dirty", set, false, func(c *call, s *sock) int {
		return ret(c.L, lua.LBool(s.stream && !s.bufEmpty()))
	})
	e.addMethod("settimeout", set, false, func(c *call, s *sock) int {
		t := c.optNumber(2, -1)
		mode := c.optString(3, "b")
		switch {
		case strings.HasPrefix(mode, "b"):
			s.tm.block = t
		case strings.HasPrefix(mode, "r"), strings.HasPrefix(mode, "t"):
			s.tm.total = t
		default:
			c.argError(3, "invalid timeout mode")
		}
		return ret(c.L, one)
	})
	e.addMethod("gettimeout", set, false, func(c *call, s *sock) int {
		return ret(c.L, lua.LNumber(s.tm.block), lua.LNumber(s.tm.total))
	})
	e.addMethod("getsockname", set, false, func(c *call, s *sock) int {
		sa, err := syscall.Getsockname(s.fd)
		return pushName(c.L, s, sa, err, true)
	})
	e.addMethod("getfamily", set, false, func(c *call, s *sock) int {
		if s.family == syscall.AF_INET6 {
			return ret(c.L, lua.LString("inet6"))
		}
		return ret(c.L, lua.LString("inet4"))
	})
	e.addMethod("setoption", set, false, func(c *call, s *sock) int { return setOption(c, s) })
	e.addMethod("getoption", set, false, func(c *call, s *sock) int { return getOption(c, s) })
}

// pushName returns getsockname/getpeername results. LuaSocket 3.1 gives
// getsockname's port as a string and getpeername's as a number.
func pushName(L *lua.LState, s *sock, sa syscall.Sockaddr, err error, portString bool) int {
	if err != nil {
		var en syscall.Errno
		if errors.As(err, &en) {
			return fail(L, errnoString(en))
		}
		return fail(L, ioErrorString(err))
	}
	host, port, ok := formatSockaddr(sa)
	if !ok {
		return fail(L, gaiRawString(gaiFamily))
	}
	var p lua.LValue = lua.LNumber(port)
	if portString {
		p = lua.LString(strconv.Itoa(port))
	}
	return ret(L, lua.LString(host), p, lua.LString(familyName(s.family)))
}
