package lua51

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// copas-lua cannot load C modules (Go cannot dlopen a Lua C API library
// into gopher-lua), but it says so instead of "not found":
//
//   - package.cpath is Lua 5.1's: LUA_CPATH (";;" meaning the default) or
//     the default of the system's lua5.1, plus the luarocks user tree.
//   - package.loaders[3] and [4] are Lua 5.1's C and all-in-one searchers
//     over package.cpath. Where no file is found they add "no file '...'"
//     to require's message as in Lua 5.1; where one is, require fails with
//     "error loading module 'm' from file 'PATH':" and the reason, naming
//     the built-in modules (package.preload) that replace common C ones.
//   - package.loadlib returns nil, message, "absent", as Lua 5.1 built
//     without dynamic library support does.
//   - require is Lua 5.1's ll_require, so the messages read as lua5.1's:
//     "module 'm' not found:" and the searchers' lines.
//
// installCPath must run after installLoaders (package.loaders[2]) and
// before the globals are wrapped for error shaping.
func installCPath(L *lua.LState) {
	pkg, ok := L.GetGlobal("package").(*lua.LTable)
	if !ok {
		return
	}
	pkg.RawSetString("cpath", lua.LString(cpathFromEnv()))
	pkg.RawSetString("loadlib", L.NewFunction(pkgLoadlib))
	if loaders, ok := pkg.RawGetString("loaders").(*lua.LTable); ok {
		loaders.RawSetInt(3, L.NewFunction(func(L *lua.LState) int { return searchC(L, pkg, false) }))
		loaders.RawSetInt(4, L.NewFunction(func(L *lua.LState) int { return searchC(L, pkg, true) }))
	}
	L.SetGlobal("require", L.NewFunction(require51))
}

// cpathFromEnv is package.cpath: LUA_CPATH with ";;" standing for the
// default, or the default.
func cpathFromEnv() string {
	def := defaultCPath()
	if env, ok := os.LookupEnv("LUA_CPATH"); ok {
		return strings.ReplaceAll(env, ";;", ";"+def+";")
	}
	return def
}

// defaultCPath is the cpath of the system's lua5.1 (Debian's on Linux,
// with its multiarch directory; Lua 5.1's own elsewhere) followed by the
// luarocks user tree.
func defaultCPath() string {
	dirs := []string{"./?.so", "/usr/local/lib/lua/5.1/?.so"}
	if runtime.GOOS == "linux" {
		if triplet := multiarch[runtime.GOARCH]; triplet != "" {
			dirs = append(dirs, "/usr/lib/"+triplet+"/lua/5.1/?.so")
		}
		dirs = append(dirs, "/usr/lib/lua/5.1/?.so")
	}
	dirs = append(dirs, "/usr/local/lib/lua/5.1/loadall.so")
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".luarocks/lib/lua/5.1/?.so"))
	}
	return strings.Join(dirs, ";")
}

// multiarch maps GOARCH to Debian's multiarch triplet.
var multiarch = map[string]string{
	"amd64":   "x86_64-linux-gnu",
	"arm64":   "aarch64-linux-gnu",
	"386":     "i386-linux-gnu",
	"arm":     "arm-linux-gnueabihf",
	"riscv64": "riscv64-linux-gnu",
	"ppc64le": "powerpc64le-linux-gnu",
	"s390x":   "s390x-linux-gnu",
}

// dlMessage is why nothing C can be loaded.
const dlMessage = "dynamic libraries not enabled; copas-lua runs Lua code only"

// package.loadlib(path, funcname) -> nil, message, "absent"
func pkgLoadlib(L *lua.LState) int {
	L.CheckString(1)
	L.CheckString(2)
	L.Push(lua.LNil)
	L.Push(lua.LString(dlMessage))
	L.Push(lua.LString("absent"))
	return 3
}

// searchC is package.loaders[3] (root false: the module's own file) or
// [4] (root true: the all-in-one library of the root of a dotted name).
func searchC(L *lua.LState, pkg *lua.LTable, root bool) int {
	name := L.CheckString(1)
	file := name
	if root {
		i := strings.IndexByte(name, '.')
		if i < 0 {
			return 0 // not a submodule: nothing to add
		}
		file = name[:i]
	}
	cpath, ok := pkg.RawGetString("cpath").(lua.LString)
	if !ok {
		L.Error(lua.LString("'package.cpath' must be a string"), 0)
	}
	file = strings.ReplaceAll(file, ".", string(os.PathSeparator))
	var b strings.Builder
	for _, tmpl := range strings.Split(string(cpath), ";") {
		if tmpl == "" {
			continue
		}
		cand := strings.ReplaceAll(tmpl, "?", file)
		if f, err := os.Open(cand); err == nil {
			f.Close()
			L.Error(lua.LString("error loading module '"+name+"' from file '"+cand+"':\n\t"+
				"found a C module, but copas-lua cannot load C modules"+builtinNote(L)), 0)
		}
		b.WriteString("\n\tno file '" + cand + "'")
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// builtinNote names the built-in modules, which replace the usual C ones.
func builtinNote(L *lua.LState) string {
	preload, ok := L.GetField(L.GetGlobal("package"), "preload").(*lua.LTable)
	if !ok {
		return ""
	}
	var names []string
	preload.ForEach(func(k, _ lua.LValue) {
		if s, ok := k.(lua.LString); ok {
			names = append(names, string(s))
		}
	})
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return " (built-in replacements: " + strings.Join(names, ", ") + ")"
}

// requireSentinel marks a module being loaded (Lua 5.1's sentinel).
var requireSentinel = &lua.LUserData{}

// require51 is Lua 5.1's ll_require. Searcher messages are accumulated as
// Lua 5.1 does; those of gopher-lua's preload searcher and of searchLua,
// which do not start with "\n\t", get it.
func require51(L *lua.LState) int {
	name := L.CheckString(1)
	loaded, ok := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable)
	if !ok {
		L.RaiseError("'package.loaded' must be a table")
	}
	if v := loaded.RawGetString(name); lua.LVAsBool(v) {
		if v == requireSentinel {
			L.RaiseError("loop or previous error loading module '%s'", name)
		}
		L.Push(v)
		return 1
	}
	loaders, ok := L.GetField(L.GetGlobal("package"), "loaders").(*lua.LTable)
	if !ok {
		L.RaiseError("'package.loaders' must be a table")
	}
	var msg strings.Builder
	var loader lua.LValue
	for i := 1; ; i++ {
		searcher := loaders.RawGetInt(i)
		if searcher == lua.LNil {
			L.RaiseError("module '%s' not found:%s", name, msg.String())
		}
		L.Push(searcher)
		L.Push(lua.LString(name))
		L.Call(1, 1)
		res := L.Get(-1)
		L.Pop(1)
		if res.Type() == lua.LTFunction {
			loader = res
			break
		}
		if s, ok := res.(lua.LString); ok {
			if s != "" && !strings.HasPrefix(string(s), "\n") {
				msg.WriteString("\n\t")
			}
			msg.WriteString(string(s))
		} else if n, ok := res.(lua.LNumber); ok {
			msg.WriteString(n.String())
		}
	}
	loaded.RawSetString(name, requireSentinel)
	L.Push(loader)
	L.Push(lua.LString(name))
	L.Call(1, 1)
	res := L.Get(-1)
	L.Pop(1)
	if res != lua.LNil {
		loaded.RawSetString(name, res)
	}
	if v := loaded.RawGetString(name); v == requireSentinel {
		loaded.RawSetString(name, lua.LTrue)
	}
	L.Push(loaded.RawGetString(name))
	return 1
}
