package socket

import (
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

// socket.select is built on ppoll(2), not select(2): there is no FD_SETSIZE
// ceiling, so a plain LuaSocket server can watch thousands of sockets.
// Objects are anything with a getfd method (and optionally dirty), found
// through Lua exactly as LuaSocket does, so Copas-style wrapper tables work.

func init() { setupCore = append(setupCore, setupSelect) }

// selectSetSize is what socket._SETSIZE reports: the process's descriptor
// limit, since no descriptor can be larger. LuaSocket's own test suite
// creates _SETSIZE+1 sockets and expects select to refuse them.
var selectSetSize = func() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 {
		return 1024
	}
	if rl.Cur > 1<<20 {
		return 1 << 20
	}
	return int(rl.Cur)
}()

func setupSelect(L *lua.LState, loop *scheduler.Loop, mod *lua.LTable) {
	mod.RawSetString("_SETSIZE", lua.LNumber(selectSetSize))
	mod.RawSetString("_SOCKETINVALID", lua.LNumber(-1))
	mod.RawSetString("select", loop.WrapGo(func(L *lua.LState) int {
		return luaSelect(L, loop)
	}))
}

// poll(2) event bits (identical on every Linux architecture).
const (
	pollIn   = 0x1
	pollPri  = 0x2
	pollOut  = 0x4
	pollErr  = 0x8
	pollHup  = 0x10
	pollNval = 0x20
)

// What select(2) counts as readable or writable, translated to poll bits
// (Linux's POLLIN_SET / POLLOUT_SET).
const (
	selReadMask  = pollIn | pollHup | pollErr
	selWriteMask = pollOut | pollErr
)

type pollFd struct {
	fd      int32
	events  int16
	revents int16
}

// selCall is one socket.select call: the descriptors to poll and, on the
// loop side only, the Lua objects they came from.
type selCall struct {
	fds   []pollFd           // sorted by fd; shared with the poll goroutine
	objs  map[int]lua.LValue // fd -> last object seen with it (LuaSocket's itab)
	dirty []lua.LValue       // objects with buffered data, readable at once
	want  map[int]int16      // fd -> events wanted
	order []int              // fds in ascending order

	// While parked (start): the eventfd that interrupts the wait (-1 if
	// none could be had), the flag that stops a wait without one, and
	// the descriptors closed under the wait (loop side only).
	wfd    wakeFd
	stop   atomic.Bool
	closed map[int]bool
}

// gone records that fd was closed while the call is parked and ends the
// wait. Loop goroutine only.
func (c *selCall) gone(fd int) {
	if c.closed == nil {
		c.closed = map[int]bool{}
	}
	c.closed[fd] = true
	c.interrupt()
}

// interrupt ends a parked wait. Safe from any goroutine.
func (c *selCall) interrupt() {
	c.stop.Store(true)
	if c.wfd.r >= 0 {
		wakeFdSignal(c.wfd)
	}
}

func luaSelect(L *lua.LState, loop *scheduler.Loop) int {
	timeout := selTimeout(L)
	for i := 1; i <= 2; i++ {
		if v := L.Get(i); v != lua.LNil {
			if _, ok := v.(*lua.LTable); !ok {
				L.TypeError(i, lua.LTTable)
			}
		}
	}
	c := &selCall{objs: map[int]lua.LValue{}, want: map[int]int16{}}
	dirtyFd := map[int]bool{}
	c.collect(L, 1, pollIn, dirtyFd)
	c.collect(L, 2, pollOut, nil)
	for fd := range dirtyFd {
		// Like LuaSocket's FD_CLR: buffered data makes the object readable
		// already, so the kernel is not asked about reading it.
		if ev := c.want[fd] &^ pollIn; ev != 0 {
			c.want[fd] = ev
		} else {
			delete(c.want, fd)
		}
	}
	c.build()
	if len(c.dirty) > 0 {
		timeout = 0
	}
	park := timeout != 0 && loop.CanPark(L)
	wait := timeout
	if park {
		wait = 0 // look first; park only if nothing is ready now
	}
	n, errno := pollFds(c.fds, wait)
	if errno != 0 {
		L.RaiseError("select failed")
	}
	for _, p := range c.fds {
		if p.revents&pollNval != 0 {
			L.RaiseError("select failed") // select(2) fails with EBADF
		}
	}
	if n > 0 || len(c.dirty) > 0 || !park {
		return c.push(L, n)
	}
	return loop.Yield(L, scheduler.OpFunc(func(w scheduler.Waiter) { c.start(loop, w, timeout) }))
}

