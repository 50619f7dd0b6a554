// Package copas implements the Copas 4.11 dispatcher (module "copas") and
// its submodules on the copas-lua scheduler. The dispatcher and the
// submodules are Lua code embedded here, written for this project; the
// threads, timers and socket waits underneath are the Go event loop.
//
// Goroutine contract: Preload and all module code run on the loop
// goroutine that owns the Lua state.
package copas

import (
	"embed"
	"github.com/copas-lua/copas-lua/internal/rewrite"
	"io/fs"
	"strings"

	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

//go:embed lua/*.lua
var sources embed.FS

// Preload registers "copas" and every "copas.<name>" submodule found in
// lua/<name>.lua in L's package.preload. L must have a scheduler.Loop.
// Loop goroutine only.
func Preload(L *lua.LState) {
	L.PreloadModule("copas", loadCopas)
	entries, _ := fs.ReadDir(sources, "lua")
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".lua")
		if name == "copas" {
			continue
		}
		src, _ := sources.ReadFile("lua/" + e.Name())
		mod := "copas." + name
		L.PreloadModule(mod, rewrite.Loader(mod, string(src)))
	}
}

func loadCopas(L *lua.LState) int {
	loop := scheduler.Of(L)
	if loop == nil {
		L.RaiseError("copas: no scheduler in this Lua state")
	}
	src, _ := sources.ReadFile("lua/copas.lua")
	fn, err := rewrite.Load(L, strings.NewReader(string(src)), "=copas")
	if err != nil {
		L.RaiseError("copas: %v", err)
	}
	L.Push(fn)
	L.Push(newCore(L, loop))
	L.Call(1, 1)
	return 1
}
