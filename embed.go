package copaslua

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/copas-lua/copas-lua/luamod/socket"
	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

// ErrOnLoop is returned by Call when it is called from inside the runtime
// (a Go function that Lua called, or a function given to Post), where
// waiting for the loop would deadlock.
var ErrOnLoop = errors.New("copaslua: called on the loop goroutine")

// ErrClosed is returned by calls made after the Runtime was closed.
var ErrClosed = errors.New("copaslua: runtime closed")

// embedState is the part of a Runtime other goroutines may touch.
type embedState struct {
	exec    sync.Mutex   // held by the goroutine inside the runtime (enter)
	depth   atomic.Int32 // enter calls in progress
	slot    int          // trampoline of this runtime (owner.go), -1: none
	closing atomic.Bool  // Close was called
	closed  atomic.Bool  // the state is released
	keep    atomic.Int64 // KeepAlive holds
	running atomic.Bool  // Run is driving the loop
}

// postWait runs fn on the loop and waits for it, or for ctx. The loop must
// be driven (Run) by its goroutine.
func (r *Runtime) postWait(ctx context.Context, fn func()) error {
	if r.emb.closing.Load() {
		return ErrClosed
	}
	done := make(chan struct{})
	r.loop.Post(func() {
		fn()
		close(done)
	})
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// direct runs fn on the calling goroutine if it is inside the runtime or
// the runtime is idle (nothing inside it: exec is free), and reports
// whether it did. Otherwise the loop goroutine is busy and fn must be
// posted.
func (r *Runtime) direct(fn func()) bool {
	if r.inEntry() {
		fn()
		return true
	}
	if !r.emb.exec.TryLock() {
		return false
	}
	r.emb.exec.Unlock()
	ran := false
	r.enter(func() { ran = true; fn() })
	return ran
}

// copasModule returns the loaded copas module table, or nil.
func (r *Runtime) copasModule() *lua.LTable {
	loaded, _ := r.st.GetField(r.st.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable)
	if loaded == nil {
		return nil
	}
	t, _ := loaded.RawGetString("copas").(*lua.LTable)
	return t
}

// callCopas calls copas.<name>() if copas is loaded and returns its first
// result.
func (r *Runtime) callCopas(name string) (lua.LValue, bool) {
	c := r.copasModule()
	if c == nil {
		return lua.LNil, false
	}
	fn := r.st.GetField(c, name)
	if fn == lua.LNil {
		return lua.LNil, false
	}
	rets, errv, ok := r.loop.ProtectedCall(fn)
	if !ok {
		r.logf("copas.%s: %v", name, errv)
		return lua.LNil, false
	}
	if len(rets) == 0 {
		return lua.LNil, true
	}
	return rets[0], true
}

// finished reports whether nothing is left to run: Copas' own notion when
// copas is loaded, the loop's otherwise, and in both cases no Go caller
// (Serve, Call) still needs the loop.
func (r *Runtime) finished() bool {
	if r.emb.keep.Load() > 0 || r.loop.Holds() > 0 || r.loop.Posted() > 0 || r.loop.Ready() > 0 {
		return false
	}
	if v, ok := r.callCopas("finished"); ok {
		return lua.LVAsBool(v)
	}
	return !r.loop.Pending()
}

// Run drives the event loop until nothing is left to do (as copas.loop
// decides) or ctx is done. On cancellation it asks Copas threads to stop
// (copas.exit(), so copas.exiting() and copas.waitforexit() see it), keeps
// running them for the grace period (WithGracePeriod, default 5 s) counted
// from the cancellation, then closes what is left (copas.cancelall():
// servers closed, threads dropped, their sockets' waits ended) and returns
// ctx.Err(). A thread that is still running Lua code when the grace period
// ends (one spinning in `while true do end` never yields) gets the Lua
// error "interrupted: shutting down" at its next jump or call and ends.
// If Close is called meanwhile, Run stops at once the same way and
// returns ErrClosed. Loop goroutine only; Call, Serve, Stats, Post and
// Close from other goroutines are served while it runs.
func (r *Runtime) Run(ctx context.Context) error {
	if r.emb.closing.Load() {
		return ErrClosed
	}
	var err error
	r.enter(func() { err = r.run(ctx) })
	if err == nil && r.emb.closing.Load() {
		err = ErrClosed
	}
	return err
}

// graceWatch is Run's cancellation watchdog: when ctx ends it wakes the
// loop and, a grace period later, stops whatever task still runs (the
// loop goroutine may be stuck in one and never see ctx).
type graceWatch struct {
	at    atomic.Int64 // UnixNano of the cancellation, 0 before
	mu    sync.Mutex
	timer *time.Timer
	stop  func() bool
}

func (r *Runtime) watchCancel(ctx context.Context) *graceWatch {
	w := &graceWatch{}
	w.stop = context.AfterFunc(ctx, func() {
		w.at.Store(time.Now().UnixNano())
		r.loop.Wake()
		w.mu.Lock()
		w.timer = time.AfterFunc(r.cfg.grace, func() { r.loop.StopTasks(errShutdownMsg) })
		w.mu.Unlock()
	})
	return w
}

// end stops the watchdog; afterwards it touches the loop no more.
func (w *graceWatch) end() {
	w.stop()
	w.mu.Lock()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Unlock()
}

const errShutdownMsg = "interrupted: shutting down"

func (r *Runtime) run(ctx context.Context) error {
	w := r.watchCancel(ctx)
	defer func() {
		w.end()
		r.loop.ClearInterrupt()
	}()
	r.emb.running.Store(true)
	defer r.emb.running.Store(false)
	r.setRunning(true)
	defer r.setRunning(false)
	for {
		if r.emb.closing.Load() {
			r.loop.ClearInterrupt()
			r.closeAll(errClosedMsg)
			return ErrClosed
		}
		if ctx.Err() != nil {
			start := time.Now()
			if at := w.at.Load(); at != 0 {
				start = time.Unix(0, at)
			}
			return r.shutdown(ctx.Err(), start.Add(r.cfg.grace))
		}
		if r.finished() {
			return nil
		}
		r.loop.Hold() // keep Step waiting for Post/Wake from other goroutines
		r.loop.Step(-1)
		r.loop.Release()
	}
}

func (r *Runtime) setRunning(on bool) {
	if c := r.copasModule(); c != nil {
		c.RawSetString("running", lua.LBool(on))
	}
}

// shutdown is Run's cancellation path.
func (r *Runtime) shutdown(cause error, deadline time.Time) error {
	r.logf("shutting down: %v", cause)
	r.callCopas("exit")
	for !r.finished() && time.Now().Before(deadline) && !r.emb.closing.Load() {
		r.loop.Step(time.Until(deadline))
	}
	if !r.finished() {
		r.logf("grace period over, closing what is left")
		r.closeAll(errShutdownMsg)
	}
	return cause
}

// closeAll ends every thread: Copas' servers and threads
// (copas.cancelall), then the loop's tasks, and waits briefly for closed
// sockets' helper goroutines. Tasks resumed meanwhile are interrupted
// with msg.
func (r *Runtime) closeAll(msg string) {
	r.loop.StopTasks(msg)
	r.callCopas("cancelall")
	r.loop.EachTask(func(t *scheduler.Task) { t.Kill() })
	r.loop.DropDetached()
	// let closed sockets' helper goroutines report back
	for i := 0; i < 100 && r.loop.Inflight() > 0; i++ {
		r.loop.Step(10 * time.Millisecond)
	}
}

// Call runs fn(args...) as a thread of the loop (it may do socket I/O,
// pause, use Copas) and returns its results converted to Go values (see
// ToGo). fn is a *lua.LFunction or the name of a global function; args
// are converted with ToLua. Safe from any goroutine, but not from inside
// the runtime (a Go function Lua called, a Post function: ErrOnLoop); the
// loop must be running (Run) for Call to finish, so on the loop goroutine
// outside Run it waits for ctx. If ctx ends first, ctx.Err() is returned
// and the thread is stopped: killed if it waits, interrupted if it is
// running Lua code (it raises "interrupted: ..." at its next jump or call
// and ends). A Lua error is returned as *Error with the thread's
// traceback.
func (r *Runtime) Call(ctx context.Context, fn any, args ...any) ([]any, error) {
	type result struct {
		vals []any
		err  error
	}
	res := make(chan result, 1)
	var task atomic.Pointer[scheduler.Task]
	if r.inEntry() {
		return nil, ErrOnLoop
	}
	err := r.postWait(ctx, func() {
		f, err := r.resolve(fn)
		if err != nil {
			res <- result{err: err}
			return
		}
		largs := make([]lua.LValue, len(args))
		for i, a := range args {
			largs[i] = ToLua(r.st, a)
		}
		t := r.loop.Spawn(f, largs...)
		t.OnExit = func(_ *scheduler.Task, err error, rets []lua.LValue) {
			if err != nil {
				res <- result{err: r.taskError(t, err)}
				return
			}
			out := make([]any, len(rets))
			for i, v := range rets {
				out[i] = ToGo(v)
			}
			res <- result{vals: out}
		}
		task.Store(t)
	})
	if err != nil {
		return nil, err
	}
	select {
	case r := <-res:
		return r.vals, r.err
	case <-ctx.Done():
		if t := task.Load(); t != nil {
			// Running Lua that never yields would never see the post.
			t.Interrupt("interrupted: " + ctx.Err().Error())
			r.loop.Post(func() { t.Kill() })
		}
		return nil, ctx.Err()
	}
}

// KeepAlive keeps Run running, even with no Lua work left, until the
// returned release function is called (or Run's context ends): a Go
// program that serves requests through Call holds the loop this way.
// Safe from any goroutine; release is idempotent.
func (r *Runtime) KeepAlive() (release func()) {
	r.emb.keep.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			r.emb.keep.Add(-1)
			r.loop.Wake()
		})
	}
}

