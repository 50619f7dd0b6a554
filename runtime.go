// Package copaslua runs Lua network programs written for Copas, LuaSocket
// and LuaSec on gopher-lua, with Go's net package underneath.
//
// Goroutine contract: a Runtime owns one Lua state and the event loop that
// drives it. The goroutine that creates it (New) and drives it (Run,
// DoString, DoFile, and every method documented "loop goroutine only") is
// the loop goroutine; Go functions that Lua calls (SetGlobal,
// PreloadModule) and functions given to Post run there too. Post, Call,
// Serve, Stats, KeepAlive and Close are safe from any goroutine. Values
// converted with ToGo are plain Go values, safe anywhere; Lua values
// (lua.LValue) must stay on the loop goroutine.
//
// Lua errors come back as *Error (errors.As), with the Lua value, its
// message and the traceback. Lua code that does not yield is stopped by
// cancelling Run's context (after the grace period), by Close, by Call's
// context, and by the per-thread CPU budget (WithThreadBudget).
package copaslua

import (
	"bytes"
	"io"
	"os"
	"strings"

	"github.com/copas-lua/copas-lua/internal/lua51"
	"github.com/copas-lua/copas-lua/luamod/copas"
	"github.com/copas-lua/copas-lua/luamod/coxpcall"
	"github.com/copas-lua/copas-lua/luamod/gluahttp"
	"github.com/copas-lua/copas-lua/luamod/ltn12"
	"github.com/copas-lua/copas-lua/luamod/mime"
	"github.com/copas-lua/copas-lua/luamod/protocol"
	"github.com/copas-lua/copas-lua/luamod/socket"
	"github.com/copas-lua/copas-lua/luamod/ssl"
	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

// DefaultPath is the package.path used when LUA_PATH is not set; ";;" in
// LUA_PATH stands for it, as in Lua 5.1. It is lua5.1's default (with
// ./?/init.lua), Debian's tree, and the luarocks user tree of $HOME, so
// pure-Lua rocks load without `luarocks path`. Read-only after start-up.
var DefaultPath = defaultPath(os.Getenv("HOME"))

func defaultPath(home string) string {
	p := "./?.lua;./?/init.lua;" +
		"/usr/local/share/lua/5.1/?.lua;/usr/local/share/lua/5.1/?/init.lua;" +
		"/usr/local/lib/lua/5.1/?.lua;/usr/local/lib/lua/5.1/?/init.lua;" +
		"/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua"
	if home != "" {
		p += ";" + home + "/.luarocks/share/lua/5.1/?.lua;" + home + "/.luarocks/share/lua/5.1/?/init.lua"
	}
	return p
}

// Runtime is a Lua state with the copas-lua modules and event loop. The
// goroutine that calls New and drives the runtime (Run, DoString, DoFile)
// is its loop goroutine: every method must be called there, except Post,
// Call, Serve, Stats, KeepAlive and Close, which are safe from any
// goroutine.
type Runtime struct {
	st   *lua.LState
	loop *scheduler.Loop
	cfg  config
	emb  embedState
}

// New creates a Runtime with the standard libraries, the yield-safe pcall
// and coroutine functions, and the built-in modules preloaded. The calling
// goroutine becomes the runtime's loop goroutine.
func New(opts ...Option) *Runtime {
	c := defaultConfig()
	for _, o := range opts {
		o(&c)
	}
	L := lua.NewState(scheduler.StateOptions)
	// Before the scheduler, which wraps coroutine.resume and pcall.
	lua51.Install(L)
	r := &Runtime{st: L, loop: scheduler.New(L), cfg: c}
	r.loop.WrapTask = lua51.TaskBody(L)
	r.emb.slot = takeSlot()
	// A private reference for error reports (Call's tracebacks, Copas'
	// default error handler), kept before the sandbox removes debug.
	if dbg, ok := L.GetGlobal("debug").(*lua.LTable); ok {
		L.SetField(L.Get(lua.RegistryIndex), tracebackKey, dbg.RawGetString("traceback"))
	}
	if !c.pathSet {
		c.path = DefaultPath
		if env, ok := os.LookupEnv("LUA_PATH"); ok {
			c.path = strings.ReplaceAll(env, ";;", ";"+DefaultPath+";")
		}
	}
	L.SetField(L.GetField(L.Get(lua.GlobalsIndex), "package"), "path", lua.LString(c.path))
	coxpcall.Preload(L)
	socket.Preload(L)
	ltn12.Preload(L)
	copas.Preload(L)
	ssl.Preload(L)
	mime.Preload(L)
	protocol.Preload(L)
	gluahttp.Preload(L)
	r.applyConfig()
	return r
}

// tracebackKey is the registry field holding debug.traceback as
// installed by New, for Go and Copas error reports under the sandbox.
const tracebackKey = "copas-lua.traceback"

// State returns the Lua state. Loop goroutine only.
func (r *Runtime) State() *lua.LState { return r.st }

// Loop returns the event loop. Loop goroutine only.
func (r *Runtime) Loop() *scheduler.Loop { return r.loop }

// Load compiles a Lua chunk without running it. Unlike LState.Load it
// passes the syntax tree through the fixes for gopher-lua compiler bugs
// (multiple assignment to locals among them), so it is the way to load
// user code. name is the chunk name used in error positions, as with
// LState.Load; errors are *lua.ApiError values of type ApiErrorSyntax, as
// LState.Load returns. The function's environment is the state's global
// table. Loop goroutine only.
func (r *Runtime) Load(src io.Reader, name string) (*lua.LFunction, error) {
	return lua51.Load(r.st, src, name)
}

// OSErrorText renders an OS error as C's strerror does ("No such file or
// directory"), as Lua 5.1 shows it in messages. Safe from any goroutine.
func OSErrorText(err error) string { return lua51.OSErrorText(err) }

// DoFile runs a Lua file of the host's file system on the main thread,
// loaded with Load (a first line starting with '#' is skipped). A Lua
// error, a syntax error or an unreadable file is returned as *Error.
// Loop goroutine only.
func (r *Runtime) DoFile(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return newError(&lua.ApiError{Type: lua.ApiErrorFile, Object: lua.LString(err.Error()), Cause: err})
	}
	if len(src) > 0 && src[0] == '#' {
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			src = src[i:]
		} else {
			src = nil
		}
	}
	return r.doChunk(bytes.NewReader(src), path)
}

