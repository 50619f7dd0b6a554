package lua51

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// lua51Oracle is the path of PUC's lua5.1: the test is skipped without it,
// except on CI, where it must be installed.
func lua51Oracle(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("lua5.1")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("lua5.1 is required on CI: ", err)
		}
		t.Skip("lua5.1 not installed")
	}
	return path
}

// patternPrelude defines, for both interpreters, the calls a case makes:
// F, M, S are find, match and gsub through pcall (so errors carry no
// position), G collects a gmatch loop. Each appends one line to out that
// names every result with its type; strings are escaped byte by byte.
const patternPrelude = `
local out = {}
local function esc(v)
  local t = type(v)
  if t == "string" then
    local b = {}
    for i = 1, #v do
      local c = v:byte(i)
      if c >= 32 and c < 127 and c ~= 92 and c ~= 124 then
        b[#b + 1] = string.char(c)
      else
        b[#b + 1] = "\\" .. c
      end
    end
    return '"' .. table.concat(b) .. '"'
  elseif t == "number" then
    return tostring(v)
  end
  return t .. ":" .. tostring(v)
end
local function pack(...) return select("#", ...), { ... } end
local function ser(n, t)
  local b = {}
  for i = 1, n do b[i] = esc(t[i]) end
  return n .. "|" .. table.concat(b, "|")
end
local function T(f, ...) out[#out + 1] = ser(pack(pcall(f, ...))) end
local function F(...) T(string.find, ...) end
local function M(...) T(string.match, ...) end
local function S(...) T(string.gsub, ...) end
local function G(...)
  local ok, it = pcall(string.gmatch, ...)
  if not ok then out[#out + 1] = "gmatch " .. esc(it) return end
  local r = {}
  for _ = 1, 100 do
    local n, t = pack(pcall(it))
    r[#r + 1] = ser(n, t)
    if n == 1 or not t[1] then break end
  end
  out[#out + 1] = table.concat(r, " ; ")
end
-- replacement functions and tables for gsub
local function up(s) return s:upper() end
local function cat(...) return table.concat({ ... }, ",") end
local function argc(...) return select("#", ...) end
local function types(...)
  local t = {}
  for i = 1, select("#", ...) do t[i] = type((select(i, ...))) end
  return table.concat(t, ",")
end
local function retnil() return nil end
local function retfalse() return false end
local function rettrue() return true end
local function rettab() return {} end
local function retnum() return 1 / 3 end
local function retnone() end
local function failing() error("callback failed", 0) end
local tbl = { hello = "HI", world = 1.5, x = false, [1] = "one", a = "A" }
local lazy = setmetatable({}, { __index = function(_, k) return "<" .. k .. ">" end })
local badt = { a = {} }
`

