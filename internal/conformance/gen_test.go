package conformance

import (
	"fmt"
	"math/rand"
	"strings"
)

// genPrelude starts every generated program: show prints a block's
// results on one line without anything that legitimately differs between
// interpreters (addresses, hash order): tables print their sorted keys.
const genPrelude = `local function ser(v, d)
  local ty = type(v)
  if ty == "string" then
    return '"' .. v:gsub("%c", function(c) return "\\" .. c:byte() end) .. '"'
  elseif ty == "table" then
    if d > 1 then return "{...}" end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
      if type(a) == type(b) and (type(a) == "number" or type(a) == "string") then return a < b end
      return type(a) < type(b)
    end)
    local out = {}
    for _, k in ipairs(keys) do out[#out + 1] = ser(k, d + 1) .. "=" .. ser(v[k], d + 1) end
    return "{" .. table.concat(out, ",") .. "}"
  elseif ty == "function" or ty == "thread" or ty == "userdata" then
    return ty
  end
  return tostring(v)
end
local function fin(x)
  if type(x) == "number" and (x ~= x or x >= 2^53 or x <= -2^53) then return 0 end
  return x
end
local function show(label, ...)
  local out = {}
  for i = 1, select("#", ...) do out[i] = ser((select(i, ...)), 0) end
  print(label, select("#", ...), table.concat(out, " "))
end
`

// gen writes one random Lua 5.1 program. Every construct it uses has one
// defined result in Lua 5.1 (no addresses, no hash order, no time, no
// math.random, no # of tables with holes), so lua5.1 and copas-lua must
// print the same.
type gen struct {
	r      *rand.Rand
	b      strings.Builder
	indent int
	depth  int      // expression nesting
	scopes [][]vari // visible variables, innermost last
	vararg bool     // the current function is variadic
	nvar   int
	blocks int // statements per function body
}

// vari is a variable in scope and what it holds when declared.
type vari struct {
	name string
	kind string // "num", "str", "tbl", "fn", "any"
}

// genProgram returns the program for seed; blocks bounds its size.
func genProgram(seed int64, blocks int) string {
	g := &gen{r: rand.New(rand.NewSource(seed)), blocks: 3}
	g.b.WriteString(genPrelude)
	g.scopes = [][]vari{nil}
	// Upvalues shared by the blocks.
	for i := 0; i < 3; i++ {
		v := g.newVar()
		k := g.pick("num", "str", "tbl")
		g.depth = 10 // a literal: nothing at the top level may raise
		g.line("local %s = %s", v, g.exprOf(k))
		g.depth = 0
		g.declare(v, k)
	}
	for i := 0; i < blocks; i++ {
		g.block(i)
	}
	return g.b.String()
}

func (g *gen) pick(s ...string) string { return s[g.r.Intn(len(s))] }
func (g *gen) chance(n int) bool       { return g.r.Intn(n) == 0 }

func (g *gen) line(format string, args ...any) {
	g.b.WriteString(strings.Repeat("  ", g.indent))
	fmt.Fprintf(&g.b, format, args...)
	g.b.WriteByte('\n')
}

func (g *gen) newVar() string { g.nvar++; return fmt.Sprintf("v%d", g.nvar) }

func (g *gen) declare(name, kind string) {
	g.scopes[len(g.scopes)-1] = append(g.scopes[len(g.scopes)-1], vari{name, kind})
}

func (g *gen) push() { g.scopes = append(g.scopes, nil) }
func (g *gen) pop()  { g.scopes = g.scopes[:len(g.scopes)-1] }

// vars are the visible variables of kind (any kind for "").
func (g *gen) vars(kind string) []vari {
	var out []vari
	for _, s := range g.scopes {
		for _, v := range s {
			if kind == "" || v.kind == kind {
				out = append(out, v)
			}
		}
	}
	return out
}

// block is one top-level test: a function called through pcall, its
// results shown.
func (g *gen) block(n int) {
	nparams := g.r.Intn(3)
	vararg := g.chance(2)
	// The arguments are evaluated inside the pcall (they may raise) and
	// outside the function's scope.
	var params, kinds, args []string
	for i := 0; i < nparams; i++ {
		params = append(params, g.newVar())
		k := g.pick("num", "str", "any")
		kinds = append(kinds, k)
		args = append(args, g.inFunc(func() string { return g.exprOf(k) }))
	}
	if vararg {
		for i := g.r.Intn(3); i > 0; i-- {
			args = append(args, g.inFunc(func() string { return g.exprOf(g.pick("num", "str")) }))
		}
	}
	plist := strings.Join(params, ", ")
	if vararg {
		if plist != "" {
			plist += ", "
		}
		plist += "..."
	}
	g.vararg = vararg
	g.push()
	for i, p := range params {
		g.declare(p, kinds[i])
	}
	g.line("show(%q, pcall(function() return (function(%s)", fmt.Sprintf("b%d", n), plist)
	g.indent++
	for i := 0; i < g.blocks+g.r.Intn(3); i++ {
		g.stmt(0)
	}
	var rets []string
	for i := g.r.Intn(3) + 1; i > 0; i-- {
		rets = append(rets, g.expr())
	}
	if g.vararg && g.chance(3) {
		rets = append(rets, "...")
	}
	g.line("return %s", strings.Join(rets, ", "))
	g.indent--
	g.line("end)(%s) end))", strings.Join(args, ", "))
	g.pop()
	g.vararg = false
}

