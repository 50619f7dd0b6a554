package lua51

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/copas-lua/copas-lua/internal/rewrite"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Load compiles a Lua chunk without running it, passing the syntax tree
// through internal/rewrite (gopher-lua compiler bugs). name is the chunk
// name used in error positions; errors are *lua.ApiError values of type
// ApiErrorSyntax, as LState.Load returns.
//
// A syntax error is worded as Lua 5.1 words it ("name:line: message near
// 'token'", syntax.go); the error's Cause stays gopher-lua's.
func Load(L *lua.LState, src io.Reader, name string) (*lua.LFunction, error) {
	b, err := io.ReadAll(src)
	if err != nil {
		return nil, &lua.ApiError{Type: lua.ApiErrorFile, Object: lua.LString(err.Error()), Cause: err}
	}
	fn, err := rewrite.Load(L, bytes.NewReader(b), name)
	var ae *lua.ApiError
	if err != nil && errors.As(err, &ae) && ae.Type == lua.ApiErrorSyntax {
		if msg, bad := syntaxError(string(b), name); bad {
			ae.Object = lua.LString(msg)
		}
	}
	return fn, err
}

func loadChunk(L *lua.LState, src io.Reader, name string) (*lua.LFunction, error) {
	return Load(L, src, name)
}

// installLoaders replaces loadstring, load, loadfile, dofile and the Lua
// file searcher of require (package.loaders[2]) with versions that load
// through the rewrite. Results and messages follow Lua 5.1: chunk names
// are shown as Lua shows them ([string "..."], =name, @file), syntax
// errors read "name:line: message near 'token'".
func installLoaders(L *lua.LState) {
	L.SetGlobal("loadstring", L.NewFunction(baseLoadString))
	L.SetGlobal("load", L.NewFunction(baseLoad))
	L.SetGlobal("loadfile", L.NewFunction(baseLoadFile))
	L.SetGlobal("dofile", L.NewFunction(baseDoFile))
	pkg, ok := L.GetGlobal("package").(*lua.LTable)
	if !ok {
		return
	}
	if loaders, ok := pkg.RawGetString("loaders").(*lua.LTable); ok {
		loaders.RawSetInt(2, L.NewFunction(func(L *lua.LState) int { return searchLua(L, pkg) }))
	}
}

// chunkID is Lua 5.1's luaO_chunkid: how a chunk name appears in runtime
// messages (LUA_IDSIZE 60; syntax errors use 80, syntaxChunkID).
func chunkID(source string) string { return chunkIDSized(source, 60) }

// chunkIDSized is luaO_chunkid with a buffer of idsize bytes. The name is
// a C string: it ends at a NUL.
func chunkIDSized(source string, idsize int) string {
	if i := strings.IndexByte(source, 0); i >= 0 {
		source = source[:i]
	}
	switch {
	case strings.HasPrefix(source, "="):
		s := source[1:]
		if len(s) > idsize-1 {
			s = s[:idsize-1]
		}
		return s
	case strings.HasPrefix(source, "@"):
		s := source[1:]
		max := idsize - len(" '...' ") - 1
		if len(s) > max {
			s = "..." + s[len(s)-max:]
		}
		return s
	}
	max := idsize - len(` [string "..."] `) - 1
	n := strings.IndexAny(source, "\r\n")
	if n < 0 {
		n = len(source)
	}
	if n > max {
		n = max
	}
	if n < len(source) {
		return `[string "` + source[:n] + `..."]`
	}
	return `[string "` + source + `"]`
}

