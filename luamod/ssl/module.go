//go:build linux

// Package ssl implements LuaSec's ssl and ssl.https modules on Go's
// crypto/tls and crypto/x509 (no OpenSSL, no cgo), driven by the copas-lua
// scheduler.
//
// Goroutine contract: Preload and every Lua-facing function run on the
// loop goroutine that owns the Lua state. A TLS handshake runs on its own
// goroutine (crypto/tls cannot pause one); data after the handshake is
// read and written with non-blocking system calls on the loop, and helper
// goroutines only wait for readiness. Inside a Copas thread (a scheduler
// task) every wait parks the task; outside tasks calls block, honouring
// settimeout, as LuaSec does.
package ssl

import (
	_ "embed"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/copas-lua/copas-lua/luamod/socket"
	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

// Version is the LuaSec version whose API this module follows.
const Version = "1.3.2"

//go:embed https.lua
var httpsLua string

// env is the per-state part of the module.
type env struct {
	L      *lua.LState
	loop   *scheduler.Loop
	connMT *lua.LTable
	ctxMT  *lua.LTable
	certMT *lua.LTable
	config *lua.LTable
}

// Preload registers ssl, ssl.https, ssl.config and ssl.x509 in L's
// package.preload. The state must have a scheduler.Loop. Loop goroutine
// only.
func Preload(L *lua.LState) {
	L.PreloadModule("ssl", loadSSL)
	L.PreloadModule("ssl.config", func(L *lua.LState) int { L.Push(getEnv(L).config); return 1 })
	L.PreloadModule("ssl.x509", func(L *lua.LState) int {
		e := getEnv(L)
		t := L.NewTable()
		t.RawSetString("load", L.NewFunction(e.loadCertificate))
		L.Push(t)
		return 1
	})
	L.PreloadModule("ssl.https", func(L *lua.LState) int {
		fn, err := L.Load(strings.NewReader(httpsLua), "=[ssl.https]")
		if err != nil {
			L.RaiseError("ssl.https: %v", err)
		}
		// ssl.https wraps with copas-lua's default verification.
		e := getEnv(L)
		internal := L.NewTable()
		internal.RawSetString("wrap", L.NewFunction(func(L *lua.LState) int { return e.wrap(L, true) }))
		L.Push(fn)
		L.Push(internal)
		L.Call(1, 1)
		return 1
	})
}

func getEnv(L *lua.LState) *env {
	const key = "copas-lua.ssl.env"
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if ud, ok := reg.RawGetString(key).(*lua.LUserData); ok {
		if e, ok := ud.Value.(*env); ok {
			return e
		}
	}
	loop := scheduler.Of(L)
	if loop == nil {
		L.RaiseError("ssl: no scheduler in this Lua state")
	}
	e := &env{L: loop.L, loop: loop}
	e.setup()
	ud := L.NewUserData()
	ud.Value = e
	reg.RawSetString(key, ud)
	return e
}

func loadSSL(L *lua.LState) int {
	e := getEnv(L)
	m := L.NewTable()
	m.RawSetString("_VERSION", lua.LString(Version))
	m.RawSetString("_COPYRIGHT", lua.LString("LuaSec API "+Version+" on Go crypto/tls (copas-lua)"))
	m.RawSetString("config", e.config)
	m.RawSetString("loadcertificate", L.NewFunction(e.loadCertificate))
	m.RawSetString("newcontext", L.NewFunction(func(L *lua.LState) int {
		b, msg := e.newContext(L, L.Get(1), false)
		if b == nil {
			return pushAll(L, lua.LNil, msg)
		}
		return pushAll(L, e.ctxValue(b))
	}))
	m.RawSetString("wrap", L.NewFunction(func(L *lua.LState) int { return e.wrap(L, false) }))
	L.Push(m)
	return 1
}

func (e *env) ctxValue(b *ctxBox) *lua.LUserData {
	ud := e.L.NewUserData()
	ud.Value = b
	ud.Metatable = e.ctxMT
	return ud
}

func toCtx(v lua.LValue) *ctxBox {
	if ud, ok := v.(*lua.LUserData); ok {
		if b, ok := ud.Value.(*ctxBox); ok {
			return b
		}
	}
	return nil
}

// wrap is ssl.wrap(sock, ctx|params): it takes over the TCP object's
// descriptor (the object is left with -1, as after LuaSec's setfd). The
// checks come in LuaSec's order: the parameters, the context, the socket.
func (e *env) wrap(L *lua.LState, httpsDefault bool) int {
	sock := L.Get(1)
	var x *ctxBox
	var xud *lua.LUserData
	if t, ok := L.Get(2).(*lua.LTable); ok {
		var msg lua.LValue
		if x, msg = e.newContext(L, t, httpsDefault); x == nil {
			return pushAll(L, lua.LNil, msg)
		}
		xud = e.ctxValue(x)
	} else if x = toCtx(L.Get(2)); x != nil {
		xud = L.Get(2).(*lua.LUserData)
	} else {
		L.RaiseError("bad argument #1 to 'create' (invalid context)")
	}
	if x.x.mode == "" {
		return pushAll(L, lua.LNil, lua.LString("invalid mode"))
	}
	if !socket.IsTCP(sock) {
		switch sock.(type) {
		case *lua.LTable, lua.LString, *lua.LUserData:
			L.RaiseError("attempt to call method 'getfd' (a nil value)")
		}
		L.RaiseError("attempt to index local 'sock' (a %s value)", typeName(sock))
	}
	tk, _ := socket.TakeOver(sock)
	c := &conn{e: e, ctx: x.x, ctxUD: xud, alpnFns: map[*sslctx]lua.LValue{x.x: x.alpnFn}, fd: -1, tm: socket.NewTimeout(), birthday: time.Now(), want: "nothing",
		hst: &hsState{}, box: &closer{quit: make(chan struct{})}}
	if tk.File != nil {
		c.fc = newFdConn(tk.File, tk.Fd, tk.Buffered)
		c.fd = tk.Fd
		c.box.fc = c.fc
	}
	ud := L.NewUserData()
	ud.Value = c
	ud.Metatable = e.connMT
	c.ud = ud
	// gopher-lua has no __gc: close what an unreachable connection holds
	// (and end its handshake goroutine).
	runtime.AddCleanup(c, func(b *closer) { b.close() }, c.box)
	L.Push(ud)
	return 1
}

func checkConn(L *lua.LState) *conn {
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if c, ok := ud.Value.(*conn); ok {
			return c
		}
	}
	L.ArgError(1, "SSL:Connection expected, got "+L.Get(1).Type().String())
	return nil
}

