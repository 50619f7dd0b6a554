// Package rewrite works around gopher-lua 1.1.2 compiler bugs by rewriting
// the syntax tree between parse.Parse and lua.Compile.
//
// Each rewrite turns a construct the compiler gets wrong into an equivalent
// one it gets right, with Lua 5.1 semantics:
//
//   - Multiple assignment (yuin/gopher-lua#440). The compiler evaluates a
//     right-hand expression straight into a local target, so later
//     expressions see the new value: `a, b = b, a` gives `2 2`, and
//     `t, t.x = {}, 1` sets the field of the new table. The statement
//     becomes a do block that first evaluates the table and key of each
//     field target, then all values, into hidden locals, and then assigns
//     them from the last target to the first, as PUC Lua 5.1 does.
//   - `local f = function() ... f ... end`. The compiler treats it as
//     `local function f`, so f inside the body is the new local instead of
//     the outer variable (`local print = function(...) print(...) end`
//     recurses until the Go stack overflows). An extra `nil` value makes the
//     compiler take its general path, which declares f after the value.
//   - Generic for with fewer than three values and fewer than three names
//     (`for k in iter do`, `for k in next, t do`). The compiler initialises
//     only as many of the hidden state registers as there are names, so the
//     iterator gets stale register contents as its state and control
//     values. The explist is padded with nil, or, when it ends in a call or
//     `...`, the names with hidden ones.
//
// Hidden names contain spaces and parentheses, so source code can neither
// spell nor shadow them. Generated nodes carry the line numbers of the
// statement they replace, so runtime errors and tracebacks point at the
// original line. Everything else is left untouched.
//
// The `local f = function` fix tells the two forms apart by a parser detail
// of gopher-lua 1.1.2 (only `local function` sets the statement's last
// line); the package tests fail if a gopher-lua upgrade changes that.
package rewrite

import (
	"strconv"

	"github.com/yuin/gopher-lua/ast"
)

// Chunk rewrites stmts in place and returns them. It is meant for the
// output of parse.Parse, before lua.Compile.
func Chunk(stmts []ast.Stmt) []ast.Stmt {
	block(stmts)
	return stmts
}

func block(stmts []ast.Stmt) {
	for i, s := range stmts {
		stmts[i] = stmt(s)
	}
}

func stmt(s ast.Stmt) ast.Stmt {
	switch st := s.(type) {
	case *ast.AssignStmt:
		exprs(st.Lhs)
		exprs(st.Rhs)
		if len(st.Lhs) > 1 {
			return multiAssign(st)
		}
		singleCall(st)
	case *ast.LocalAssignStmt:
		exprs(st.Exprs)
		localFunction(st)
	case *ast.FuncCallStmt:
		st.Expr = expr(st.Expr)
	case *ast.DoBlockStmt:
		block(st.Stmts)
	case *ast.WhileStmt:
		st.Condition = expr(st.Condition)
		block(st.Stmts)
	case *ast.RepeatStmt:
		block(st.Stmts)
		st.Condition = expr(st.Condition)
	case *ast.IfStmt:
		st.Condition = expr(st.Condition)
		block(st.Then)
		block(st.Else)
	case *ast.NumberForStmt:
		st.Init = expr(st.Init)
		st.Limit = expr(st.Limit)
		if st.Step != nil {
			st.Step = expr(st.Step)
		}
		block(st.Stmts)
	case *ast.GenericForStmt:
		exprs(st.Exprs)
		genericFor(st)
		block(st.Stmts)
	case *ast.FuncDefStmt:
		if st.Name != nil {
			if st.Name.Func != nil {
				st.Name.Func = expr(st.Name.Func)
			}
			if st.Name.Receiver != nil {
				st.Name.Receiver = expr(st.Name.Receiver)
			}
		}
		if st.Func != nil {
			block(st.Func.Stmts)
		}
	case *ast.ReturnStmt:
		exprs(st.Exprs)
	}
	return s
}

func exprs(es []ast.Expr) {
	for i, e := range es {
		es[i] = expr(e)
	}
}

