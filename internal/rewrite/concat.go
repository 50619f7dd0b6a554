package rewrite

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
)

// Concatenation. gopher-lua's VM turns numbers into strings with Go's
// shortest formatting (3.3333333333333335, +Inf) where Lua 5.1 uses
// "%.14g" (3.3333333333333, inf), and that code cannot be replaced. So, when
// the state has a concat function (EnableConcat), Load turns every chain
// `a .. b .. c` with an operand other than a string constant into
// `(concat)(a, b, c)`: one Go call that formats and joins all operands
// (and falls back to __concat metamethods as Lua 5.1 does). It is faster
// than the VM's own OP_CONCAT, which allocates per operand.
//
// The function reaches the code through a hidden local declared first in
// the chunk, `local (concat) = "<placeholder>"`: after compiling, the
// placeholder constant of the main function is replaced by the function
// itself. The local is a register (an upvalue in nested functions), so
// neither globals nor setfenv can break it.

const (
	concatName = "(concat)"
	// concatPlaceholder starts the string constant that becomes the
	// function; a number is added to make it differ from all strings of
	// the chunk, so that no user constant shares its slot.
	concatPlaceholder = "(copas-lua concat placeholder)"
	concatRegistryKey = "copas-lua.rewrite.concat"
	// maxConcatArgs bounds the registers of one call; longer chains nest
	// their tail, which keeps the right-to-left order.
	maxConcatArgs = 64
)

// EnableConcat makes Load compile concatenation chains into calls to fn
// for chunks loaded into L from now on. fn receives the operands as
// arguments and must return their concatenation.
func EnableConcat(L *lua.LState, fn lua.LGFunction) {
	L.SetField(L.Get(lua.RegistryIndex), concatRegistryKey, L.NewFunction(fn))
}

// concatChunk rewrites the chains of stmts and prepends the hidden local.
// It returns the placeholder for bindConcat, "" if nothing was rewritten.
func concatChunk(stmts []ast.Stmt) ([]ast.Stmt, string) {
	c := concatPass{}
	c.block(stmts)
	if !c.used || len(stmts) == 0 {
		return stmts, ""
	}
	placeholder := concatPlaceholder
	for n := 1; c.clash[placeholder]; n++ {
		placeholder = concatPlaceholder + strconv.Itoa(n)
	}
	line := stmts[0].Line()
	decl := at(&ast.LocalAssignStmt{
		Names: []string{concatName},
		Exprs: []ast.Expr{at(&ast.StringExpr{Value: placeholder}, line, line)},
	}, line, line)
	return append([]ast.Stmt{decl}, stmts...), placeholder
}

// bindConcat replaces the placeholder constant of the main function with fn.
func bindConcat(proto *lua.FunctionProto, placeholder string, fn lua.LValue) {
	for i, k := range proto.Constants {
		if k == lua.LString(placeholder) {
			proto.Constants[i] = fn
			return
		}
	}
}

type concatPass struct {
	used  bool            // some chain was rewritten
	clash map[string]bool // strings of the chunk that start as the placeholder
}

func (c *concatPass) block(stmts []ast.Stmt) {
	for _, s := range stmts {
		c.stmt(s)
	}
}

func (c *concatPass) stmt(s ast.Stmt) {
	switch st := s.(type) {
	case *ast.AssignStmt:
		c.exprs(st.Lhs)
		c.exprs(st.Rhs)
	case *ast.LocalAssignStmt:
		c.exprs(st.Exprs)
	case *ast.FuncCallStmt:
		st.Expr = c.expr(st.Expr)
	case *ast.DoBlockStmt:
		c.block(st.Stmts)
	case *ast.WhileStmt:
		st.Condition = c.expr(st.Condition)
		c.block(st.Stmts)
	case *ast.RepeatStmt:
		c.block(st.Stmts)
		st.Condition = c.expr(st.Condition)
	case *ast.IfStmt:
		st.Condition = c.expr(st.Condition)
		c.block(st.Then)
		c.block(st.Else)
	case *ast.NumberForStmt:
		st.Init, st.Limit = c.expr(st.Init), c.expr(st.Limit)
		if st.Step != nil {
			st.Step = c.expr(st.Step)
		}
		c.block(st.Stmts)
	case *ast.GenericForStmt:
		c.exprs(st.Exprs)
		c.block(st.Stmts)
	case *ast.FuncDefStmt:
		if st.Name != nil && st.Name.Func != nil {
			st.Name.Func = c.expr(st.Name.Func)
		}
		if st.Name != nil && st.Name.Receiver != nil {
			st.Name.Receiver = c.expr(st.Name.Receiver)
		}
		if st.Func != nil {
			c.block(st.Func.Stmts)
		}
	case *ast.ReturnStmt:
		c.exprs(st.Exprs)
	}
}

