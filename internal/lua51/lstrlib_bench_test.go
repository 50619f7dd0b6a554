package lua51

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// benchPatterns are typical HTTP-parsing calls: a request line, a header
// line, and gsub over a header block.
var benchFind = []struct{ name, s, p string }{
	{"request", "GET /index.html?q=1 HTTP/1.1", "^(%S+)%s+(%S+)%s+HTTP/(%d)%.(%d)$"},
	{"header", "Content-Type: text/html; charset=utf-8", "([^:]+):%s*(.*)"},
	{"word", "the quick brown fox jumps over the lazy dog", "(%a+)%s+dog"},
	{"plain", "the quick brown fox jumps over the lazy dog", "lazy"},
}

// benchStates are a state with Install and a stock gopher-lua one.
func benchStates(b *testing.B) map[string]*lua.LState {
	ours := lua.NewState()
	Install(ours)
	stock := lua.NewState()
	b.Cleanup(func() { ours.Close(); stock.Close() })
	return map[string]*lua.LState{"lua51": ours, "gopher": stock}
}

func benchCall(b *testing.B, L *lua.LState, name string, args ...lua.LValue) {
	fn := L.GetGlobal("string").(*lua.LTable).RawGetString(name)
	b.ReportAllocs()
	for b.Loop() {
		if err := L.CallByParam(lua.P{Fn: fn, NRet: lua.MultRet, Protect: true}, args...); err != nil {
			b.Fatal(err)
		}
		L.SetTop(0)
	}
}

func BenchmarkFind(b *testing.B) {
	states := benchStates(b)
	for _, c := range benchFind {
		for _, impl := range []string{"lua51", "gopher"} {
			b.Run(c.name+"/"+impl, func(b *testing.B) {
				benchCall(b, states[impl], "find", lua.LString(c.s), lua.LString(c.p))
			})
		}
	}
}

func BenchmarkGsub(b *testing.B) {
	states := benchStates(b)
	headers := "Host: example.com\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\nContent-Length: 42\r\n" +
		"Connection: keep-alive\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n"
	cases := []struct{ name, s, p, r string }{
		{"headers", headers, "([^:\r\n]+):%s*([^\r\n]*)\r\n", "%1=%2;"},
		{"trim", "   some value with spaces   ", "^%s*(.-)%s*$", "%1"},
		{"escape", "a b&c=d/e?f g h&i=j", "([^%w%-%.~])", "_"},
	}
	for _, c := range cases {
		for _, impl := range []string{"lua51", "gopher"} {
			b.Run(c.name+"/"+impl, func(b *testing.B) {
				benchCall(b, states[impl], "gsub", lua.LString(c.s), lua.LString(c.p), lua.LString(c.r))
			})
		}
	}
}
