package lua51

import (
	"bytes"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestVMConcatPatched fails when OP_CONCAT could not be replaced (a
// gopher-lua upgrade changed what vmconcat.go relies on): `..` then
// behaves as in stock gopher-lua.
func TestVMConcatPatched(t *testing.T) {
	if !vmConcatPatched {
		t.Fatalf("OP_CONCAT is not patched: %s", vmConcatReason)
	}
}

// runConcat runs src as the chunk "stdin" in an installed state and
// returns what it printed and, if it raised an error, the message.
func runConcat(t testing.TB, src string) (out, errMsg string) {
	t.Helper()
	L := lua.NewState()
	defer L.Close()
	Install(L)
	var b strings.Builder
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		for i := 1; i <= L.GetTop(); i++ {
			if i > 1 {
				b.WriteByte('\t')
			}
			b.WriteString(printString(L, L.Get(i)))
		}
		b.WriteByte('\n')
		return 0
	}))
	fn, err := Load(L, strings.NewReader(src), "stdin")
	if err != nil {
		t.Fatalf("load: %v\n%s", err, src)
	}
	L.Push(fn)
	if err := L.PCall(0, 0, nil); err != nil {
		if ae, ok := err.(*lua.ApiError); ok {
			return b.String(), ae.Object.String()
		}
		return b.String(), err.Error()
	}
	return b.String(), ""
}

// lua51Path is lua5.1's path; tests skip without it unless CI is set.
func lua51Path(t testing.TB) string {
	p, err := exec.LookPath("lua5.1")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("lua5.1 is required in CI")
		}
		t.Skip("lua5.1 not installed")
	}
	return p
}

// runLua51 is runConcat under PUC Lua 5.1: stdout, and the message of an
// uncaught error (stderr up to the traceback, without the program name).
func runLua51(t testing.TB, lua51, src string) (out, errMsg string) {
	t.Helper()
	cmd := exec.Command(lua51, "-")
	cmd.Stdin = strings.NewReader(src)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
		msg, _, _ := strings.Cut(stderr.String(), "\nstack traceback:")
		return stdout.String(), strings.TrimPrefix(msg, lua51+": ")
	}
	return stdout.String(), ""
}

