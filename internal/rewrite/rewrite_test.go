package rewrite_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/copas-lua/copas-lua/internal/rewrite"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

// outPrelude defines out for lua5.1 as the Go tests define it: each call
// writes its arguments, tostring'ed and separated by spaces, as one line.
const outPrelude = `function out(...) local t = {} for i = 1, select("#", ...) do t[i] = tostring((select(i, ...))) end io.write(table.concat(t, " "), "\n") end`

// cases: Lua source and what Lua 5.1.5 prints for it (checked by
// TestCasesMatchLua51 when lua5.1 is installed).
var cases = []struct{ name, src, want string }{
	{"swap_locals", `local a, b = 1, 2; a, b = b, a; out(a, b)
`,
		`2 1
`},
	{"rotate_locals", `local x, y, z = 1, 2, 3; x, y, z = z, x, y; out(x, y, z)
`,
		`3 1 2
`},
	{"issue440", `local a, b = 0, 0; a, b = a + 1, a + b; out(a, b)
`,
		`1 0
`},
	{"upvalues", `local a, b = 1, 2
local function f() a, b = b, a end
f(); out(a, b)
`,
		`2 1
`},
	{"globals", `ga, gb = 1, 2; ga, gb = gb, ga; out(ga, gb)
`,
		`2 1
`},
	{"manual_index_global", `i = 3; a = {}; i, a[i] = i+1, 20; out(i, a[3], a[4])
`,
		`4 20 nil
`},
	{"manual_index_local", `local i = 3; local a = {}; i, a[i] = i+1, 20; out(i, a[3], a[4])
`,
		`4 20 nil
`},
	{"index_first", `local i = 1; local a = {}; a[i], i = 20, 2; out(a[1], a[2], i)
`,
		`20 nil 2
`},
	{"table_replaced", `local t = {}; local t0 = t; t, t.x = {}, 5; out(t0.x, t.x)
`,
		`5 nil
`},
	{"field_and_local", `local a = {}; local d = 'e'; local f = 1; f, a.d = f, d; out(f, a.d)
`,
		`1 e
`},
	{"call_expands", `local function f() return 1, 2, 3 end
local a, b, c, d = 9, 9, 9, 9
a, b, c, d = f(); out(a, b, c, d)
a, b, c, d = 0, f(); out(a, b, c, d)
a, b, c, d = f(), 0; out(a, b, c, d)
a, b = (f()); out(a, b)
`,
		`1 2 3 nil
0 1 2 3
1 0 nil nil
1 nil
`},
	{"vararg_expands", `local function g(...)
  local a, b, c = 7, 7, 7
  a, b, c = ...; out(a, b, c)
  a, b, c = 0, ...; out(a, b, c)
  a, b = ..., 5; out(a, b)
  a, b = (...); out(a, b)
end
g(1, 2, 3)
g()
`,
		`1 2 3
0 1 2
1 5
1 nil
nil nil nil
0 nil nil
nil 5
nil nil
`},
	{"fewer_values", `local a, b, c = 1, 2, 3; a, b, c = c; out(a, b, c)
`,
		`3 nil nil
`},
	{"more_values", `local n = 0
local function bump() n = n + 1; return n end
local a, b = 0, 0
a, b = b, a, bump(), bump(); out(a, b, n)
`,
		`0 0 2
`},
	{"swap_fields", `local t = {x = 1, y = 2}; t.x, t.y = t.y, t.x; out(t.x, t.y)
local u = {1, 2, 3}; u[1], u[2], u[3] = u[3], u[1], u[2]; out(u[1], u[2], u[3])
`,
		`2 1
3 1 2
`},
	{"order", `local log = {}
local function L(s, v) log[#log+1] = s; return v end
local mt = {__newindex = function(t, k, v) log[#log+1] = "set" .. k .. "=" .. v; rawset(t, k, v) end,
            __index = function(t, k) log[#log+1] = "get" .. k; return t end}
local t = setmetatable({}, mt)
L("o1", t)[L("k1", "a")], L("o2", t).b.c, L("o3", t)[L("k3", "d")] = L("v1", 1), L("v2", 2), L("v3", 3)
out(table.concat(log, " "))
`,
		`o1 k1 o2 getb o3 k3 v1 v2 v3 setd=3 setc=2 seta=1
`},
	{"same_target_twice", `local a; a, a = 1, 2; out(a)
local t = {}; t.x, t.x = 1, 2; out(t.x)
`,
		`1
1
`},
	{"nested_blocks", `local a, b = 1, 2
if a then a, b = b, a end; out(a, b)
if not a then else a, b = b, a end; out(a, b)
if false then elseif true then a, b = b, a end; out(a, b)
local n = 0
while n < 1 do a, b = b, a; n = n + 1 end; out(a, b)
repeat a, b = b, a until true; out(a, b)
for i = 1, 1 do a, b = b, a end; out(a, b)
for _, v in ipairs({1}) do a, b = b, a end; out(a, b)
do a, b = b, a end; out(a, b)
local function f(x, y) x, y = y, x; return x, y end; out(f(1, 2))
local t = {fn = function(x, y) x, y = y, x; return x, y end}; out(t.fn(1, 2))
function t:m(x, y) x, y = y, x; return x, y end; out(t:m(1, 2))
out((function(x, y) x, y = y, x; return x, y end)(1, 2))
out(select(2, (function(x, y) x, y = y, x; return x, y end)(1, 2)))
local k = {[(function() local p, q = 1, 2; p, q = q, p; return p end)()] = "two"}; out(k[2])
`,
		`2 1
1 2
2 1
1 2
2 1
1 2
2 1
1 2
2 1
2 1
2 1
2 1
1
two
`},
	{"nested_functions", `local function outer()
  local a, b = 1, 2
  local function inner()
    local c, d = 3, 4
    c, d = d, c
    a, b = b, a
    return c, d
  end
  local c, d = inner()
  return a, b, c, d
end
out(outer())
`,
		`2 1 4 3
`},
	{"local_function_self", `function g() return "global" end
local g = function() return g end
out(g() == g, g()())
local print0 = function(x) return x end
local print0 = function(x) return "w:" .. print0(x) end
out(print0("hi"))
local function rec(n) if n == 0 then return 0 end return rec(n - 1) + 1 end
out(rec(3))
`,
		`false global
w:hi
3
`},
	{"generic_for_state", `local t = {a = 1, b = 2}
do local x, y, z = 1, 2, "a" end
local n = 0
for k in next, t do n = n + 1 end
out(n)
do local x, y, z = 1, 2, 3 end
for k in function(s, c) out(s, c) return nil end do end
local function two() return "s", "c" end
do local x, y, z = 1, 2, 3 end
for k in function(s, c) out(s, c) return nil end, two() do end
`,
		`2
nil nil
s c
`}}

