package scheduler

import (
	_ "embed"
	"github.com/copas-lua/copas-lua/internal/rewrite"
	"runtime"
	"strings"
	"sync"
	"weak"

	lua "github.com/yuin/gopher-lua"
)

//go:embed shim.lua
var shimSource string

// workerSet remembers which coroutines are pcall workers, without keeping
// them alive: a worker abandoned inside a suspended pcall must be collected
// like any other coroutine.
type workerSet struct {
	mu sync.Mutex
	m  map[weak.Pointer[lua.LState]]struct{}
}

func newWorkerSet() *workerSet {
	return &workerSet{m: make(map[weak.Pointer[lua.LState]]struct{})}
}

func (s *workerSet) add(th *lua.LState) {
	wp := weak.Make(th)
	s.mu.Lock()
	s.m[wp] = struct{}{}
	s.mu.Unlock()
	runtime.AddCleanup(th, func(wp weak.Pointer[lua.LState]) {
		s.mu.Lock()
		delete(s.m, wp)
		s.mu.Unlock()
	}, wp)
}

func (s *workerSet) has(th *lua.LState) bool {
	s.mu.Lock()
	_, ok := s.m[weak.Make(th)]
	s.mu.Unlock()
	return ok
}

// logical returns the coroutine Lua code in th believes it runs in: pcall
// workers are invisible.
func (l *Loop) logical(th *lua.LState) *lua.LState {
	for th.Parent != nil && l.workers.has(th) {
		th = th.Parent
	}
	return th
}

// maxResumeDepth bounds coroutines resumed inside one another (pcall and
// coroutine.wrap count too, as each runs on a coroutine). Every level is
// Go recursion; unbounded, a runaway script would exhaust the Go stack and
// kill the process. Lua 5.1's C-call limit is the same 200.
const maxResumeDepth = 200

// Wrap returns a Lua function that calls fn with its arguments and returns
// all of fn's results, placing the call in multiple-results position. Every
// Go function that may Yield must be exposed to Lua through Wrap (defect
// D2: a coroutine resumed with fewer values than its call site expects
// leaves invalid registers). Loop goroutine only.
func (l *Loop) Wrap(fn lua.LValue) *lua.LFunction {
	L := l.L
	L.Push(l.wrapper)
	L.Push(fn)
	L.Call(1, 1)
	f := L.Get(-1).(*lua.LFunction)
	L.Pop(1)
	return f
}

// WrapGo is Wrap for a Go function. Loop goroutine only.
func (l *Loop) WrapGo(fn lua.LGFunction) *lua.LFunction {
	return l.Wrap(l.L.NewFunction(fn))
}

func (l *Loop) installCoroutines() {
	L := l.L
	co, ok := L.GetGlobal("coroutine").(*lua.LTable)
	if !ok {
		co = L.NewTable()
		L.SetGlobal("coroutine", co)
		lua.OpenCoroutine(L)
		co = L.GetGlobal("coroutine").(*lua.LTable)
	}
	rawResume := co.RawGetString("resume").(*lua.LFunction).GFunction
	rawCreate := co.RawGetString("create")
	rawYield := co.RawGetString("yield")

	wrapperSrc := "local pass = function(...) return ... end\n" +
		"return function(f) return function(...) return pass(f(...)) end end"
	mk, err := L.LoadString(wrapperSrc)
	if err != nil {
		panic(err)
	}
	L.Push(mk)
	L.Call(0, 1)
	l.wrapper = L.Get(-1)
	L.Pop(1)

	gyield := L.NewFunction(func(L *lua.LState) int {
		if msg := yieldError(L); msg != "" {
			L.RaiseError("%s", msg)
		}
		return -1 // yield every argument
	})
	canYield := L.NewFunction(func(L *lua.LState) int {
		if msg := yieldError(L); msg != "" {
			L.Push(lua.LFalse)
			L.Push(lua.LString(msg))
			return 2
		}
		L.Push(lua.LTrue)
		return 1
	})
	resume := L.NewFunction(func(L *lua.LState) int {
		th := L.CheckThread(1)
		msg := l.resumeError(L, th)
		if msg == "" && l.resumeDepth >= maxResumeDepth {
			msg = "C stack overflow"
		}
		if msg != "" {
			L.Push(lua.LFalse)
			L.Push(lua.LString(msg))
			return 2
		}
		l.resumeDepth++
		defer func() { l.resumeDepth-- }()
		return rawResume(L)
	})
	newWorker := L.NewFunction(func(L *lua.LState) int {
		L.Push(rawCreate)
		L.Push(L.CheckFunction(1))
		L.Call(1, 1)
		l.workers.add(L.CheckThread(-1))
		return 1
	})

	fn, err := rewrite.Load(L, strings.NewReader(shimSource), ShimSource)
	if err != nil {
		panic(err)
	}
	L.Push(fn)
	L.Push(l.sentinel)
	L.Push(gyield)
	L.Push(canYield)
	L.Push(resume)
	L.Push(newWorker)
	L.Push(rawYield)
	L.Push(rawCreate)
	L.Call(7, 5)
	ypcall, yxpcall, coResume, coWrap, coYield := L.Get(-5), L.Get(-4), L.Get(-3), L.Get(-2), L.Get(-1)
	L.Pop(5)

	l.pcall, l.xpcall = ypcall, yxpcall
	L.SetGlobal("pcall", ypcall)
	L.SetGlobal("xpcall", yxpcall)
	co.RawSetString("resume", coResume)
	co.RawSetString("wrap", coWrap)
	co.RawSetString("yield", coYield)
	co.RawSetString("running", L.NewFunction(func(L *lua.LState) int {
		th := l.logical(L)
		if th == L.G.MainThread {
			L.Push(lua.LNil)
		} else {
			L.Push(th)
		}
		return 1
	}))
	co.RawSetString("status", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(l.status(L, L.CheckThread(1))))
		return 1
	}))
}