// concatCases are compared with lua5.1: each prints its results, errors
// are caught with pcall (the message is printed) or end the chunk.
var concatCases = []struct{ name, src string }{
	{"issue 11", `local function f(m) m = m .. tostring(1) return m end print(f("x"))`},
	{"parameter reassigned twice", `local function f(a, b) a = a .. b; b = b .. a; return a, b end print(f("x", "y"))`},
	{"parameter last", `local function f(a, m) m = m .. a .. m return m end print(f(1, "z"))`},
	{"parameter in call", `local function f(m) m = tostring(m .. 1) .. m return m end print(f("q"))`},
	{"upvalue", `local u = "u" local function f() u = u .. "!" return u end f() print(f(), u)`},
	{"upvalue number", `local n = 1.5 local function f() return n .. n end print(f())`},
	{"varargs", `local function f(...) return ... .. "|" .. select("#", ...) end print(f("a", "b"))`},
	{"vararg last", `local function f(...) local s = "" .. ... return s end print(f(1, 2, 3))`},
	{"varargs table", `local function f(...) local t = {...} return t[1] .. t[2] .. #t end print(f(7, 8))`},
	{"multiple assignment", `local a, b = "a", "b" a, b = b .. a, a .. b print(a, b)`},
	{"multiple assignment locals", `local a, b, c = 1, 2 local x, y = a .. b, c print(x, y)`},
	{"swap concat", `local a, b = "1", "2" a, b = b, a .. b print(a, b)`},
	{"table fields", `local t = {a = "x", b = 2} t.a = t.a .. t.b t[1] = t.a .. 1 print(t.a, t[1])`},
	{"table constructor", `local x = 3 local t = {x .. "", [x .. "k"] = x .. x} print(t[1], t["3k"])`},
	{"nested calls", `local function id(...) return ... end print(id(id("a") .. id(1, 2) .. id()  .. "" == nil))`},
	{"call result", `local function f() return "a", "b" end print(f() .. f(), (f()) .. "")`},
	{"return concat", `local function f(a) return a .. a end print(f(2))`},
	{"and or operands", `local y, a, b = true, "A", "B" print("x" .. (y and a .. b or "n"), (y and a) .. b)`},
	{"or operand", `local a, b = "A", "B" print("x" .. (nil or a .. b))`},
	{"comparison", `local a = "a" print(a .. "b" == "ab", a .. 1 < a .. 2)`},
	{"precedence", `local a = 1 print(a + 1 .. a * 2, -a .. a ^ 2, #("ab" .. a))`},
	{"long chain", `local a = 1 print(a .. 2 .. 3 .. 4 .. 5 .. 6 .. 7 .. 8 .. 9 .. 10 .. 11 .. 12 .. 13 .. 14 .. 15 .. 16 .. 17 .. a)`},
	{"loop", `local s = "" for i = 1, 5 do s = s .. i .. "," end print(s)`},
	{"numbers", `local z = 0 print(1 .. "", 10 / 3 .. "", 1 / z .. "", -1 / z .. "", -z .. "", 1e100 .. "", 2^53 .. "", 2^63 .. "", 0.1 .. "", 1e-5 .. "", 123456789012345 .. "", 5e-324 .. "")`},
	{"nan", `local z = 0 print(-(0/z) .. "", 1/z - 1/z .. "")`},
	{"number number", `local a, b = 1, 2.5 print(a .. b, 1 .. 2)`},
	{"empty strings", `local e, n = "", 5 print(e .. e, n .. e, e .. n, e .. e .. n .. e)`},
	{"mm left", `local t = setmetatable({}, {__concat = function(a, b) return "L(" .. type(a) .. "," .. tostring(b) .. ")" end}) print(t .. "x", t .. 1)`},
	{"mm right", `local t = setmetatable({}, {__concat = function(a, b) return "R(" .. tostring(a) .. "," .. type(b) .. "," .. type(a) .. ")" end}) print("x" .. t, 1 .. t, 1.5 .. t)`},
	{"mm both", `local m1 = {__concat = function(a, b) return "m1" end} local m2 = {__concat = function(a, b) return "m2" end}
local a, b = setmetatable({}, m1), setmetatable({}, m2) print(a .. b, b .. a)`},
	{"mm chain", `local mt = {} mt.__concat = function(a, b) local x = type(a) == "table" and a.v or a local y = type(b) == "table" and b.v or b return setmetatable({v = "(" .. x .. "+" .. y .. ")"}, mt) end
local t = setmetatable({v = "t"}, mt) print((t .. "a" .. "b" .. t .. 1 .. 2 .. t).v)`},
	{"mm mixed run", `local mt = {__concat = function(a, b) return "[" .. tostring(type(a) == "table" and "T" or a) .. "|" .. tostring(type(b) == "table" and "T" or b) .. "]" end}
local t = setmetatable({}, mt) print("a" .. 1 .. t .. 2 .. 3 .. "" .. t .. "z")`},
	{"mm number types", `local mt = {__concat = function(a, b) return type(a) .. "/" .. type(b) end} local t = setmetatable({}, mt)
print(t .. 1, t .. 1 .. "", t .. 1 .. 2, 1 .. t, "" .. 1 .. t)`},
	{"mm returns nil", `local mt = {__concat = function() return nil end} local t = setmetatable({}, mt) print(t .. "x", "x" .. t)`},
	{"mm returns nil then error", `local mt = {__concat = function() return true end} local t = setmetatable({}, mt) print(pcall(function() return "s" .. t .. {} end))`},
	{"mm not a function", `local t = setmetatable({}, {__concat = 1}) print(pcall(function() return t .. "x" end))`},
	{"mm callable table", `local c = setmetatable({}, {__call = function(self, a, b) return "called" end}) local t = setmetatable({}, {__concat = c}) print(t .. "x", 1 .. t)`},
	{"mm left not a function right ok", `local a = setmetatable({}, {__concat = true}) local b = setmetatable({}, {__concat = function() return "b" end}) print(pcall(function() return a .. b end)) print(pcall(function() return b .. a end))`},
	{"mm on userdata-like string mt", `local mt = getmetatable("") mt.__concat = function(a, b) return "S" end print(pcall(function() return "x" .. {} end)) mt.__concat = nil`},
	{"mm error", `local t = setmetatable({}, {__concat = function() error("boom", 0) end}) print(pcall(function() return t .. "" end))`},
	{"mm yields", `local t = setmetatable({}, {__concat = function(a, b) return "y" end}) local co = coroutine.wrap(function() return t .. "a" end) print(co())`},
	{"error local", `local x print(pcall(function() local y return "a" .. y end))`},
	{"error local main", `local a = "a" local x = nil local s = a .. x`},
	{"error global", `print(pcall(function() return "a" .. nothing end))`},
	{"error global left", `print(pcall(function() return nothing .. "a" end))`},
	{"error field", `local t = {} print(pcall(function() return t.f .. "a" end))`},
	{"error field nested", `local t = {a = {}} print(pcall(function() return "a" .. t.a.b end))`},
	{"error index number", `local t = {} print(pcall(function() return t[1] .. "a" end))`},
	{"error index var", `local t, k = {}, "k" print(pcall(function() return t[k] .. "a" end))`},
	{"error upvalue", `local u print(pcall(function() return "a" .. u end))`},
	{"error call", `local function f() end print(pcall(function() return "a" .. f() end))`},
	{"error boolean", `print(pcall(function() local b = true return b .. "" end))`},
	{"error table", `print(pcall(function() local t = {} return "x" .. t .. "y" end))`},
	{"error function", `print(pcall(function() return "x" .. print end))`},
	{"error constant", `print(pcall(function() return "x" .. nil end))`},
	{"error first of two", `print(pcall(function() local a, b = nil, {} return a .. b end))`},
	{"error right of number", `print(pcall(function() local a, b = 1, false return a .. b end))`},
	{"error parameter", `local function f(p) return p .. "x" end print(pcall(f))`},
	{"error reassigned parameter", `local function f(m) m = m .. nil return m end print(pcall(f, "x"))`},
	{"error method", `local o = {} function o:m() return self.name .. "x" end print(pcall(o.m, o))`},
	{"error in loop", `print(pcall(function() local s = "" for i = 1, 3 do s = s .. (i < 3 and i or nil) end return s end))`},
	{"error uncaught", `local t = {} local s = "x" .. t.missing`},
	{"error thread", `print(pcall(function() return "x" .. coroutine.create(function() end) end))`},
	{"tostring override", `local old = tostring tostring = function() return "T" end print(1 .. "", 1.5 .. "") tostring = old`},
}

