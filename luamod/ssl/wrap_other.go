//go:build !linux

package ssl

import lua "github.com/yuin/gopher-lua"

// Off Linux the socket module cannot hand its descriptors over yet, so
// contexts, certificates and ssl.config work but no connection can be
// made: ssl.wrap returns nil and a message (as it does for any failure).

const noWrap = "TLS connections are not supported on this platform"

func (e *env) wrap(L *lua.LState, httpsDefault bool) int {
	_ = httpsDefault
	return pushAll(L, lua.LNil, lua.LString(noWrap))
}

func (e *env) connMethods() map[string]method { return nil }

func connString(L *lua.LState) int {
	L.Push(lua.LString("SSL connection: (unsupported)"))
	return 1
}

func pushAll(L *lua.LState, vals ...lua.LValue) int {
	for _, v := range vals {
		L.Push(v)
	}
	return len(vals)
}

func markLogFailures(*lua.LState) int { return 0 }