// selTimeout reads argument 3 as luaL_optnumber does: nil means forever,
// numeric strings are numbers. Negative or NaN means forever.
func selTimeout(L *lua.LState) time.Duration {
	v := L.Get(3)
	var t float64
	switch x := v.(type) {
	case *lua.LNilType:
		return -1
	case lua.LNumber:
		t = float64(x)
	case lua.LString:
		n, ok := miscToNumber(x)
		if !ok {
			L.TypeError(3, lua.LTNumber)
		}
		t = n
	default:
		L.TypeError(3, lua.LTNumber)
	}
	if math.IsNaN(t) || t < 0 {
		return -1
	}
	if t > 1e9 { // ~31 years: indistinguishable from forever, and no overflow
		t = 1e9
	}
	return time.Duration(t * float64(time.Second))
}

// collect walks tab[1], tab[2], … up to the first nil (with metamethods,
// like lua_gettable) and records each object's descriptor. For the read
// table it also asks dirty().
func (c *selCall) collect(L *lua.LState, arg int, ev int16, dirtyFd map[int]bool) {
	tab, ok := L.Get(arg).(*lua.LTable)
	if !ok {
		return
	}
	for i := 1; ; i++ {
		obj := L.GetTable(tab, lua.LNumber(i))
		if obj == lua.LNil {
			return
		}
		if i > selectSetSize {
			L.ArgError(arg, "too many sockets")
		}
		fd := selCallMethod(L, obj, "getfd")
		num, ok := miscToNumber(fd)
		if !ok || num < 0 || math.IsNaN(num) {
			continue
		}
		if num >= float64(selectSetSize) {
			L.ArgError(arg, "descriptor too large for set size")
		}
		n := int(num)
		c.objs[n] = obj
		c.want[n] |= ev
		if dirtyFd != nil && lua.LVAsBool(selCallMethod(L, obj, "dirty")) {
			c.dirty = append(c.dirty, obj)
			dirtyFd[n] = true
		}
	}
}

// selCallMethod returns obj:name() (first result), or nil when obj has no
// such method.
func selCallMethod(L *lua.LState, obj lua.LValue, name string) lua.LValue {
	fn := L.GetField(obj, name)
	if fn == lua.LNil {
		return lua.LNil
	}
	L.Push(fn)
	L.Push(obj)
	L.Call(1, 1)
	ret := L.Get(-1)
	L.Pop(1)
	return ret
}

func (c *selCall) build() {
	c.order = make([]int, 0, len(c.want))
	for fd := range c.want {
		c.order = append(c.order, fd)
	}
	sort.Ints(c.order)
	c.fds = make([]pollFd, len(c.order), len(c.order)+1)
	for i, fd := range c.order {
		c.fds[i] = pollFd{fd: int32(fd), events: c.want[fd]}
	}
}

// push pushes the two result tables, or two empty tables and "timeout".
// Loop goroutine only.
func (c *selCall) push(L *lua.LState, ready int) int {
	for _, v := range c.results(L, ready) {
		L.Push(v)
	}
	if ready > 0 || len(c.dirty) > 0 {
		return 2
	}
	return 3
}

func (c *selCall) results(L *lua.LState, ready int) []lua.LValue {
	if ready <= 0 && len(c.dirty) == 0 {
		return []lua.LValue{L.NewTable(), L.NewTable(), lua.LString("timeout")}
	}
	var rl, wl []lua.LValue
	rl = append(rl, c.dirty...)
	for i, p := range c.fds[:len(c.order)] {
		fd := c.order[i]
		// A descriptor that went bad while we waited is reported ready, so
		// its owner wakes up and finds out on its next operation.
		rev := p.revents
		if rev&pollNval != 0 || c.closed[fd] {
			rev |= pollIn | pollOut
		}
		if p.events&pollIn != 0 && rev&selReadMask != 0 {
			rl = append(rl, c.objs[fd])
		}
		if p.events&pollOut != 0 && rev&selWriteMask != 0 {
			wl = append(wl, c.objs[fd])
		}
	}
	return []lua.LValue{selAssoc(L, rl), selAssoc(L, wl)}
}

// selAssoc makes LuaSocket's result shape: t[i] = obj and t[obj] = i.
func selAssoc(L *lua.LState, list []lua.LValue) *lua.LTable {
	t := L.CreateTable(len(list), len(list))
	for i, obj := range list {
		t.RawSetInt(i+1, obj)
	}
	for i, obj := range list {
		t.RawSet(obj, lua.LNumber(i+1))
	}
	return t
}

