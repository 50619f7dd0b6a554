package lua51

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// The `..` operator. gopher-lua's OP_CONCAT turns numbers into strings
// with Go's shortest form (3.3333333333333335, +Inf where Lua 5.1 prints
// 3.3333333333333, inf), says "cannot perform concat operation between nil
// and string" where Lua 5.1 says "attempt to concatenate local 'x' (a nil
// value)", and allocates a slice and a string per number operand. The VM
// dispatches every instruction through the package variable
// gopher-lua.jumpTable, so this file replaces its OP_CONCAT entry with
// opConcat, Lua 5.1's luaV_concat over gopher-lua's registers.
//
// The table is reached with a //go:linkname pull, declared with
// lua.OP_NOP+1 entries (gopher-lua's opCodeMax is OP_NOP; should opcodes
// be added after it, this view is only shorter). The registers are read
// through vmstate.go's mirrors of LState's unexported reg and
// currentFrame, whose layout is checked field by field with reflect at
// start-up. Before patching, init also checks that every entry of the
// table is a gopher-lua function; if anything differs (a gopher-lua
// upgrade), nothing is patched, `..` behaves as in stock gopher-lua, and
// TestVMConcatPatched fails with the reason. A self-test then runs one
// concatenation through the patched table and restores the stock entry
// if the result is wrong.
//
// The patch is process-wide: it applies to every gopher-lua state of the
// process once this package is linked, installed states or not. It is
// installed in init, before any state can run, so no goroutine reads the
// table while it changes.

// instFunc is gopher-lua's instFunc, func(*LState, uint32, *callFrame) int,
// with the unexported *callFrame spelled as unsafe.Pointer (same size and
// register assignment, both pointers for the collector).
type instFunc func(L *lua.LState, inst uint32, baseframe unsafe.Pointer) int

//go:linkname jumpTable github.com/yuin/gopher-lua.jumpTable
var jumpTable [lua.OP_NOP + 1]instFunc

var (
	// vmConcatPatched reports whether opConcat is installed;
	// vmConcatReason says why not.
	vmConcatPatched bool
	vmConcatReason  string
	// stockConcat is gopher-lua's own OP_CONCAT handler.
	stockConcat instFunc
)

func init() {
	if !vmLayout.ok {
		vmConcatReason = "gopher-lua's LState, registry or callFrame layout differs from vmstate.go's mirrors"
		return
	}
	if err := checkJumpTable(); err != nil {
		vmConcatReason = err.Error()
		return
	}
	stockConcat = jumpTable[lua.OP_CONCAT]
	jumpTable[lua.OP_CONCAT] = opConcat
	if err := selfTest(); err != nil {
		jumpTable[lua.OP_CONCAT] = stockConcat
		vmConcatReason = "self-test: " + err.Error()
		return
	}
	vmConcatPatched = true
	installLen()
	installArith()
}

const luaPkg = "github.com/yuin/gopher-lua"

// checkJumpTable verifies that the linked table is gopher-lua's: every
// entry one of its functions.
func checkJumpTable() error {
	for op, f := range jumpTable {
		if f == nil {
			return fmt.Errorf("jumpTable[%d] is nil", op)
		}
		fn := runtime.FuncForPC(reflect.ValueOf(f).Pointer())
		if fn == nil || !strings.HasPrefix(fn.Name(), luaPkg+".") {
			return fmt.Errorf("jumpTable[%d] is not a gopher-lua function", op)
		}
	}
	return nil
}

// selfTest runs a chunk whose concatenations need the patched handler.
func selfTest() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	if err := L.DoString(`local a, b, z = 10 / 3, "x", 0 r = a .. b .. 1 / z .. -z`); err != nil {
		return err
	}
	if got, want := L.GetGlobal("r"), lua.LString("3.3333333333333xinf-0"); got != want {
		return fmt.Errorf("got %q, want %q", got, want)
	}
	return nil
}

// stateRegistry is L's registry; it stays in place while L lives (Go
// does not move heap objects), only its array may be replaced.
func stateRegistry(L *lua.LState) *registryMirror {
	return *(**registryMirror)(unsafe.Add(unsafe.Pointer(L), vmLayout.reg))
}