// patternCases are calls of the prelude's F, M, S and G, compared with
// lua5.1 one by one.
var patternCases = []string{
	// find: plain and special-free patterns, init
	`F("hello", "l")`, `F("hello", "lo")`, `F("hello", "xyz")`, `F("hello", "")`,
	`F("hello", "", 10)`, `F("hello", "", 6)`, `F("hello", "", 5)`, `F("hello", "", -1)`,
	`F("hello", "", -10)`, `F("hello", "", 0)`, `F("", "")`, `F("", "", 1)`, `F("", "", 2)`,
	`F("", "a")`, `F("hello", "l", 4)`, `F("hello", "l", -2)`, `F("hello", "h", -100)`,
	`F("hello", "o", 5)`, `F("hello", "o", 6)`, `F("hello", "hello", 1)`, `F("hello", "hellox")`,
	`F("a.b", ".", 1, true)`, `F("a.b", ".")`, `F("a+b", "+", 1, true)`, `F("a+b", "a+")`,
	`F("a(b", "(", 1, true)`, `F("a(b", "%(")`, `F("a]b", "]")`, `F("a)b", ")")`,
	`F("a)b", "a)")`, `F("x^y", "^", 1, true)`, `F("x^y", "x^")`, `F("x$y", "$y")`,
	`F("a.b", ".", 1, false)`, `F("a.b", ".", 1, nil)`, `F("a.b", ".", 1, 0)`, `F("a.b", ".", nil, true)`,
	`F("a\0b%", "\0b%")`, `F("a\0b", "\0")`, `F("a\0b", "%z")`, `F("a\0b", "[%z]")`,
	`F("a\0b", "b\0")`, `F("abc", "b", "2")`, `F("abc", "b", "x")`, `F("abc", "b", {})`,
	`F("abc", "b", 2.9)`, `F("abc", "b", -1.5)`, `F(12345, 34)`, `F(1e15, "e")`, `F(0.1, "%.")`,
	`F("abc")`, `F()`, `F(nil, "a")`, `F("a", nil)`, `F({}, "a")`, `F("a", true)`,
	`F("abc", "b", false)`, `F("abc", "(b)", 1, true)`, `F("a(b)", "(b)", 1, true)`,
	// find and match: anchors
	`F("hello", "^h")`, `F("hello", "^e")`, `F("hello", "^e", 2)`, `F("hello", "o$")`,
	`F("hello", "l$")`, `F("hello", "^hello$")`, `F("hello", "^")`, `F("hello", "$")`,
	`F("hello", "^$")`, `F("", "^$")`, `F("a$b", "a$b")`, `F("a$", "a$$")`, `F("a^b", "a^b")`,
	`M("hello", "^(h)(e)")`, `M("hello", "^.", 3)`, `M("hello", ".$", 3)`, `M("x^", "^^")`,
	`M("^x", "^^")`, `M("$", "^$$")`,
	// match: single classes and sets
	`M("hello world", "%a+")`, `M("hello world", "%A+")`, `M("x 123 y", "%d+")`, `M("x 123 y", "%D+")`,
	`M("aBc", "%l+")`, `M("aBc", "%u+")`, `M("aBc", "%L+")`, `M("aBc", "%U+")`,
	`M("a \t\n\r\f\vb", "%s+")`, `M("a \t\nb", "%S+")`, `M("a,b.c!", "%p")`, `M("a,b.c!", "%P+")`,
	`M("a\1\2b", "%c+")`, `M("a\1\2b", "%C+")`, `M("x_1a", "%w+")`, `M("x_1a", "%W")`,
	`M("0x1F g", "%x+")`, `M("0x1F g", "%X+")`, `M("a\0b", "%Z+")`, `M("\127\31 ", "%c+")`,
	`M("\128\255abc", "%a+")`, `M("\128\255", "[\128-\255]+")`, `M("\200", "%p")`, `M("\200", "%W")`,
	`M("a.b", "%.")`, `M("a%b", "%%")`, `M("aQb", "%Q")`, `M("a-b", "%-")`, `M("a]b", "%]")`,
	`M("hello", "[aeiou]")`, `M("hello", "[^aeiou]+")`, `M("hello", "[a-f]+")`, `M("hello", "[%a]+")`,
	`M("a-z", "[a%-z]+")`, `M("a-z", "[-a]+")`, `M("a-z", "[a-]+")`, `M("]]a", "[]]+")`,
	`M("]]a", "[^]]+")`, `M("^^a", "[%^]+")`, `M("^^a", "[a^]+")`, `M("a1_b", "[%w_]+")`,
	`M("z-a", "[z-a]")`, `M("b", "[a-c-e]")`, `M("-", "[a-c-e]")`, `M("d", "[a-c-e]")`,
	`M("%", "[%%]")`, `M("x", "[%x]")`, `M("[", "[[]")`, `M("a[b", "[%[]")`, `M(".", "[.]")`,
	`M("abc", ".")`, `M("", ".")`, `M("\0", ".")`, `M("abc", "[]")`, `M("abc", "[^]")`,
	`M("abc", "[a")`, `M("abc", "[a%")`, `M("abc", "[%")`, `M("abc", "[^")`, `M("abc", "[")`,
	`M("abc", "[]a")`, `M("abc", "[a-")`, `M("abc", "%")`, `M("abc", "a%")`,
	`M("abc", "[%a-]+")`, `M("a", "[%]")`, `M("]", "[%]]")`,
	// quantifiers
	`M("aaab", "a*")`, `M("aaab", "a+")`, `M("aaab", "a-")`, `M("aaab", "a-b")`, `M("aaab", "a?")`,
	`M("b", "a*b")`, `M("b", "a+b")`, `M("b", "a?b")`, `M("ab", "a?b")`, `M("aab", "a?b")`,
	`M("<a><b>", "<.*>")`, `M("<a><b>", "<.->")`, `M("<a><b>", "<(.-)>")`, `M("abc", "a.-c")`,
	`M("abc", "a.*")`, `M("abc", ".-")`, `M("abc", ".-$")`, `M("abc", "x*")`, `M("abc", "^x*$")`,
	`M("", "a*")`, `M("", "a+")`, `M("", "a-")`, `M("", "a?")`, `M("aaa", "a*a")`,
	`M("aaa", "a-a")`, `M("aaa", "^a-$")`, `M("  trim  ", "^%s*(.-)%s*$")`, `M("*", "**")`,
	`M("a*", "a%*")`, `M("+", "+")`, `M("?", "?")`, `M("-", "-")`, `M("a", "*")`,
	`M("aaa", "a**")`, `M("ab", "a?+")`, `M("[[x]]", "%[+(.-)%]+")`, `M("abc", "[abc]-c")`,
	`M("1234", "%d?%d?")`, `M("x", ".?.?.?")`,
	// captures
	`M("hello world", "(h)(e)(l)")`, `M("hello", "(h(e)l)")`, `M("hello", "()")`, `M("hello", "()", 3)`,
	`M("hello", "()ll()")`, `M("hello", "(l)()")`, `M("hello", "()(l+)()")`, `M("", "()")`,
	`F("hello", "()")`, `F("hello", "(l)(l)")`, `F("hello", "()ll()")`, `F("hello", "(h)", 2)`,
	`M("key = value", "(%w+)%s*=%s*(%w+)")`, `M("abc", "((a)(b)(c))")`, `M("abc", "(a)|(b)")`,
	`M("abc", "(a")`, `M("abc", "(a(b)")`, `M("abc", "a)")`, `M("abc", "(a))")`, `F("abc", "(a")`,
	`F("abc", ")")`, `M("abc", "()(")`, `M("abc", "(()")`, `M("xyz", "(a")`, `M("abc", "(x)")`,
	`M("abc", "(.)(.)(.)(.)")`, `M("a", "(a*(.)%w(%s*))")`,
	`M(string.rep("a", 32), string.rep("(a)", 32))`, `M(string.rep("a", 33), string.rep("(a)", 33))`,
	`M(string.rep("a", 40), string.rep("()", 33))`, `F("x", string.rep("()", 32))`,
	`M("aaa", string.rep("(", 40))`, `M("", string.rep("()", 32) .. "x")`,
	// back-references
	`M("hello", "(l)%1")`, `M("abab", "(ab)%1")`, `M("abcabc", "(a)(b)(c)%1%2%3")`,
	`M('say "hi" now', "([\"'])(.-)%1")`, `M("xx", "(x)%2")`, `M("xx", "%1")`, `M("xx", "%0")`,
	`M("xx", "(x%1)")`, `M("xx", "()%1")`, `M("x1", "()x%1")`, `M("aa", "(a)%1%1")`,
	`M("aaaa", "(a*)%1")`, `M("abc", "(.)%9")`, `M("abab", "^(.-)%1$")`, `M("aXbX", "(%u).-%1")`,
	// %b
	`M("f(a(b)c) d", "%b()")`, `M("(unclosed", "%b()")`, `M("x", "%b")`, `M("x", "%bx")`,
	`M("[[x]]y", "%b[]")`, `M("<<>", "%b<>")`, `M("aaxbb", "%bab")`, `M("xyx", "%bxx")`,
	`M("a(b)c", "a%b()c")`, `M("((a)", "%b()")`, `M("))", "%b)(")`, `M("", "%b()")`,
	`M("(x)(y)", "(%b())(%b())")`, `S("f(1) g(2,3)", "%b()", "[]")`, `M("[a]", "%b[]$")`,
	// %f frontier
	`M("THE (quick) fox", "%f[%a]%a+")`, `S("THE (quick) fox", "%f[%a]%a+", "X")`,
	`S("hello world", "%f[%w]%w+", up)`, `M("abc", "%f[%w]")`, `F("abc", "%f[%W]")`,
	`F("abc def", "%f[%s]")`, `F("abc", "%f[%z]")`, `F("abc", "%f[^%z]")`, `F("", "%f[%z]")`,
	`F("", "%f[^%z]")`, `M("x", "%f")`, `M("x", "%fx")`, `M("x", "%f[")`, `M("x", "%f[x")`,
	`F("a\0b", "%f[%z]")`, `F("a\0b", "%f[^%z]", 2)`, `F("aXb", "%f[%u]")`, `F("aXb", "%f[%l]", 2)`,
	`S("the cat", "%f[%a]", "|")`, `S("the cat", "%f[%A]", "|")`, `F("x", "%f[]x]")`,
	// lazy errors: only what the matcher reaches
	`F("abc", "x[")`, `F("abc", "a[")`, `F("abc", "x%")`, `F("abc", "a%")`, `F("", "x(")`,
	`F("abc", "x%f")`, `F("abc", "x%1")`, `F("abc", "x)")`, `M("abc", "c(")`, `M("abc", "c)")`,
	`S("abc", "x[", "")`, `S("", "x%b", "")`, `G("abc", "x[")`, `G("xbc", "x[")`,
	// gmatch
	`G("hello world from Lua", "%a+")`, `G("a=1, b=2", "(%w+)=(%w+)")`, `G("abc", "%a*")`,
	`G("abc", "")`, `G("", "")`, `G("", "x")`, `G("abc", "()")`, `G("a,b,,c", "([^,]*)")`,
	`G("^a^b", "^.")`, `G("aaa", "^a")`, `G("one two", "%a+$")`, `G("abc", ".-")`,
	`G("xAyBz", "%u")`, `G("abc", "(a")`, `G("abc", "%")`, `G("abc", "[")`, `G(123, 2)`,
	`G("abc")`, `G(nil, "a")`, `G("abc", "b()")`, `G("x\0y\0", "[^%z]+")`, `G("a\0b", "\0")`,
	`G("f(a) g(b)", "%b()")`, `G("ab", "%f[%a]")`, `G("aXbY", "%l(%u)")`, `G("k=v;k2=v2", "(%w+)=(%w+)")`,
	// gsub: string replacements
	`S("hello world", "o", "0")`, `S("hello world", "o", "0", 1)`, `S("hello world", "o", "0", 0)`,
	`S("hello world", "o", "0", -1)`, `S("hello world", "o", "0", "1")`, `S("hello world", "o", "0", "x")`,
	`S("hello world", "o", "0", 1.9)`, `S("hello world", "(o)", "[%1]")`, `S("hello", "", "-")`,
	`S("", "", "-")`, `S("abc", ".-", "-")`, `S("abc", "%w*", "-")`, `S("abc", "^", "-")`,
	`S("abc", "$", "-")`, `S("abc", "^a", "-")`, `S("aaa", "^a", "-")`, `S("abc", "^$", "-")`,
	`S("", "^$", "-")`, `S("hello world", "(%w+)", "<%1>")`, `S("hello world", "%w+", "<%0>")`,
	`S("hello world", "%w+", "<%1>")`, `S("hello world", "%w+", "<%2>")`, `S("abc", "(b)", "%2")`,
	`S("abc", "b", "%%")`, `S("abc", "b", "%a")`, `S("abc", "b", "%")`, `S("abc", "b", "x%")`,
	`S("abc", "b", "%%%")`, `S("abc", "(b)", "%0%1%0")`, `S("abc", "()b", "%1")`, `S("abc", "(b)()", "%1%2")`,
	`S("abc", "b", "\0")`, `S("a\0c", "\0", "x")`, `S("a\0c", "%z", "x")`, `S("abc", "b", 5)`,
	`S("abc", "b", 1/3)`, `S("abc", "b", -0.0)`, `S(123, 2, 9)`, `S("abc", "b")`, `S("abc", "b", true)`,
	`S("abc", "b", nil)`, `S("abc", "b", false)`, `S("abc")`, `S(nil, "a", "")`, `S("a", "a", "", {})`,
	`S("a", "a", true, "x")`, `S("abc", "(", "")`, `S("abc", "[", "")`, `S("abc", "%", "")`,
	`S("abc", "(a", "")`, `S("abc", "(a", "%1")`, `S("abc", "a)", "")`, `S("hello", "l+", "L")`,
	`S("hello", "l*", "L")`, `S("hello", "l-", "L")`, `S("hello", "l?", "L")`, `S("x = 1, y = 2", "(%w+) = (%w+)", "%2 = %1")`,
	`S("aaa", "a", "b", 2^32 + 1)`, `S("aaa", "a", "b", 2^31)`, `F("aaa", "a", 2^32 + 2)`, `S("abc", "%w", "%1%1")`, `S(string.rep("ab", 10), "b", "c", 5)`, `S("abc", ".", "%9")`,
	// gsub: tables and functions
	`S("hello world", "%w+", tbl)`, `S("hello x", "%w+", tbl)`, `S("a b", "%w", tbl)`,
	`S("1 2", "%d", tbl)`, `S("abc", "%w+", lazy)`, `S("abc", "(b)(c)", lazy)`, `S("abc", "()b", lazy)`,
	`S("abc", "a", badt)`, `S("abc", ".", up)`, `S("abc", "(.)(.)", cat)`, `S("abc", "()(.)", cat)`,
	`S("abc", ".", argc)`, `S("abc", "(.)()(.)", argc)`, `S("abc", "()(.)", types)`, `S("abc", ".", retnil)`,
	`S("abc", ".", retfalse)`, `S("abc", ".", rettrue)`, `S("abc", ".", rettab)`, `S("abc", ".", retnum)`,
	`S("abc", ".", retnone)`, `S("abc", ".", failing)`, `S("abc", ".", string.len)`, `S("abc", "", up)`,
	`S("abc", "", cat)`, `S("abc", "%w", up, 2)`, `S("abc", "(", up)`, `S("abc", "x", rettab)`,
	`S("abc", ".", coroutine.running)`, `S("abc", ".", tostring)`, `S("abc", "(a", cat)`,
	`S("abc", "(a", tbl)`,
	// non-ASCII and bytes
	`M("caf\195\169", "%a+")`, `M("caf\195\169", "[\195][\169]")`, `S("\255\254", ".", "%0%0")`,
	`F("\0\0\0", "\0\0")`, `F("\0\0\0", "\0\0", 2)`, `M("\0\0\0", "%z+")`, `S("\0a\0", "%Z", "")`,
	`F("\1\2", "[\1-\2]+")`, `M("ab\0cd", "b.c")`, `M("ab\0cd", "b%zc")`, `M("ab\0cd", "[^%w]")`,
	// larger ones
	`M(string.rep("a", 1000) .. "b", "a-b")`, `F(string.rep("a", 5000), "b")`,
	`F(string.rep("a", 2000), "a-b")`, `S(string.rep("x ", 1000), "%s", "")`,
	`F("GET /index.html HTTP/1.1", "^(%S+)%s+(%S+)%s+HTTP/(%d)%.(%d)$")`,
	`M("Content-Type: text/html", "([^:]+):%s*(.*)")`, `M("Host:example.com", "([^:]+):%s*(.*)")`,
	`M("no colon", "([^:]+):%s*(.*)")`,
	`M(string.rep("a", 300), string.rep("a?", 300))`, `M(string.rep("a", 300), string.rep("(a?)", 32))`,
}

