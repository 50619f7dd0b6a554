// Package copaslua runs Lua network programs written for Copas, LuaSocket
// and LuaSec on gopher-lua, with Go's net package underneath.
//
// A Runtime owns one Lua state and the event loop that drives it. The
// goroutine that creates a Runtime and calls its methods is the loop
// goroutine; only Post may be called from other goroutines.
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
// LUA_PATH stands for it, as in Lua 5.1.
const DefaultPath = "./?.lua;./?/init.lua;" +
	"/usr/local/share/lua/5.1/?.lua;/usr/local/share/lua/5.1/?/init.lua;" +
	"/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua"

// Runtime is a Lua state with the copas-lua modules and event loop.
// The goroutine that calls New (and later Run) is the loop goroutine:
// every method must be called there, except those documented as safe from
// any goroutine (Post, Call, Serve, Stats).
type Runtime struct {
	L    *lua.LState
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
	r := &Runtime{L: L, loop: scheduler.New(L), cfg: c}
	r.emb.owner.Store(goid())
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

// State returns the Lua state. Loop goroutine only.
func (r *Runtime) State() *lua.LState { return r.L }

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
	return lua51.Load(r.L, src, name)
}

// OSErrorText renders an OS error as C's strerror does ("No such file or
// directory"), as Lua 5.1 shows it in messages. Safe from any goroutine.
func OSErrorText(err error) string { return lua51.OSErrorText(err) }

// DoFile runs a Lua file on the main thread, loaded with Load (a first
// line starting with '#' is skipped). Loop goroutine only.
func (r *Runtime) DoFile(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return &lua.ApiError{Type: lua.ApiErrorFile, Object: lua.LString(err.Error()), Cause: err}
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

// DoString runs a Lua chunk on the main thread, loaded with Load.
// Loop goroutine only.
func (r *Runtime) DoString(src string) error {
	return r.doChunk(strings.NewReader(src), "<string>")
}

func (r *Runtime) doChunk(src io.Reader, name string) error {
	fn, err := r.Load(src, name)
	if err != nil {
		return err
	}
	r.L.Push(fn)
	return r.L.PCall(0, lua.MultRet, r.L.NewFunction(lua51.MessageHandler))
}

// Post queues fn to run on the loop goroutine with the Lua state. Safe to
// call from any goroutine; fn runs during a later step of the loop.
func (r *Runtime) Post(fn func(L *lua.LState)) {
	r.loop.Post(func() { fn(r.L) })
}

// Close releases the Lua state. Loop goroutine only; calls of Call, Serve
// and Stats made afterwards return ErrClosed.
func (r *Runtime) Close() {
	r.emb.closed.Store(true)
	r.loop.Close()
	r.L.Close()
}

// ErrorHandler is a message handler for lua.LState.PCall that words the
// error as Lua 5.1 does (variable names, positions), reading the failing
// frame before PCall unwinds it. Loop goroutine only.
func ErrorHandler(L *lua.LState) int { return lua51.MessageHandler(L) }