func prefixComma(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return ", " + strings.Join(args, ", ")
}

// stmt writes one statement; nest bounds nested blocks.
func (g *gen) stmt(nest int) {
	switch g.r.Intn(12) {
	case 0, 1: // new local
		v := g.newVar()
		k := g.pick("num", "str", "str", "tbl", "fn")
		g.line("local %s = %s", v, g.exprOf(k))
		g.declare(v, k)
	case 2, 3: // reassign (parameters, locals, upvalues), often with ..
		vs := g.vars("")
		if len(vs) == 0 {
			g.stmt(nest)
			return
		}
		v := vs[g.r.Intn(len(vs))]
		switch v.kind {
		case "str", "any":
			g.line("%s = %s .. %s", v.name, v.name, g.exprOf(g.pick("num", "str")))
		case "num":
			g.line("%s = %s %s %s", v.name, v.name, g.pick("+", "-", "*"), g.exprOf("num"))
		case "tbl":
			g.line("%s[#%s + 1] = %s", v.name, v.name, g.exprOf(g.pick("num", "str")))
		default:
			g.line("%s = %s", v.name, g.exprOf(v.kind))
		}
	case 4: // multiple assignment, swaps among them
		vs := g.vars("")
		if len(vs) < 2 {
			g.stmt(nest)
			return
		}
		a, b := vs[g.r.Intn(len(vs))], vs[g.r.Intn(len(vs))]
		if a.name == b.name {
			return
		}
		if a.kind == b.kind && g.chance(2) {
			g.line("%s, %s = %s, %s", a.name, b.name, b.name, a.name)
		} else {
			g.line("%s, %s = %s, %s", a.name, b.name, g.exprOf(a.kind), g.exprOf(b.kind))
		}
	case 5: // table fields
		t := g.vars("tbl")
		if len(t) == 0 {
			g.stmt(nest)
			return
		}
		g.line("%s.%s = %s", t[g.r.Intn(len(t))].name, g.pick("k", "name", "x"), g.expr())
	case 6: // error values through pcall
		g.line("show(\"e\", pcall(error, %s%s))", g.exprOf(g.pick("num", "str", "tbl", "nil")), g.pick("", ", 0", ", 1", ", 2"))
	case 7: // a risky expression shown through pcall
		g.line("show(\"p\", pcall(function() return %s end))", g.inFunc(g.expr))
	case 8: // numeric for with concatenation
		if nest > 1 {
			g.stmt(nest)
			return
		}
		acc := g.newVar()
		i := g.newVar()
		g.line("local %s = %s", acc, g.exprOf("str"))
		g.line("for %s = %d, %d do", i, g.r.Intn(3), g.r.Intn(4)+1)
		g.indent++
		g.push()
		g.declare(i, "num")
		g.line("%s = %s .. %s", acc, acc, g.exprOf(g.pick("num", "str")))
		if g.chance(2) {
			g.stmt(nest + 1)
		}
		g.pop()
		g.indent--
		g.line("end")
		g.declare(acc, "str")
	case 9: // if/else
		if nest > 1 {
			g.stmt(nest)
			return
		}
		g.line("if %s then", g.expr())
		g.indent++
		g.push()
		g.stmt(nest + 1)
		g.pop()
		g.indent--
		g.line("else")
		g.indent++
		g.push()
		g.stmt(nest + 1)
		g.pop()
		g.indent--
		g.line("end")
	case 10: // a local closure that reassigns its parameter and an upvalue
		f := g.newVar()
		p := g.newVar()
		g.line("local function %s(%s)", f, p)
		g.indent++
		g.push()
		g.declare(p, "any")
		va := g.vararg
		g.vararg = false
		g.line("%s = %s .. %s", p, p, g.exprOf(g.pick("num", "str")))
		if up := g.vars("str"); len(up) > 0 && g.chance(2) {
			u := up[g.r.Intn(len(up))].name
			g.line("%s = %s .. %s", u, u, p)
		}
		g.line("return %s, %s", p, g.expr())
		g.vararg = va
		g.pop()
		g.indent--
		g.line("end")
		g.declare(f, "fn1")
		g.line("show(\"c\", pcall(%s, %s))", f, g.exprOf(g.pick("num", "str", "nil")))
	default: // print a value directly
		g.line("show(\"v\", %s)", g.exprOf(g.pick("num", "str", "any")))
	}
}

