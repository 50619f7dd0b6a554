package lua51

import (
	"math"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Arithmetic (OP_ADD ... OP_POW). Where both operands are numbers the
// stock handler runs (it boxes results through gopher-lua's allocator),
// except for a -0 result (that allocator gives 0) and for % of non-integers is Lua 5.1's a - floor(a/b)*b (gopher-lua
// uses fmod, which differs: 1e15 % 0.1 is 0 in Lua 5.1). Strings convert
// as Lua 5.1's tonumber does (hexadecimal, exponents, inf: gopher-lua's
// own conversion refuses "0x1p4"), then __add and the others are tried on
// the left operand, then the right, and the error names the operand that
// could not convert, as luaG_aritherror does.

var stockArith [lua.OP_NOP + 1]instFunc

var arithEvents = map[int]string{
	lua.OP_ADD: "__add", lua.OP_SUB: "__sub", lua.OP_MUL: "__mul",
	lua.OP_DIV: "__div", lua.OP_MOD: "__mod", lua.OP_POW: "__pow",
}

// installArith runs from vmconcat.go's init once the jump table passed
// its checks.
func installArith() {
	for op := range arithEvents {
		stockArith[op] = jumpTable[op]
		jumpTable[op] = opArith
	}
}

func smallInt(f float64) bool { return f == math.Trunc(f) && math.Abs(f) < 1<<53 }

func luaMod(a, b float64) float64 { return a - math.Floor(a/b)*b }

func arith(op int, a, b float64) float64 {
	switch op {
	case lua.OP_ADD:
		return a + b
	case lua.OP_SUB:
		return a - b
	case lua.OP_MUL:
		return a * b
	case lua.OP_DIV:
		return a / b
	case lua.OP_MOD:
		return luaMod(a, b)
	}
	return math.Pow(a, b)
}

func opArith(L *lua.LState, inst uint32, baseframe unsafe.Pointer) int {
	cf := currentFrame(L)
	reg := stateRegistry(L)
	op := int(inst >> 26)
	RA := cf.LocalBase + int(inst>>18)&0xff
	b, c := int(inst&0x1ff), int(inst>>9)&0x1ff
	rk := func(x int) lua.LValue {
		if x >= 0x100 {
			return cf.Fn.Proto.Constants[x&0xff]
		}
		if i := cf.LocalBase + x; i < len(reg.array) && reg.array[i] != nil {
			return reg.array[i]
		}
		return lua.LNil
	}
	lhs, rhs := rk(b), rk(c)
	n1, ok1 := lhs.(lua.LNumber)
	n2, ok2 := rhs.(lua.LNumber)
	var v lua.LValue
	if ok1 && ok2 {
		r := arith(op, float64(n1), float64(n2))
		// gopher-lua's handler boxes results through an allocator that
		// turns -0 into 0; other results take that (faster) path.
		if r != 0 || !math.Signbit(r) {
			// fmod (gopher-lua's %) and a - floor(a/b)*b agree on
			// integers below 2^53, not beyond.
			if op != lua.OP_MOD || (smallInt(float64(n1)) && smallInt(float64(n2)) && n2 != 0) {
				return stockArith[op](L, inst, baseframe)
			}
		}
		v = lua.LNumber(r)
	}
	if v == nil {
		if f1, ok := toNumber(lhs); ok {
			if f2, ok := toNumber(rhs); ok {
				v = lua.LNumber(arith(op, float64(f1), float64(f2)))
			}
		}
	}
	if v == nil {
		mm := L.GetMetaField(lhs, arithEvents[op])
		if mm == lua.LNil {
			mm = L.GetMetaField(rhs, arithEvents[op])
		}
		if mm == lua.LNil {
			culprit, value := c, rhs
			if _, ok := toNumber(lhs); !ok {
				culprit, value = b, lhs
			}
			arithError(L, cf, culprit, value)
		}
		L.Push(mm)
		L.Push(lhs)
		L.Push(rhs)
		L.Call(2, 1)
		v = L.Get(-1)
		L.Pop(1)
	}
	// The metamethod may have grown the registry.
	if RA >= len(reg.array) {
		// Not emitted by the compiler: a frame's registers exist.
		L.RaiseError("register out of range")
	}
	reg.array[RA] = v
	if RA >= reg.top {
		reg.top = RA + 1
	}
	return 0
}

func arithError(L *lua.LState, cf *frameMirror, rk int, v lua.LValue) {
	if rk < 0x100 && !isShim(cf.Fn) {
		if kind, name := objName(cf.Fn.Proto, cf.Pc-1, rk); kind != "" {
			L.RaiseError("attempt to perform arithmetic on %s '%s' (a %s value)", kind, name, v.Type().String())
		}
	}
	L.RaiseError("attempt to perform arithmetic on a %s value", v.Type().String())
}
