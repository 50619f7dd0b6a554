package lua51

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// syntaxCases are chunks (mostly invalid) whose loadstring message must
// be lua5.1's, word for word.
var syntaxCases = []string{
	// valid chunks
	"", "x = 1", "local a, b = 1, 2", "return", "return;", "f()", "f{}", `f""`, "f[[x]]",
	"a.b.c = 1", "a.b:c{}.d = 1", "x = ...", "function f(...) return ... end",
	"local function f(a, b, ...) return arg end", "if a then elseif b then else end",
	"for i = 1, 2, 3 do end", "for k, v in pairs(t) do end", "repeat local x until x",
	"while 1 do break end", "do return end", "x = {1, 2; 3, a = 1, [2] = 3,}", "x = {;}",
	"x = 0x10 + 0x1p4 + 1e5 + 1E-5 + .5 + 5. + 08", `x = "\q\a\b\f\n\r\t\v\\\"\'\065\0"`,
	"x = \"a\\\nb\"", "x = [==[ ]] [[ ]=] ]==]", "x = [=[ [=[ ]=]", "--[==[ [[ ]==] x = 1",
	"-- comment\nx = 1", "--[[ c ]] x = 1", "--[x\nx = 1", "x = 1 -- [[", "t = {f\n(x)}",
	"f\n'x'", "f\n{}", "local x = 1 local y = 2", "x = a ~= b", "x = -2^-3", "x = not not a",
	"a, b.c, d[1] = 1", "x = #t + 1", "x = a .. b .. c", "x = function() end",
	"x = 1\r\ny = 2", "x = 1 --\x00 comment",
	// '=' expected and friends
	"x", "x y", "x = 1 y", "x.y", "x[1]", "x = = 1", "a, b", "x = 1;;", ";", "x = 1 +",
	"goto continue", "goto = 1", "local x <const> = 1", "x = y z",
	// unexpected symbol
	"+ x", "x = +", "::label::", "x = a // b", "x = a & b", "x = ~a", "x = a >> 1", "x = 1 2",
	"x = 1 0x10", "x = 1 1e5", "x = 1 nil", "x = 1 then", `x = 1 "abc"`, "x = 1 'abc'",
	"x = 1 \"a\tb\"", "x = 1 \"a\\0b\"", "x = 1 [[a\nb]]", "x = 1 [==[\nab]==]", "x = 1 + \x01",
	"x = 1 + \x7f", "x = 1 + \x80", "x = 1 + \xff", "x = @", "x = $", "x = 1 ! 2", "x ~ 1", "x = 1\x00",
	"\x00", "#!/usr/bin/lua\nx = 1", "x = .", "x = 1 .. ", "x = a and", "x = not", "x = - - -",
	"x = #", "x = 2^", "x = (", "x = )", "x = ]", "x = }", "x = {1, 2", "x = {a=}", "x = {[1]}",
	"x = {[1]=2,,}", "x = {[1]=2 3}", "x = {a b}", "x = {a = 1 b = 2}", "x = {\n1,\n2\n", "x = .\x00 y",
	"x = ...", "return return", "x = function", "x = function()", "(1 + 2", "x = (1 + 2\n",
	// syntax error (not assignable)
	"f() = 1", "(x) = 1", "(x)", "a, f() = 1", "a, (b) = 1", "x.y() = 1", `"x" = 1`, "(f)()",
	"(f)() = 1", "a.b:c = 1", "x = a.b.c:d", "f:g", "f:g 1", "f:1()", "f.1", "f.", "f[1", "f[]",
	// 'x' expected (to close ...)
	"print(", "print(1", "print(1\n", "f(a,b", "f(a,\nb", "f(\n", "x = {\n", "x = (\n1",
	"if x then", "if x then\n", "if x", "if x y", "if x then else elseif end", "if x then else else end",
	"if x then\nelse\n", "while x do", "while x", "while x end", "while x do\n\n",
	"for", "for i", "for i = 1", "for i = 1, 2", "for i = 1, 2 do", "for i, do", "for i in",
	"for 1", "for i = 1; 2 do end", "for i = 1, 2 do\nend end", "for a.b = 1, 2 do end",
	"for i in x do\n", "repeat", "repeat x = 1", "repeat until", "until x", "repeat\nx()\nuntil",
	"do", "do end end", "end", "else", "elseif", "do\n\nx = 1", "local function f() end end",
	"function", "function f", "function f(", "function f(a,", "function f(a, 1) end",
	"function f(...,a) end", "function a.b:c.d() end", "function a:b:c() end", "function f() ",
	"function f()\n", "\n\nfunction f()\nreturn 1\n", "function 1() end", "function f.() end",
	"local", "local 1", "local function", "local function 1", "local function f",
	"local function f(", "local x, = 1", "local x = ", "local function f() return 1 end x",
	"x = function(a b) end", "x = function(1) end", "f(function() end",
	// last statements
	"return 1 x = 2", "return; x = 1", "function f() return 1 x() end", "break", "do break end",
	"while 1 do break x() end", "while 1 do local function f() break end end", "break x",
	"if x then break end", "repeat break until x", "for i=1,2 do end break",
	// varargs
	"function f() return ... end", "function f(...) return function() return ... end end",
	"local function f(a) local t = {...} end", "x = function(...) return ... end",
	// ambiguous syntax
	"a = f\n(x)", "a = f\n\n(x)", "f\n()", "a = b.c\n(d)", "a = f(x)\n(g)(y)", "local x = y\n(f)()",
	"x = {f\n(x)}", "f:m\n()", "a = (f)\n(x)",
	// lexer
	`x = "abc`, "x = \"abc\ny\"", "x = 'abc\r'", `x = 'a\300'`, `x = "\1234"`, `x = "\256"`,
	`x = "ab\999x"`, `x = '\`, "x = '\\\n", `x = "a\0b`, "x = 1e", "x = 1e+", "x = 3..2",
	"x = 0x", "x = 0xg", "x = 1.2.3", "x = 1_0", "x = .5e", "x = 0x1p", "x = 0x1P-2 + 1",
	"x = 1ee", "x = 1e5x", "x = 0x1.8", "x = 9abc", "x = 1\x00+y", "x = 12\x00", "x = [[abc",
	"--[[ abc", "x = [=[ a ]]", "x = [==x", "x = [=", "x = [==", "x = [[ [[ ]]", "--[[ a [[ b ]]",
	"x = [[\n\n", "--[==[\n", "x = 1 --[[\n\n", "x = '\n'", "x = \"\\\r\"", "x = \"\\\n\r\"",
	// line counting
	"x = 1\r\ny =", "x = 1\ry =", "x = 1\n\ry =", "x = 1\r\n\r\ny =", "x = 1\n\n\n", "\n\nx",
	"x = [[\n\n\n]] +", "x = \"\\\n\\\n\"\ny", "--[[\n\n]] x", "x = 1 -- c\r\n+",
	// binary chunks
	"\x1b", "\x1bLua", "\x1bLua\x51\x00\x01\x04\x08\x04\x08\x01 more bytes",
}

