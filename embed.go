package copaslua

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/copas-lua/copas-lua/luamod/socket"
	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

// ErrOnLoop is returned by the blocking methods (Call, Serve, Stats from
// another goroutine) when they are called on the loop goroutine, where
// waiting for the loop would deadlock.
var ErrOnLoop = errors.New("copaslua: called on the loop goroutine")

// ErrClosed is returned by calls made after the Runtime was closed.
var ErrClosed = errors.New("copaslua: runtime closed")

// loopID returns the id of the calling goroutine.
func goid() uint64 {
	var buf [32]byte
	n := runtime.Stack(buf[:], false)
	// "goroutine 123 [running]:..."
	b := buf[len("goroutine "):n]
	for i, c := range b {
		if c == ' ' {
			id, _ := strconv.ParseUint(string(b[:i]), 10, 64)
			return id
		}
	}
	return 0
}

// embedState is the part of a Runtime other goroutines may touch.
type embedState struct {
	owner  atomic.Uint64 // goroutine that created the runtime / runs Run
	closed atomic.Bool
	keep   atomic.Int64 // KeepAlive holds
}

func (r *Runtime) onLoop() bool { return goid() == r.emb.owner.Load() }

// postWait runs fn on the loop and waits for it, or for ctx. The loop must
// be driven (Run) by its goroutine.
func (r *Runtime) postWait(ctx context.Context, fn func()) error {
	if r.onLoop() {
		return ErrOnLoop
	}
	if r.emb.closed.Load() {
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

// copasModule returns the loaded copas module table, or nil.
func (r *Runtime) copasModule() *lua.LTable {
	loaded, _ := r.L.GetField(r.L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable)
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
	fn := r.L.GetField(c, name)
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
// running them for the grace period (WithGracePeriod, default 5 s), then
// closes what is left (copas.cancelall(): servers closed, threads
// dropped, their sockets' waits ended) and returns ctx.Err(). Run must be
// called on the goroutine that owns the runtime; Call, Serve and Post from
// other goroutines are served while it runs.
func (r *Runtime) Run(ctx context.Context) error {
	r.emb.owner.Store(goid())
	stop := context.AfterFunc(ctx, r.loop.Wake)
	defer stop()
	r.setRunning(true)
	defer r.setRunning(false)
	for !r.finished() {
		if ctx.Err() != nil {
			return r.shutdown(ctx.Err())
		}
		r.loop.Hold() // keep Step waiting for Post/Wake from other goroutines
		r.loop.Step(-1)
		r.loop.Release()
	}
	return ctx.Err()
}

func (r *Runtime) setRunning(on bool) {
	if c := r.copasModule(); c != nil {
		c.RawSetString("running", lua.LBool(on))
	}
}

// shutdown is Run's cancellation path.
func (r *Runtime) shutdown(cause error) error {
	r.logf("shutting down: %v", cause)
	r.callCopas("exit")
	deadline := time.Now().Add(r.cfg.grace)
	for !r.finished() && time.Now().Before(deadline) {
		r.loop.Step(time.Until(deadline))
	}
	if !r.finished() {
		r.logf("grace period over, closing what is left")
		r.callCopas("cancelall")
		r.loop.EachTask(func(t *scheduler.Task) { t.Kill() })
		r.loop.DropDetached()
		// let closed sockets' helper goroutines report back
		for i := 0; i < 100 && r.loop.Inflight() > 0; i++ {
			r.loop.Step(10 * time.Millisecond)
		}
	}
	return cause
}

// Call runs fn(args...) as a thread of the loop (it may do socket I/O,
// pause, use Copas) and returns its results converted to Go values (see
// ToGo). fn is a *lua.LFunction or the name of a global function; args
// are converted with ToLua. Safe to call from any goroutine except the
// loop's (ErrOnLoop); the loop must be running (Run) for Call to finish.
// If ctx ends first, the thread is stopped and ctx.Err() returned. A Lua
// error is returned as *LuaError.
func (r *Runtime) Call(ctx context.Context, fn any, args ...any) ([]any, error) {
	type result struct {
		vals []any
		err  error
	}
	res := make(chan result, 1)
	var task atomic.Pointer[scheduler.Task]
	err := r.postWait(ctx, func() {
		f, err := r.resolve(fn)
		if err != nil {
			res <- result{err: err}
			return
		}
		largs := make([]lua.LValue, len(args))
		for i, a := range args {
			largs[i] = ToLua(r.L, a)
		}
		t := r.loop.Spawn(f, largs...)
		t.OnExit = func(_ *scheduler.Task, err error, rets []lua.LValue) {
			if err != nil {
				res <- result{err: &LuaError{Value: ToGo(scheduler.ErrorValue(err)), msg: err.Error()}}
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

// LuaError is a Lua error raised by a function run with Call.
type LuaError struct {
	Value any // the error value, converted with ToGo
	msg   string
}

// Error returns the Lua error message. Safe from any goroutine.
func (e *LuaError) Error() string { return e.msg }

func (r *Runtime) resolve(fn any) (*lua.LFunction, error) {
	switch f := fn.(type) {
	case *lua.LFunction:
		return f, nil
	case string:
		if lf, ok := r.L.GetGlobal(f).(*lua.LFunction); ok {
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
// running. Only TCP listeners are supported. Call it on the loop
// goroutine (typically before Run) or from any other goroutine while Run
// is running.
func (r *Runtime) Serve(ctx context.Context, ln net.Listener, handler any) error {
	var regErr error
	register := func() { regErr = r.serveOnLoop(ctx, ln, handler) }
	if r.onLoop() {
		register()
	} else if err := r.postWait(ctx, register); err != nil {
		return err
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
	fn, err := r.L.LoadString(serveGlue)
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
			skt, err := socket.Adopt(r.L, conn)
			if err != nil {
				r.logf("serve: %v", err)
				release()
				return
			}
			done := r.L.NewFunction(func(*lua.LState) int { release(); return 0 })
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

// Stats returns the current counters. Safe from any goroutine: on the
// loop goroutine it reads them directly, elsewhere it asks the running
// loop and waits (ctx bounds the wait).
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
	if r.onLoop() {
		read()
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
	r.L.SetGlobal(name, r.L.NewFunction(fn))
}

// PreloadModule registers a Go module loader under name, so scripts can
// require it. Loop goroutine only.
func (r *Runtime) PreloadModule(name string, loader lua.LGFunction) {
	r.L.PreloadModule(name, loader)
}

func (r *Runtime) logf(format string, args ...any) {
	if r.cfg.logger != nil {
		r.cfg.logger.Info(fmt.Sprintf(format, args...))
	}
}