func (c *concatPass) exprs(es []ast.Expr) {
	for i, e := range es {
		es[i] = c.expr(e)
	}
}

func (c *concatPass) expr(e ast.Expr) ast.Expr {
	switch ex := e.(type) {
	case *ast.StringExpr:
		if strings.HasPrefix(ex.Value, concatPlaceholder) {
			if c.clash == nil {
				c.clash = map[string]bool{}
			}
			c.clash[ex.Value] = true
		}
	case *ast.StringConcatOpExpr:
		return c.chain(ex)
	case *ast.FunctionExpr:
		c.block(ex.Stmts)
	case *ast.AttrGetExpr:
		ex.Object, ex.Key = c.expr(ex.Object), c.expr(ex.Key)
	case *ast.TableExpr:
		for _, f := range ex.Fields {
			if f.Key != nil {
				f.Key = c.expr(f.Key)
			}
			f.Value = c.expr(f.Value)
		}
	case *ast.FuncCallExpr:
		if ex.Func != nil {
			ex.Func = c.expr(ex.Func)
		}
		if ex.Receiver != nil {
			ex.Receiver = c.expr(ex.Receiver)
		}
		c.exprs(ex.Args)
	case *ast.LogicalOpExpr:
		ex.Lhs, ex.Rhs = c.expr(ex.Lhs), c.expr(ex.Rhs)
	case *ast.RelationalOpExpr:
		ex.Lhs, ex.Rhs = c.expr(ex.Lhs), c.expr(ex.Rhs)
	case *ast.ArithmeticOpExpr:
		ex.Lhs, ex.Rhs = c.expr(ex.Lhs), c.expr(ex.Rhs)
	case *ast.UnaryMinusOpExpr:
		ex.Expr = c.expr(ex.Expr)
	case *ast.UnaryNotOpExpr:
		ex.Expr = c.expr(ex.Expr)
	case *ast.UnaryLenOpExpr:
		ex.Expr = c.expr(ex.Expr)
	}
	return e
}

// chain flattens `a .. (b .. c)` as the compiler does (the operator is
// right associative) and returns the call, or the chain itself when all
// operands are string constants.
func (c *concatPass) chain(ex *ast.StringConcatOpExpr) ast.Expr {
	var ops []ast.Expr
	var cur ast.Expr = ex
	for {
		sc, ok := cur.(*ast.StringConcatOpExpr)
		if !ok {
			ops = append(ops, c.expr(cur))
			break
		}
		ops = append(ops, c.expr(sc.Lhs))
		cur = sc.Rhs
	}
	allStrings := true
	for _, op := range ops {
		switch o := op.(type) {
		case *ast.StringExpr:
			continue
		// An operand gives one value; as the last argument a call or
		// ... would give all of theirs.
		case *ast.FuncCallExpr:
			o.AdjustRet = true
		case *ast.Comma3Expr:
			o.AdjustRet = true
		}
		allStrings = false
	}
	if allStrings {
		return ex
	}
	c.used = true
	return concatCall(ops, ex.Line(), ex.LastLine())
}

// concatCall is `((concat)(ops...))`: parenthesised (AdjustRet) so that
// `return a .. b` stays a plain call, not a tail call, and errors keep the
// caller's line.
func concatCall(ops []ast.Expr, line, last int) ast.Expr {
	if len(ops) > maxConcatArgs {
		tail := concatCall(ops[maxConcatArgs-1:], line, last)
		ops = append(ops[:maxConcatArgs-1:maxConcatArgs-1], tail)
	}
	return at(&ast.FuncCallExpr{Func: ident(concatName, line), Args: ops, AdjustRet: true}, line, last)
}
