package scheduler

import (
	"runtime"
	"weak"

	lua "github.com/yuin/gopher-lua"
)

// A parked task that only an explicit wakeup can resume (copas'
// pauseforever) must not be kept alive by the loop: in Copas such a thread
// is garbage once the program drops its coroutine. Detach hands the task's
// coroutine over to the Lua heap: the loop keeps only a weak reference
// until Attach (with the coroutine itself) takes it back.

type detached struct {
	t       *Task
	cleanup runtime.Cleanup
}

// Detach stops the loop from holding t's coroutine. t must be parked.
// If the coroutine becomes unreachable, gone runs on the loop goroutine
// and the task is dropped without running again. Loop goroutine only.
func (t *Task) Detach(gone func()) {
	if t.done || !t.parked || t.Co == nil {
		return
	}
	l := t.loop
	co := t.Co
	wp := weak.Make(co)
	delete(l.tasks, co)
	t.Co = nil
	if l.detached == nil {
		l.detached = make(map[weak.Pointer[lua.LState]]*detached)
	}
	d := &detached{t: t}
	d.cleanup = runtime.AddCleanup(co, func(wp weak.Pointer[lua.LState]) {
		l.Post(func() {
			if d, ok := l.detached[wp]; ok {
				delete(l.detached, wp)
				d.t.Kill()
				if gone != nil {
					gone()
				}
			}
		})
	}, wp)
	l.detached[wp] = d
}

// attach returns the detached task of co, registered with the loop again.
func (l *Loop) attach(co *lua.LState) *Task {
	if len(l.detached) == 0 {
		return nil
	}
	wp := weak.Make(co)
	d, ok := l.detached[wp]
	if !ok {
		return nil
	}
	delete(l.detached, wp)
	d.cleanup.Stop()
	d.t.Co = co
	l.tasks[co] = d.t
	return d.t
}

// Detached is the number of tasks handed over with Detach that are still
// alive. Loop goroutine only.
func (l *Loop) Detached() int { return len(l.detached) }

// DropDetached kills every detached task. Loop goroutine only.
func (l *Loop) DropDetached() {
	for wp, d := range l.detached {
		d.cleanup.Stop()
		d.t.Kill()
		delete(l.detached, wp)
	}
}