// runPatternScript runs the prelude and the cases in lua5.1 and in a
// state with Install, and returns the lines of each.
func runPatternScript(t *testing.T, oracle string, cases []string) (want, got []string) {
	t.Helper()
	body := patternPrelude + strings.Join(cases, "\n") + "\nR = table.concat(out, '\\n')\n"
	// A case that backtracks without end would hang lua5.1.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, oracle, "-")
	cmd.Stdin = strings.NewReader(body + "io.write(R)\n")
	outb, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("lua5.1: %v\n%s", err, outb)
	}
	L := lua.NewState()
	defer L.Close()
	Install(L)
	if err := L.DoString(body); err != nil {
		t.Fatal(err)
	}
	want = strings.Split(string(outb), "\n")
	got = strings.Split(L.GetGlobal("R").String(), "\n")
	if len(want) != len(cases) || len(got) != len(cases) {
		t.Fatalf("%d cases, lua5.1 gave %d lines, copas-lua %d", len(cases), len(want), len(got))
	}
	return want, got
}

func TestPatternVsLua51(t *testing.T) {
	oracle := lua51Oracle(t)
	want, got := runPatternScript(t, oracle, patternCases)
	bad := 0
	for i, c := range patternCases {
		if want[i] != got[i] {
			bad++
			t.Errorf("%s\n lua5.1: %s\n    got: %s", c, want[i], got[i])
		}
	}
	t.Logf("%d cases, %d differ from lua5.1", len(patternCases), bad)
}