func TestConcatLua51(t *testing.T) {
	lua51 := lua51Path(t)
	for _, c := range concatCases {
		t.Run(c.name, func(t *testing.T) {
			wantOut, wantErr := runLua51(t, lua51, c.src)
			gotOut, gotErr := runConcat(t, c.src)
			if gotOut != wantOut || gotErr != wantErr {
				t.Errorf("%s\ncopas-lua: %q, error %q\nlua5.1:    %q, error %q", c.src, gotOut, gotErr, wantOut, wantErr)
			}
		})
	}
}

// TestConcatGeneratedLua51 compares generated programs (the fuzz
// target's) with lua5.1 and with the Go reference.
func TestConcatGeneratedLua51(t *testing.T) {
	lua51 := lua51Path(t)
	rng := rand.New(rand.NewSource(11))
	for i := 0; i < 300; i++ {
		data := make([]byte, 4+rng.Intn(60))
		rng.Read(data)
		p := genConcat(data)
		src := p.source()
		want, _ := runLua51(t, lua51, src)
		got, gotErr := runConcat(t, src)
		if got != want || gotErr != "" {
			t.Fatalf("%s\ncopas-lua: %q %q\nlua5.1:    %q", src, got, gotErr, want)
		}
		if ref := p.reference(); ref != want {
			t.Fatalf("%s\nreference: %q\nlua5.1:    %q", src, ref, want)
		}
	}
}

// FuzzConcat builds a concatenation of operands of every kind (strings,
// numbers, nil, booleans, tables with and without __concat, referenced as
// locals, globals, fields, upvalues, call results and constants) from the
// input and compares the patched VM with the Go reference of Lua 5.1's
// luaV_concat.
//
//	go test -run - -fuzz FuzzConcat -fuzztime 10m ./internal/lua51/
func FuzzConcat(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x03"))
	f.Add([]byte("\x05a\x13b\x21c\x33d"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := genConcat(data)
		if len(p.ops) < 2 {
			return
		}
		src := p.source()
		got, gotErr := runConcat(t, src)
		if want := p.reference(); got != want || gotErr != "" {
			t.Fatalf("%s\npatched:   %q %q\nreference: %q", src, got, gotErr, want)
		}
	})
}

// A generated operand: its value kind and how the expression reaches it.
type genOperand struct {
	kind byte // 's' string, 'n' number, '0' nil, 'b' boolean, 'm' table with a
	// __concat that returns a string, 'M' one that returns such a table,
	// 'p' table without __concat, 'x' table whose __concat is not a function
	s   string
	n   float64
	ref byte // 'l' local, 'g' global, 'f' field, 'u' upvalue, 'c' call, 'k' constant
}

