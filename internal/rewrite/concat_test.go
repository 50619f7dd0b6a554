package rewrite_test

import (
	"strings"
	"testing"

	"github.com/copas-lua/copas-lua/internal/rewrite"
	lua "github.com/yuin/gopher-lua"
)

// loadConcat loads src with a concat function that marks its result, so
// a test sees which chains went through it.
func loadConcat(t *testing.T, src string) (string, error) {
	t.Helper()
	L := lua.NewState()
	defer L.Close()
	rewrite.EnableConcat(L, func(L *lua.LState) int {
		parts := make([]string, L.GetTop())
		for i := range parts {
			parts[i] = L.Get(i + 1).String()
		}
		L.Push(lua.LString("<" + strings.Join(parts, "|") + ">"))
		return 1
	})
	fn, err := rewrite.Load(L, strings.NewReader(src), "test")
	if err != nil {
		t.Fatal(err)
	}
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		return "", err
	}
	return L.Get(-1).String(), nil
}

func TestConcatRewrite(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"chain", `local a, b = 1, "x" return a .. b .. "c"`, "<1|x|c>"},
		{"constants only", `return "a" .. "b"`, "ab"},
		{"nested function", `local n = 2 local function f() return "n=" .. n end return f()`, "<n=|2>"},
		{"parenthesised", `local a = 1 return (a .. "x") .. a`, "<<1|x>|1>"},
		{"call operand", `local function f() return "a", "b" end return "x" .. f()`, "<x|a>"},
		// The function is bound to a local, not looked up in the
		// environment.
		{"setfenv", `local a = 1 setfenv(1, {}) return a .. "x"`, "<1|x>"},
		{"long chain", "local a = 1 return a" + strings.Repeat(` .. "-"`, 70), "<1" + strings.Repeat("|-", 62) + "|<-" + strings.Repeat("|-", 7) + ">>"},
		// A string spelling the placeholder stays a string.
		{"placeholder", `local a = 1 return a .. "(copas-lua concat placeholder)" .. "(copas-lua concat placeholder)1"`,
			"<1|(copas-lua concat placeholder)|(copas-lua concat placeholder)1>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := loadConcat(t, c.src)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestConcatErrorLine(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	rewrite.EnableConcat(L, func(L *lua.LState) int {
		L.RaiseError("boom")
		return 0
	})
	fn, err := rewrite.Load(L, strings.NewReader("local a = 1\n\nreturn a .. 'x'\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	L.Push(fn)
	err = L.PCall(0, 1, nil)
	if err == nil || !strings.Contains(err.Error(), "test:3: boom") {
		t.Fatalf("error %v, want it at test:3", err)
	}
}
