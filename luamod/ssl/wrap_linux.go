//go:build linux

package ssl

import (
	"fmt"
	"runtime"
	"time"

	"github.com/copas-lua/copas-lua/luamod/socket"
	lua "github.com/yuin/gopher-lua"
)

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

// connString is the __tostring of <ssl connection>.
func connString(L *lua.LState) int {
	c := checkConn(L)
	s := fmt.Sprintf("SSL connection: %p", L.Get(1))
	if c.state == stClosed {
		s += " (closed)"
	}
	L.Push(lua.LString(s))
	return 1
}

// markLogFailures is copaslua.tls.logfailures(conn): conn's failed server
// handshake is reported. Anything that is no connection is ignored.
func markLogFailures(L *lua.LState) int {
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if c, ok := ud.Value.(*conn); ok {
			c.logFails = true
		}
	}
	return 0
}
