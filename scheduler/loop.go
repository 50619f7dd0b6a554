// Package scheduler is the event loop of copas-lua: it owns one gopher-lua
// state, runs Lua coroutines as tasks, parks them on operations (timers, Go
// completions, readiness) and resumes them with the results.
//
// Goroutine contract: a Loop belongs to the goroutine that drives it (the one
// calling Step, Run and the Lua state). Only Post, Go's work function and
// Wake may be used from other goroutines; everything else must be called on
// the loop goroutine.
package scheduler

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	lua "github.com/yuin/gopher-lua"
)

// Loop is an event loop bound to one Lua state.
type Loop struct {
	L *lua.LState

	mu     sync.Mutex
	posted []func()
	spare  []func()
	wake   chan struct{}

	timers   timerHeap
	timerSeq uint64
	ready    []readyEntry
	readyAlt []readyEntry
	tasks    map[*lua.LState]*Task

	inflight  int // Go work started with Go and not yet completed
	parked    int // tasks parked on an operation
	holds     int // reasons to keep running that are not tasks (servers, …)
	extWakers int // >0 while Run waits for a context that may wake it

	pendingOp Op    // op of the sentinel yield currently travelling to Step
	current   *Task // task being resumed
	// resumeDepth counts coroutine resumes nested on the Go stack.
	resumeDepth int
	stepIO      bool // the last Step ran posted functions (I/O completions)

	sentinel *lua.LUserData
	now      func() time.Time

	// UserYield decides what happens when a task yields values that are
	// not a scheduler operation (a bare coroutine.yield reaching the
	// loop). The default requeues the task at once, resuming the yield
	// with no values. Called on the loop goroutine.
	UserYield func(t *Task, vals []lua.LValue)

	// WrapTask, if set, replaces the function a task runs when it is
	// spawned (the runtime wraps it to prepare the thread, see
	// lua51.TaskBody). Called on the loop goroutine.
	WrapTask func(fn *lua.LFunction) *lua.LFunction

	// TaskError is called on the loop goroutine when a task ends with a Lua
	// error (after the task's own OnExit). The default does nothing.
	TaskError func(t *Task, err error)

	// Notice receives the runtime's own one-line notices about trouble
	// it works around (an accepting server out of descriptors). Called
	// on the loop goroutine; nil writes "copas-lua: msg" to os.Stderr.
	Notice func(msg string)

	detached map[weak.Pointer[lua.LState]]*detached

	workers *workerSet
	// poller waits for descriptor readiness (WaitFD); nil until first
	// used. closePoll releases its descriptors.
	poller    *poller
	pollerRef atomic.Pointer[poller] // poller, for Wake on other goroutines
	closePoll func()
	stop      stopState
	wrapper   lua.LValue // Lua function building D2-safe wrappers
	pcall     lua.LValue
	xpcall    lua.LValue
	closed    bool
}

type readyEntry struct {
	t    *Task
	seq  uint64
	vals []lua.LValue
}

const loopKey = "copas-lua.scheduler.loop"

// StateOptions are the gopher-lua options a state driven by a Loop should
// use (coroutines inherit them): a growable registry and a call stack that
// grows and shrinks, so an idle coroutine costs about 5 KB instead of
// ~100 KB (defect D4 of gopher-lua 1.1.2). Each step of CallStackSize
// costs memory per coroutine; 1024 frames allows deep recursion.
var StateOptions = lua.Options{
	CallStackSize:       1024,
	MinimizeStackMemory: true,
	RegistrySize:        128, // gopher-lua silently uses 5120 below 128
	RegistryMaxSize:     1 << 22,
	RegistryGrowStep:    256,
}

// New creates a loop for L and installs the yield-safe coroutine and pcall
// functions into L (see InstallCoroutines). Must be called on the goroutine
// that owns L, before any Lua code runs.
func New(L *lua.LState) *Loop {
	l := &Loop{
		L:     L,
		wake:  make(chan struct{}, 1),
		tasks: make(map[*lua.LState]*Task),
		now:   time.Now,
	}
	l.sentinel = L.NewUserData()
	l.workers = newWorkerSet()
	l.UserYield = func(t *Task, _ []lua.LValue) { l.enqueue(t, t.seq, nil) }
	ud := L.NewUserData()
	ud.Value = l
	L.SetField(L.Get(lua.RegistryIndex), loopKey, ud)
	l.registerStop()
	l.installCoroutines()
	return l
}

// Of returns the loop installed in L (any coroutine of it), or nil. Must be
// called on the loop goroutine.
func Of(L *lua.LState) *Loop {
	if ud, ok := L.GetField(L.Get(lua.RegistryIndex), loopKey).(*lua.LUserData); ok {
		if l, ok := ud.Value.(*Loop); ok {
			return l
		}
	}
	return nil
}

// Notify reports msg through Notice (or to os.Stderr). Loop goroutine
// only.
func (l *Loop) Notify(msg string) {
	if l.Notice != nil {
		l.Notice(msg)
		return
	}
	fmt.Fprintf(os.Stderr, "copas-lua: %s\n", msg)
}

// Now returns the loop's clock. Loop goroutine only.
func (l *Loop) Now() time.Time { return l.now() }

// SetClock replaces the loop's clock (tests use a fake one). Loop goroutine
// only, before any timer is armed.
func (l *Loop) SetClock(now func() time.Time) { l.now = now }

// Post queues fn to run on the loop goroutine during a later Step, and wakes
// the loop if it is waiting. Safe to call from any goroutine, never blocks.
// Functions posted after Close are dropped.
func (l *Loop) Post(fn func()) {
	l.mu.Lock()
	l.posted = append(l.posted, fn)
	l.mu.Unlock()
	l.Wake()
}

