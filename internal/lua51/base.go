package lua51

import (
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Install makes L's standard library behave as Lua 5.1's: it replaces the
// functions listed in the package comment and the loaders. Call it once,
// right after lua.NewState, before other modules wrap these functions.
func Install(L *lua.LState) {
	patchBase(L)
	patchLibrary(L)
	patchPatterns(L)
	installLoaders(L)
	installCPath(L)
	shapeLibrary(L)
}

func patchBase(L *lua.LState) {
	tbl := L.GetGlobal("table").(*lua.LTable)
	// gopher-lua's concat pushes every piece on the Lua stack: O(n²) or a
	// registry overflow for large tables.
	tbl.RawSetString("concat", L.NewFunction(tableConcat))
	// gopher-lua's remove shortens its array without clearing the slot, so
	// a removed value stays reachable (and weak tables cannot drop it).
	tbl.RawSetString("remove", L.NewFunction(tableRemove))
	L.GetGlobal("os").(*lua.LTable).RawSetString("clock", L.NewFunction(osClock))
	// Unbounded sizes would make the Go runtime abort the whole process
	// (out of memory) instead of raising a Lua error.
	L.GetGlobal("string").(*lua.LTable).RawSetString("rep", L.NewFunction(stringRep))
	L.SetGlobal("unpack", L.NewFunction(baseUnpack))
	L.SetGlobal("error", L.NewFunction(baseError))
	L.SetGlobal("print", L.NewFunction(basePrint))
	patchNumberFormatting(L)
	dbg := L.GetGlobal("debug").(*lua.LTable)
	dbg.RawSetString("traceback", L.NewFunction(tracebackWith(dbg.RawGetString("traceback").(*lua.LFunction).GFunction)))
	weakTables := &weakRegistry{}
	trackWeak(L, weakTables)
	L.SetGlobal("collectgarbage", L.NewFunction(func(L *lua.LState) int {
		return collectGarbage(L, weakTables)
	}))
}

func tableConcat(L *lua.LState) int {
	t := L.CheckTable(1)
	sep := optString(L, 2, "")
	i := optInt(L, 3, 1)
	j := t.Len()
	if L.GetTop() >= 4 && L.Get(4) != lua.LNil {
		j = checkInt(L, 4)
	}
	// The size first: an oversized result fails before it is allocated.
	size := 0
	for k := i; k <= j && size <= maxStringLen; k++ {
		switch v := t.RawGetInt(k).(type) {
		case lua.LString:
			size += len(v)
		case lua.LNumber:
			size += 24
		}
		if k < j {
			size += len(sep)
		}
	}
	if size > maxStringLen {
		L.Error(lua.LString("not enough memory"), 0)
	}
	var b strings.Builder
	b.Grow(size)
	for k := i; k <= j; k++ {
		switch v := t.RawGetInt(k).(type) {
		case lua.LString:
			b.WriteString(string(v))
		case lua.LNumber:
			b.WriteString(formatNumber(v))
		default:
			L.RaiseError("invalid value (%s) at index %d in table for 'concat'", v.Type().String(), k)
		}
		if k < j {
			b.WriteString(sep)
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// osClock returns the CPU time of the process, as C's clock() does
// (gopher-lua returns wall time since start).
func osClock(L *lua.LState) int {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		L.Push(lua.LNumber(0))
		return 1
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	L.Push(lua.LNumber(cpu.Seconds()))
	return 1
}

// collectGarbage maps Lua 5.1's options onto the Go collector; a full
// collection also clears dead entries of weak tables.
func collectGarbage(L *lua.LState, weakTables *weakRegistry) int {
	opt := optString(L, 1, "collect")
	switch opt {
	case "collect":
		weakTables.collect()
		L.Push(lua.LNumber(0))
	case "count":
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		L.Push(lua.LNumber(float64(ms.HeapAlloc) / 1024))
	case "step":
		weakTables.collect()
		L.Push(lua.LTrue)
	case "stop", "restart", "setpause", "setstepmul":
		L.Push(lua.LNumber(0))
	default:
		L.ArgError(1, "invalid option '"+opt+"'")
	}
	return 1
}

// tracebackWith fixes debug.traceback(thread, message, level), which
// gopher-lua rejects, and returns non-string messages untouched as LuaJIT
// and Lua 5.2 do (Copas' error handlers pass error tables through it).
func tracebackWith(orig lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		th, isThread := L.Get(1).(*lua.LState)
		msgIdx := 1
		if isThread {
			msgIdx = 2
		}
		msg := L.Get(msgIdx)
		switch msg.(type) {
		case *lua.LNilType, lua.LString, lua.LNumber:
		default:
			L.Push(msg)
			return 1
		}
		if !isThread {
			n := orig(L)
			if tb, ok := L.Get(-1).(lua.LString); ok && n == 1 {
				L.Replace(-1, lua.LString(cFrames(string(tb))))
			}
			return n
		}
		level := optInt(L, 3, 0)
		L.SetTop(0)
		L.Push(th)
		L.Push(lua.LNumber(level))
		orig(L)
		tb := cFrames(L.Get(-1).String())
		if msg != lua.LNil {
			tb = msg.String() + "\n" + tb
		}
		L.Push(lua.LString(tb))
		return 1
	}
}

// cFrames shows Go functions as Lua 5.1 shows C functions: "[C]:" where
// gopher-lua writes "[G]:".
func cFrames(tb string) string {
	return strings.ReplaceAll(tb, "\n\t[G]:", "\n\t[C]:")
}

// baseError is Lua 5.1's error: error() and error(nil) are allowed, and
// the level picks the frame whose position prefixes a string message.
func baseError(L *lua.LState) int {
	obj := L.Get(1)
	level := optInt(L, 2, 1)
	// gopher-lua's own level handling is off by one frame for level 2 and
	// up; Where(level) counts from the function that called error.
	if n, ok := obj.(lua.LNumber); ok && level > 0 {
		// lua_isstring is true for numbers: they get the position too.
		obj = lua.LString(formatNumber(n))
	}
	if msg, ok := obj.(lua.LString); ok && level > 0 {
		// pcall's worker frames stand in for Lua 5.1's C function pcall,
		// which has no position.
		if w := luaWhere(L, level); w != "" {
			obj = lua.LString(w + " " + string(msg))
		}
	}
	L.Error(obj, 0)
	return 0
}

// basePrint writes each line with one write call (gopher-lua makes one per
// argument), so lines of concurrent processes do not interleave and chatty
// servers make fewer syscalls.
func basePrint(L *lua.LState) int {
	var b strings.Builder
	top := L.GetTop()
	for i := 1; i <= top; i++ {
		if i > 1 {
			b.WriteByte('\t')
		}
		b.WriteString(printString(L, L.Get(i)))
	}
	b.WriteByte('\n')
	os.Stdout.WriteString(b.String())
	return 0
}

// tableRemove is Lua 5.1's table.remove.
func tableRemove(L *lua.LState) int {
	t := L.CheckTable(1)
	e := t.Len()
	pos := optInt(L, 2, e)
	if e == 0 || pos < 1 || pos > e {
		return 0
	}
	v := t.RawGetInt(pos)
	for ; pos < e; pos++ {
		t.RawSetInt(pos, t.RawGetInt(pos+1))
	}
	t.RawSetInt(e, lua.LNil)
	L.Push(v)
	return 1
}

// shimChunk names the chunk of the yield-safe pcall (scheduler/shim.lua).
const shimChunk = "[copas-lua coroutine shim]"

// maxStringLen bounds strings built from sizes a script chooses
// (string.rep, gsub, .., table.concat, file reads): far above what network
// programs need, far below what would exhaust memory.
const maxStringLen = 1 << 30

func stringRep(L *lua.LState) int {
	str := L.CheckString(1)
	n := checkInt(L, 2)
	if n <= 0 || len(str) == 0 {
		L.Push(lua.LString(""))
		return 1
	}
	if len(str) > maxStringLen/n {
		L.RaiseError("resulting string too large")
	}
	L.Push(lua.LString(strings.Repeat(str, n)))
	return 1
}

// maxUnpack bounds unpack's results (Lua 5.1 stops at its C stack size,
// 8000; gopher-lua's registry would grow until memory runs out).
const maxUnpack = 1 << 20

func baseUnpack(L *lua.LState) int {
	t := L.CheckTable(1)
	i := optInt(L, 2, 1)
	e := optInt(L, 3, t.Len())
	if L.Get(3) == lua.LNil {
		e = t.Len()
	}
	if i > e {
		return 0
	}
	n := e - i + 1
	if n <= 0 || n > maxUnpack {
		L.RaiseError("too many results to unpack")
	}
	for k := i; k <= e; k++ {
		L.Push(t.RawGetInt(k))
	}
	return n
}