func (e *env) setup() {
	L := e.L
	e.config = e.configTable()

	e.ctxMT = L.NewTypeMetatable("SSL:Context")
	ctxIdx := L.NewTable()
	ctxIdx.RawSetString("setverifyext", L.NewFunction(func(L *lua.LState) int {
		b := toCtx(L.Get(1))
		if b == nil {
			L.ArgError(1, "SSL:Context expected")
		}
		x := b.x
		var flags []string
		for i := 2; i <= L.GetTop(); i++ {
			flags = append(flags, L.CheckString(i))
		}
		if msg := x.setVerifyExt(flags); msg != "" {
			return pushAll(L, lua.LFalse, lua.LString(msg))
		}
		return pushAll(L, lua.LTrue)
	}))
	e.ctxMT.RawSetString("__index", ctxIdx)
	e.ctxMT.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(fmt.Sprintf("SSL context: %p", L.Get(1))))
		return 1
	}))

	e.certMT = L.NewTypeMetatable("SSL:Certificate")
	certIdx := L.NewTable()
	for name, fn := range e.certMethods(L) {
		certIdx.RawSetString(name, L.NewFunction(fn))
	}
	e.certMT.RawSetString("__index", certIdx)
	e.certMT.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(fmt.Sprintf("X509 certificate: %p", L.Get(1))))
		return 1
	}))

	e.connMT = L.NewTypeMetatable("SSL:Connection")
	idx := L.NewTable()
	for name, m := range e.connMethods() {
		if m.yields {
			idx.RawSetString(name, e.loop.WrapGo(m.fn))
		} else {
			idx.RawSetString(name, L.NewFunction(m.fn))
		}
	}
	e.connMT.RawSetString("__index", idx)
	e.connMT.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		c := checkConn(L)
		s := fmt.Sprintf("SSL connection: %p", L.Get(1))
		if c.state == stClosed {
			s += " (closed)"
		}
		L.Push(lua.LString(s))
		return 1
	}))
}

func (e *env) configTable() *lua.LTable {
	L := e.L
	set := func(names ...string) *lua.LTable {
		t := L.NewTable()
		for _, n := range names {
			t.RawSetString(n, lua.LTrue)
		}
		return t
	}
	cfg := L.NewTable()
	cfg.RawSetString("protocols", set(protocolNames...))
	cfg.RawSetString("options", set(optionNames...))
	cfg.RawSetString("algorithms", set("ec"))
	cfg.RawSetString("capabilities", set("alpn", "curves_list"))
	var curves []string
	for n := range curveIDs {
		curves = append(curves, n)
	}
	cfg.RawSetString("curves", set(curves...))
	return cfg
}
