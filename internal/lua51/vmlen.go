package lua51

import (
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// The `#` operator. Lua 5.1 takes the raw length of tables and strings and
// consults __len only for other types (userdata); gopher-lua's OP_LEN
// calls a table's __len too. opLen replaces the OP_LEN entry of the jump
// table, through the same checked machinery as opConcat (vmconcat.go),
// and leaves other types to the stock handler.

var stockLen instFunc

// installLen runs from vmconcat.go's init once the jump table passed its
// checks.
func installLen() {
	stockLen = jumpTable[lua.OP_LEN]
	jumpTable[lua.OP_LEN] = opLen
}

// opLen is OP_LEN A B: R(A) := length of R(B).
func opLen(L *lua.LState, inst uint32, baseframe unsafe.Pointer) int {
	reg := stateRegistry(L)
	lbase := currentFrame(L).LocalBase
	RA := lbase + int(inst>>18)&0xff
	RB := lbase + int(inst&0x1ff)
	array := reg.array
	if RA >= len(array) || RB >= len(array) {
		return stockLen(L, inst, baseframe)
	}
	var n int
	switch x := array[RB].(type) {
	case *lua.LTable:
		n = x.Len()
	case lua.LString:
		n = len(x)
	default:
		return stockLen(L, inst, baseframe)
	}
	array[RA] = lua.LNumber(n)
	if RA >= reg.top {
		reg.top = RA + 1
	}
	return 0
}
