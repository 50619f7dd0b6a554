package scheduler

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/copas-lua/copas-lua/internal/interrupt"
	lua "github.com/yuin/gopher-lua"
)

// Stopping Lua code that does not yield. The loop numbers its slices:
// each resume of a task is one, and so is each stretch between resumes
// (the loop's own Go code, and Lua run on the main thread). An
// interrupt request names one slice; the Lua code of that slice raises
// the request's error at every jump or call (internal/interrupt) until
// the slice ends, so a pcall that catches the error cannot keep the slice
// alive: the thread unwinds to its end and ends with that error. Later
// slices run normally. The VM consults the loop only while a request is
// pending somewhere in the process; otherwise the cost is one atomic load
// per jump or call.

type stopState struct {
	slice   atomic.Uint64 // current slice number
	reqGen  atomic.Uint64 // slice to interrupt, 0: none
	reqMsg  atomic.Pointer[string]
	all     atomic.Pointer[string] // InterruptAll: every slice
	tasks   atomic.Pointer[string] // StopTasks: every task slice
	running atomic.Pointer[Task]   // task of the current odd slice

	budget   time.Duration // per-resume limit, 0: none (loop goroutine)
	mu       sync.Mutex
	timer    *time.Timer
	timerGen uint64 // slice the budget timer watches (mu)
}

// ErrBudget is the message a task gets when it runs longer than the
// loop's budget (SetBudget) without yielding.
const ErrBudget = "thread exceeded its CPU budget without yielding"

func (l *Loop) registerStop() {
	l.stop.slice.Store(2)
	interrupt.Register(l.L.G, l.check)
}

// check runs inside the VM (internal/interrupt), on the loop goroutine.
// The yield-safe pcall's own Lua code is never interrupted: Go's
// ProtectedCall relies on it to catch the error of the function it runs.
func (l *Loop) check(L *lua.LState) {
	s := &l.stop
	msg := s.all.Load()
	if msg == nil {
		if g := s.reqGen.Load(); g != 0 && g == s.slice.Load() {
			if msg = s.reqMsg.Load(); msg == nil {
				msg = new(string)
				*msg = "interrupted"
			}
		}
	}
	if msg != nil && !inShim(L) {
		L.RaiseError("%s", *msg)
	}
}

// inShim reports whether L runs a function of shim.lua.
func inShim(L *lua.LState) bool {
	dbg, ok := L.GetStack(0)
	if !ok {
		return false
	}
	f, err := L.GetInfo("f", dbg, lua.LNil)
	fn, _ := f.(*lua.LFunction)
	return err == nil && fn != nil && fn.Proto != nil && fn.Proto.SourceName == ShimSource
}

func (l *Loop) request(gen uint64, msg string) {
	l.stop.reqMsg.Store(&msg)
	if l.stop.reqGen.Swap(gen) == 0 {
		interrupt.Arm()
	}
}

// dropStale clears a request for a slice other than the current one.
func (l *Loop) dropStale() {
	s := &l.stop
	if g := s.reqGen.Load(); g != 0 && g != s.slice.Load() {
		if s.reqGen.CompareAndSwap(g, 0) {
			interrupt.Disarm()
		}
	}
}

// beginResume starts the odd slice of resuming t. The stores come before
// the loads of the stop flags, and the requesters store their flag
// before loading the slice: one side always sees the other.
func (l *Loop) beginResume(t *Task) {
	s := &l.stop
	g := s.slice.Add(1)
	s.running.Store(t)
	l.dropStale()
	if m := s.tasks.Load(); m != nil {
		l.request(g, *m)
	} else if m := t.stopMsg.Load(); m != nil {
		l.request(g, *m)
	}
	if s.budget > 0 {
		s.mu.Lock()
		s.timerGen = g
		if s.timer == nil {
			s.timer = time.AfterFunc(s.budget, l.budgetExpired)
		} else {
			s.timer.Reset(s.budget)
		}
		s.mu.Unlock()
	}
}

func (l *Loop) endResume(prev *Task) {
	s := &l.stop
	if s.budget > 0 {
		s.mu.Lock()
		s.timer.Stop()
		s.timerGen = 0
		s.mu.Unlock()
	}
	s.running.Store(prev)
	s.slice.Add(1)
	l.dropStale()
}

func (l *Loop) budgetExpired() {
	s := &l.stop
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timerGen != 0 && s.timerGen == s.slice.Load() {
		l.request(s.timerGen, ErrBudget)
	}
}

// SetBudget limits how long a task may run without yielding: a task
// still running d after it was resumed gets the Lua error ErrBudget at
// its next jump or call, and again at every one until its resume ends,
// so it ends with that error (a pcall inside it cannot absorb it) while
// the other tasks go on. The time is wall-clock time of the loop
// goroutine during the resume; Go functions called from Lua are not
// interrupted while they run. Zero (the default) means no limit; the cost
// with a budget is one timer reset per resume. Loop goroutine only.
func (l *Loop) SetBudget(d time.Duration) { l.stop.budget = max(d, 0) }

// Budget returns the limit set with SetBudget. Loop goroutine only.
func (l *Loop) Budget() time.Duration { return l.stop.budget }

// StopTasks interrupts the task running now and every task resumed
// later, with the Lua error msg, until ClearInterrupt: their code raises
// msg at every jump or call while they run. Lua code outside tasks (the
// main thread) is not affected. Safe from any goroutine.
func (l *Loop) StopTasks(msg string) {
	l.stop.tasks.Store(&msg)
	l.interruptRunning(nil, msg)
}

// Interrupt makes t raise the Lua error msg whenever it runs, from its
// next jump or call on, until it ends: now if it is running, else at its
// next resume. Safe from any goroutine.
func (t *Task) Interrupt(msg string) {
	t.stopMsg.Store(&msg)
	t.loop.interruptRunning(t, msg)
}

func (l *Loop) interruptRunning(want *Task, msg string) {
	s := &l.stop
	g := s.slice.Load()
	cur := s.running.Load()
	if cur == nil || (want != nil && cur != want) || s.slice.Load() != g {
		return
	}
	l.request(g, msg)
}

// InterruptAll makes all Lua code of the loop's state, in tasks and on
// the main thread, raise msg at every jump or call until ClearInterrupt.
// Safe from any goroutine.
func (l *Loop) InterruptAll(msg string) {
	if l.stop.all.Swap(&msg) == nil {
		interrupt.Arm()
	}
}

// ClearInterrupt ends InterruptAll and StopTasks and drops a pending
// request for the running slice. Safe from any goroutine.
func (l *Loop) ClearInterrupt() {
	s := &l.stop
	if s.all.Swap(nil) != nil {
		interrupt.Disarm()
	}
	s.tasks.Store(nil)
	if s.reqGen.Swap(0) != 0 {
		interrupt.Disarm()
	}
}

// Interrupted reports whether InterruptAll is in force. Safe from any
// goroutine.
func (l *Loop) Interrupted() bool { return l.stop.all.Load() != nil }

func (l *Loop) closeStop() {
	s := &l.stop
	s.mu.Lock()
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timerGen = 0
	s.mu.Unlock()
	l.ClearInterrupt()
	interrupt.Unregister(l.L.G)
}