// Wake interrupts a Step that is waiting. Safe from any goroutine.
func (l *Loop) Wake() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
	if p := l.pollerRef.Load(); p != nil {
		p.kick()
	}
}

// Go runs work on a new goroutine; the function work returns is then run on
// the loop goroutine. While work runs the loop counts it as pending, so
// Finished stays false. Must be called on the loop goroutine; work must not
// touch any Lua value.
func (l *Loop) Go(work func() func()) {
	l.inflight++
	go func() {
		done := work()
		l.Post(func() {
			l.inflight--
			if done != nil {
				done()
			}
		})
	}()
}

// Hold marks one more reason for the loop to keep running (a registered
// server, say). Loop goroutine only.
func (l *Loop) Hold() { l.holds++ }

// Release drops a Hold. Loop goroutine only.
func (l *Loop) Release() { l.holds-- }

// Holds is the number of Hold calls not yet released. Loop goroutine only.
func (l *Loop) Holds() int { return l.holds }

// Posted is the number of functions posted and not run yet. Safe from any
// goroutine.
func (l *Loop) Posted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.posted)
}

// Inflight is the number of Go operations started with Go that have not
// completed yet. Loop goroutine only.
func (l *Loop) Inflight() int { return l.inflight }

// Pending reports whether anything may still run: ready tasks, armed timers
// that are not marked idle, Go work in flight, holds or posted functions.
// Loop goroutine only.
func (l *Loop) Pending() bool {
	if len(l.ready) > 0 || l.inflight > 0 || l.holds > 0 || l.timers.Len() > 0 || l.WaitingFDs() > 0 {
		return true
	}
	l.mu.Lock()
	n := len(l.posted)
	l.mu.Unlock()
	return n > 0
}

// runPosted runs every function posted so far and reports whether any ran.
// Two buffers alternate: fns is never the slice Post appends to.
func (l *Loop) runPosted() bool {
	l.mu.Lock()
	fns := l.posted
	l.posted, l.spare = l.spare, nil
	l.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
	clear(fns)
	l.mu.Lock()
	l.spare = fns[:0]
	l.mu.Unlock()
	return len(fns) > 0
}

// Step runs one round of the loop: posted functions and completions, due
// timers, then every task that was ready at the start of the round, each
// resumed once. If nothing was ready it waits up to timeout (negative means
// no limit) for something to happen and runs that. It reports whether any
// work was done. Loop goroutine only; must not be called from inside a task.
func (l *Loop) Step(timeout time.Duration) bool {
	l.stepIO = false
	did := l.runOnce()
	if did {
		return true
	}
	if timeout == 0 {
		return false
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = l.now().Add(timeout)
	}
	for {
		wait := time.Duration(-1)
		if !deadline.IsZero() {
			wait = deadline.Sub(l.now())
			if wait <= 0 {
				return false
			}
		}
		if at, ok := l.timers.next(); ok {
			d := at.Sub(l.now())
			if d < 0 {
				d = 0
			}
			if wait < 0 || d < wait {
				wait = d
			}
		}
		if wait < 0 && !l.canWake() {
			return false // nothing could ever wake us
		}
		woken := l.waitFor(wait)
		if l.runOnce() {
			return true
		}
		if woken {
			return false // e.g. Run's context was cancelled
		}
	}
}

// canWake reports whether anything could post to the loop.
func (l *Loop) canWake() bool {
	return l.inflight > 0 || l.holds > 0 || l.extWakers > 0 || l.WaitingFDs() > 0
}

// waitFor waits up to d (negative: without limit) and reports whether a
// Wake ended the wait.
func (l *Loop) waitFor(d time.Duration) bool {
	if l.WaitingFDs() > 0 {
		woken, ran := l.pollFDs(d)
		if ran {
			l.stepIO = true
		}
		return woken
	}
	if d < 0 {
		<-l.wake
		return true
	}
	if d == 0 {
		select {
		case <-l.wake:
			return true
		default:
			return false
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-l.wake:
		return true
	case <-t.C:
		return false
	}
}

// runOnce does one non-blocking round and reports whether anything ran.
func (l *Loop) runOnce() bool {
	did := l.runPosted()
	if l.WaitingFDs() > 0 {
		if _, ran := l.pollFDs(0); ran {
			did = true
		}
	}
	if did {
		l.stepIO = true
	}
	if l.fireTimers() {
		did = true
	}
	if len(l.ready) == 0 {
		return did
	}
	batch := l.ready
	l.ready = l.readyAlt[:0]
	for i := range batch {
		e := batch[i]
		batch[i] = readyEntry{}
		if e.t.done || e.seq != e.t.seq {
			continue
		}
		l.resume(e.t, e.vals)
	}
	l.readyAlt = batch[:0]
	return true
}

// StepHadIO reports whether the last Step ran posted functions (the
// completions of I/O and other Go work), as opposed to only timers and
// ready tasks. Copas' step result means exactly that. Loop goroutine only.
func (l *Loop) StepHadIO() bool { return l.stepIO }

// Run steps the loop until ctx is done or nothing is pending. Loop goroutine
// only.
func (l *Loop) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, l.Wake)
	defer stop()
	for l.Pending() {
		if err := ctx.Err(); err != nil {
			return err
		}
		l.extWakers++
		l.Step(-1)
		l.extWakers--
	}
	return ctx.Err()
}

// Close marks the loop closed; later posts are still accepted but never run.
// Loop goroutine only.
func (l *Loop) Close() {
	l.closed = true
	l.closeStop()
	if l.closePoll != nil {
		l.pollerRef.Store(nil)
		l.closePoll()
		l.closePoll = nil
	}
}