// expr rewrites the statements inside function bodies found in e.
func expr(e ast.Expr) ast.Expr {
	switch ex := e.(type) {
	case *ast.NumberExpr:
		return number(ex)
	case *ast.FunctionExpr:
		block(ex.Stmts)
	case *ast.AttrGetExpr:
		ex.Object = expr(ex.Object)
		ex.Key = expr(ex.Key)
	case *ast.TableExpr:
		for _, f := range ex.Fields {
			if f.Key != nil {
				f.Key = expr(f.Key)
			}
			f.Value = expr(f.Value)
		}
	case *ast.FuncCallExpr:
		if ex.Func != nil {
			ex.Func = expr(ex.Func)
		}
		if ex.Receiver != nil {
			ex.Receiver = expr(ex.Receiver)
		}
		exprs(ex.Args)
	case *ast.LogicalOpExpr:
		ex.Lhs = expr(ex.Lhs)
		ex.Rhs = expr(ex.Rhs)
	case *ast.RelationalOpExpr:
		ex.Lhs = expr(ex.Lhs)
		ex.Rhs = expr(ex.Rhs)
		opLine(ex, ex.Rhs)
	case *ast.StringConcatOpExpr:
		ex.Lhs = expr(ex.Lhs)
		ex.Rhs = expr(ex.Rhs)
		opLine(ex, ex.Rhs)
	case *ast.ArithmeticOpExpr:
		ex.Lhs = expr(ex.Lhs)
		ex.Rhs = expr(ex.Rhs)
		if f := foldMod(ex); f != nil {
			return f
		}
		opLine(ex, ex.Rhs)
	case *ast.UnaryMinusOpExpr:
		ex.Expr = expr(ex.Expr)
	case *ast.UnaryNotOpExpr:
		ex.Expr = expr(ex.Expr)
	case *ast.UnaryLenOpExpr:
		ex.Expr = expr(ex.Expr)
	}
	return e
}

// multiValue reports whether e yields a variable number of values when it
// ends an expression list: an unparenthesised call or `...`.
func multiValue(e ast.Expr) bool {
	switch ex := e.(type) {
	case *ast.FuncCallExpr:
		return !ex.AdjustRet
	case *ast.Comma3Expr:
		return !ex.AdjustRet
	}
	return false
}

// constant reports whether evaluating e has no effect and always gives the
// same value, so a table key need not be saved before the assignments.
func constant(e ast.Expr) bool {
	switch e.(type) {
	case *ast.StringExpr, *ast.NumberExpr, *ast.NilExpr, *ast.TrueExpr, *ast.FalseExpr:
		return true
	}
	return false
}

func at[T ast.PositionHolder](n T, line, last int) T {
	n.SetLine(line)
	n.SetLastLine(last)
	return n
}

func ident(name string, line int) *ast.IdentExpr {
	return at(&ast.IdentExpr{Value: name}, line, line)
}

// multiAssign turns `x1, ..., xn = e1, ..., em` into
//
//	do
//	  local (assign t1), ... = <table and key of each field target>
//	  local (assign v1), ..., (assign vn-1) = e1, ..., en-1  -- or all of them
//	  xn = en                 -- or xn = (assign vn)
//	  xn-1 = (assign vn-1)
//	  ...
//	  x1 = (assign v1)
//	end
//
// with each field target `t[k]` rewritten as `(assign ti)[(assign tj)]`.
// When there are exactly as many values as targets the last value is
// assigned directly, as PUC Lua does: nothing is left to evaluate after it.
// opLine gives a binary operation the line Lua 5.1 gives its instruction:
// that of the right operand's last token (Lua emits the instruction after
// reading it), where gopher-lua uses the line the expression starts on. It
// is only debug information: errors in multi-line expressions name the
// line lua5.1 names.
func opLine(ex, rhs ast.Expr) {
	l := rhs.Line()
	if rhs.LastLine() > l {
		l = rhs.LastLine()
	}
	if l > ex.Line() {
		ex.SetLine(l)
	}
	if l > ex.LastLine() {
		ex.SetLastLine(l)
	}
}

// singleCall: `x = (f(...))`, where x is a function's last parameter,
// compiles the call into x's register before the arguments are read
// (gopher-lua's compileFuncCallExpr), so f(x) gets itself as argument.
// With one target, the parentheses change nothing (the call is cut to one
// value either way), and without them the compiler takes its right path.
func singleCall(st *ast.AssignStmt) {
	if len(st.Lhs) != 1 || len(st.Rhs) != 1 {
		return
	}
	switch c := st.Rhs[0].(type) {
	case *ast.FuncCallExpr:
		c.AdjustRet = false
	case *ast.Comma3Expr:
		// `x = (...)` after a local declaration leaves x's register
		// holding a Go nil (its varargs are copied with the wrong count).
		c.AdjustRet = false
	}
}