// DoString runs a Lua chunk on the main thread, loaded with Load. A Lua
// or syntax error is returned as *Error. Loop goroutine only.
func (r *Runtime) DoString(src string) error {
	return r.doChunk(strings.NewReader(src), "<string>")
}

func (r *Runtime) doChunk(src io.Reader, name string) error {
	if r.emb.closed.Load() {
		return ErrClosed
	}
	var err error
	r.enter(func() {
		var fn *lua.LFunction
		if fn, err = r.Load(src, name); err != nil {
			return
		}
		var tb string
		handler := r.st.NewFunction(func(L *lua.LState) int {
			tb = r.traceback(L, 2)
			return lua51.MessageHandler(L)
		})
		r.st.Push(fn)
		err = r.st.PCall(0, lua.MultRet, handler)
		if ae, ok := err.(*lua.ApiError); ok && ae.StackTrace == "" {
			ae.StackTrace = tb
		}
	})
	if ae, ok := err.(*lua.ApiError); ok {
		return newError(ae)
	}
	return err
}

// traceback is debug.traceback("", level) (or of thread co when level
// is 0) through the reference New kept. Loop goroutine only.
func (r *Runtime) traceback(L *lua.LState, level int, co ...*lua.LState) string {
	tb, ok := L.GetField(L.Get(lua.RegistryIndex), tracebackKey).(*lua.LFunction)
	if !ok {
		return ""
	}
	top := L.GetTop()
	defer L.SetTop(top)
	L.Push(tb)
	if len(co) > 0 {
		L.Push(co[0])
		L.Push(lua.LString(""))
		if L.PCall(2, 1, nil) != nil {
			return ""
		}
	} else {
		L.Push(lua.LString(""))
		L.Push(lua.LNumber(level))
		if L.PCall(2, 1, nil) != nil {
			return ""
		}
	}
	return strings.TrimSpace(L.Get(-1).String())
}

// Post queues fn to run on the loop goroutine with the Lua state. Safe to
// call from any goroutine; fn runs during a later step of the loop.
func (r *Runtime) Post(fn func(L *lua.LState)) {
	r.loop.Post(func() { fn(r.st) })
}

// Close stops the runtime and releases the Lua state. Safe from any
// goroutine, and idempotent. On the loop goroutine outside Run, DoString
// and DoFile it releases the state at once. Otherwise (from another
// goroutine while the loop goroutine is busy, or from a Go function that
// Lua called) it interrupts all running Lua code, which raises "runtime
// closed" at its next jump or call, and the loop goroutine releases the
// state as soon as its current Run, DoString or DoFile returns (Run
// returns ErrClosed, after closing Copas' threads and sockets). Calls
// made afterwards return ErrClosed.
func (r *Runtime) Close() {
	if r.emb.closing.Swap(true) {
		return
	}
	if r.inEntry() || !r.emb.exec.TryLock() {
		r.loop.InterruptAll(errClosedMsg)
		r.loop.Wake()
		return
	}
	r.release()
	r.emb.exec.Unlock()
}

const errClosedMsg = "runtime closed"

// release frees the state; the caller holds exec.
func (r *Runtime) release() {
	if r.emb.closed.Swap(true) {
		return
	}
	r.loop.Close()
	r.st.Close()
	releaseSlot(r.emb.slot)
}

// ErrorHandler is a message handler for lua.LState.PCall that words the
// error as Lua 5.1 does (variable names, positions), reading the failing
// frame before PCall unwinds it. Loop goroutine only.
func ErrorHandler(L *lua.LState) int { return lua51.MessageHandler(L) }
