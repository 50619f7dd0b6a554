package lua51

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// stringFormat is Lua 5.1's string.format: the C printf conversions it
// accepts (flags "-+ #0", width and precision of at most two digits each),
// with its errors, number coercions and %q. gopher-lua's version hands the
// format to Go's fmt, whose verbs and error texts ("%!d(string=x)") differ.
func stringFormat(L *lua.LState) int {
	format := checkString(L, 1)
	top := L.GetTop()
	arg := 1
	out := make([]byte, 0, len(format)+16)
	for i := 0; i < len(format); {
		c := format[i]
		if c != '%' {
			out = append(out, c)
			i++
			continue
		}
		i++
		if i < len(format) && format[i] == '%' {
			out = append(out, '%')
			i++
			continue
		}
		arg++
		if arg > top {
			L.ArgError(arg, "no value")
		}
		spec, next := scanFormat(L, format, i)
		i = next
		conv := byte(0)
		if i < len(format) {
			conv = format[i]
			i++
		}
		switch conv {
		case 'c':
			ch := byte(toCInt(float64(checkNumber(L, arg))))
			if ch != 0 { // sprintf's NUL ends the C string: nothing is added
				out = spec.pad(out, []byte{ch}, false)
			}
		case 'd', 'i':
			n := toCInt(float64(checkNumber(L, arg)))
			neg := n < 0
			u := uint64(n)
			if neg {
				u = -u
			}
			out = spec.integer(out, u, neg, 10, false)
		case 'o', 'u', 'x', 'X':
			u := toCUint(float64(checkNumber(L, arg)))
			base := map[byte]int{'o': 8, 'u': 10, 'x': 16, 'X': 16}[conv]
			out = spec.integer(out, u, false, base, conv == 'X')
		case 'e', 'E', 'f', 'g', 'G':
			out = spec.float(out, float64(checkNumber(L, arg)), conv)
		case 'q':
			out = append(out, quoteString(checkString(L, arg))...)
		case 's':
			s := checkString(L, arg)
			if spec.prec < 0 && len(s) >= 100 {
				// C Lua keeps long strings whole (no sprintf).
				out = append(out, s...)
				break
			}
			if k := strings.IndexByte(s, 0); k >= 0 {
				s = s[:k]
			}
			if spec.prec >= 0 && len(s) > spec.prec {
				s = s[:spec.prec]
			}
			out = spec.pad(out, []byte(s), false)
		default:
			opt := string(conv)
			if conv == 0 {
				opt = ""
			}
			L.RaiseError("invalid option '%%%s' to 'format'", opt)
		}
	}
	L.Push(lua.LString(out))
	return 1
}

// toCUint converts as x86-64 code compiled by gcc casts a double to
// unsigned long.
func toCUint(f float64) uint64 {
	if f >= 9.223372036854775807e18 && f < 1.8446744073709552e19 {
		return uint64(f)
	}
	return uint64(toCInt(f))
}

type fmtSpec struct {
	minus, plus, space, hash, zero bool
	width, prec                    int // prec -1: none
}

// scanFormat is Lua 5.1's scanformat: it reads flags, width and precision
// from format[i:] and returns the index of the conversion character.
func scanFormat(L *lua.LState, format string, i int) (fmtSpec, int) {
	spec := fmtSpec{prec: -1}
	start := i
	for i < len(format) && strings.IndexByte("-+ #0", format[i]) >= 0 {
		switch format[i] {
		case '-':
			spec.minus = true
		case '+':
			spec.plus = true
		case ' ':
			spec.space = true
		case '#':
			spec.hash = true
		case '0':
			spec.zero = true
		}
		i++
	}
	if i-start >= 6 {
		L.RaiseError("invalid format (repeated flags)")
	}
	digits := func() int {
		n := 0
		for k := 0; k < 2 && i < len(format) && isDigit(format[i]); k++ {
			n = n*10 + int(format[i]-'0')
			i++
		}
		return n
	}
	spec.width = digits()
	if i < len(format) && format[i] == '.' {
		i++
		spec.prec = digits()
	}
	if i < len(format) && isDigit(format[i]) {
		L.RaiseError("invalid format (width or precision too long)")
	}
	return spec, i
}

