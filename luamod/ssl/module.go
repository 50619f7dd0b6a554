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
	"strings"

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
	// copaslua.tls: the TLS policy for copas-lua's own Lua code (copas.http
	// and copas.handler); not a LuaSec module.
	//   newcontext(params) -> ctx | nil, msg: a client context with the
	//     HTTPS client policy (verify by default, host name checked).
	//   logfailures(conn): a failed server handshake of conn is reported
	//     (rate-limited per peer address) through the loop's notices.
	L.PreloadModule("copaslua.tls", func(L *lua.LState) int {
		e := getEnv(L)
		t := L.NewTable()
		t.RawSetString("newcontext", L.NewFunction(func(L *lua.LState) int {
			b, msg := e.newContext(L, L.Get(1), true)
			if b == nil {
				return pushAll(L, lua.LNil, msg)
			}
			return pushAll(L, e.ctxValue(b))
		}))
		t.RawSetString("logfailures", L.NewFunction(markLogFailures))
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

// method is a method of <ssl connection>.
type method struct {
	fn     lua.LGFunction
	yields bool // may park the task: exposed through Loop.WrapGo
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
	e.connMT.RawSetString("__tostring", L.NewFunction(connString))
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