// loadSource compiles src under the Lua 5.1 chunk name source. The error
// is the message Lua 5.1's load functions return.
func loadSource(L *lua.LState, src, source string) (*lua.LFunction, string) {
	id := chunkID(source)
	fn, err := loadChunk(L, strings.NewReader(src), id)
	if err == nil {
		rememberSource(L, id, source)
		return fn, ""
	}
	if msg, bad := syntaxError(src, syntaxChunkID(source)); bad {
		return nil, msg
	}
	var ae *lua.ApiError
	if errors.As(err, &ae) && ae.Cause != nil {
		err = ae.Cause
	}
	var pe *parse.Error
	var ce *lua.CompileError
	switch {
	case errors.As(err, &pe) && pe.Pos.Line == parse.EOF:
		return nil, fmt.Sprintf("%s:%d: %s near '<eof>'", id, strings.Count(src, "\n")+1, pe.Message)
	case errors.As(err, &pe):
		return nil, fmt.Sprintf("%s:%d: %s near '%s'", id, pe.Pos.Line, pe.Message, pe.Token)
	case errors.As(err, &ce):
		return nil, fmt.Sprintf("%s:%d: %s", id, ce.Line, ce.Message)
	}
	return nil, err.Error()
}

// readSource reads a file as luaL_loadfile does: "" means stdin, and a
// first line starting with '#' is blanked (keeping line numbers). The
// error message is Lua 5.1's.
func readSource(path string) (src, source, msg string) {
	var b []byte
	var err error
	verb := "read"
	if path == "" {
		source = "=stdin"
		b, err = io.ReadAll(os.Stdin)
	} else {
		source = "@" + path
		var f *os.File
		if f, err = os.Open(path); err != nil {
			verb = "open"
		} else {
			b, err = io.ReadAll(f)
			f.Close()
		}
	}
	if err != nil {
		return "", source, fmt.Sprintf("cannot %s %s: %s", verb, chunkID(source), OSErrorText(err))
	}
	src = string(b)
	if strings.HasPrefix(src, "#") {
		if i := strings.IndexByte(src, '\n'); i >= 0 {
			src = src[i:]
		} else {
			src = ""
		}
	}
	return src, source, ""
}

// OSErrorText renders an OS error as C's strerror does ("No such file or
// directory"), as Lua 5.1 shows it in messages. Safe from any goroutine.
func OSErrorText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	s := err.Error()
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

func loadFile(L *lua.LState, path string) (*lua.LFunction, string) {
	src, source, msg := readSource(path)
	if msg != "" {
		return nil, msg
	}
	return loadSource(L, src, source)
}

func pushLoaded(L *lua.LState, fn *lua.LFunction, msg string) int {
	if fn == nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(msg))
		return 2
	}
	L.Push(fn)
	return 1
}

// loadstring(s [, chunkname])
func baseLoadString(L *lua.LState) int {
	src := L.CheckString(1)
	fn, msg := loadSource(L, src, L.OptString(2, src))
	return pushLoaded(L, fn, msg)
}

// load(func [, chunkname]): func returns pieces of the chunk until it
// returns nil, nothing or "". Its errors become load's error result, as
// in Lua 5.1.
func baseLoad(L *lua.LState) int {
	reader := L.CheckFunction(1)
	source := L.OptString(2, "=(load)")
	var b strings.Builder
	for {
		L.Push(reader)
		if err := L.PCall(0, 1, nil); err != nil {
			L.Push(lua.LNil)
			var ae *lua.ApiError
			if errors.As(err, &ae) {
				L.Push(ae.Object)
			} else {
				L.Push(lua.LString(err.Error()))
			}
			return 2
		}
		piece := L.Get(-1)
		L.Pop(1)
		if piece == lua.LNil {
			break
		}
		if !lua.LVCanConvToString(piece) {
			L.Push(lua.LNil)
			L.Push(lua.LString("reader function must return a string"))
			return 2
		}
		s := lua.LVAsString(piece)
		if s == "" {
			break
		}
		b.WriteString(s)
	}
	fn, msg := loadSource(L, b.String(), source)
	return pushLoaded(L, fn, msg)
}

// loadfile([filename]): stdin without a file name.
func baseLoadFile(L *lua.LState) int {
	fn, msg := loadFile(L, L.OptString(1, ""))
	return pushLoaded(L, fn, msg)
}

// dofile([filename]) runs the file and returns all its results; load
// errors are raised with no position, as in Lua 5.1.
func baseDoFile(L *lua.LState) int {
	path := L.OptString(1, "")
	fn, msg := loadFile(L, path)
	if fn == nil {
		L.Error(lua.LString(msg), 0)
	}
	top := L.GetTop()
	L.Push(fn)
	L.Call(0, lua.MultRet)
	return L.GetTop() - top
}

