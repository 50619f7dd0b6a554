package scheduler

import (
	"errors"
	"fmt"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"
)

// Task is a Lua coroutine run by the loop. All methods are loop goroutine
// only, except Interrupt.
type Task struct {
	loop    *Loop
	Co      *lua.LState // the coroutine
	fn      *lua.LFunction
	started bool
	done    bool
	parked  bool
	running bool   // being resumed (it, or a task it resumed, runs now)
	seq     uint64 // bumped each time the task parks or is resumed
	cancel  func() // cancels the op the task is parked on
	// cancelled asks the running task to be dropped at its next yield.
	cancelled bool
	// stopMsg, set by Interrupt on any goroutine, interrupts every
	// resume of the task.
	stopMsg atomic.Pointer[string]

	// Data is free for the owner of the task (the copas module keeps its
	// per-thread record here).
	Data any

	// OnExit runs when the task ends: err is nil on a normal return (rets
	// holds the return values) and a *lua.ApiError on a Lua error.
	OnExit func(t *Task, err error, rets []lua.LValue)
}

// Op is an operation a task waits for. Start is called on the loop
// goroutine when the task's yield reaches the scheduler; the op must later
// call w.Resume exactly once (directly or from a posted function), unless
// the task is cancelled first.
type Op interface {
	Start(w Waiter)
}

// OpFunc adapts a function to Op.
type OpFunc func(w Waiter)

// Start calls f(w).
func (f OpFunc) Start(w Waiter) { f(w) }

// Waiter resumes one parked task once. It is stale (and Resume a no-op)
// once the task was resumed by someone else, removed or ended.
// Its methods are loop goroutine only.
type Waiter struct {
	t   *Task
	seq uint64
}

// Task returns the waiting task.
func (w Waiter) Task() *Task { return w.t }

// Valid reports whether Resume would still resume the task.
func (w Waiter) Valid() bool { return w.t != nil && !w.t.done && w.t.parked && w.t.seq == w.seq }

// Resume makes the task ready; at its next turn the yielding call returns
// vals. It reports false if the waiter was stale. Loop goroutine only.
func (w Waiter) Resume(vals ...lua.LValue) bool {
	if !w.Valid() {
		return false
	}
	t := w.t
	t.parked = false
	t.loop.parked--
	t.cancel = nil
	t.seq++
	t.loop.enqueue(t, t.seq, vals)
	return true
}

// OnCancel registers fn to run if the task is woken or removed while
// parked on this op (to stop timers or I/O). Loop goroutine only.
func (w Waiter) OnCancel(fn func()) {
	if w.Valid() {
		w.t.cancel = fn
	}
}

func (l *Loop) enqueue(t *Task, seq uint64, vals []lua.LValue) {
	l.ready = append(l.ready, readyEntry{t: t, seq: seq, vals: vals})
}

// Spawn creates a task running fn(args...) and makes it ready. Loop
// goroutine only.
func (l *Loop) Spawn(fn *lua.LFunction, args ...lua.LValue) *Task {
	co, _ := l.L.NewThread()
	if l.WrapTask != nil {
		fn = l.WrapTask(fn)
	}
	t := &Task{loop: l, Co: co, fn: fn}
	l.tasks[co] = t
	l.enqueue(t, t.seq, args)
	return t
}

// EachTask calls fn for every live task. fn may kill tasks. Loop goroutine
// only.
func (l *Loop) EachTask(fn func(t *Task)) {
	all := make([]*Task, 0, len(l.tasks))
	for _, t := range l.tasks {
		all = append(all, t)
	}
	for _, t := range all {
		fn(t)
	}
}

// Parked is the number of tasks waiting on an operation. Loop goroutine
// only.
func (l *Loop) Parked() int { return l.parked }

// Ready is the number of tasks queued to resume in the next round. Loop
// goroutine only.
func (l *Loop) Ready() int {
	n := 0
	for _, e := range l.ready {
		if !e.t.done && e.seq == e.t.seq {
			n++
		}
	}
	return n
}

// Tasks is the number of live tasks. Loop goroutine only.
func (l *Loop) Tasks() int { return len(l.tasks) }

// Done reports whether the task has ended.
func (t *Task) Done() bool { return t.done }

// Parked reports whether the task waits on an operation.
func (t *Task) Parked() bool { return t.parked }

// State says what the task is doing, for diagnostics: "running" (it is
// being resumed now), "parked" (it waits on an operation), "ready" (it
// waits for its turn to run), or "dead".
func (t *Task) State() string {
	switch {
	case t.done:
		return "dead"
	case t.running:
		return "running"
	case t.parked:
		return "parked"
	}
	return "ready"
}

// Wake cancels the operation the task is parked on and resumes it with
// vals. It reports false if the task was not parked.
func (t *Task) Wake(vals ...lua.LValue) bool {
	if t.done || !t.parked {
		return false
	}
	if c := t.cancel; c != nil {
		t.cancel = nil
		c()
	}
	return Waiter{t, t.seq}.Resume(vals...)
}

// ErrCancelled is the error OnExit receives for a task cancelled with
// Cancel while it was running.
var ErrCancelled = errors.New("cancelled")

