package scheduler

import (
	"context"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"go.uber.org/goleak"
)

// newTestLoop returns a loop with two Lua globals: spawn(fn, ...) starts a
// task and sleep(seconds) parks the calling task on a timer and returns
// "slept", seconds.
func newTestLoop(t *testing.T) *Loop {
	t.Helper()
	L := lua.NewState(lua.Options{CallStackSize: 256, MinimizeStackMemory: true, RegistrySize: 256, RegistryMaxSize: 1 << 20, RegistryGrowStep: 256})
	t.Cleanup(L.Close)
	l := New(L)
	L.SetGlobal("spawn", L.NewFunction(func(L *lua.LState) int {
		fn := L.CheckFunction(1)
		args := make([]lua.LValue, 0, L.GetTop()-1)
		for i := 2; i <= L.GetTop(); i++ {
			args = append(args, L.Get(i))
		}
		L.Push(l.Spawn(fn, args...).Co)
		return 1
	}))
	L.SetGlobal("sleep", l.WrapGo(func(L *lua.LState) int {
		d := float64(L.CheckNumber(1))
		return l.Yield(L, OpFunc(func(w Waiter) {
			l.AfterFunc(time.Duration(d*float64(time.Second)), func() {
				w.Resume(lua.LString("slept"), lua.LNumber(d))
			})
		}))
	}))
	return l
}

func run(t *testing.T, l *Loop, src string) {
	t.Helper()
	if err := l.L.DoString(src); err != nil {
		t.Fatalf("script: %v", err)
	}
	for i := 0; l.Pending(); i++ {
		if i > 100000 {
			t.Fatal("loop does not finish")
		}
		l.Step(time.Second)
	}
}

func TestSleepOrder(t *testing.T) {
	defer goleak.VerifyNone(t)
	l := newTestLoop(t)
	run(t, l, `
		out = {}
		spawn(function() local a, b = sleep(0.02); out[#out+1] = "b"..a..b end)
		spawn(function() local a, b, c, d = sleep(0.01); assert(c == nil and d == nil); out[#out+1] = "a"..a..b end)
	`)
	got := l.L.DoString(`assert(table.concat(out, ",") == "aslept0.01,bslept0.02" or error(table.concat(out, ",")))`)
	if got != nil {
		t.Fatal(got)
	}
}