// searchLua is package.loaders[2]: it finds name on package.path (read
// from pkg, the package table, as Lua 5.1's loader does) and loads it.
func searchLua(L *lua.LState, pkg *lua.LTable) int {
	name := L.CheckString(1)
	path, ok := pkg.RawGetString("path").(lua.LString)
	if !ok {
		L.Error(lua.LString("'package.path' must be a string"), 0)
	}
	file := strings.ReplaceAll(name, ".", string(os.PathSeparator))
	var tried []string
	for _, tmpl := range strings.Split(string(path), ";") {
		if tmpl == "" {
			continue
		}
		cand := strings.ReplaceAll(tmpl, "?", file)
		f, err := os.Open(cand)
		if err != nil {
			tried = append(tried, "no file '"+cand+"'")
			continue
		}
		f.Close()
		fn, msg := loadFile(L, cand)
		if fn == nil {
			L.Error(lua.LString(fmt.Sprintf("error loading module '%s' from file '%s':\n\t%s", name, cand, msg)), 0)
		}
		L.Push(fn)
		return 1
	}
	// gopher-lua's require joins the searchers' messages with "\n\t".
	L.Push(lua.LString(strings.Join(tried, "\n\t")))
	return 1
}

// gopher-lua keeps one name per chunk, used both in messages (where Lua
// shows the chunk id) and as debug.getinfo's source (where Lua shows the
// name the chunk was loaded with). Chunks get the id; this table maps ids
// back for getinfo. It is bounded: past maxSources, ids of new chunks are
// not remembered and getinfo shows the id.
const (
	sourcesKey = "copas-lua.sources"
	maxSources = 4096
)

func rememberSource(L *lua.LState, id, source string) {
	if id == source {
		return
	}
	reg := L.Get(lua.RegistryIndex)
	t, ok := L.GetField(reg, sourcesKey).(*lua.LTable)
	if !ok {
		t = L.NewTable()
		L.SetField(reg, sourcesKey, t)
	}
	if t.RawGetString(id) == lua.LNil && t.Len() < maxSources {
		t.RawSetString(id, lua.LString(source))
		t.RawSetInt(t.Len()+1, lua.LTrue) // counts entries
	}
}

// debugGetinfo wraps debug.getinfo: source is the chunk's own name.
func debugGetinfo(orig lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		arg := 1
		if _, ok := L.Get(1).(*lua.LState); ok {
			arg = 2
		}
		switch L.Get(arg).(type) {
		case lua.LNumber, *lua.LFunction:
		default:
			n, ok := toNumber(L.Get(arg))
			if !ok {
				L.ArgError(arg, "function or level expected")
			}
			L.Replace(arg, n)
		}
		n := orig(L)
		if n == 1 {
			if info, ok := L.Get(-1).(*lua.LTable); ok {
				if info.RawGetString("what") == lua.LString("G") {
					// Go functions are what Lua 5.1 calls C functions.
					info.RawSetString("what", lua.LString("C"))
					info.RawSetString("source", lua.LString("=[C]"))
					info.RawSetString("short_src", lua.LString("[C]"))
					info.RawSetString("linedefined", lua.LNumber(-1))
					info.RawSetString("lastlinedefined", lua.LNumber(-1))
				}
				if info.RawGetString("func") != lua.LNil && info.RawGetString("namewhat") == lua.LNil {
					info.RawSetString("namewhat", lua.LString(""))
				}
				if id, ok := info.RawGetString("source").(lua.LString); ok {
					if info.RawGetString("short_src") == lua.LNil {
						info.RawSetString("short_src", id)
					}
					if t, ok := L.GetField(L.Get(lua.RegistryIndex), sourcesKey).(*lua.LTable); ok {
						if src := t.RawGetString(string(id)); src != lua.LNil {
							info.RawSetString("source", src)
						}
					}
				}
			}
		}
		return n
	}
}