// patternTokens build random patterns: every feature, and broken pieces.
var patternTokens = []string{
	"a", "b", "x", ".", "%a", "%d", "%s", "%S", "%w", "%p", "%z", "%%", "%.",
	"[ab]", "[^a]", "[a-c]", "[%d%s]", "[]", "[^]", "[", "]", "(", ")", "()",
	"%b()", "%bab", "%f[%a]", "%f[%A]", "%f", "%1", "%2", "%0", "*", "+", "-",
	"?", "^", "$", "%", "\x00", "(a)", "(.-)", "(%a+)",
}

// randomPatternCases are calls with short random subjects and patterns:
// short enough that lua5.1's unbounded backtracking stays quick.
func randomPatternCases(r *rand.Rand, n int) []string {
	const subjectBytes = "aabbx(1) %.-\x00"
	cases := make([]string, 0, n)
	for len(cases) < n {
		var s, p strings.Builder
		for i := r.Intn(10); i > 0; i-- {
			s.WriteByte(subjectBytes[r.Intn(len(subjectBytes))])
		}
		for i := 1 + r.Intn(5); i > 0; i-- {
			p.WriteString(patternTokens[r.Intn(len(patternTokens))])
		}
		qs, qp := luaQuote(s.String()), luaQuote(p.String())
		switch r.Intn(5) {
		case 0:
			cases = append(cases, fmt.Sprintf("F(%s, %s, %d)", qs, qp, r.Intn(14)-4))
		case 1:
			cases = append(cases, fmt.Sprintf("M(%s, %s)", qs, qp))
		case 2:
			cases = append(cases, fmt.Sprintf("G(%s, %s)", qs, qp))
		case 3:
			cases = append(cases, fmt.Sprintf("S(%s, %s, %s)", qs, qp, luaQuote("<%0|%1>")))
		default:
			cases = append(cases, fmt.Sprintf("S(%s, %s, cat, %d)", qs, qp, r.Intn(4)))
		}
	}
	return cases
}