func TestYieldSafety(t *testing.T) {
	l := newTestLoop(t)
	cases := []struct{ name, src string }{
		{"pcall yields", `local ok, a = pcall(sleep, 0); assert(ok and a == "slept", tostring(a))`},
		{"nested pcall", `local ok, ok2, a, b = pcall(pcall, function() return sleep(0) end); assert(ok and ok2 and a == "slept" and b == 0)`},
		{"pcall error after yield", `local ok, e = pcall(function() sleep(0); error({code=1}) end); assert(not ok and e.code == 1)`},
		{"pcall string error position", `local ok, e = pcall(function() sleep(0); error("boom") end); assert(not ok and e:find(":%d+: boom$"), e)`},
		{"xpcall handler", `local ok, e = xpcall(function() sleep(0); error("x", 0) end, function(m) return "H" .. m end); assert(not ok and e == "Hx", e)`},
		{"xpcall args", `local ok, a = xpcall(function(x) sleep(0) return x end, print, 7); assert(ok and a == 7)`},
		{"select count", `assert(select('#', pcall(function() end)) == 1)`},
		{"metamethod", `local t = setmetatable({}, {__index = function() return sleep(0) end}); local ok, e = pcall(function() return t.x end); assert(not ok and e:find("attempt to yield across metamethod/C%-call boundary"), e)`},
		{"iterator", `local ok, e = pcall(function() for x in function() return sleep(0) end do end end); assert(not ok and e:find("yield across"), e)`},
		{"sort", `local ok, e = pcall(table.sort, {3, 2, 1}, function(a, b) sleep(0) return a < b end); assert(not ok and e:find("yield across"), e)`},
		{"gsub", `local ok, e = pcall(string.gsub, "abc", "%w", function(c) coroutine.yield() end); assert(not ok and e:find("yield across"), e)`},
		{"generator with ops", `local g = coroutine.wrap(function() for i = 1, 3 do sleep(0); coroutine.yield(i * 10) end return "end" end)
			assert(g() == 10 and g() == 20 and g() == 30 and g() == "end")`},
		{"resume with fewer values", `local co = coroutine.create(function() local a, b, c = coroutine.yield(); return a, b, c end)
			coroutine.resume(co); local ok, a, b, c = coroutine.resume(co, 1); assert(ok and a == 1 and b == nil and c == nil)`},
		{"resume running", `local co; co = coroutine.create(function() return coroutine.resume(co) end); local ok, ok2, e = coroutine.resume(co); assert(ok and not ok2 and e == "cannot resume running coroutine", e)`},
		{"resume normal", `local outer; outer = coroutine.create(function() local inner = coroutine.create(function() return coroutine.resume(outer) end); return coroutine.resume(inner) end)
			local ok, ok2, ok3, e = coroutine.resume(outer); assert(ok and ok2 and not ok3 and e == "cannot resume normal coroutine", tostring(e))`},
		{"resume dead", `local co = coroutine.create(function() end); coroutine.resume(co); local ok, e = coroutine.resume(co); assert(not ok and e == "cannot resume dead coroutine")`},
		{"running inside pcall", `local me = coroutine.running(); local ok, inner = pcall(coroutine.running); assert(ok and inner == me)`},
		{"status inside pcall", `local me = coroutine.running(); local ok, st = pcall(coroutine.status, me); assert(ok and st == "running", st)`},
		{"user yield inside pcall in generator", `local g = coroutine.wrap(function() local ok, v = pcall(function() return coroutine.yield(1) + 1 end); return v end)
			assert(g() == 1 and g(41) == 42)`},
		{"many pcalls", `for i = 1, 2000 do local ok = pcall(error, "x"); assert(not ok) end for i = 1, 2000 do assert(pcall(sleep, 0)) end`},
		{"wrap error", `local g = coroutine.wrap(function() error("w", 0) end); local ok, e = pcall(g); assert(not ok and e == "w")`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "ok_ = false; spawn(function() " + c.src + "\n ok_ = true end)"
			var taskErr error
			l.TaskError = func(_ *Task, err error) { taskErr = err }
			run(t, l, src)
			if taskErr != nil {
				t.Fatalf("task error: %v", taskErr)
			}
			if l.L.GetGlobal("ok_") != lua.LTrue {
				t.Fatal("task did not complete")
			}
		})
	}
}

func TestMainThreadYield(t *testing.T) {
	l := newTestLoop(t)
	err := l.L.DoString(`coroutine.yield()`)
	if err == nil || !strings.Contains(err.Error(), "attempt to yield from outside a coroutine") {
		t.Fatalf("got %v", err)
	}
	if err := l.L.DoString(`local ok, e = pcall(coroutine.yield, 1); assert(not ok and e:find("outside a coroutine"), e)`); err != nil {
		t.Fatal(err)
	}
}

// Functions posted while posted functions run (from the loop itself and
// from other goroutines) all run exactly once.
func TestPostReentrant(t *testing.T) {
	defer goleak.VerifyNone(t)
	l := newTestLoop(t)
	const n = 2000
	ran := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < n; i++ {
			l.Post(func() {
				ran++
				l.Post(func() { ran++ })
			})
		}
	}()
	l.Hold()
	for ran < 2*n {
		l.Step(100 * time.Millisecond)
	}
	l.Release()
	<-done
	l.Step(0)
	if ran != 2*n {
		t.Fatalf("ran %d, want %d", ran, 2*n)
	}
}

// Run returns when its context is cancelled even while the loop waits for
// work that never comes.
func TestRunCancel(t *testing.T) {
	defer goleak.VerifyNone(t)
	l := newTestLoop(t)
	l.Hold() // something pending forever
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	if err := l.Run(ctx); err != context.Canceled {
		t.Fatalf("Run returned %v", err)
	}
	l.Release()
}
