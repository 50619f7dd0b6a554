package rewrite

import (
	"io"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Load compiles Lua source like LState.Load, with Chunk applied, so the
// gopher-lua miscompilations it works around cannot reach the code. Errors
// are *lua.ApiError of type ApiErrorSyntax, as LState.Load returns. The
// function's environment is L's global table. Every embedded Lua source of
// the project loads through here. Loop goroutine only.
func Load(L *lua.LState, src io.Reader, name string) (*lua.LFunction, error) {
	chunk, err := parse.Parse(src, name)
	if err != nil {
		return nil, &lua.ApiError{Type: lua.ApiErrorSyntax, Object: lua.LString(err.Error()), Cause: err}
	}
	chunk = Chunk(chunk)
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, &lua.ApiError{Type: lua.ApiErrorSyntax, Object: lua.LString(err.Error()), Cause: err}
	}
	fixChunkScopes(chunk, proto)
	return L.NewFunctionFromProto(proto), nil
}

// Loader returns a package.preload loader for the embedded Lua module mod
// with source src: the chunk is loaded with Load and called with the
// module name, as require does. Loop goroutine only (when called).
func Loader(mod, src string) lua.LGFunction {
	return func(L *lua.LState) int {
		fn, err := Load(L, strings.NewReader(src), "="+mod)
		if err != nil {
			L.RaiseError("%s: %v", mod, err)
		}
		L.Push(fn)
		L.Push(lua.LString(mod))
		L.Call(1, 1)
		return 1
	}
}