func (r *Runtime) resolve(fn any) (*lua.LFunction, error) {
	switch f := fn.(type) {
	case *lua.LFunction:
		return f, nil
	case string:
		if lf, ok := r.st.GetGlobal(f).(*lua.LFunction); ok {
			return lf, nil
		}
		return nil, fmt.Errorf("copaslua: no global function %q", f)
	}
	return nil, fmt.Errorf("copaslua: cannot call a %T", fn)
}

// Serve accepts connections on ln and runs handler(sock) for each as a
// Copas thread, sock being a Copas-wrapped LuaSocket client; the socket is
// closed when the handler returns. handler is a *lua.LFunction or the name
// of a global function. Serve returns once the listener is registered;
// connections are then accepted on a helper goroutine until ctx is done or
// ln fails, and ln is closed at the end. While it serves, Run keeps
// running. Only TCP listeners are supported. Safe from any goroutine:
// while the runtime is idle (typically before Run) or from inside it, it
// registers on the calling goroutine; while Run runs, the loop registers
// it (ctx bounds the wait).
func (r *Runtime) Serve(ctx context.Context, ln net.Listener, handler any) error {
	if r.emb.closing.Load() {
		return ErrClosed
	}
	var regErr error
	register := func() { regErr = r.serveOnLoop(ctx, ln, handler) }
	if !r.direct(register) {
		if err := r.postWait(ctx, register); err != nil {
			return err
		}
	}
	return regErr
}

