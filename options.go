package copaslua

import (
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/copas-lua/copas-lua/internal/lua51"

	lua "github.com/yuin/gopher-lua"
)

type config struct {
	path     string
	pathSet  bool
	stdout   io.Writer
	stderr   io.Writer
	sandbox  bool
	modules  []string // allow-list of built-in modules; nil: all
	maxConns int
	grace    time.Duration
	logger   *slog.Logger
	memLimit int64
	budget   time.Duration
	fsys     fs.FS
	getenv   func(string) (string, bool)
	stdin    io.Reader
}

func defaultConfig() config { return config{grace: 5 * time.Second} }

// Option configures a Runtime. Options are plain values, safe to build on
// any goroutine; New applies them on the goroutine that calls it.
type Option func(*config)

// WithPackagePath sets package.path. Without it the path comes from
// LUA_PATH (";;" meaning DefaultPath) or DefaultPath.
func WithPackagePath(path string) Option {
	return func(c *config) { c.path, c.pathSet = path, true }
}

// WithStdout sends print, io.write and io.stdout to w instead of the
// process's standard output. w is written from the loop goroutine only.
func WithStdout(w io.Writer) Option { return func(c *config) { c.stdout = w } }

// WithStderr sends io.stderr (and the default Copas error reports) to w.
// w is written from the loop goroutine only.
func WithStderr(w io.Writer) Option { return func(c *config) { c.stderr = w } }

// WithSandbox confines a script to its own runtime (the threat model is
// in the README, "Sandbox"): no programs (os.execute, io.popen), no file
// writes, removals, renames or temporary files, no process-wide changes
// (os.setenv and os.setlocale are gone, os.exit refused, the standard
// streams cannot be closed), no descriptor adoption (sock:setfd), no C
// modules (package.loadlib returns nil, "absent"), no debug library, no
// gopher-lua channel library. Files are read only through WithFS (io.open
// read-only, io.lines, io.input, dofile, loadfile, require's Lua
// searcher), none by default; os.getenv reads only what WithEnv or
// WithGetenv allows, nothing by default; io.stdin reads WithStdin's
// reader, nothing by default; ssl parameters naming files (certificate,
// key, cafile, capath, dhparam) are refused. Sockets stay available
// (restrict modules with WithModules).
func WithSandbox() Option { return func(c *config) { c.sandbox = true } }

// WithModules allows require to load only the named built-in modules and
// the built-in modules they depend on (e.g. "copas" brings socket,
// socket.core and coxpcall; a submodule needs its own name, e.g.
// "copas.lock"), and no Lua files from package.path (under WithSandbox
// with WithFS, Lua files of the FS stay loadable).
func WithModules(names ...string) Option {
	return func(c *config) { c.modules = append([]string{}, names...) }
}

// WithMaxConnections caps the connections Serve handles at once; further
// ones wait in the listener's backlog until a handler finishes.
func WithMaxConnections(n int) Option { return func(c *config) { c.maxConns = n } }

// WithGracePeriod sets how long Run lets Copas threads finish after its
// context is cancelled before closing them (default 5 s).
func WithGracePeriod(d time.Duration) Option { return func(c *config) { c.grace = d } }

// WithLogger receives the runtime's own events (shutdown, Serve errors)
// and the errors of Copas threads that have no error handler of their
// own, instead of standard output.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithMemoryLimit sets the Go runtime's soft memory limit
// (runtime/debug.SetMemoryLimit). It is a garbage-collection target, not
// a cap: the collector works harder as the process nears it, but an
// allocation beyond it still succeeds. It is process-wide (every Runtime
// and all Go code of the process). What bounds a script's memory is the
// runtime's own size checks on allocations whose size comes from Lua
// (string.rep and file reads are capped at 1 GiB, unpack at 2^20 values,
// socket receives as LuaSocket's): past them the script gets the Lua
// error "not enough memory" instead of the process aborting. Strings and
// tables grown step by step are not counted per runtime.
func WithMemoryLimit(bytes int64) Option { return func(c *config) { c.memLimit = bytes } }

// WithThreadBudget limits how long a Copas thread (any task of the loop:
// addthread, handlers, Call) may run Lua code without yielding: when one
// has run for d since it was last resumed, it gets the Lua error "thread
// exceeded its CPU budget without yielding" at its next jump or call,
// and again at every one until it ends, so a pcall inside it cannot
// absorb the error; the thread ends with it (reported as any thread
// error) and the other threads go on. The time is wall-clock time of the
// loop goroutine while the thread runs, so a loaded machine reaches it
// sooner; Go functions called from Lua are not interrupted while they
// run. Lua run on the main thread (DoString, the main chunk) is not
// limited. Zero, the default, means no limit.
func WithThreadBudget(d time.Duration) Option { return func(c *config) { c.budget = d } }

func (r *Runtime) applyConfig() {
	L, c := r.st, r.cfg
	if c.memLimit > 0 {
		debug.SetMemoryLimit(c.memLimit)
	}
	r.loop.SetBudget(c.budget)
	boundReads(L)
	if c.stdout != nil {
		redirectStdout(L, c.stdout)
	}
	if c.stderr != nil {
		redirectStderr(L, c.stderr)
	}
	if c.getenv != nil || c.sandbox {
		get := c.getenv
		L.GetGlobal("os").(*lua.LTable).RawSetString("getenv", L.NewFunction(func(L *lua.LState) int {
			name := L.CheckString(1)
			if get != nil {
				if v, ok := get(name); ok {
					L.Push(lua.LString(v))
					return 1
				}
			}
			L.Push(lua.LNil)
			return 1
		}))
	}
	if c.sandbox {
		r.sandbox()
	}
	if c.modules != nil {
		allowModules(L, withDeps(c.modules), c.sandbox && c.fsys != nil)
	}
	if c.logger != nil || c.stderr != nil {
		r.installErrorReporter()
	}
}