// expr is an expression of any kind.
func (g *gen) expr() string { return g.exprOf(g.pick("num", "str", "str", "any")) }

// exprOf is an expression that is usually of kind; errors are part of the
// test (pcall shows them).
func (g *gen) exprOf(kind string) string {
	g.depth++
	defer func() { g.depth-- }()
	leaf := g.depth > 3 || g.chance(3)
	if vs := g.vars(kind); len(vs) > 0 && g.chance(3) {
		return vs[g.r.Intn(len(vs))].name
	}
	switch kind {
	case "num":
		if leaf {
			return g.pick("0", "1", "2", "3", "7", "10", "-1", "0.5", "1.5", "2.25", "1e15", "1e14", "123456789012", "0.1", "(1/3)", "255", "2^53", "-0.5", "(\"10\" + 0)")
		}
		switch g.r.Intn(9) {
		case 0:
			if g.chance(6) {
				// Whole exponents only: x ^ y is C's pow in lua5.1 and
				// Go's math.Pow here, which differ in the last bits for
				// others (libm accuracy, not Lua semantics).
				return fmt.Sprintf("(%s ^ %d)", g.exprOf("num"), g.r.Intn(4))
			}
			return fmt.Sprintf("(%s %s %s)", g.exprOf("num"), g.pick("+", "-", "*", "/", "%"), g.exprOf("num"))
		case 1:
			return fmt.Sprintf("math.%s(%s)", g.pick("floor", "ceil", "abs", "sqrt"), g.exprOf("num"))
		case 2:
			if g.chance(5) {
				return fmt.Sprintf("math.pow(%s, %d)", g.exprOf("num"), g.r.Intn(4))
			}
			return fmt.Sprintf("math.%s(%s, %s)", g.pick("max", "min", "fmod", "mod"), g.exprOf("num"), g.exprOf("num"))
		case 3:
			return fmt.Sprintf("#%s", g.exprOf("str"))
		case 4:
			return fmt.Sprintf("tonumber(%s)", g.pick(`"10"`, `"0x1f"`, `"1e2"`, `" 5 "`, `"1.5"`, `"ff", 16`, `"777", 8`, `"zz", 36`, `"z"`, "12", `""`))
		case 5:
			return fmt.Sprintf("select(\"#\"%s)", prefixComma(g.argList()))
		case 6:
			return fmt.Sprintf("(%s %s %s)", g.exprOf("str"), g.pick("+", "*", "-"), g.exprOf("num"))
		case 7:
			return fmt.Sprintf("string.%s(%s)", g.pick("len", "byte"), g.exprOf("str"))
		default:
			return fmt.Sprintf("-(%s)", g.exprOf("num"))
		}
	case "str":
		if leaf {
			return g.pick(`""`, `"a"`, `"xy"`, `"10"`, `"0x10"`, `" 5 "`, `"1e2"`, `"hello world"`, `"a,b,c"`, `"%"`, `"line\n"`, `"tab\t"`, `"Zz"`)
		}
		switch g.r.Intn(12) {
		case 0, 1:
			return fmt.Sprintf("(%s .. %s)", g.exprOf(g.pick("str", "num")), g.exprOf(g.pick("str", "num")))
		case 2:
			return g.format()
		case 3:
			return fmt.Sprintf("string.rep(%s, %d)", g.exprOf("str"), g.r.Intn(4))
		case 4:
			return fmt.Sprintf("string.%s(%s)", g.pick("upper", "lower", "reverse"), g.exprOf("str"))
		case 5:
			return fmt.Sprintf("string.sub(%s, %d, %d)", g.exprOf("str"), g.r.Intn(5)-2, g.r.Intn(6)-2)
		case 6:
			return fmt.Sprintf("tostring(%s)", g.exprOf(g.pick("num", "str")))
		case 7:
			return fmt.Sprintf("table.concat({%s}, %s)", g.args(), g.pick(`""`, `","`, `" "`, "0", `"-"`))
		case 8:
			return fmt.Sprintf("string.gsub(%s, %s, %s)", g.exprOf("str"), g.pattern(), g.pick(`"<%0>"`, `"%1"`, `""`, "404", `"x"`, "string.upper", `{a = "A", x = 1}`))
		case 9:
			return fmt.Sprintf("(string.match(%s, %s))", g.exprOf("str"), g.pattern())
		case 10:
			return fmt.Sprintf("(function(s) s = s .. %s return s end)(%s)", g.inFunc(func() string { return g.exprOf(g.pick("num", "str")) }), g.exprOf("str"))
		default:
			return fmt.Sprintf("(%s and %s or %s)", g.exprOf("any"), g.exprOf("str"), g.exprOf("str"))
		}
	case "tbl":
		if leaf {
			return g.pick("{}", "{1, 2, 3}", `{"a", "b"}`, `{k = "v"}`)
		}
		return fmt.Sprintf("{%s}", g.args())
	case "fn":
		return fmt.Sprintf("function(a) return a .. %s end", g.inFunc(func() string { return g.exprOf(g.pick("str", "num")) }))
	case "nil":
		return "nil"
	case "fn1":
		return "tostring"
	}
	// any
	switch g.r.Intn(9) {
	case 0:
		return fmt.Sprintf("(%s %s %s)", g.exprOf("num"), g.pick("==", "<", "<=", "~=", ">"), g.exprOf("num"))
	case 1:
		return fmt.Sprintf("(%s %s %s)", g.exprOf("str"), g.pick("==", "<", ">="), g.exprOf("str"))
	case 2:
		return fmt.Sprintf("(not %s)", g.exprOf(g.pick("num", "str", "nil")))
	case 3:
		return fmt.Sprintf("(%s or %s)", g.exprOf(g.pick("nil", "num")), g.exprOf("str"))
	case 4:
		if g.vararg {
			return g.pick("...", "(...)", "select(\"#\", ...)", "select(2, ...)", "{...}")
		}
		return g.exprOf("num")
	case 5:
		return fmt.Sprintf("string.find(%s, %s%s)", g.exprOf("str"), g.pattern(), g.pick("", ", 2", ", 1, true", ", -2", ", 10"))
	case 6:
		if fs := g.vars("fn"); len(fs) > 0 {
			return fmt.Sprintf("%s(%s)", fs[g.r.Intn(len(fs))].name, g.exprOf(g.pick("str", "num", "nil")))
		}
		return g.exprOf("str")
	case 7:
		return fmt.Sprintf("select(%d%s)", g.r.Intn(3)+1, prefixComma(g.argList()))
	default:
		return fmt.Sprintf("unpack({%s})", g.args())
	}
}