// plainBroken lists the cases plain gopher-lua 1.1.2 gets wrong: the
// rewrite fixes them. TestPlainGopherLua fails if this goes stale (for
// instance after a gopher-lua upgrade fixes a bug).
var plainBroken = map[string]bool{
	"swap_locals":         true,
	"rotate_locals":       true,
	"issue440":            true,
	"table_replaced":      true,
	"call_expands":        false,
	"more_values":         false,
	"same_target_twice":   true,
	"nested_blocks":       true,
	"nested_functions":    true,
	"local_function_self": true,
	"generic_for_state":   true,
}

// run compiles src (rewritten or not), runs it in a fresh state and
// returns what it passed to out, or the error.
func run(t testing.TB, src string, rewritten bool) (string, error) {
	t.Helper()
	chunk, err := parse.Parse(strings.NewReader(src), "test")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if rewritten {
		chunk = rewrite.Chunk(chunk)
	}
	proto, err := lua.Compile(chunk, "test")
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	L := lua.NewState()
	defer L.Close()
	var b strings.Builder
	L.SetGlobal("out", L.NewFunction(func(L *lua.LState) int {
		parts := make([]string, L.GetTop())
		for i := range parts {
			parts[i] = L.ToStringMeta(L.Get(i + 1)).String()
		}
		b.WriteString(strings.Join(parts, " ") + "\n")
		return 0
	}))
	L.Push(L.NewFunctionFromProto(proto))
	err = L.PCall(0, 0, nil)
	return b.String(), err
}

func TestRewrite(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := run(t, c.src, true)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

func TestPlainGopherLua(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := run(t, c.src, false)
			broken := err != nil || got != c.want
			if broken != plainBroken[c.name] {
				t.Errorf("plain gopher-lua: broken=%v, plainBroken says %v (got %q, err %v)", broken, plainBroken[c.name], got, err)
			}
		})
	}
}