// Cancel ends the task. A parked or ready task is killed at once (OnExit is
// not called) and Cancel reports true. The running task itself goes on
// until it next parks or yields and is dropped there (OnExit gets
// ErrCancelled); if it ends first, it ends normally. Cancel then reports
// false.
func (t *Task) Cancel() bool {
	if t.done {
		return false
	}
	if t.loop.current == t {
		t.cancelled = true
		return false
	}
	t.Kill()
	return true
}

// Kill ends the task without running it again: a parked op is cancelled,
// a pending resume dropped. OnExit is not called.
func (t *Task) Kill() {
	if t.done {
		return
	}
	if c := t.cancel; c != nil {
		t.cancel = nil
		c()
	}
	t.finish()
}

func (t *Task) finish() {
	if t.parked {
		t.loop.parked--
	}
	t.done = true
	t.parked = false
	t.seq++
	if t.Co != nil {
		delete(t.loop.tasks, t.Co)
	}
}

// TaskOf returns the task that L runs in: L itself or the nearest resumer
// that is a task. Nil means L is not inside any task (plain LuaSocket
// semantics: block). Loop goroutine only.
func (l *Loop) TaskOf(L *lua.LState) *Task {
	for th := L; th != nil; th = th.Parent {
		if t, ok := l.tasks[th]; ok {
			return t
		}
	}
	// A detached task is parked, so it can only be asked for by its
	// coroutine itself (copas.wakeup(co)).
	return l.attach(L)
}

// Current returns the task whose coroutine is running now, or nil.
func (l *Loop) Current() *Task { return l.TaskOf(l.L.G.CurrentThread) }

// errNotYieldable is what Lua 5.1 says for a yield it cannot perform.
const errNotYieldable = "attempt to yield across metamethod/C-call boundary"

// ErrOutsideCoroutine is Lua 5.1's message for a yield from the main thread.
const errOutsideCoroutine = "attempt to yield from outside a coroutine"

// Yield parks the task L runs in on op: it must be the return statement of
// an LGFunction (`return loop.Yield(L, op)`), and that function must be
// called from Lua in multiple-results position (see Wrap) so that resuming
// with fewer values cannot corrupt the caller (defect D2). If the yield
// cannot be performed (no task, or a C-call boundary in between) it raises
// the Lua 5.1 error. Loop goroutine only.
func (l *Loop) Yield(L *lua.LState, op Op) int {
	if msg := yieldError(L); msg != "" {
		L.RaiseError("%s", msg)
	}
	l.pendingOp = op
	return L.Yield(l.sentinel)
}

// CanPark reports whether L may Yield now: it runs inside a task and no
// C-call boundary is in the way. Loop goroutine only.
func (l *Loop) CanPark(L *lua.LState) bool {
	return l.TaskOf(L) != nil && yieldError(L) == ""
}

func yieldError(L *lua.LState) string {
	if L.Parent == nil {
		return errOutsideCoroutine
	}
	if !yieldable() {
		return errNotYieldable
	}
	return ""
}

// resume runs t until it parks, yields or ends.
func (l *Loop) resume(t *Task, vals []lua.LValue) {
	var fn *lua.LFunction
	if !t.started {
		t.started = true
		fn = t.fn
		t.fn = nil
	}
	l.pendingOp = nil
	prev := l.current
	l.current = t
	l.beginResume(t)
	t.running = true
	st, err, rets := l.L.Resume(t.Co, fn, vals...)
	t.running = false
	l.endResume(prev)
	l.current = prev
	if st == lua.ResumeYield && t.cancelled && !t.done {
		l.pendingOp = nil
		t.finish()
		if t.OnExit != nil {
			t.OnExit(t, ErrCancelled, nil)
		}
		return
	}
	if t.done {
		// Killed while it ran (copas.cancelall from inside a thread).
		l.pendingOp = nil
		return
	}
	switch st {
	case lua.ResumeYield:
		if len(rets) > 0 && rets[0] == l.sentinel && l.pendingOp != nil {
			op := l.pendingOp
			l.pendingOp = nil
			t.parked = true
			l.parked++
			t.seq++
			op.Start(Waiter{t, t.seq})
			return
		}
		t.seq++
		l.UserYield(t, rets)
	case lua.ResumeOK:
		t.finish()
		if t.OnExit != nil {
			t.OnExit(t, nil, rets)
		}
	default:
		t.finish()
		if err == nil {
			err = errors.New("unknown error")
		}
		if t.OnExit != nil {
			t.OnExit(t, err, nil)
		}
		if l.TaskError != nil {
			l.TaskError(t, err)
		}
	}
}

// Requeue makes a task that yielded to the loop with a non-operation yield
// ready again, resuming it with vals. Loop goroutine only.
func (t *Task) Requeue(vals ...lua.LValue) {
	if !t.done {
		t.loop.enqueue(t, t.seq, vals)
	}
}

// ErrorValue returns the Lua value of a task error.
func ErrorValue(err error) lua.LValue {
	var ae *lua.ApiError
	if errors.As(err, &ae) && ae.Object != nil {
		return ae.Object
	}
	if err == nil {
		return lua.LNil
	}
	return lua.LString(fmt.Sprint(err))
}