// inFunc generates inside a function that is not variadic.
func (g *gen) inFunc(f func() string) string {
	va := g.vararg
	g.vararg = false
	defer func() { g.vararg = va }()
	return f()
}

// args is a comma-separated list of 0..3 expressions.
func (g *gen) args() string { return strings.Join(g.argList(), ", ") }

func (g *gen) argList() []string {
	var a []string
	for i := g.r.Intn(4); i > 0; i-- {
		a = append(a, g.exprOf(g.pick("num", "str")))
	}
	return a
}

func (g *gen) pattern() string {
	return g.pick(`"a"`, `"(%w+)"`, `"%d+"`, `"^%s*(.-)%s*$"`, `"(%a)(%a)"`, `"x*"`, `"[,%s]"`, `"%."`, `"()"`, `"b"`, `"[%d]+"`, `"%u"`)
}

// format is a string.format call with matching arguments.
func (g *gen) format() string {
	switch g.r.Intn(8) {
	case 0:
		return fmt.Sprintf("string.format(\"%%d|%%5d|%%-3d|\", fin(%s), fin(%s), fin(%s))", g.exprOf("num"), g.exprOf("num"), g.exprOf("num"))
	case 1:
		return fmt.Sprintf("string.format(\"%%s=%%s\", %s, %s)", g.exprOf(g.pick("str", "num")), g.exprOf(g.pick("str", "num")))
	case 2:
		return fmt.Sprintf("string.format(\"%%.3f %%g %%e\", %s, %s, %s)", g.exprOf("num"), g.exprOf("num"), g.exprOf("num"))
	case 3:
		return fmt.Sprintf("string.format(\"%%q\", %s)", g.exprOf(g.pick("str", "num")))
	case 4:
		return fmt.Sprintf("string.format(\"%%x %%X %%o\", fin(%s), fin(%s), fin(%s))", g.exprOf("num"), g.exprOf("num"), g.exprOf("num"))
	case 5:
		return fmt.Sprintf("string.format(\"%%5.2s|%%-6s|\", %s, %s)", g.exprOf("str"), g.exprOf(g.pick("str", "num")))
	case 6:
		return fmt.Sprintf("string.format(\"%%.14g\", %s)", g.exprOf("num"))
	default:
		return fmt.Sprintf("string.format(%s, fin(%s))", g.pick(`"%d"`, `"%s"`, `"%5.1f"`, `"[%3s]"`, `"%i%%"`), g.exprOf(g.pick("str", "num")))
	}
}