// syntaxLimitCases are generated chunks that run into the parser's limits.
func syntaxLimitCases() []string {
	names := func(prefix string, n int) string {
		var b []string
		for i := 1; i <= n; i++ {
			b = append(b, fmt.Sprintf("%s%d", prefix, i))
		}
		return strings.Join(b, ", ")
	}
	var cases []string
	for _, n := range []int{196, 197, 198} {
		cases = append(cases,
			"x = "+strings.Repeat("(", n)+"1"+strings.Repeat(")", n),
			strings.Repeat("do ", n)+strings.Repeat("end ", n),
			"x = "+strings.Repeat("not ", n)+"1",
			"x = "+strings.Repeat("{", n)+strings.Repeat("}", n),
			"x = 1"+strings.Repeat(" .. 1", n),
			"x = 1"+strings.Repeat(" ^ 1", n),
			strings.Repeat("f(function() ", n/2)+strings.Repeat("end)", n/2),
		)
	}
	for _, n := range []int{196, 197, 198, 199} {
		cases = append(cases, names("a", n)+" = 1",
			"function f() "+names("a", n-2)+" = 1 end",
			"do do "+names("a", n)+" = 1 end end")
	}
	for _, n := range []int{199, 200, 201} {
		cases = append(cases, "local "+names("a", n),
			"\nlocal function f()\n local "+names("a", n)+"\nend",
			"local "+names("a", n-1)+" for i = 1, 2 do end",
			"local "+names("a", n-4)+" for i = 1, 2 do end",
			"local "+names("a", n-4)+" for k, v in x do end",
			"function f(...) local "+names("a", n-1)+" end",
			"function t:m() local "+names("a", n-1)+" end")
	}
	for _, n := range []int{59, 60, 61} {
		decl := "local " + names("u", n) + "\n"
		cases = append(cases,
			decl+"function f()\n return "+names("u", n)+"\nend",
			decl+"local function f() return function() return "+names("u", n)+" end end",
			decl+"function f() return u1, u1, u1, "+names("u", n)+", u1 end")
	}
	return cases
}