func multiAssign(st *ast.AssignStmt) ast.Stmt {
	line := st.Line()
	if line == 0 {
		line = st.Lhs[0].Line()
	}
	last := st.LastLine()
	if last < line {
		last = line
	}
	var (
		prefixNames []string
		prefixExprs []ast.Expr
	)
	hold := func(e ast.Expr) ast.Expr {
		name := "(assign t" + strconv.Itoa(len(prefixNames)+1) + ")"
		prefixNames = append(prefixNames, name)
		prefixExprs = append(prefixExprs, e)
		return ident(name, e.Line())
	}
	targets := make([]ast.Expr, len(st.Lhs))
	for i, lhs := range st.Lhs {
		if a, ok := lhs.(*ast.AttrGetExpr); ok {
			obj := hold(a.Object)
			key := a.Key
			if !constant(key) {
				key = hold(key)
			}
			targets[i] = at(&ast.AttrGetExpr{Object: obj, Key: key}, a.Line(), a.LastLine())
			continue
		}
		targets[i] = lhs
	}

	n := len(targets)
	direct := len(st.Rhs) == n // the last value goes straight to its target
	staged := st.Rhs
	nvals := n
	if direct {
		staged = st.Rhs[:n-1]
		nvals = n - 1
	}
	valueNames := make([]string, nvals)
	for i := range valueNames {
		valueNames[i] = "(assign v" + strconv.Itoa(i+1) + ")"
	}

	out := make([]ast.Stmt, 0, n+2)
	if len(prefixNames) > 0 {
		out = append(out, at(&ast.LocalAssignStmt{Names: prefixNames, Exprs: prefixExprs}, line, line))
	}
	if nvals > 0 {
		out = append(out, at(&ast.LocalAssignStmt{Names: valueNames, Exprs: staged}, line, line))
	}
	for i := n - 1; i >= 0; i-- {
		tl := targets[i].Line()
		var value ast.Expr
		if direct && i == n-1 {
			value = st.Rhs[n-1]
		} else {
			value = ident(valueNames[i], tl)
		}
		as := &ast.AssignStmt{Lhs: []ast.Expr{targets[i]}, Rhs: []ast.Expr{value}}
		singleCall(as)
		out = append(out, at(as, tl, tl))
	}
	return at(&ast.DoBlockStmt{Stmts: out}, line, last)
}

// localFunction gives `local f = function ... end` a second value, nil, so
// that gopher-lua compiles it as an ordinary local statement (f declared
// after the function is built) rather than as `local function f`. Only
// `local function f` statements have a last line set by the 1.1.2 parser.
func localFunction(st *ast.LocalAssignStmt) {
	if len(st.Names) != 1 || len(st.Exprs) != 1 || st.LastLine() != 0 {
		return
	}
	fn, ok := st.Exprs[0].(*ast.FunctionExpr)
	if !ok {
		return
	}
	st.Exprs = append(st.Exprs, at(&ast.NilExpr{}, fn.LastLine(), fn.LastLine()))
}

// genericFor makes sure the compiler initialises all three hidden for
// registers (generator, state, control). It assigns the explist to the loop
// names padded to three, so with fewer names and fewer values the missing
// ones keep whatever the registers held before.
func genericFor(st *ast.GenericForStmt) {
	n, m := len(st.Names), len(st.Exprs)
	if n >= 3 || m == 0 {
		return
	}
	lastExpr := st.Exprs[m-1]
	if !multiValue(lastExpr) {
		for len(st.Exprs) < 3 {
			st.Exprs = append(st.Exprs, at(&ast.NilExpr{}, lastExpr.Line(), lastExpr.Line()))
		}
		return
	}
	// A call or ... at index k >= n is compiled as an extra value with no
	// results. With k+1 names it fills the remaining 3-k registers.
	k := m - 1
	if k < n || k >= 3 {
		return
	}
	for len(st.Names) < k+1 {
		st.Names = append(st.Names, "(for pad "+strconv.Itoa(len(st.Names)+1)+")")
	}
}
