// Package coxpcall provides the coxpcall module (pcall, xpcall, running)
// for scripts written for Lua 5.1. On copas-lua the global pcall and xpcall
// already allow yields, so the module hands out those.
//
// Goroutine contract: Preload and the loader run on the loop goroutine.
package coxpcall

import (
	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

// Preload registers the coxpcall module in L's package.preload. L must have
// a scheduler.Loop. Loop goroutine only.
func Preload(L *lua.LState) {
	L.PreloadModule("coxpcall", func(L *lua.LState) int {
		loop := scheduler.Of(L)
		mod := L.NewTable()
		mod.RawSetString("pcall", loop.PCall())
		mod.RawSetString("xpcall", loop.XPCall())
		mod.RawSetString("running", L.NewFunction(func(L *lua.LState) int {
			// coxpcall.running(co) maps a pcall worker to its owner; ours
			// are invisible already, so the answer is co or the running one.
			if th, ok := L.Get(1).(*lua.LState); ok {
				L.Push(th)
				return 1
			}
			if th := loop.Running(L); th != nil {
				L.Push(th)
			} else {
				L.Push(lua.LNil)
			}
			return 1
		}))
		// The stock module also defines these globals.
		L.SetGlobal("copcall", loop.PCall())
		L.SetGlobal("coxpcall", loop.XPCall())
		L.Push(mod)
		return 1
	})
}
