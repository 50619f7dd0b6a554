package scheduler

import (
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"go.uber.org/goleak"
)

func taskErrors(l *Loop) *[]string {
	var errs []string
	l.TaskError = func(_ *Task, err error) { errs = append(errs, err.Error()) }
	return &errs
}

// A task spinning (even under pcall) runs out of budget and ends with
// ErrBudget; a sleeping task beside it finishes normally.
func TestBudgetStopsRunawayTask(t *testing.T) {
	defer goleak.VerifyNone(t)
	l := newTestLoop(t)
	l.SetBudget(200 * time.Millisecond)
	errs := taskErrors(l)
	run(t, l, `
		done = false
		spawn(function() while true do pcall(function() while true do end end) end end)
		spawn(function() for i = 1, 3 do sleep(0.01) end done = true end)
		spawn(function() local n = 0 for i = 1, 1e3 do n = n + i end sleep(0) ok2 = n end)`)
	if l.L.GetGlobal("done") != lua.LTrue || l.L.GetGlobal("ok2") == lua.LNil {
		t.Fatalf("other tasks did not finish: %q", *errs)
	}
	if len(*errs) != 1 || !strings.Contains((*errs)[0], ErrBudget) {
		t.Fatalf("task errors = %q", *errs)
	}
}

// StopTasks from another goroutine stops a spinning task; later tasks
// are stopped too until ClearInterrupt; the main thread is not.
func TestStopTasksFromOtherGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t)
	l := newTestLoop(t)
	errs := taskErrors(l)
	go func() {
		time.Sleep(30 * time.Millisecond)
		l.StopTasks("stopped by host")
	}()
	run(t, l, `spawn(function() local x = 0 while true do x = x + 1 end end)`)
	if len(*errs) != 1 || !strings.Contains((*errs)[0], "stopped by host") {
		t.Fatalf("task errors = %q", *errs)
	}
	run(t, l, `x = 0 for i = 1, 1000 do x = x + 1 end spawn(function() for i = 1, 10 do end end)`)
	if len(*errs) != 2 {
		t.Fatalf("a task resumed after StopTasks ran: %q", *errs)
	}
	l.ClearInterrupt()
	run(t, l, `spawn(function() for i = 1, 10 do end y = 1 end)`)
	if l.L.GetGlobal("y") != lua.LNumber(1) || len(*errs) != 2 {
		t.Fatalf("after ClearInterrupt: %q", *errs)
	}
}

// Task.Interrupt reaches a task that is running (spinning) and one that
// is parked, at its next resume.
func TestTaskInterrupt(t *testing.T) {
	defer goleak.VerifyNone(t)
	l := newTestLoop(t)
	errs := taskErrors(l)
	marked := make(chan *Task, 2)
	l.L.SetGlobal("mark", l.L.NewFunction(func(L *lua.LState) int {
		marked <- l.Current()
		return 0
	}))
	go func() {
		a, b := <-marked, <-marked
		time.Sleep(30 * time.Millisecond)
		a.Interrupt("bye")
		b.Interrupt("bye")
	}()
	run(t, l, `
		spawn(function() mark("sleep") sleep(0.1) while true do end end)
		spawn(function() mark("spin") while true do end end)`)
	if len(*errs) != 2 || !strings.Contains((*errs)[0], "bye") || !strings.Contains((*errs)[1], "bye") {
		t.Fatalf("task errors = %q", *errs)
	}
}

// InterruptAll stops Lua on the main thread too.
func TestInterruptAll(t *testing.T) {
	l := newTestLoop(t)
	go func() {
		time.Sleep(30 * time.Millisecond)
		l.InterruptAll("closing")
	}()
	err := l.L.DoString(`while true do end`)
	if err == nil || !strings.Contains(err.Error(), "closing") {
		t.Fatalf("err = %v", err)
	}
	l.ClearInterrupt()
	if err := l.L.DoString(`for i = 1, 10 do end`); err != nil {
		t.Fatal(err)
	}
}
