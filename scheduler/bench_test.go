package scheduler

import (
	"runtime"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

func benchLoop(b *testing.B) *Loop {
	L := lua.NewState(StateOptions)
	b.Cleanup(L.Close)
	l := New(L)
	L.SetGlobal("park", l.WrapGo(func(L *lua.LState) int {
		return l.Yield(L, OpFunc(func(w Waiter) {}))
	}))
	L.SetGlobal("sleep0", l.WrapGo(func(L *lua.LState) int {
		return l.Yield(L, OpFunc(func(w Waiter) { l.AfterFunc(0, func() { w.Resume() }) }))
	}))
	return l
}

// BenchmarkIdleCoroutineMemory reports the retained heap per task parked on
// an operation inside a small handler with live locals (target: ≤ 8 KB).
func BenchmarkIdleCoroutineMemory(b *testing.B) {
	const n = 10000
	for i := 0; i < b.N; i++ {
		l := benchLoop(b)
		if err := l.L.DoString(`handler = function(a, b) local x, y, z = a, b, {} ; park(); return x, y, z end`); err != nil {
			b.Fatal(err)
		}
		fn := l.L.GetGlobal("handler").(*lua.LFunction)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for j := 0; j < n; j++ {
			l.Spawn(fn, lua.LNumber(j), lua.LString("x"))
		}
		l.Step(0)
		runtime.GC()
		runtime.ReadMemStats(&after)
		if l.Tasks() != n {
			b.Fatalf("tasks = %d", l.Tasks())
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/coroutine")
		runtime.KeepAlive(l)
	}
}

// BenchmarkSleepZero is the full park/timer/resume path of one task.
func BenchmarkSleepZero(b *testing.B) {
	l := benchLoop(b)
	if err := l.L.DoString(`loop = function(n) for i = 1, n do sleep0() end end`); err != nil {
		b.Fatal(err)
	}
	l.Spawn(l.L.GetGlobal("loop").(*lua.LFunction), lua.LNumber(b.N))
	b.ResetTimer()
	for l.Pending() {
		l.Step(time.Second)
	}
}

// BenchmarkPcallInTask measures the yield-transparent pcall in a task.
func BenchmarkPcallInTask(b *testing.B) {
	l := benchLoop(b)
	if err := l.L.DoString(`loop = function(n) local f = function(x) return x end for i = 1, n do pcall(f, i) end end`); err != nil {
		b.Fatal(err)
	}
	l.Spawn(l.L.GetGlobal("loop").(*lua.LFunction), lua.LNumber(b.N))
	b.ResetTimer()
	for l.Pending() {
		l.Step(time.Second)
	}
}

// BenchmarkTimers100k arms 100k sleepers and fires them all.
func BenchmarkTimers100k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		l := benchLoop(b)
		now := time.Unix(0, 0)
		l.SetClock(func() time.Time { return now })
		fired := 0
		for j := 0; j < 100000; j++ {
			l.AfterFunc(time.Duration(j%1000)*time.Millisecond, func() { fired++ })
		}
		now = now.Add(2 * time.Second)
		l.Step(0)
		if fired != 100000 {
			b.Fatalf("fired %d", fired)
		}
	}
}