// pad applies the width: spaces (or zeros after the sign, for numbers
// with the 0 flag) on the left, or spaces on the right with '-'.
func (s fmtSpec) pad(out, body []byte, zeroOK bool) []byte {
	n := s.width - len(body)
	if n <= 0 {
		return append(out, body...)
	}
	if s.minus {
		out = append(out, body...)
		return append(out, strings.Repeat(" ", n)...)
	}
	if zeroOK && s.zero {
		// zeros go after any sign or 0x prefix
		k := 0
		if k < len(body) && (body[k] == '-' || body[k] == '+' || body[k] == ' ') {
			k++
		}
		if k+1 < len(body) && body[k] == '0' && (body[k+1]|0x20 == 'x') {
			k += 2
		}
		out = append(out, body[:k]...)
		out = append(out, strings.Repeat("0", n)...)
		return append(out, body[k:]...)
	}
	out = append(out, strings.Repeat(" ", n)...)
	return append(out, body...)
}

func (s fmtSpec) sign(neg bool) string {
	switch {
	case neg:
		return "-"
	case s.plus:
		return "+"
	case s.space:
		return " "
	}
	return ""
}

func (s fmtSpec) integer(out []byte, u uint64, neg bool, base int, upper bool) []byte {
	digits := strconv.FormatUint(u, base)
	if upper {
		digits = strings.ToUpper(digits)
	}
	if s.prec == 0 && u == 0 {
		digits = ""
	}
	if s.prec > len(digits) {
		digits = strings.Repeat("0", s.prec-len(digits)) + digits
	}
	prefix := ""
	if base == 10 {
		prefix = s.sign(neg)
	} else if s.hash {
		switch {
		case base == 8 && !strings.HasPrefix(digits, "0"):
			prefix = "0"
		case base == 16 && u != 0 && upper:
			prefix = "0X"
		case base == 16 && u != 0:
			prefix = "0x"
		}
	}
	return s.pad(out, []byte(prefix+digits), s.prec < 0)
}

func (s fmtSpec) float(out []byte, f float64, conv byte) []byte {
	neg := math.Signbit(f)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		body := "inf"
		if math.IsNaN(f) {
			body = "nan"
		}
		if conv == 'E' || conv == 'G' {
			body = strings.ToUpper(body)
		}
		return s.pad(out, []byte(s.sign(neg)+body), false)
	}
	prec := s.prec
	if prec < 0 {
		prec = 6
	}
	a := math.Abs(f)
	var body []byte
	switch conv {
	case 'e', 'E':
		body = strconv.AppendFloat(nil, a, 'e', prec, 64)
		if s.hash && prec == 0 {
			k := strings.IndexByte(string(body), 'e')
			body = append(body[:k:k], append([]byte{'.'}, body[k:]...)...)
		}
	case 'f':
		body = strconv.AppendFloat(nil, a, 'f', prec, 64)
		if s.hash && prec == 0 {
			body = append(body, '.')
		}
	default: // g, G
		if prec == 0 {
			prec = 1
		}
		if s.hash {
			body = []byte(formatHashG(a, prec))
		} else {
			body = strconv.AppendFloat(nil, a, 'g', prec, 64)
		}
	}
	if conv == 'E' || conv == 'G' {
		body = []byte(strings.ToUpper(string(body)))
	}
	return s.pad(out, append([]byte(s.sign(neg)), body...), true)
}

// formatHashG is C's %#.Pg: like %g but trailing zeros and the point stay.
func formatHashG(a float64, prec int) string {
	e := strconv.FormatFloat(a, 'e', prec-1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= prec {
		if !strings.Contains(e, ".") {
			k := strings.IndexByte(e, 'e')
			e = e[:k] + "." + e[k:]
		}
		return e
	}
	f := strconv.FormatFloat(a, 'f', prec-1-exp, 64)
	if !strings.Contains(f, ".") {
		f += "."
	}
	return f
}