// PCall returns the yield-transparent pcall installed as a global (the
// coxpcall module exposes it). Loop goroutine only.
func (l *Loop) PCall() lua.LValue { return l.pcall }

// XPCall returns the yield-transparent xpcall installed as a global.
// Loop goroutine only.
func (l *Loop) XPCall() lua.LValue { return l.xpcall }

// Running returns coroutine.running as Lua sees it from L (pcall workers
// are invisible); nil for the main thread. Loop goroutine only.
func (l *Loop) Running(L *lua.LState) *lua.LState {
	th := l.logical(L)
	if th == L.G.MainThread {
		return nil
	}
	return th
}

func (l *Loop) status(L *lua.LState, th *lua.LState) string {
	if th.Dead {
		return "dead"
	}
	cur := l.logical(L)
	if th == cur {
		return "running"
	}
	for p := cur.Parent; p != nil; p = p.Parent {
		if p == th {
			return "normal"
		}
	}
	if th == L.G.MainThread {
		return "normal"
	}
	return "suspended"
}

// resumeError returns Lua 5.1's refusal for resuming th from L, or "".
// Resuming an active coroutine would recurse without bound in gopher-lua
// (defect D3), and a task parked by the loop belongs to the loop.
func (l *Loop) resumeError(L *lua.LState, th *lua.LState) string {
	if th.Dead {
		return "cannot resume dead coroutine"
	}
	if th == L {
		return "cannot resume running coroutine"
	}
	for p := L.Parent; p != nil; p = p.Parent {
		if p == th {
			if l.workers.has(L) && l.logical(L) == th {
				return "cannot resume running coroutine"
			}
			return "cannot resume normal coroutine"
		}
	}
	if th == L.G.MainThread {
		return "cannot resume non-suspended coroutine"
	}
	if t := l.TaskOf(th); t != nil && t.Co == th && (t.parked || !t.started) {
		return "cannot resume non-suspended coroutine"
	}
	return ""
}

// ProtectedCall calls fn(args...) on the loop goroutine through the
// yield-safe pcall and returns its results, or ok == false and the error
// value. Go code must use it instead of L.PCall on the main thread:
// gopher-lua's PCall closes every open upvalue of the thread when it
// catches an error, which cuts the running main chunk's closures loose.
// Loop goroutine only; not from inside a task's own Go function.
func (l *Loop) ProtectedCall(fn lua.LValue, args ...lua.LValue) (rets []lua.LValue, errValue lua.LValue, ok bool) {
	L := l.L
	top := L.GetTop()
	L.Push(l.pcall)
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	L.Call(len(args)+1, lua.MultRet)
	n := L.GetTop() - top
	ok = n > 0 && L.Get(top+1) == lua.LTrue
	if ok {
		for i := top + 2; i <= L.GetTop(); i++ {
			rets = append(rets, L.Get(i))
		}
	} else if n > 1 {
		errValue = L.Get(top + 2)
	} else {
		errValue = lua.LNil
	}
	L.SetTop(top)
	return rets, errValue, ok
}

// ShimSource is the chunk name of the Lua half of the yield-transparent
// pcall/xpcall. A function they call sees a frame of it as its caller,
// where Lua 5.1 has the C function pcall: error positions (luaL_where)
// must skip it.
const ShimSource = "=[copas-lua coroutine shim]"