const serveGlue = `
local copas = require "copas"
require "socket"
return function(handler, skt, done)
  copas.addthread(function()
    local w = copas.wrap(skt)
    local ok, err = pcall(handler, w)
    w:close()
    done()
    if not ok then error(err, 0) end
  end)
end`

func (r *Runtime) serveOnLoop(ctx context.Context, ln net.Listener, handler any) error {
	h, err := r.resolve(handler)
	if err != nil {
		return err
	}
	fn, err := r.st.LoadString(serveGlue)
	if err != nil {
		return err
	}
	rets, errv, ok := r.loop.ProtectedCall(fn)
	if !ok || len(rets) == 0 {
		return fmt.Errorf("copaslua: serve: %v", errv)
	}
	spawn := rets[0]
	var sem chan struct{}
	if r.cfg.maxConns > 0 {
		sem = make(chan struct{}, r.cfg.maxConns)
	}
	start := func(conn net.Conn) {
		r.loop.Post(func() {
			release := func() {
				if sem != nil {
					<-sem
				}
			}
			skt, err := socket.Adopt(r.st, conn)
			if err != nil {
				r.logf("serve: %v", err)
				release()
				return
			}
			done := r.st.NewFunction(func(*lua.LState) int { release(); return 0 })
			if _, e, ok := r.loop.ProtectedCall(spawn, h, skt, done); !ok {
				r.logf("serve: %v", e)
			}
		})
	}
	r.loop.Hold()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	go func() {
		defer r.loop.Post(r.loop.Release)
		defer stop()
		defer ln.Close()
		for {
			if sem != nil {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return
				}
			}
			conn, err := ln.Accept()
			if err != nil {
				if ctx.Err() == nil {
					r.logf("serve: %v", err)
				}
				return
			}
			start(conn)
		}
	}()
	return nil
}

