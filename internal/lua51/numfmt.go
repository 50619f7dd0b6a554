package lua51

import (
	"math"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

// Lua 5.1 turns numbers into strings with printf("%.14g") (lua_Number2str);
// gopher-lua uses Go's shortest round-trip form, so 10/3 prints as
// 3.3333333333333335 instead of 3.3333333333333, 1/0 as +Inf instead of
// inf. The functions here give Lua 5.1's strings wherever a program can see
// them: tostring, print, .. (vmconcat.go),
// string.format's %s and %q, table.concat, io.write and file:write.

// appendNumber appends n as Lua 5.1's "%.14g" does with glibc.
func appendNumber(b []byte, n lua.LNumber) []byte {
	f := float64(n)
	// Integers below 1e14 have at most 14 digits, so %.14g prints them
	// exactly; -0 is excluded (it prints as "-0").
	if f > -1e14 && f < 1e14 && f == math.Trunc(f) && (f != 0 || !math.Signbit(f)) {
		return strconv.AppendInt(b, int64(f), 10)
	}
	switch {
	case math.IsNaN(f):
		// glibc prints the sign of a NaN (0/0 is -nan on x86).
		if math.Signbit(f) {
			return append(b, "-nan"...)
		}
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	// Go's 'g' with a precision follows C's %g: exponent form when the
	// exponent is < -4 or >= 14, trailing zeros removed.
	return strconv.AppendFloat(b, f, 'g', 14, 64)
}

// formatNumber is Lua 5.1's tostring of a number.
func formatNumber(n lua.LNumber) string {
	var buf [32]byte
	return string(appendNumber(buf[:0], n))
}

// toStringMeta is tostring(v) as print shows it: __tostring for values
// that have it, Lua 5.1 formatting for numbers.
func toStringMeta(L *lua.LState, v lua.LValue) string {
	if n, ok := v.(lua.LNumber); ok {
		return formatNumber(n)
	}
	return L.ToStringMeta(v).String()
}

const tostringKey = "copas-lua.tostring"

// printString is what print shows for v. Lua 5.1's print calls the global
// tostring, so a program that replaces tostring changes print too; with
// the built-in one in place it is formatted directly.
func printString(L *lua.LState, v lua.LValue) string {
	ts := L.GetGlobal("tostring")
	var r lua.LValue
	if ts == L.GetField(L.Get(lua.RegistryIndex), tostringKey) {
		mm := L.GetMetaField(v, "__tostring")
		if mm == lua.LNil {
			return toStringMeta(L, v)
		}
		ts = mm
	}
	L.Push(ts)
	L.Push(v)
	L.Call(1, 1)
	r = L.Get(-1)
	L.Pop(1)
	s, ok := r.(lua.LString)
	if !ok {
		if n, isNum := r.(lua.LNumber); isNum {
			return formatNumber(n)
		}
		L.RaiseError("'tostring' must return a string to 'print'")
	}
	return string(s)
}

// patchNumberFormatting installs the Lua 5.1 conversions. It runs before
// options that wrap these functions again (WithStdout).
func patchNumberFormatting(L *lua.LState) {
	tostring := L.NewFunction(func(L *lua.LState) int {
		v := L.CheckAny(1)
		// Lua 5.1 returns whatever __tostring returns, string or not.
		if mm := L.GetMetaField(v, "__tostring"); mm != lua.LNil {
			L.Push(mm)
			L.Push(v)
			L.Call(1, 1)
			return 1
		}
		L.Push(lua.LString(toStringMeta(L, v)))
		return 1
	})
	L.SetGlobal("tostring", tostring)
	L.SetField(L.Get(lua.RegistryIndex), tostringKey, tostring)

	str := L.GetGlobal("string").(*lua.LTable)
	str.RawSetString("format", L.NewFunction(stringFormat))

	// io.write is a closure over the default-file table, which it reads
	// from the running function's upvalue: the wrapper gets the same one.
	iot := L.GetGlobal("io").(*lua.LTable)
	if w, ok := iot.RawGetString("write").(*lua.LFunction); ok && w.IsG && len(w.Upvalues) == 1 {
		iot.RawSetString("write", L.NewClosure(numbersToStrings(w.GFunction, 1), w.Upvalues[0].Value()))
	}
	// file:write lives in the FILE* metatable, which is its own __index.
	if mt, ok := L.GetTypeMetatable("FILE*").(*lua.LTable); ok {
		if w, ok := mt.RawGetString("write").(*lua.LFunction); ok && w.IsG {
			mt.RawSetString("write", L.NewFunction(numbersToStrings(w.GFunction, 2)))
		}
	}

}

// numbersToStrings wraps a write function: its number arguments from first
// on are formatted first, everything else is left to orig.
func numbersToStrings(orig lua.LGFunction, first int) lua.LGFunction {
	return func(L *lua.LState) int {
		for i := first; i <= L.GetTop(); i++ {
			if n, ok := L.Get(i).(lua.LNumber); ok {
				L.Replace(i, lua.LString(formatNumber(n)))
			}
		}
		return orig(L)
	}
}

// quoteString is Lua 5.1's %q: only ", \, newline, \r and \0 are escaped
// (a newline as backslash-newline); other bytes stay as they are.
func quoteString(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\', '\n':
			b = append(b, '\\', c)
		case '\r':
			b = append(b, `\r`...)
		case 0:
			b = append(b, `\000`...)
		default:
			b = append(b, c)
		}
	}
	return string(append(b, '"'))
}

// FormatNumber is Lua 5.1's tostring of a number ("%.14g", inf, -nan).
func FormatNumber(n lua.LNumber) string { return formatNumber(n) }

// PrintString is what Lua 5.1's print writes for v (through the global
// tostring).
func PrintString(L *lua.LState, v lua.LValue) string { return printString(L, v) }
