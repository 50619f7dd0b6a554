package copaslua

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// gopher-lua's file:read(n) allocates n bytes before reading, so
// io.open(f):read(2^40) aborts the process ("fatal error: runtime: out of
// memory") where Lua 5.1 returns what the file holds; "*a" grows without
// bound. boundReads wraps file:read and io.read so that counts and "*a"
// are read in blocks of readBlock bytes, up to maxRead in all ("not
// enough memory" beyond). Other formats go to gopher-lua unchanged.
const readBlock = 64 << 10

func boundReads(L *lua.LState) {
	if mt, ok := L.GetTypeMetatable("FILE*").(*lua.LTable); ok {
		if idx, ok := mt.RawGetString("__index").(*lua.LTable); ok {
			if orig, ok := idx.RawGetString("read").(*lua.LFunction); ok {
				idx.RawSetString("read", L.NewFunction(func(L *lua.LState) int {
					return blockRead(L, orig, 1)
				}))
			}
		}
	}
	if iot, ok := L.GetGlobal("io").(*lua.LTable); ok {
		if orig, ok := iot.RawGetString("read").(*lua.LFunction); ok {
			iot.RawSetString("read", L.NewFunction(func(L *lua.LState) int {
				return blockRead(L, orig, 0)
			}))
		}
	}
}

// blockRead is read with the first nfixed arguments (the file) passed to
// every call of orig, one format at a time.
func blockRead(L *lua.LState, orig *lua.LFunction, nfixed int) int {
	top := L.GetTop()
	fixed := make([]lua.LValue, nfixed)
	for i := range fixed {
		fixed[i] = L.Get(i + 1)
	}
	big := false
	for i := nfixed + 1; i <= top; i++ {
		switch v := L.Get(i).(type) {
		case lua.LNumber:
			big = big || v > readBlock
		case lua.LString:
			big = big || strings.HasPrefix(string(v), "*a")
		}
	}
	if !big {
		L.Insert(orig, 1)
		L.Call(top, lua.MultRet)
		return L.GetTop()
	}
	call := func(f lua.LValue) []lua.LValue {
		base := L.GetTop()
		L.Push(orig)
		for _, v := range fixed {
			L.Push(v)
		}
		L.Push(f)
		L.Call(nfixed+1, lua.MultRet)
		out := make([]lua.LValue, L.GetTop()-base)
		for j := range out {
			out[j] = L.Get(base + 1 + j)
		}
		L.SetTop(base)
		return out
	}
	var results []lua.LValue
	for i := nfixed + 1; i <= top; i++ {
		f := L.Get(i)
		want := -1.0 // "*a"
		switch v := f.(type) {
		case lua.LNumber:
			want = float64(v)
		case lua.LString:
			if !strings.HasPrefix(string(v), "*a") {
				want = -2
			}
		}
		if want == -2 || (want >= 0 && want <= readBlock) {
			out := call(f)
			if len(out) == 0 {
				out = []lua.LValue{lua.LNil}
			}
			results = append(results, out[0])
			if out[0] == lua.LNil {
				results = append(results, out[1:]...)
				break
			}
			continue
		}
		var b strings.Builder
		got := lua.LValue(lua.LNil)
		for want < 0 || float64(b.Len()) < want {
			n := readBlock
			if want >= 0 && want-float64(b.Len()) < readBlock {
				n = int(want) - b.Len()
			}
			out := call(lua.LNumber(n))
			if len(out) == 0 || out[0] == lua.LNil {
				if len(out) > 1 && b.Len() == 0 && want >= 0 {
					results = append(results, out...) // an error: nil, msg
					return pushAll(L, results)
				}
				break
			}
			s := out[0].String()
			b.WriteString(s)
			got = lua.LString("")
			if b.Len() > maxRead {
				L.RaiseError("not enough memory")
			}
			if len(s) < n {
				break
			}
		}
		if b.Len() > 0 || want < 0 {
			got = lua.LString(b.String())
		}
		results = append(results, got)
		if got == lua.LNil {
			break
		}
	}
	return pushAll(L, results)
}

func pushAll(L *lua.LState, vals []lua.LValue) int {
	for _, v := range vals {
		L.Push(v)
	}
	return len(vals)
}