type genProgram struct{ ops []genOperand }

var genNumbers = []float64{0, 1, -1, 3, 100, 0.5, 10.0 / 3, -10.0 / 3, 0.1, 1e100, 1e14, 99999999999999, 1 << 53,
	math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 5e-324, math.MaxFloat64, 1e-5, 123.456}

func genConcat(data []byte) genProgram {
	var p genProgram
	for len(data) > 0 && len(p.ops) < 24 {
		b := data[0]
		data = data[1:]
		op := genOperand{ref: "lgfuck"[int(b>>4)%6]}
		switch b & 15 {
		case 0, 1, 2, 3:
			op.kind = 's'
			n := 0
			if len(data) > 0 {
				n = int(data[0]) % 4
				data = data[1:]
			}
			if n > len(data) {
				n = len(data)
			}
			// No zero bytes: lua5.1's print stops at the first.
			op.s, data = strings.ReplaceAll(string(data[:n]), "\x00", "0"), data[n:]
		case 4, 5, 6:
			op.kind = 'n'
			if len(data) > 0 {
				op.n = genNumbers[int(data[0])%len(genNumbers)]
				if data[0] >= 200 {
					op.n = float64(int(data[0])-220) / 8
				}
				data = data[1:]
			}
		case 7:
			op.kind = '0'
		case 8:
			op.kind, op.n = 'b', float64(b>>4&1)
		case 9, 10:
			op.kind = 'm'
		case 11, 12:
			op.kind = 'M'
		case 13, 14:
			op.kind = 'p'
		case 15:
			op.kind = 'x'
		}
		if op.ref == 'k' && op.kind != 's' && op.kind != 'n' {
			op.ref = 'l'
		}
		if op.ref == 'k' && op.kind == 'n' && (op.n < 0 || math.IsInf(op.n, 0) || op.n == 0 && math.Signbit(op.n)) {
			op.ref = 'l'
		}
		p.ops = append(p.ops, op)
	}
	return p
}

func luaQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == ' ' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\%03d", c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// expr is the Lua expression for the operand's value.
func (op genOperand) expr(i int) string {
	switch op.kind {
	case 's':
		return luaQuote(op.s)
	case 'n':
		switch {
		case math.IsInf(op.n, 1):
			return "(1/Z)"
		case math.IsInf(op.n, -1):
			return "(-1/Z)"
		case op.n == 0 && math.Signbit(op.n):
			return "(-Z)"
		}
		return "(" + strconv.FormatFloat(op.n, 'g', 17, 64) + ")"
	case '0':
		return "nil"
	case 'b':
		return strconv.FormatBool(op.n != 0)
	case 'm':
		return fmt.Sprintf("setmetatable({name = \"T%d\"}, MS)", i)
	case 'M':
		return fmt.Sprintf("setmetatable({name = \"T%d\"}, MT)", i)
	case 'p':
		return fmt.Sprintf("{name = \"T%d\"}", i)
	default:
		return fmt.Sprintf("setmetatable({name = \"T%d\"}, MX)", i)
	}
}

const genPrelude = `local Z = 0
local function tag(v)
  if type(v) == "table" then return "t:" .. v.name end
  return type(v):sub(1, 1) .. ":" .. tostring(v)
end
local MS = {__concat = function(a, b) return "(" .. tag(a) .. "|" .. tag(b) .. ")" end}
local MT = {}
MT.__concat = function(a, b) return setmetatable({name = "[" .. tag(a) .. "|" .. tag(b) .. "]"}, MT) end
local MX = {__concat = true}
`

func (p genProgram) source() string {
	var b strings.Builder
	b.WriteString(genPrelude)
	var inner, operands []string
	for i, op := range p.ops {
		e := op.expr(i)
		switch op.ref {
		case 'l':
			inner = append(inner, fmt.Sprintf("  local a%d = %s\n", i, e))
			operands = append(operands, fmt.Sprintf("a%d", i))
		case 'g':
			fmt.Fprintf(&b, "g%d = %s\n", i, e)
			operands = append(operands, fmt.Sprintf("g%d", i))
		case 'f':
			inner = append(inner, fmt.Sprintf("  local F%d = {f%d = %s}\n", i, i, e))
			operands = append(operands, fmt.Sprintf("F%d.f%d", i, i))
		case 'u':
			fmt.Fprintf(&b, "local u%d = %s\n", i, e)
			operands = append(operands, fmt.Sprintf("u%d", i))
		case 'c':
			fmt.Fprintf(&b, "local function c%d() return %s end\n", i, e)
			operands = append(operands, fmt.Sprintf("c%d()", i))
		default:
			operands = append(operands, e)
		}
	}
	b.WriteString("local function run()\n")
	for _, s := range inner {
		b.WriteString(s)
	}
	b.WriteString("  return " + strings.Join(operands, " .. ") + "\nend\n")
	b.WriteString("local ok, r = pcall(run)\n")
	b.WriteString("if ok then print(ok, tag(r)) else print(ok, (string.gsub(r, \"^[^:]*:%d+: \", \"\"))) end\n")
	return b.String()
}

