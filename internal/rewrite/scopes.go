package rewrite

import (
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
)

// Local variable scopes. gopher-lua 1.1.2 records where a block's locals
// go out of scope in the debug entry whose index is the local's register
// (compile.go, EndScope), not in the local's own entry. Once a register is
// reused (a local declared after an inner block with locals has closed),
// the ranges in FunctionProto.DbgLocals are wrong: some locals seem alive
// to the end of the function, others never. Error messages ("attempt to
// index local 'a'") and debug.getlocal read these ranges.
//
// fixScopes recomputes them from the syntax tree the compiler saw: it
// lists each function's locals in the compiler's registration order with
// the block each belongs to, checks the list against the proto's entries
// (names and count; nested functions by their first line), and sets each
// entry's end to the last instruction of its block. A block ends before
// the first local declared after it, and before the first instruction
// whose source line is past the block's last line. When the statement
// after a block starts on the block's last line, instructions on that line
// cannot be told apart, and the block is taken to end at its last
// declaration (a local may then go unnamed, never misnamed). A function
// whose list does not match is left as compiled.

type scopeBlock struct {
	parent   *scopeBlock
	lastLine int
	// sameLine: the next statement starts on lastLine.
	sameLine bool
}

type scopeLocal struct {
	name  string
	block *scopeBlock // nil: the function's own scope
}

type scopeFunc struct {
	locals      []scopeLocal
	funcs       []*ast.FunctionExpr // nested, in source order
	methodFuncs map[*ast.FunctionExpr]bool
	cur         *scopeBlock
}

// fixChunkScopes applies fixScopes to a compiled main chunk.
func fixChunkScopes(chunk []ast.Stmt, proto *lua.FunctionProto) {
	fixScopes(&ast.FunctionExpr{ParList: &ast.ParList{HasVargs: true}, Stmts: chunk}, false, true, proto)
}

func fixScopes(fe *ast.FunctionExpr, isMethod, isMain bool, proto *lua.FunctionProto) {
	sf := &scopeFunc{}
	if isMethod {
		sf.declare("self")
	}
	for _, n := range fe.ParList.Names {
		sf.declare(n)
	}
	if fe.ParList.HasVargs && lua.CompatVarArg && !isMain {
		sf.declare("arg")
	}
	sf.stmts(fe.Stmts)
	if len(sf.funcs) == len(proto.FunctionPrototypes) {
		for i, child := range sf.funcs {
			p := proto.FunctionPrototypes[i]
			if p.LineDefined != child.Line() {
				break
			}
			fixScopes(child, sf.methodFuncs[child], false, p)
		}
	}
	sf.apply(proto)
}

// methodFuncs marks the functions defined with `function a:b()`.
func (sf *scopeFunc) markMethod(fe *ast.FunctionExpr) {
	if sf.methodFuncs == nil {
		sf.methodFuncs = map[*ast.FunctionExpr]bool{}
	}
	sf.methodFuncs[fe] = true
}

func (sf *scopeFunc) declare(name string) {
	sf.locals = append(sf.locals, scopeLocal{name: name, block: sf.cur})
}

// block runs body inside a new block ending on lastLine.
func (sf *scopeFunc) block(lastLine int, next ast.Stmt, body func()) {
	b := &scopeBlock{parent: sf.cur, lastLine: lastLine}
	if next != nil && next.Line() <= lastLine {
		b.sameLine = true
	}
	sf.cur = b
	body()
	sf.cur = b.parent
}

func lastLine(s ast.Stmt) int {
	if s.LastLine() > s.Line() {
		return s.LastLine()
	}
	return s.Line()
}

func (sf *scopeFunc) stmts(list []ast.Stmt) {
	for i, s := range list {
		var next ast.Stmt
		if i+1 < len(list) {
			next = list[i+1]
		}
		sf.stmt(s, next)
	}
}

func (sf *scopeFunc) chunk(list []ast.Stmt, last int, next ast.Stmt) {
	if len(list) == 0 {
		return
	}
	sf.block(last, next, func() { sf.stmts(list) })
}

