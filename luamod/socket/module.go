// Package socket implements LuaSocket 3's socket and socket.core modules on
// Go's net package, driven by the copas-lua scheduler.
//
// Goroutine contract: Preload and every Lua-facing function run on the loop
// goroutine that owns the Lua state; I/O that may block runs on helper
// goroutines started with scheduler.Loop.Go and never touches Lua values.
package socket

import (
	_ "embed"
	"github.com/copas-lua/copas-lua/internal/rewrite"
	"strings"

	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

// setupCore lists the functions that fill socket.core; each file of this
// package adds its own in init(). They run in file-name order with the
// module table and the state's loop.
var setupCore []func(L *lua.LState, loop *scheduler.Loop, mod *lua.LTable)

//go:embed socket.lua
var socketLua string

// Preload registers socket.core and socket in L's package.preload. The
// state must already have a scheduler.Loop (scheduler.New). Loop goroutine
// only.
func Preload(L *lua.LState) {
	L.PreloadModule("socket.core", loadCore)
	L.PreloadModule("socket", loadSocket)
}

func loadCore(L *lua.LState) int {
	loop := scheduler.Of(L)
	if loop == nil {
		L.RaiseError("socket.core: no scheduler in this Lua state")
	}
	mod := L.NewTable()
	for _, setup := range setupCore {
		setup(L, loop, mod)
	}
	L.Push(mod)
	return 1
}

// loadSocket returns socket.core extended by the Lua-level helpers of
// socket.lua (the same table, as in LuaSocket).
func loadSocket(L *lua.LState) int {
	L.Push(L.GetGlobal("require"))
	L.Push(lua.LString("socket.core"))
	L.Call(1, 1)
	core := L.Get(-1)
	L.Pop(1)
	fn, err := rewrite.Load(L, strings.NewReader(socketLua), "=[socket]")
	if err != nil {
		L.RaiseError("socket: %v", err)
	}
	L.Push(fn)
	L.Push(core)
	L.Call(1, 1)
	return 1
}