// refValue is a value during the reference concatenation.
type refValue struct {
	kind byte // as genOperand.kind
	s    string
	n    float64
}

func (v refValue) strNum() bool { return v.kind == 's' || v.kind == 'n' }

func (v refValue) tag() string {
	switch v.kind {
	case 's':
		return "s:" + v.s
	case 'n':
		return "n:" + formatNumber(lua.LNumber(v.n))
	case '0':
		return "n:nil"
	case 'b':
		return "b:" + strconv.FormatBool(v.n != 0)
	}
	return "t:" + v.s
}

func (v refValue) typeName() string {
	switch v.kind {
	case 's':
		return "string"
	case 'n':
		return "number"
	case '0':
		return "nil"
	case 'b':
		return "boolean"
	}
	return "table"
}

// reference is what the program prints under Lua 5.1: luaV_concat as
// lvm.c writes it (in-place tostring, the empty-string shortcut, the
// longest run of strings and numbers), with the metamethods and the
// variable names of the generated program.
func (p genProgram) reference() string {
	stack := make([]refValue, len(p.ops))
	for i, op := range p.ops {
		v := refValue{kind: op.kind, s: op.s, n: op.n}
		if op.kind == 'm' || op.kind == 'M' || op.kind == 'p' || op.kind == 'x' {
			v.s = fmt.Sprintf("T%d", i)
		}
		stack[i] = v
	}
	tostr := func(v *refValue) bool {
		if v.kind == 'n' {
			*v = refValue{kind: 's', s: formatNumber(lua.LNumber(v.n))}
		}
		return v.kind == 's'
	}
	total, last := len(stack), len(stack)-1
	for total > 1 {
		top := last + 1
		n := 2
		p1, p2 := &stack[top-2], &stack[top-1]
		if !p1.strNum() || !tostr(p2) {
			tm := byte(0)
			for _, v := range []*refValue{p1, p2} {
				if v.kind == 'm' || v.kind == 'M' || v.kind == 'x' {
					tm = v.kind
					break
				}
			}
			if tm == 0 {
				bad := top - 2
				if p1.strNum() {
					bad = top - 1
				}
				return "false\t" + p.errorText(bad, stack[bad]) + "\n"
			}
			if tm == 'x' { // __concat = true
				return "false\tattempt to call a boolean value\n"
			}
			s := "(" + p1.tag() + "|" + p2.tag() + ")"
			if tm == 'M' {
				*p1 = refValue{kind: 'M', s: "[" + s[1:len(s)-1] + "]"}
			} else {
				*p1 = refValue{kind: 's', s: s}
			}
		} else if len(p2.s) == 0 {
			tostr(p1)
		} else {
			for n = 1; n < total && tostr(&stack[top-n-1]); n++ {
			}
			var b strings.Builder
			for i := n; i > 0; i-- {
				b.WriteString(stack[top-i].s)
			}
			stack[top-n] = refValue{kind: 's', s: b.String()}
		}
		total -= n - 1
		last -= n - 1
	}
	return "true\t" + stack[0].tag() + "\n"
}

func (p genProgram) errorText(i int, v refValue) string {
	name := ""
	switch p.ops[i].ref {
	case 'l':
		name = fmt.Sprintf("local 'a%d'", i)
	case 'g':
		name = fmt.Sprintf("global 'g%d'", i)
	case 'f':
		name = fmt.Sprintf("field 'f%d'", i)
	case 'u':
		name = fmt.Sprintf("upvalue 'u%d'", i)
	}
	if name == "" {
		return fmt.Sprintf("attempt to concatenate a %s value", v.typeName())
	}
	return fmt.Sprintf("attempt to concatenate %s (a %s value)", name, v.typeName())
}