func (sf *scopeFunc) stmt(s ast.Stmt, next ast.Stmt) {
	switch st := s.(type) {
	case *ast.LocalAssignStmt:
		if len(st.Names) == 1 && len(st.Exprs) == 1 {
			if _, ok := st.Exprs[0].(*ast.FunctionExpr); ok {
				sf.declare(st.Names[0])
				sf.exprs(st.Exprs)
				return
			}
		}
		sf.exprs(st.Exprs)
		for _, n := range st.Names {
			sf.declare(n)
		}
	case *ast.AssignStmt:
		sf.exprs(st.Lhs)
		sf.exprs(st.Rhs)
	case *ast.FuncCallStmt:
		sf.expr(st.Expr)
	case *ast.DoBlockStmt:
		sf.block(lastLine(st), next, func() { sf.stmts(st.Stmts) })
	case *ast.WhileStmt:
		sf.expr(st.Condition)
		sf.block(lastLine(st), next, func() { sf.stmts(st.Stmts) })
	case *ast.RepeatStmt:
		sf.block(lastLine(st), next, func() {
			sf.stmts(st.Stmts)
			sf.expr(st.Condition)
		})
	case *ast.IfStmt:
		sf.expr(st.Condition)
		thenLast := lastLine(st)
		if len(st.Then) > 0 {
			thenLast = lastLine(st.Then[len(st.Then)-1])
		}
		var thenNext ast.Stmt = next
		if len(st.Else) > 0 {
			thenNext = st.Else[0]
		}
		sf.chunk(st.Then, thenLast, thenNext)
		sf.chunk(st.Else, lastLine(st), next)
	case *ast.NumberForStmt:
		sf.block(lastLine(st), next, func() {
			sf.declare("(for index)")
			sf.expr(st.Init)
			sf.declare("(for limit)")
			sf.expr(st.Limit)
			sf.declare("(for step)")
			if st.Step != nil {
				sf.expr(st.Step)
			}
			sf.declare(st.Name)
			sf.stmts(st.Stmts)
		})
	case *ast.GenericForStmt:
		sf.block(lastLine(st), next, func() {
			sf.declare("(for generator)")
			sf.declare("(for state)")
			sf.declare("(for control)")
			sf.exprs(st.Exprs)
			for _, n := range st.Names {
				sf.declare(n)
			}
			sf.stmts(st.Stmts)
		})
	case *ast.FuncDefStmt:
		if st.Name != nil {
			if st.Name.Receiver != nil {
				sf.expr(st.Name.Receiver)
			}
			if st.Name.Func != nil {
				sf.expr(st.Name.Func)
			}
		}
		if st.Func != nil {
			if st.Name != nil && st.Name.Method != "" {
				sf.markMethod(st.Func)
			}
			sf.expr(st.Func)
		}
	case *ast.ReturnStmt:
		sf.exprs(st.Exprs)
	}
}

func (sf *scopeFunc) exprs(list []ast.Expr) {
	for _, e := range list {
		sf.expr(e)
	}
}

func (sf *scopeFunc) expr(e ast.Expr) {
	switch ex := e.(type) {
	case *ast.FunctionExpr:
		sf.funcs = append(sf.funcs, ex)
	case *ast.AttrGetExpr:
		sf.expr(ex.Object)
		sf.expr(ex.Key)
	case *ast.TableExpr:
		for _, f := range ex.Fields {
			if f.Key != nil {
				sf.expr(f.Key)
			}
			sf.expr(f.Value)
		}
	case *ast.FuncCallExpr:
		if ex.Func != nil {
			sf.expr(ex.Func)
		}
		if ex.Receiver != nil {
			sf.expr(ex.Receiver)
		}
		sf.exprs(ex.Args)
	case *ast.LogicalOpExpr:
		sf.expr(ex.Lhs)
		sf.expr(ex.Rhs)
	case *ast.RelationalOpExpr:
		sf.expr(ex.Lhs)
		sf.expr(ex.Rhs)
	case *ast.StringConcatOpExpr:
		sf.expr(ex.Lhs)
		sf.expr(ex.Rhs)
	case *ast.ArithmeticOpExpr:
		sf.expr(ex.Lhs)
		sf.expr(ex.Rhs)
	case *ast.UnaryMinusOpExpr:
		sf.expr(ex.Expr)
	case *ast.UnaryNotOpExpr:
		sf.expr(ex.Expr)
	case *ast.UnaryLenOpExpr:
		sf.expr(ex.Expr)
	}
}

// apply sets the entries' ends when the declarations match the proto's.
func (sf *scopeFunc) apply(p *lua.FunctionProto) {
	if len(sf.locals) != len(p.DbgLocals) || len(p.Code) == 0 {
		return
	}
	for i, l := range sf.locals {
		if p.DbgLocals[i].Name != l.name {
			return
		}
	}
	last := len(p.Code) - 1
	line := func(pc int) int {
		if pc < len(p.DbgSourcePositions) {
			return p.DbgSourcePositions[pc]
		}
		return 0
	}
	ends := map[*scopeBlock]int{}
	var endOf func(b *scopeBlock) int
	// inside reports whether block b is b2 or encloses it.
	inside := func(b2, b *scopeBlock) bool {
		for ; b2 != nil; b2 = b2.parent {
			if b2 == b {
				return true
			}
		}
		return false
	}
	endOf = func(b *scopeBlock) int {
		if b == nil {
			return last
		}
		if e, ok := ends[b]; ok {
			return e
		}
		upper := endOf(b.parent)
		maxStart, firstAfter := -1, -1
		for i, l := range sf.locals {
			if inside(l.block, b) {
				if s := p.DbgLocals[i].StartPc; s > maxStart {
					maxStart = s
				}
			} else if maxStart >= 0 && firstAfter < 0 {
				firstAfter = p.DbgLocals[i].StartPc
			}
		}
		if firstAfter >= 0 && firstAfter-1 < upper {
			upper = firstAfter - 1
		}
		end := maxStart
		if end < 0 {
			end = upper
		}
		for pc := maxStart + 1; pc <= upper; pc++ {
			l := line(pc)
			if l > b.lastLine || (b.sameLine && l == b.lastLine) {
				break
			}
			end = pc
		}
		if end > upper {
			end = upper
		}
		ends[b] = end
		return end
	}
	for i, l := range sf.locals {
		p.DbgLocals[i].EndPc = endOf(l.block)
	}
}