// installErrorReporter makes Copas' default error handler report through
// the logger (or the stderr writer) once copas is loaded.
func (r *Runtime) installErrorReporter() {
	L := r.st
	report := L.NewFunction(func(L *lua.LState) int {
		msg := L.ToStringMeta(L.Get(1)).String()
		if r.cfg.logger != nil {
			r.cfg.logger.Error("copas thread failed", "error", msg)
		} else {
			fmt.Fprintln(r.cfg.stderr, msg)
		}
		return 0
	})
	L.SetField(L.Get(lua.RegistryIndex), "copas-lua.errorreporter", report)
}

func redirectStdout(L *lua.LState, w io.Writer) {
	out := newWriterFile(L, w)
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		var b strings.Builder
		for i := 1; i <= L.GetTop(); i++ {
			if i > 1 {
				b.WriteByte('\t')
			}
			b.WriteString(lua51.PrintString(L, L.Get(i)))
		}
		b.WriteByte('\n')
		io.WriteString(w, b.String())
		return 0
	}))
	iot := L.GetGlobal("io").(*lua.LTable)
	iot.RawSetString("stdout", out)
	origOutput := iot.RawGetString("output")
	origWrite := iot.RawGetString("write")
	custom := true // io.output() is still our writer
	iot.RawSetString("output", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() == 0 || L.Get(1) == out {
			if L.GetTop() > 0 {
				custom = true
			}
			if custom {
				L.Push(out)
				return 1
			}
		} else {
			custom = false
		}
		L.Push(origOutput)
		L.Insert(L.Get(-1), 1)
		L.Pop(1)
		L.Call(L.GetTop()-1, 1)
		return 1
	}))
	iot.RawSetString("write", L.NewFunction(func(L *lua.LState) int {
		if custom {
			return writeArgs(L, w, 1, out)
		}
		L.Push(origWrite)
		L.Insert(L.Get(-1), 1)
		L.Pop(1)
		L.Call(L.GetTop()-1, lua.MultRet)
		return L.GetTop()
	}))
}

func redirectStderr(L *lua.LState, w io.Writer) {
	L.GetGlobal("io").(*lua.LTable).RawSetString("stderr", newWriterFile(L, w))
}

// writeArgs writes Lua io.write arguments from index first and returns
// file, as file:write does.
func writeArgs(L *lua.LState, w io.Writer, first int, file lua.LValue) int {
	for i := first; i <= L.GetTop(); i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			io.WriteString(w, string(v))
		case lua.LNumber:
			io.WriteString(w, lua51.FormatNumber(v))
		default:
			L.ArgError(i-first+1, "string expected, got "+v.Type().String())
		}
	}
	L.Push(file)
	return 1
}

// newWriterFile is a write-only Lua file object backed by w.
func newWriterFile(L *lua.LState, w io.Writer) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = w
	mt := L.NewTable()
	methods := L.NewTable()
	L.SetFuncs(methods, map[string]lua.LGFunction{
		"write": func(L *lua.LState) int { return writeArgs(L, w, 2, ud) },
		"flush": func(L *lua.LState) int {
			if f, ok := w.(interface{ Flush() error }); ok {
				f.Flush()
			}
			L.Push(ud)
			return 1
		},
		"setvbuf": func(L *lua.LState) int { L.Push(lua.LTrue); return 1 },
		"close": func(L *lua.LState) int {
			L.Push(lua.LNil)
			L.Push(lua.LString("cannot close standard file"))
			return 2
		},
		"read": func(L *lua.LState) int {
			L.Push(lua.LNil)
			L.Push(lua.LString("file not readable"))
			return 2
		},
		"lines": func(L *lua.LState) int { L.RaiseError("file not readable"); return 0 },
		"seek": func(L *lua.LState) int {
			L.Push(lua.LNil)
			L.Push(lua.LString("cannot seek"))
			return 2
		},
	})
	mt.RawSetString("__index", methods)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(fmt.Sprintf("file (%p)", ud)))
		return 1
	}))
	ud.Metatable = mt
	return ud
}

func allowModules(L *lua.LState, names []string, keepFS bool) {
	allow := map[string]bool{}
	for _, n := range names {
		allow[n] = true
	}
	pkg := L.GetGlobal("package").(*lua.LTable)
	if pre, ok := pkg.RawGetString("preload").(*lua.LTable); ok {
		var drop []lua.LValue
		pre.ForEach(func(k, _ lua.LValue) {
			if s, ok := k.(lua.LString); ok && !allow[string(s)] {
				drop = append(drop, k)
			}
		})
		for _, k := range drop {
			pre.RawSet(k, lua.LNil)
		}
	}
	// Only the preload searcher stays: no Lua files from package.path,
	// except the sandbox's FS searcher.
	if loaders, ok := pkg.RawGetString("loaders").(*lua.LTable); ok && !keepFS {
		first := loaders.RawGetInt(1)
		for i := loaders.Len(); i >= 1; i-- {
			loaders.RawSetInt(i, lua.LNil)
		}
		loaders.RawSetInt(1, first)
	}
}
