package socket

import (
	"errors"
	"github.com/copas-lua/copas-lua/internal/rewrite"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

// misc.go: socket.gettime, sleep, skip, newtry, protect and the version
// fields of socket.core.

func init() { setupCore = append(setupCore, setupMisc) }

// miscVersion is what the installed reference (LuaSocket 3.1.0 as packaged)
// reports as socket._VERSION.
const miscVersion = "LuaSocket 3.0.0"

// miscExceptLua builds newtry and protect. They are Lua so that a try's
// finalizer and a protected function may yield (Copas threads do socket
// I/O in both); protect is built on the loop's yield-safe pcall. A try
// error is a table {err} carrying a private metatable; protect turns it
// back into nil, err and re-raises anything else unchanged.
const miscExceptLua = `
local pcall, error, select, setmetatable, isexc = ...
local exc = {__metatable = false}
local function nothing() end

local function newtry(finalizer)
  if finalizer == nil then finalizer = nothing end
  return function(ok, ...)
    if ok then return ok, ... end
    finalizer()
    error(setmetatable({(select(1, ...))}, exc), 0)
  end
end

local function finish(ok, ...)
  if ok then return ... end
  local e = ...
  if isexc(e, exc) then return nil, e[1] end
  error(e, 0)
end

local function protect(f)
  return function(...) return finish(pcall(f, ...)) end
end

return newtry, protect
`

func setupMisc(L *lua.LState, loop *scheduler.Loop, mod *lua.LTable) {
	mod.RawSetString("_VERSION", lua.LString(miscVersion))
	mod.RawSetString("gettime", L.NewFunction(miscGettime))
	mod.RawSetString("skip", L.NewFunction(miscSkip))
	mod.RawSetString("__unload", L.NewFunction(func(*lua.LState) int { return 0 }))
	mod.RawSetString("sleep", loop.WrapGo(func(L *lua.LState) int { return miscSleep(L, loop) }))

	fn, err := rewrite.Load(L, strings.NewReader(miscExceptLua), "=[socket.except]")
	if err != nil {
		panic(err)
	}
	// The exception metatable hides itself (__metatable = false), so the
	// check reads the raw metatable from Go.
	isexc := L.NewFunction(func(L *lua.LState) int {
		t, ok := L.Get(1).(*lua.LTable)
		L.Push(lua.LBool(ok && t.Metatable == L.Get(2)))
		return 1
	})
	L.Push(fn)
	L.Push(loop.PCall())
	L.Push(L.GetGlobal("error"))
	L.Push(L.GetGlobal("select"))
	L.Push(L.GetGlobal("setmetatable"))
	L.Push(isexc)
	L.Call(5, 2)
	mod.RawSetString("newtry", L.Get(-2))
	mod.RawSetString("protect", L.Get(-1))
	L.Pop(2)
}

// miscGettime returns the wall-clock time in seconds since the epoch, with
// sub-second precision, as LuaSocket's gettimeofday-based version.
func miscGettime(L *lua.LState) int {
	L.Push(lua.LNumber(float64(time.Now().UnixNano()) / 1e9))
	return 1
}

// miscSkip drops its first n+1 arguments and returns the rest (skip(1, a,
// b, c) returns b, c). Like LuaSocket, a negative n returns the top values
// of the stack including n itself.
func miscSkip(L *lua.LState) int {
	n := miscCheckInteger(L, 1)
	ret := L.GetTop() - n - 1
	if ret < 0 {
		return 0
	}
	if ret > L.GetTop() {
		ret = L.GetTop()
	}
	return ret
}

// miscCheckInteger is luaL_checkinteger: numbers and numeric strings,
// truncated toward zero.
func miscCheckInteger(L *lua.LState, n int) int {
	v, ok := miscToNumber(L.Get(n))
	if !ok {
		L.TypeError(n, lua.LTNumber)
	}
	if math.IsNaN(v) {
		return 0
	}
	return int(max(min(v, math.MaxInt32), math.MinInt32))
}

// miscSleep blocks the caller for n seconds outside any task (plain
// LuaSocket). Inside a task it parks the task on a loop timer, so the
// other tasks keep running.
func miscSleep(L *lua.LState, loop *scheduler.Loop) int {
	n, ok := miscToNumber(L.Get(1))
	if !ok {
		L.TypeError(1, lua.LTNumber)
	}
	if math.IsNaN(n) || n < 0 {
		n = 0
	}
	n = min(n, math.MaxInt32) // LuaSocket caps at INT_MAX seconds
	d := time.Duration(n * float64(time.Second))
	if !loop.CanPark(L) {
		time.Sleep(d)
		return 0
	}
	return loop.Yield(L, scheduler.OpFunc(func(w scheduler.Waiter) {
		t := loop.AfterFunc(d, func() { w.Resume() })
		w.OnCancel(func() { loop.Stop(t) })
	}))
}

// miscToNumber converts as lua_isnumber/lua_tonumber do.
func miscToNumber(v lua.LValue) (float64, bool) {
	switch x := v.(type) {
	case lua.LNumber:
		return float64(x), true
	case lua.LString:
		s := strings.TrimSpace(string(x))
		if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
			n, err := strconv.ParseUint(h, 16, 64)
			return float64(n), err == nil
		}
		if s == "" || strings.ContainsAny(s, "xXpP_") { // Go-only syntaxes
			return 0, false
		}
		n, err := strconv.ParseFloat(s, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, false
		}
		return n, true
	}
	return 0, false
}
