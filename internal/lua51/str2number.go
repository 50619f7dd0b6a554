package lua51

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// isSpace is C's isspace in the "C" locale.
func isSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHexDigit(c byte) bool {
	return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

// strtod is glibc's strtod in the "C" locale: it returns the value of the
// longest prefix of s that is a number and the length of that prefix (0
// when there is none). Lua 5.1's lua_str2number is strtod, so this decides
// which strings convert: hexadecimal ("0x1p4"), "inf", "nan" and
// exponents included.
func strtod(s string) (float64, int) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	start := i
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	sign := func(f float64) float64 {
		if neg {
			return -f
		}
		return f
	}
	rest := s[i:]
	if hasFold(rest, "inf") {
		n := 3
		if hasFold(rest, "infinity") {
			n = 8
		}
		return sign(math.Inf(1)), i + n
	}
	if hasFold(rest, "nan") {
		n := 3
		if len(rest) > 3 && rest[3] == '(' {
			j := 4
			for j < len(rest) && (isDigit(rest[j]) || rest[j]|0x20 >= 'a' && rest[j]|0x20 <= 'z' || rest[j] == '_') {
				j++
			}
			if j < len(rest) && rest[j] == ')' {
				n = j + 1
			}
		}
		// glibc's nan carries the sign bit of a leading '-'.
		return sign(math.NaN()), i + n
	}
	if len(rest) >= 2 && rest[0] == '0' && rest[1]|0x20 == 'x' {
		if f, n := hexFloat(rest[2:]); n > 0 {
			return sign(f), i + 2 + n
		}
		// "0x" without digits: the number is the "0".
		return sign(0), i + 1
	}
	j := i
	digits := 0
	for j < len(s) && isDigit(s[j]) {
		j++
		digits++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && isDigit(s[j]) {
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0
	}
	if j < len(s) && s[j]|0x20 == 'e' {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			j = k
		}
	}
	f, err := strconv.ParseFloat(s[start:j], 64)
	if err != nil && !isRangeErr(err) {
		return 0, 0
	}
	return f, j
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func hasFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// hexFloat reads the digits of a hexadecimal float after "0x": mantissa
// with an optional point and an optional binary exponent.
func hexFloat(s string) (float64, int) {
	j := 0
	digits := 0
	for j < len(s) && isHexDigit(s[j]) {
		j++
		digits++
	}
	mantEnd := j
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && isHexDigit(s[j]) {
			j++
			digits++
		}
		mantEnd = j
	}
	if digits == 0 {
		return 0, 0
	}
	exp := "0"
	if j < len(s) && s[j]|0x20 == 'p' {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			exp = s[j+1 : k]
			j = k
		}
	}
	mant := s[:mantEnd]
	if strings.HasSuffix(mant, ".") {
		mant += "0"
	}
	if strings.HasPrefix(mant, ".") {
		mant = "0" + mant
	}
	f, err := strconv.ParseFloat("0x"+mant+"p"+exp, 64)
	if err != nil && !isRangeErr(err) {
		return 0, 0
	}
	return f, j
}

// strtoul is C's strtoul for base 2..36: optional sign (negating the
// unsigned result), "0x" allowed for base 16, ULONG_MAX on overflow.
func strtoul(s string, base int) (uint64, int) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if base == 16 && len(s)-i >= 3 && s[i] == '0' && s[i+1]|0x20 == 'x' && digitVal(s[i+2]) < 16 {
		i += 2
	}
	var n uint64
	overflow := false
	start := i
	for i < len(s) {
		d := digitVal(s[i])
		if d >= base {
			break
		}
		if n > (math.MaxUint64-uint64(d))/uint64(base) {
			overflow = true
		}
		n = n*uint64(base) + uint64(d)
		i++
	}
	if i == start {
		return 0, 0
	}
	if overflow {
		return math.MaxUint64, i
	}
	if neg {
		n = -n
	}
	return n, i
}

func digitVal(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case c|0x20 >= 'a' && c|0x20 <= 'z':
		return int(c|0x20-'a') + 10
	}
	return 99
}

// str2number is Lua 5.1's luaO_str2d: the whole string (up to a NUL, as C
// sees it) is a number, with surrounding white space allowed.
func str2number(s string) (lua.LNumber, bool) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	f, n := strtod(s)
	if n == 0 {
		return 0, false
	}
	if n < len(s) && s[n]|0x20 == 'x' {
		u, m := strtoul(s, 16)
		f, n = float64(u), m
	}
	for n < len(s) && isSpace(s[n]) {
		n++
	}
	if n != len(s) {
		return 0, false
	}
	return lua.LNumber(f), true
}

// baseToNumber is Lua 5.1's tonumber(e [, base]).
func baseToNumber(L *lua.LState) int {
	base := 10
	if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
		base = checkInt(L, 2)
	}
	if base == 10 {
		v := L.CheckAny(1)
		switch x := v.(type) {
		case lua.LNumber:
			L.Push(x)
			return 1
		case lua.LString:
			if n, ok := str2number(string(x)); ok {
				L.Push(n)
				return 1
			}
		}
		L.Push(lua.LNil)
		return 1
	}
	s := checkString(L, 1)
	if base < 2 || base > 36 {
		L.ArgError(2, "base out of range")
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	n, end := strtoul(s, base)
	if end > 0 {
		for end < len(s) && isSpace(s[end]) {
			end++
		}
		if end == len(s) {
			L.Push(lua.LNumber(float64(n)))
			return 1
		}
	}
	L.Push(lua.LNil)
	return 1
}

// toNumber is lua_tonumber: numbers, and strings that convert.
func toNumber(v lua.LValue) (lua.LNumber, bool) {
	switch x := v.(type) {
	case lua.LNumber:
		return x, true
	case lua.LString:
		return str2number(string(x))
	}
	return 0, false
}

// checkNumber is luaL_checknumber.
func checkNumber(L *lua.LState, n int) lua.LNumber {
	v := L.Get(n)
	if f, ok := toNumber(v); ok {
		return f
	}
	typeError(L, n, "number")
	return 0
}

// checkInt is luaL_checkint: the number truncated as C's cast does.
func checkInt(L *lua.LState, n int) int {
	return int(toCInt(float64(checkNumber(L, n))))
}

// toCInt converts as the x86-64 cvttsd2si instruction does: out-of-range
// values and NaN become the "integer indefinite" value.
func toCInt(f float64) int64 {
	if f != f || f >= 9.223372036854775807e18 || f < -9.223372036854775808e18 {
		return math.MinInt64
	}
	return int64(f)
}

// checkString is luaL_checkstring: strings, and numbers formatted as Lua
// 5.1 does.
func checkString(L *lua.LState, n int) string {
	switch x := L.Get(n).(type) {
	case lua.LString:
		return string(x)
	case lua.LNumber:
		return formatNumber(x)
	}
	typeError(L, n, "string")
	return ""
}

// typeError is luaL_typerror: "got no value" for arguments past the top.
func typeError(L *lua.LState, n int, want string) {
	got := "no value"
	if n <= L.GetTop() {
		got = L.Get(n).Type().String()
	}
	L.ArgError(n, want+" expected, got "+got)
}
