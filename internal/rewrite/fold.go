package rewrite

import (
	"math"
	"strconv"

	"github.com/yuin/gopher-lua/ast"
)

// number gives a numeral the value Lua 5.1 reads (strtod): gopher-lua's
// compiler reads it with Go's base-prefix rules (0010 is octal 8 there),
// and a numeral too large for a double (1e999) becomes nan. The literal is
// rewritten in a form the compiler reads exactly (the shortest decimal that
// round-trips), and an infinite one as 1/0, which it folds to inf.
func number(ex *ast.NumberExpr) ast.Expr {
	v, ok := numeral(ex.Value)
	if !ok {
		return ex
	}
	if math.IsInf(v, 0) {
		one := &ast.NumberExpr{Value: "1"}
		zero := &ast.NumberExpr{Value: "0"}
		d := &ast.ArithmeticOpExpr{Operator: "/", Lhs: one, Rhs: zero}
		for _, n := range []ast.Expr{one, zero, d} {
			n.SetLine(ex.Line())
			n.SetLastLine(ex.LastLine())
		}
		return d
	}
	ex.Value = strconv.FormatFloat(v, 'g', -1, 64)
	return ex
}

// numeral is the value of a Lua 5.1 numeral: decimal, or 0x hexadecimal.
func numeral(s string) (float64, bool) {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		f, err := strconv.ParseFloat("0x"+s[2:]+"p0", 64)
		return f, err == nil || isRange(err)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRange(err) {
		return 0, false
	}
	return f, true
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// foldMod: gopher-lua's compiler folds `%` of two number literals with
// fmod, Lua 5.1 computes a - floor(a/b)*b (1e15 % 0.1 is 0 there, not
// 0.0444...). A `%` of two literals with a finite result becomes that
// result; others (nan, inf: not expressible as a literal) are left to the
// compiler.
func foldMod(ex *ast.ArithmeticOpExpr) ast.Expr {
	if ex.Operator != "%" {
		return nil
	}
	a, ok1 := literal(ex.Lhs)
	b, ok2 := literal(ex.Rhs)
	if !ok1 || !ok2 {
		return nil
	}
	v := a - math.Floor(a/b)*b
	if math.IsNaN(v) {
		// x86's default NaN, as Lua 5.1 computes it: 0/0, which the
		// compiler folds with the same instruction.
		z := func() ast.Expr {
			n := &ast.NumberExpr{Value: "0"}
			n.SetLine(ex.Line())
			n.SetLastLine(ex.LastLine())
			return n
		}
		d := &ast.ArithmeticOpExpr{Operator: "/", Lhs: z(), Rhs: z()}
		d.SetLine(ex.Line())
		d.SetLastLine(ex.LastLine())
		return d
	}
	if math.IsInf(v, 0) || (v == 0 && math.Signbit(v)) {
		return nil
	}
	n := &ast.NumberExpr{Value: strconv.FormatFloat(v, 'g', -1, 64)}
	n.SetLine(ex.Line())
	n.SetLastLine(ex.LastLine())
	return n
}

// literal is the value of a constant expression the compiler folds:
// number literals under + - * / ^ % and unary minus.
func literal(e ast.Expr) (float64, bool) {
	switch ex := e.(type) {
	case *ast.UnaryMinusOpExpr:
		v, ok := literal(ex.Expr)
		return -v, ok
	case *ast.ArithmeticOpExpr:
		a, ok1 := literal(ex.Lhs)
		b, ok2 := literal(ex.Rhs)
		if !ok1 || !ok2 {
			return 0, false
		}
		switch ex.Operator {
		case "+":
			return a + b, true
		case "-":
			return a - b, true
		case "*":
			return a * b, true
		case "/":
			return a / b, true
		case "%":
			return a - math.Floor(a/b)*b, true
		case "^":
			return math.Pow(a, b), true
		}
		return 0, false
	}
	n, ok := e.(*ast.NumberExpr)
	if !ok {
		return 0, false
	}
	return numeral(n.Value)
}