// syntaxEscape writes bytes outside printable ASCII, and '\', as \ddd: the
// same escape as syntaxOracleScript's.
func syntaxEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 32 || c > 126 || c == '\\' {
			fmt.Fprintf(&b, "\\%d", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// lua51SyntaxMessages runs every chunk through lua5.1's loadstring in one
// process: one line per chunk, "nil" when it loads. names[i] is chunk i's
// name; without names, every chunk is named "=x".
func lua51SyntaxMessages(t *testing.T, oracle string, chunks, names []string) []string {
	t.Helper()
	var b strings.Builder
	b.WriteString("local cases = {\n")
	for i, c := range chunks {
		name := "=x"
		if names != nil {
			name = names[i]
		}
		fmt.Fprintf(&b, "{%s, %s},\n", luaQuote(c), luaQuote(name))
	}
	b.WriteString(`}
for _, c in ipairs(cases) do
  local f, m = loadstring(c[1], c[2])
  m = tostring(m):gsub(".", function(ch)
    local b = ch:byte()
    if b < 32 or b > 126 or ch == "\\" then return "\\" .. b end
  end)
  io.write(m, "\n")
end
`)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, oracle, "-")
	cmd.Stdin = strings.NewReader(b.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lua5.1: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(chunks) {
		t.Fatalf("%d chunks, lua5.1 gave %d lines", len(chunks), len(lines))
	}
	return lines
}

func ourSyntaxMessage(src, chunkid string) string {
	msg, bad := syntaxCheck(src, chunkid)
	if !bad {
		return "nil"
	}
	return syntaxEscape(msg)
}

// compareSyntax checks chunks, named as lua51SyntaxMessages says, against
// lua5.1 and returns how many differ.
func compareSyntax(t *testing.T, chunks, names []string, maxReports int) int {
	t.Helper()
	want := lua51SyntaxMessages(t, lua51Oracle(t), chunks, names)
	bad, declined := 0, 0
	defer func() {
		if declined > 0 {
			t.Logf("%d binary chunks not judged", declined)
		}
	}()
	for i, c := range chunks {
		id := "x"
		if names != nil {
			id = syntaxChunkID(names[i])
		}
		got := ourSyntaxMessage(c, id)
		if got == "nil" && strings.HasPrefix(c, "\x1b") && strings.HasSuffix(want[i], " in precompiled chunk") {
			declined++ // a binary chunk whose name chunkid has cut
			continue
		}
		if got != want[i] {
			if bad++; bad <= maxReports {
				shown := c
				if len(shown) > 200 {
					shown = shown[:200] + "..."
				}
				t.Errorf("chunk %q\n lua5.1: %s\n    got: %s", shown, want[i], got)
			}
		}
	}
	return bad
}

func TestSyntaxVsLua51(t *testing.T) {
	cases := append(append([]string(nil), syntaxCases...), syntaxLimitCases()...)
	bad := compareSyntax(t, cases, nil, 50)
	t.Logf("%d chunks, %d differ from lua5.1", len(cases), bad)
}

// TestSyntaxChunkNames: chunk names as luaO_chunkid cuts them with
// MAXSRC (80); without a name, the chunk is its own name.
func TestSyntaxChunkNames(t *testing.T) {
	long := "x = = 1 -- " + strings.Repeat("a long comment ", 10)
	var chunks, names []string
	for _, c := range []string{
		"x = = 1", long, long[:63], long[:64], long[:65], long[:66], "x = 1\ny = = 2", "x = 1\r= 2",
		"\x1b", "\x1bLua\x51\x00\x01\x04\x08\x04\x08\x01 more", "x = 'a\x00b' +",
	} {
		chunks, names = append(chunks, c), append(names, c)
	}
	path := strings.Repeat("d/", 50) + "f.lua"
	for _, n := range []string{"=stdin", "@f.lua", "@" + path, "@" + path[:70], "@" + path[:72],
		"@" + path[:73], "=" + strings.Repeat("n", 100), "name", "=", "@", "", "a\nb", "\x1bname", "=\x1b"} {
		for _, c := range []string{"x = = 1", "\x1b"} {
			chunks, names = append(chunks, c), append(names, n)
		}
	}
	bad := compareSyntax(t, chunks, names, 20)
	t.Logf("%d chunks, %d differ from lua5.1", len(chunks), bad)
}

// syntaxSeeds are valid programs that the mutation tests and the fuzz
// target start from.
var syntaxSeeds = []string{
	`local copas = require("copas")
local socket = require("socket")

local function handler(skt)
  skt = copas.wrap(skt)
  while true do
    local data, err = skt:receive("*l")
    if not data or data == "quit" then break end
    skt:send(data .. "\n")
  end
end

copas.addserver(socket.bind("*", 20000), handler)
copas.loop()
`,
	`-- a class
local Account = {}
Account.__index = Account

function Account.new(balance)
  return setmetatable({balance = balance or 0, log = {}}, Account)
end

function Account:deposit(v)
  self.balance = self.balance + v
  self.log[#self.log + 1] = {"deposit", v}
end

function Account:withdraw(v)
  if v > self.balance then
    error("insufficient funds", 2)
  elseif v < 0 then error "negative" else
    self.balance = self.balance - v
  end
end

local a = Account.new(100)
a:deposit(50.5e0); a:withdraw(0x10)
print(a.balance, #a.log, a.log[1][1])
`,
	`local t = {n = 0; [1] = "one", 'two', [[three]], [==[fo]]ur]==], 5, -6.25, 0x7f}
for i = #t, 1, -1 do
  local v = t[i]
  if type(v) == "string" and v:match("^%a+$") then
    t.n = t.n + 1
  end
end
for k, v in pairs(t) do io.write(tostring(k), "=", tostring(v), "\n") end
local s = "esc\"apes\\ \65\066\0067 \n\t"
repeat
  local n = select("#", ...)
  s = s:sub(2) .. ("x"):rep(n)
until #s < 10 or not (s ~= "" and true)
return s, ... --[[ a long
comment ]]
`,
	`local function fib(n) if n < 2 then return n end return fib(n-1) + fib(n-2) end
local co = coroutine.wrap(function(...)
  local args = {...}
  for i = 1, 10 do coroutine.yield(fib(i) ^ 2 % 7 .. "") end
  return unpack(args)
end)
print(co(1, 2, 3), (co()), #{co()}, -co() == 1 and 1 or 2 >= 3, not nil <= 4)
`,
}

// mutateSyntax changes src with a few random edits: byte flips, deletions,
// duplicated ranges, inserted tokens.
func mutateSyntax(r *rand.Rand, src string) string {
	tokens := []string{
		"(", ")", "{", "}", "[", "]", "[[", "]]", "[=[", "=", "==", ",", ";", ":", ".", "..", "...",
		"\"", "'", "\\", "\n", " ", "--", "--[[", "end", "do", "then", "if", "else", "elseif",
		"function", "local", "return", "break", "for", "in", "while", "repeat", "until", "and",
		"or", "not", "nil", "true", "1", "1e", "0x", "3.", ".5", "x", "goto", "::", "#", "+",
		"-", "*", "/", "%", "^", "<", ">", "~", "\\300", "\x00", "\x01", "\x80", "\r", "\t",
	}
	b := []byte(src)
	for n := 1 + r.Intn(3); n > 0; n-- {
		if len(b) == 0 {
			b = append(b, tokens[r.Intn(len(tokens))]...)
			continue
		}
		i := r.Intn(len(b))
		switch r.Intn(6) {
		case 0: // replace a byte
			b[i] = byte(r.Intn(256))
		case 1: // delete a range
			j := i + 1 + r.Intn(8)
			if j > len(b) {
				j = len(b)
			}
			b = append(b[:i:i], b[j:]...)
		case 2: // duplicate a range
			j := i + 1 + r.Intn(20)
			if j > len(b) {
				j = len(b)
			}
			b = append(b[:j:j], append(append([]byte(nil), b[i:j]...), b[j:]...)...)
		case 3: // truncate
			b = b[:i]
		default: // insert a token
			tok := tokens[r.Intn(len(tokens))]
			b = append(b[:i:i], append([]byte(tok), b[i:]...)...)
		}
	}
	return string(b)
}

// syntaxCorpus reads the fuzz target's seed corpus.
func syntaxCorpus(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzSyntax", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var chunks []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[1], "string(") {
			t.Fatalf("%s: not a string corpus entry", f)
		}
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		chunks = append(chunks, s)
	}
	return chunks
}

// TestSyntaxMutationsVsLua51 compares messages on the seed corpus and on
// mutated programs (SYNTAX_MUTATIONS=n for a longer, randomly seeded run).
func TestSyntaxMutationsVsLua51(t *testing.T) {
	r := rand.New(rand.NewSource(51))
	n := 600
	if v, err := strconv.Atoi(os.Getenv("SYNTAX_MUTATIONS")); err == nil && v > 0 {
		n = v // a longer run by hand
		r.Seed(time.Now().UnixNano())
	}
	chunks := syntaxCorpus(t)
	for len(chunks) < n {
		chunks = append(chunks, mutateSyntax(r, syntaxSeeds[r.Intn(len(syntaxSeeds))]))
	}
	bad := compareSyntax(t, chunks, nil, 20)
	t.Logf("%d mutated chunks, %d differ from lua5.1", len(chunks), bad)
}

// FuzzSyntax: the checker never panics and is quick on any input.
func FuzzSyntax(f *testing.F) {
	for _, s := range syntaxSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		start := time.Now()
		msg, bad := syntaxCheck(src, "x")
		if d := time.Since(start); d > time.Second {
			t.Fatalf("%v on %d bytes", d, len(src))
		}
		if bad != (msg != "") {
			t.Fatalf("bad=%v with message %q", bad, msg)
		}
		if bad && !strings.HasPrefix(msg, "x") {
			t.Fatalf("message without the chunk id: %q", msg)
		}
	})
}