func TestPatternRandomVsLua51(t *testing.T) {
	oracle := lua51Oracle(t)
	cases := randomPatternCases(rand.New(rand.NewSource(51)), 4000)
	want, got := runPatternScript(t, oracle, cases)
	bad := 0
	for i, c := range cases {
		if want[i] != got[i] {
			if bad++; bad <= 20 {
				t.Errorf("%s\n lua5.1: %s\n    got: %s", c, want[i], got[i])
			}
		}
	}
	t.Logf("%d random cases, %d differ from lua5.1", len(cases), bad)
}

// TestPatternBounds: hostile patterns end with "pattern too complex"
// instead of running for hours or overflowing the stack.
func TestPatternBounds(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	Install(L)
	for _, code := range []string{
		// exponential backtracking, through the library
		`return string.find(string.rep("a", 40), string.rep("a*", 40) .. "b")`,
		// deep recursion: one level per pattern item
		`return string.find(string.rep("a", 300000), string.rep("a?", 300000))`,
	} {
		err := L.DoString(code)
		if err == nil || !strings.Contains(err.Error(), errTooComplex) {
			t.Errorf("%s: %v", code, err)
		}
	}
	// The same budget bounds every kind of step; a small one keeps this
	// quick.
	a := strings.Repeat("a", 40)
	for _, c := range []struct{ s, p string }{
		{a, strings.Repeat("(a-)", 30) + "b"},
		{a, strings.Repeat("a?", 40) + "b"},
		{strings.Repeat("a", 5000), ".-b"},
		{strings.Repeat("a", 5000), "(a*)%1%1%1%1b"},
		{strings.Repeat("(", 5000), "%b()"},
		{strings.Repeat("a", 5000), "[%w%s]*[%w%s]*[%w%s]*c"},
	} {
		ms := newMatchState(nil, c.s, c.p)
		ms.chunks = 4
		msg := ""
		func() {
			defer func() {
				if pe, ok := recover().(*patternError); ok {
					msg = pe.msg
				}
			}()
			for s1 := 0; s1 <= len(c.s); s1++ {
				ms.level = 0
				ms.match(s1, 0)
			}
		}()
		if msg != errTooComplex {
			t.Errorf("%.20q..., %q: %q", c.s, c.p, msg)
		}
	}
}

