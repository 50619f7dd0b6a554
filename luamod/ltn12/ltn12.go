// Package ltn12 provides the ltn12 module (LuaSocket's sources, sinks,
// filters and pumps), written in Lua and embedded.
//
// Goroutine contract: Preload and the loader run on the goroutine that
// owns the Lua state (the loop goroutine).
package ltn12

import (
	_ "embed"
	"github.com/copas-lua/copas-lua/internal/rewrite"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

//go:embed ltn12.lua
var source string

// Preload registers ltn12 in L's package.preload. Loop goroutine only.
func Preload(L *lua.LState) {
	L.PreloadModule("ltn12", Loader)
}

// Loader runs the module and returns its table; usable with
// L.PreloadModule or package.loaders. Loop goroutine only.
func Loader(L *lua.LState) int {
	fn, err := rewrite.Load(L, strings.NewReader(source), "=[ltn12]")
	if err != nil {
		L.RaiseError("ltn12: %v", err)
	}
	L.Push(fn)
	L.Call(0, 1)
	return 1
}
