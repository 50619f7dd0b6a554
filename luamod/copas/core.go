package copas

import (
	"math"
	"time"

	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

// core is the Go half of the dispatcher: threads are scheduler tasks, a
// sleeping thread parks on a loop timer, and everything else (socket
// waits) parks on operations of the socket module.
type core struct {
	loop      *scheduler.Loop
	L         *lua.LState
	onExit    *lua.LFunction // Lua: function(co, ok, err)
	sleeping  int            // threads in pause(t > 0)
	lethargic int            // threads in pauseforever
	timeouts  int            // armed copas.timeout timers
	trace     *lua.LFunction // copas.debug logger hook
}

// sleepOp is a pause: a timer, an immediate requeue, or (forever) nothing
// at all until wakeup.
type sleepOp struct {
	c       *core
	seconds float64
}

type threadData struct {
	sleep   *scheduler.Waiter // set while parked in a pause
	forever bool
	timer   *scheduler.Timer
}

func (op *sleepOp) Start(w scheduler.Waiter) {
	c := op.c
	td := dataOf(w.Task())
	td.sleep = &w
	switch {
	case op.seconds < 0:
		td.forever = true
		c.lethargic++
		w.OnCancel(func() { c.lethargic--; td.sleep, td.forever = nil, false })
		// Only wakeup(co) can resume it: let the coroutine be collected
		// when the program drops it, as Copas' weak tables allow.
		w.Task().Detach(func() { c.lethargic-- })
	case op.seconds == 0:
		td.sleep = nil
		w.Resume()
	default:
		c.sleeping++
		d := time.Duration(op.seconds * float64(time.Second))
		if op.seconds > 1e9 {
			d = time.Duration(math.MaxInt64)
		}
		td.timer = c.loop.AfterFunc(d, func() {
			c.sleeping--
			td.sleep, td.timer = nil, nil
			w.Resume()
		})
		w.OnCancel(func() {
			if c.loop.Stop(td.timer) {
				c.sleeping--
			}
			td.sleep, td.timer = nil, nil
		})
	}
}

func dataOf(t *scheduler.Task) *threadData {
	if td, ok := t.Data.(*threadData); ok {
		return td
	}
	td := &threadData{}
	t.Data = td
	return td
}

func newCore(L *lua.LState, loop *scheduler.Loop) *lua.LTable {
	c := &core{loop: loop, L: L}
	mod := L.NewTable()
	reg := func(name string, fn lua.LGFunction) { mod.RawSetString(name, L.NewFunction(fn)) }

	// spawn(fn, ...) -> co: a new thread, ready to run at the next step.
	reg("spawn", func(L *lua.LState) int {
		fn := L.CheckFunction(1)
		args := make([]lua.LValue, 0, L.GetTop()-1)
		for i := 2; i <= L.GetTop(); i++ {
			args = append(args, L.Get(i))
		}
		t := loop.Spawn(fn, args...)
		t.OnExit = c.exited
		L.Push(t.Co)
		return 1
	})
	// sleep(seconds): < 0 forever (until wakeup), 0 next step, else timer.
	mod.RawSetString("sleep", loop.WrapGo(func(L *lua.LState) int {
		s := float64(L.OptNumber(1, 0))
		if c.trace != nil {
			c.traceEvent("yield", L, lua.LNumber(s))
		}
		return loop.Yield(L, &sleepOp{c: c, seconds: s})
	}))
	// wakeup(co): a pausing thread becomes ready; others are untouched.
	reg("wakeup", func(L *lua.LState) int {
		th, ok := L.Get(1).(*lua.LState)
		if !ok {
			return 0
		}
		if t := loop.TaskOf(th); t != nil && t.Co == th {
			if td, ok := t.Data.(*threadData); ok && td.sleep != nil {
				t.Wake() // the op's OnCancel settles the counters
			}
		}
		return 0
	})
	// kill(co) -> bool: the thread never runs again; true if it was
	// dropped now, false if it is running and goes at its next yield.
	reg("kill", func(L *lua.LState) int {
		th, ok := L.Get(1).(*lua.LState)
		if !ok {
			L.Push(lua.LFalse)
			return 1
		}
		t := loop.TaskOf(th)
		if t == nil || t.Co != th {
			L.Push(lua.LFalse)
			return 1
		}
		L.Push(lua.LBool(t.Cancel()))
		return 1
	})
	// step(timeout) -> did, io: run one round, waiting up to timeout
	// seconds (nil: until something happens) if nothing is ready; io
	// tells whether socket (Go) completions were handled.
	reg("step", func(L *lua.LState) int {
		d := time.Duration(-1)
		if v, ok := L.Get(1).(lua.LNumber); ok {
			f := float64(v)
			switch {
			case f <= 0:
				d = 0
			case f < 1e9:
				d = time.Duration(f * float64(time.Second))
			}
		}
		L.Push(lua.LBool(loop.Step(d)))
		L.Push(lua.LBool(loop.StepHadIO()))
		return 2
	})
	// counts() -> ready, sleeping, lethargic, io, timeouts
	reg("counts", func(L *lua.LState) int {
		io := loop.Parked() - c.sleeping - c.lethargic
		L.Push(lua.LNumber(loop.Ready()))
		L.Push(lua.LNumber(c.sleeping))
		L.Push(lua.LNumber(c.lethargic))
		L.Push(lua.LNumber(io))
		L.Push(lua.LNumber(c.timeouts))
		return 5
	})
	// onexit(fn): fn(co, ok, err) runs on the main thread when a thread ends.
	reg("onexit", func(L *lua.LState) int {
		c.onExit = L.CheckFunction(1)
		return 0
	})
	// timer(delay, fn, arg) -> handle: fn(arg) on the main thread after
	// delay seconds, unless cancelled. Does not keep the loop alive.
	reg("timer", func(L *lua.LState) int {
		delay := float64(L.CheckNumber(1))
		fn := L.CheckFunction(2)
		arg := L.Get(3)
		ud := L.NewUserData()
		c.timeouts++
		tm := loop.AfterFunc(time.Duration(delay*float64(time.Second)), func() {
			c.timeouts--
			ud.Value = nil
			c.call(fn, arg)
		})
		ud.Value = tm
		L.Push(ud)
		return 1
	})
	reg("cancel", func(L *lua.LState) int {
		ud, ok := L.Get(1).(*lua.LUserData)
		if ok {
			if tm, ok := ud.Value.(*scheduler.Timer); ok && loop.Stop(tm) {
				c.timeouts--
				ud.Value = nil
			}
		}
		return 0
	})
	// cancelall(): every copas thread and timeout is dropped.
	reg("cancelall", func(L *lua.LState) int {
		loop.EachTask(func(t *scheduler.Task) {
			if t.Co != L {
				t.Kill()
			}
		})
		loop.DropDetached()
		loop.StopTimers(func(*scheduler.Timer) bool { return true })
		c.sleeping, c.lethargic, c.timeouts = 0, 0, 0
		return 0
	})
	// trace(fn | nil): fn(event, co, arg) for copas.debug.
	reg("trace", func(L *lua.LState) int {
		c.trace, _ = L.Get(1).(*lua.LFunction)
		return 0
	})
	// reporter() -> fn | nil: where the default error handler reports
	// when the embedding program configured a logger or stderr writer.
	reg("reporter", func(L *lua.LState) int {
		L.Push(L.GetField(L.Get(lua.RegistryIndex), "copas-lua.errorreporter"))
		return 1
	})
	// traceback: debug.traceback kept by the runtime before a sandbox
	// could remove it (registry "copas-lua.traceback"), else the global.
	if tb, ok := L.GetField(L.Get(lua.RegistryIndex), "copas-lua.traceback").(*lua.LFunction); ok {
		mod.RawSetString("traceback", tb)
	} else if dbg, ok := L.GetGlobal("debug").(*lua.LTable); ok {
		mod.RawSetString("traceback", dbg.RawGetString("traceback"))
	}
	reg("gettime", func(L *lua.LState) int {
		L.Push(lua.LNumber(float64(time.Now().UnixNano()) / 1e9))
		return 1
	})
	loop.UserYield = c.userYield
	return mod
}

// call runs fn(args...) on the main thread, reporting errors to the
// default error handler through onExit's machinery.
func (c *core) call(fn *lua.LFunction, args ...lua.LValue) {
	if _, e, ok := c.loop.ProtectedCall(fn, args...); !ok && c.onExit != nil {
		c.report(lua.LNil, e)
	}
}

func (c *core) traceEvent(event string, co *lua.LState, arg lua.LValue) {
	if c.trace == nil {
		return
	}
	c.loop.ProtectedCall(c.trace, lua.LString(event), co, arg)
}

// exited is the OnExit of every copas thread.
func (c *core) exited(t *scheduler.Task, err error, _ []lua.LValue) {
	if c.trace != nil {
		c.traceEvent("exit", t.Co, lua.LNil)
	}
	if td, ok := t.Data.(*threadData); ok && td.forever {
		c.lethargic--
	}
	if c.onExit == nil {
		return
	}
	if err == scheduler.ErrCancelled {
		c.notify(t.Co, lua.LNil, lua.LNil)
		return
	}
	if err != nil {
		c.report(t.Co, scheduler.ErrorValue(err))
		return
	}
	c.notify(t.Co, lua.LTrue, lua.LNil)
}

func (c *core) report(co lua.LValue, msg lua.LValue) { c.notify(co, lua.LFalse, msg) }

func (c *core) notify(co, ok, msg lua.LValue) {
	if _, e, ok := c.loop.ProtectedCall(c.onExit, co, ok, msg); !ok {
		// The Lua side already guards the user's handler; this is a bug
		// in the dispatcher itself and must not kill the loop.
		c.loop.ProtectedCall(c.L.GetGlobal("print"), lua.LString("copas: "+e.String()))
	}
}

// userYield handles a plain coroutine.yield reaching the dispatcher: as in
// Copas it is an error of that thread, which is dropped.
func (c *core) userYield(t *scheduler.Task, _ []lua.LValue) {
	t.Kill()
	c.exited(t, &lua.ApiError{Type: lua.ApiErrorRun, Object: lua.LString(
		"coroutine.yield was called without a resume first, user-code cannot yield to Copas")}, nil)
}