// TestPatternLargeSubject: ordinary patterns over a large subject stay
// within the budget.
func TestPatternLargeSubject(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	Install(L)
	err := L.DoString(`
		local s = string.rep("key1=value1 word  other_words, more ", 30000)
		local r, n = s:gsub("(%w+)=(%w+)", "%2=%1")
		assert(n == 30000, n)
		local c = 0
		for w in s:gmatch("%a+") do c = c + 1 end
		assert(c == 180000, c)
		assert(select(2, s:gsub("%s+", " ")) == 120000)
	`)
	if err != nil {
		t.Fatal(err)
	}
}

// fuzzState is one state for the fuzz target's calls through Lua.
var fuzzState struct {
	sync.Mutex
	L *lua.LState
}

// FuzzPattern: the matcher never panics or runs away, find's indices are
// within the subject, match agrees with find, gsub with "%0" gives the
// subject back, and gmatch ends.
func FuzzPattern(f *testing.F) {
	for _, c := range [][2]string{
		{"hello world", "(%w+) (%w+)"}, {"GET / HTTP/1.1", "^(%S+)%s+(%S+)%s+HTTP/(%d)%.(%d)$"},
		{"a(b)c", "%b()"}, {"THE (quick) fox", "%f[%a]%a+"}, {"abab", "(ab)%1"},
		{"abc", "[a"}, {"abc", "%"}, {"aaa", "()a*()"}, {"a\x00b", "%z"}, {"", ""},
	} {
		f.Add(c[0], c[1], 1)
	}
	f.Fuzz(func(t *testing.T, s, p string, init int) {
		if len(s) > 1<<12 || len(p) > 1<<10 {
			return
		}
		fuzzState.Lock()
		defer fuzzState.Unlock()
		if fuzzState.L == nil {
			fuzzState.L = lua.NewState()
			Install(fuzzState.L)
		}
		L := fuzzState.L
		L.SetTop(0)
		str := L.GetGlobal("string").(*lua.LTable)
		call := func(name string, args ...lua.LValue) ([]lua.LValue, error) {
			return callLua(L, str.RawGetString(name), args...)
		}
		ls, lp, li := lua.LString(s), lua.LString(p), lua.LNumber(init)
		found, ferr := call("find", ls, lp, li)
		if ferr != nil && strings.Contains(ferr.Error(), errTooComplex) {
			// The bound held; the other functions would spend the
			// same budget again (a fuzzing worker past 10 s is "hung").
			return
		}
		if ferr == nil && found[0] != lua.LNil {
			st, en := int(found[0].(lua.LNumber)), int(found[1].(lua.LNumber))
			if st < 1 || st > en+1 || en > len(s) {
				t.Fatalf("find(%q, %q, %d) = %d, %d", s, p, init, st, en)
			}
			// A plain find never runs the matcher, match does.
			if !strings.ContainsAny(cutNUL(p), specials) {
				return
			}
			matched, merr := call("match", ls, lp, li)
			if merr != nil {
				t.Fatalf("find(%q, %q, %d) matched, match failed: %v", s, p, init, merr)
			}
			caps := found[2:]
			if len(caps) == 0 {
				caps = []lua.LValue{lua.LString(s[st-1 : en])}
			}
			if len(caps) != len(matched) {
				t.Fatalf("find(%q, %q, %d) captures %v, match %v", s, p, init, caps, matched)
			}
			for i := range caps {
				if caps[i] != matched[i] {
					t.Fatalf("find(%q, %q, %d) captures %v, match %v", s, p, init, caps, matched)
				}
			}
		}
		if res, err := call("gsub", ls, lp, lua.LString("%0")); err == nil && string(res[0].(lua.LString)) != s {
			t.Fatalf("gsub(%q, %q, '%%0') = %q", s, p, res[0])
		}
		if res, err := call("gmatch", ls, lp); err == nil {
			it := res[0]
			for i := 0; ; i++ {
				if i > len(s)+1 {
					t.Fatalf("gmatch(%q, %q) does not end", s, p)
				}
				r, err := callLua(L, it)
				if err != nil || len(r) == 0 {
					break
				}
			}
		}
	})
}

// callLua calls fn in protected mode and returns its results.
func callLua(L *lua.LState, fn lua.LValue, args ...lua.LValue) ([]lua.LValue, error) {
	L.SetTop(0)
	if err := L.CallByParam(lua.P{Fn: fn, NRet: lua.MultRet, Protect: true}, args...); err != nil {
		return nil, err
	}
	res := make([]lua.LValue, L.GetTop())
	for i := range res {
		res[i] = L.Get(i + 1)
	}
	L.SetTop(0)
	return res, nil
}