func TestCasesMatchLua51(t *testing.T) {
	lua51, err := exec.LookPath("lua5.1")
	if err != nil {
		t.Skip("lua5.1 not installed")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(lua51, "-e", outPrelude, "-")
			cmd.Stdin = strings.NewReader(c.src)
			got, err := cmd.Output()
			if err != nil {
				t.Fatalf("lua5.1: %v", err)
			}
			if string(got) != c.want {
				t.Errorf("lua5.1 prints\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// Runtime errors in and around a rewritten assignment report the lines
// plain gopher-lua reports.
func TestLineNumbers(t *testing.T) {
	srcs := map[string]string{
		"field target": "local t = nil\nlocal a\na,\n  t.x = 1, 2\n",
		"value":        "local a, b\na, b = 1,\n  nil + 1\n",
		"prefix":       "local t = {}\nlocal a\na, t.x.y = 1, 2\n",
		"key":          "local t = {}\nlocal a\na, t[nil + 1] = 1, 2\n",
		"called":       "local function f()\n  error('boom')\nend\nlocal a, b\na, b = 1,\n  f()\n",
		"nested":       "local a, b\nlocal function g()\n  a, b = b,\n    a.x\nend\ng()\n",
	}
	for name, src := range srcs {
		t.Run(name, func(t *testing.T) {
			_, plainErr := run(t, src, false)
			_, err := run(t, src, true)
			if plainErr == nil || err == nil {
				t.Fatalf("expected errors, got %v and %v", plainErr, err)
			}
			if plainErr.Error() != err.Error() {
				t.Errorf("rewritten:\n%v\nplain:\n%v", err, plainErr)
			}
		})
	}
}

// Single-target assignments are left as they are.
func TestSingleAssignmentUntouched(t *testing.T) {
	chunk, err := parse.Parse(strings.NewReader("local a\na = 1\nlocal t = {}\nt.x = a\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	before := append([]ast.Stmt(nil), chunk...)
	after := rewrite.Chunk(chunk)
	for i := range before {
		if before[i] != after[i] {
			t.Errorf("statement %d replaced: %T", i, after[i])
		}
	}
}

// The `local f = function` fix relies on the 1.1.2 parser setting the last
// line of `local function f` statements only.
func TestParserMarksLocalFunction(t *testing.T) {
	chunk, err := parse.Parse(strings.NewReader("local function f()\nend\nlocal g = function()\nend\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(chunk) != 2 {
		t.Fatalf("%d statements", len(chunk))
	}
	if chunk[0].LastLine() == 0 {
		t.Error("local function f: LastLine is 0; the parser changed, revise localFunction")
	}
	if chunk[1].LastLine() != 0 {
		t.Error("local g = function: LastLine is set; the parser changed, revise localFunction")
	}
}

// bigChunk is a chunk of about n lines, a third of them multiple
// assignments (far more than usual code has): a worst case for the rewrite.
func bigChunk(n int) string {
	var b strings.Builder
	b.WriteString("local t = {}\n")
	for i := 0; b.Len() == 0 || strings.Count(b.String(), "\n") < n; i++ {
		fmt.Fprintf(&b, "t[%d] = function(a, b, c)\n", i)
		b.WriteString("  local x, y = a, b\n")
		b.WriteString("  x, y = y, x\n")
		b.WriteString("  t.k, t[a] = c, x + y\n")
		b.WriteString("  if x > y then return x else return y end\n")
		b.WriteString("end\n")
	}
	return b.String()
}

func BenchmarkLoad(b *testing.B) {
	src := bigChunk(5000)
	for _, rw := range []bool{false, true} {
		name := "plain"
		if rw {
			name = "rewrite"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for i := 0; i < b.N; i++ {
				chunk, err := parse.Parse(strings.NewReader(src), "big")
				if err != nil {
					b.Fatal(err)
				}
				if rw {
					chunk = rewrite.Chunk(chunk)
				}
				if _, err := lua.Compile(chunk, "big"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The 5,000-line chunk loads and runs the same with the rewrite.
func TestBigChunk(t *testing.T) {
	src := bigChunk(5000) + "local s = 0\nfor i = 0, #t do s = s + t[i](i, 2 * i, 1) end\nout(s)\n"
	plain, err := run(t, src, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := run(t, src, true)
	if err != nil {
		t.Fatal(err)
	}
	// Swapping x and y does not change max(x, y), so plain gopher-lua's
	// wrong swap goes unnoticed here.
	if got != plain {
		t.Errorf("got %q, plain %q", got, plain)
	}
}