// start runs the wait on a helper goroutine (the task is parked). An
// eventfd in the poll set lets a woken or killed task, or the close of a
// watched socket, interrupt it, so no goroutine is left behind. Without
// a descriptor to spare for it (EMFILE) the helper polls in short slices
// and checks a flag instead. Loop goroutine only.
func (c *selCall) start(loop *scheduler.Loop, w scheduler.Waiter, timeout time.Duration) {
	fds := c.fds
	wfd, err := wakeFdGet()
	if err != nil {
		wfd = wakeFd{-1, -1}
	} else {
		fds = append(fds, pollFd{fd: int32(wfd.r), events: pollIn})
	}
	c.wfd = wfd
	e := newEnv(loop.L, loop)
	e.watchFDs(c)
	w.OnCancel(c.interrupt)
	loop.Go(func() func() {
		// Helper goroutine: only Go values (fds, the flag) are touched here.
		var n int
		var errno syscall.Errno
		if wfd.r >= 0 {
			n, errno = pollFds(fds, timeout)
			if errno == 0 && fds[len(fds)-1].revents != 0 {
				n-- // the wake descriptor is not a result
			}
		} else {
			n, errno = pollFdsUntil(fds, timeout, &c.stop)
		}
		return func() {
			e.unwatchFDs(c)
			if wfd.r >= 0 {
				wakeFdPut(wfd)
			}
			if !w.Valid() {
				return
			}
			if errno != 0 {
				w.Resume(loop.L.NewTable(), loop.L.NewTable(), lua.LString("select failed"))
				return
			}
			w.Resume(c.results(loop.L, n+len(c.closed))...)
		}
	})
}

// pollFdsUntil is pollFds in slices of at most selSlice, giving up early
// once stop is set. Safe on any goroutine; blocks it.
func pollFdsUntil(fds []pollFd, timeout time.Duration, stop *atomic.Bool) (int, syscall.Errno) {
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		slice := selSlice
		if timeout >= 0 {
			slice = min(slice, max(time.Until(deadline), 0))
		}
		n, errno := pollFds(fds, slice)
		if n != 0 || errno != 0 || stop.Load() || (timeout >= 0 && !time.Now().Before(deadline)) {
			return n, errno
		}
	}
}

// selSlice bounds how late a parked select without an eventfd notices
// that it was interrupted.
const selSlice = 20 * time.Millisecond

// pollFds waits until a descriptor in fds is ready or timeout passes
// (negative: no limit), restarting after signals with the time left. It
// returns the number of ready descriptors. Safe on any goroutine; blocks it.
func pollFds(fds []pollFd, timeout time.Duration) (int, syscall.Errno) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		var tsp *syscall.Timespec
		if timeout >= 0 {
			left := timeout
			if timeout > 0 {
				left = max(time.Until(deadline), 0)
			}
			ts := syscall.NsecToTimespec(int64(left))
			tsp = &ts
		}
		var n int
		var e syscall.Errno
		if len(fds) > 0 {
			n, e = ppoll(unsafe.Pointer(&fds[0]), len(fds), tsp)
		} else {
			n, e = ppoll(nil, 0, tsp)
		}
		runtime.KeepAlive(fds)
		runtime.KeepAlive(tsp)
		if e == syscall.EINTR {
			continue
		}
		return int(n), e
	}
}

// A small pool of wake descriptors (sys_*.go) used to interrupt parked
// selects.
var wakeFds struct {
	mu   sync.Mutex
	free []wakeFd
}

func wakeFdGet() (wakeFd, error) {
	wakeFds.mu.Lock()
	if n := len(wakeFds.free); n > 0 {
		fd := wakeFds.free[n-1]
		wakeFds.free = wakeFds.free[:n-1]
		wakeFds.mu.Unlock()
		return fd, nil
	}
	wakeFds.mu.Unlock()
	return newWakeFd()
}

// wakeFdPut drains fd and keeps it for reuse (at most 16 are kept).
func wakeFdPut(fd wakeFd) {
	drainWakeFd(fd)
	wakeFds.mu.Lock()
	defer wakeFds.mu.Unlock()
	if len(wakeFds.free) < 16 {
		wakeFds.free = append(wakeFds.free, fd)
		return
	}
	closeWakeFd(fd)
}