// Stats are the counters of copas.status().
type Stats struct {
	Running  bool // the loop is running (Run or copas.loop)
	Timeout  int  // armed copas.timeout timers
	Timer    int  // threads sleeping with a deadline
	Inactive int  // threads paused until woken (pauseforever)
	Read     int  // threads waiting on socket I/O, servers included
	Write    int  // always 0: writes wait in Read's count
	Active   int  // threads ready to run
	Tasks    int  // live threads of the loop
}

// Stats returns the current counters. Safe from any goroutine: while the
// runtime is idle, or from inside it, it reads them on the calling
// goroutine; while Run runs it asks the loop and waits (ctx bounds the
// wait).
func (r *Runtime) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	read := func() {
		s.Tasks = r.loop.Tasks()
		if v, ok := r.callCopas("status"); ok {
			if t, ok := v.(*lua.LTable); ok {
				num := func(k string) int {
					n, _ := t.RawGetString(k).(lua.LNumber)
					return int(n)
				}
				s.Running = lua.LVAsBool(t.RawGetString("running"))
				s.Timeout, s.Timer, s.Inactive = num("timeout"), num("timer"), num("inactive")
				s.Read, s.Write, s.Active = num("read"), num("write"), num("active")
				return
			}
		}
		s.Active = r.loop.Ready()
		s.Read = r.loop.Parked()
		s.Timer = r.loop.Timers()
	}
	if r.emb.closing.Load() {
		return s, ErrClosed
	}
	if r.direct(read) {
		return s, nil
	}
	err := r.postWait(ctx, read)
	return s, err
}

// SetGlobal makes a Go function callable from Lua as a global. Loop
// goroutine only (typically before running scripts). Functions that may
// wait should park the calling thread with the scheduler (see
// scheduler.Loop.Yield) rather than block.
func (r *Runtime) SetGlobal(name string, fn lua.LGFunction) {
	r.st.SetGlobal(name, r.st.NewFunction(fn))
}

// PreloadModule registers a Go module loader under name, so scripts can
// require it. Loop goroutine only.
func (r *Runtime) PreloadModule(name string, loader lua.LGFunction) {
	r.st.PreloadModule(name, loader)
}

func (r *Runtime) logf(format string, args ...any) {
	if r.cfg.logger != nil {
		r.cfg.logger.Info(fmt.Sprintf(format, args...))
	}
}