// opConcat is OP_CONCAT A B C: R(A) := R(B) .. ... .. R(C), as Lua 5.1's
// OP_CONCAT and luaV_concat.
func opConcat(L *lua.LState, inst uint32, baseframe unsafe.Pointer) int {
	reg := stateRegistry(L)
	lbase := currentFrame(L).LocalBase
	RA := lbase + int(inst>>18)&0xff
	RB := lbase + int(inst&0x1ff)
	RC := lbase + int(inst>>9)&0x1ff
	array := reg.array
	if RB > RC || RC >= len(array) {
		// Not code gopher-lua's compiler emits.
		return stockConcat(L, inst, baseframe)
	}
	v, ok := concatStrings(L, array[RB:RC+1])
	if !ok {
		v = concatMeta(L, RB-lbase, array[RB:RC+1])
		// The metamethods may have grown the registry.
		array = reg.array
	}
	if RA >= len(array) {
		// Not reached either (A <= B in compiled code); the stock handler
		// grows the registry: R(A) := R(B) with the result in R(B).
		array[RB] = v
		return stockConcat(L, inst&^(0x1ff<<9)|uint32(RB-lbase)<<9, baseframe)
	}
	// registry.Set, as the stock handler does: the top covers R(A).
	array[RA] = v
	if RA >= reg.top {
		reg.top = RA + 1
	}
	return 0
}

// emptyString is the boxed "" (a fresh conversion would allocate).
var emptyString lua.LValue = lua.LString("")

// concatStrings joins ops when all are strings or numbers, with one
// allocation for the result; ok is false if one is neither.
func concatStrings(L *lua.LState, ops []lua.LValue) (v lua.LValue, ok bool) {
	size := 0
	for _, op := range ops {
		switch x := op.(type) {
		case lua.LString:
			size += len(x)
		case lua.LNumber:
			size += numberLen(x)
		default:
			return nil, false
		}
	}
	if size == 0 {
		return emptyString, true
	}
	if size > maxStringLen {
		// A Lua error (without position, as Lua 5.1's memory errors),
		// not the Go runtime aborting the process.
		L.Error(lua.LString("not enough memory"), 0)
	}
	b := make([]byte, 0, size)
	for _, op := range ops {
		if s, isStr := op.(lua.LString); isStr {
			b = append(b, s...)
		} else {
			b = appendNumber(b, op.(lua.LNumber))
		}
	}
	return lua.LString(unsafe.String(unsafe.SliceData(b), len(b))), true
}

// numberLen is the length of appendNumber's text for n: exact for the
// integers it prints with AppendInt, an upper bound for others ("%.14g"
// has at most 14 digits, a sign, a point and a 5-character exponent).
func numberLen(n lua.LNumber) int {
	f := float64(n)
	if f > -1e14 && f < 1e14 && f == float64(int64(f)) && (f != 0 || 1/f > 0) {
		i := int64(f)
		l := 1
		if i < 0 {
			l, i = 2, -i
		}
		for ; i >= 10; i /= 10 {
			l++
		}
		return l
	}
	return 22
}

func isStringOrNumber(v lua.LValue) bool {
	switch v.(type) {
	case lua.LString, lua.LNumber:
		return true
	}
	return false
}

// concatMeta is luaV_concat for operands that are not all strings or
// numbers, on a copy of them (ops, starting at register first of the
// running function): from the right, the longest run of strings and
// numbers at the top is joined, and any other pair goes to the __concat
// metamethod of its left, else its right operand (a non-nil __concat is
// called even if it is not a function, as call_binTM does).
func concatMeta(L *lua.LState, first int, ops []lua.LValue) lua.LValue {
	vals := append([]lua.LValue(nil), ops...)
	for top := len(vals); top > 1; {
		a, b := vals[top-2], vals[top-1]
		if !isStringOrNumber(a) || !isStringOrNumber(b) {
			mm := L.GetMetaField(a, "__concat")
			if mm == lua.LNil {
				mm = L.GetMetaField(b, "__concat")
			}
			if mm == lua.LNil {
				bad := top - 2
				if isStringOrNumber(a) {
					bad = top - 1
				}
				concatError(L, first+bad, vals[bad])
			}
			// Lua 5.1 calls any other value (a table with __call works).
			if _, ok := mm.(*lua.LFunction); !ok && L.GetMetaField(mm, "__call") == lua.LNil {
				L.RaiseError("attempt to call a %s value", mm.Type().String())
			}
			L.Push(mm)
			L.Push(a)
			L.Push(b)
			L.Call(2, 1)
			vals[top-2] = L.Get(-1)
			L.Pop(1)
			top--
			continue
		}
		n := 2
		for n < top && isStringOrNumber(vals[top-n-1]) {
			n++
		}
		vals[top-n], _ = concatStrings(L, vals[top-n:top])
		top -= n - 1
	}
	return vals[0]
}

// concatError raises Lua 5.1's error for v, the value in register reg:
// with the variable the register was loaded from, when there is one
// (luaG_typeerror).
func concatError(L *lua.LState, reg int, v lua.LValue) {
	cf := currentFrame(L)
	p, pc := cf.Fn.Proto, cf.Pc-1
	if kind, name := objName(p, pc, reg); kind != "" && !isShim(cf.Fn) {
		L.RaiseError("attempt to concatenate %s '%s' (a %s value)", kind, name, v.Type().String())
	}
	L.RaiseError("attempt to concatenate a %s value", v.Type().String())
}
