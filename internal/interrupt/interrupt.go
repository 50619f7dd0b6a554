// Package interrupt lets Go stop Lua code that never returns to Go: a
// Copas thread spinning in `while true do end` owns the loop goroutine, so
// nothing on that goroutine can stop it, and gopher-lua's own remedy,
// LState.SetContext, selects on ctx.Done() before every instruction
// (about +50 % CPU for all code, always).
//
// This package replaces the entries of gopher-lua.jumpTable for the
// instructions every unbounded computation must keep executing (OP_JMP,
// OP_FORLOOP, OP_TFORLOOP, OP_CALL, OP_TAILCALL) with wrappers that load
// one process-wide atomic counter and call the stock handler. While the
// counter is zero (no interrupt requested anywhere in the process) that
// load is the whole cost. When a state has a request pending the counter
// is non-zero and the wrapper asks the state's Check function (registered
// with Register, keyed by the state's *lua.Global, shared by all its
// coroutines), which may raise a Lua error in the running code.
//
// Go functions called from Lua are not interrupted while they run (a
// pattern match over a huge string, say); the check happens at the next
// jump or call after they return.
//
// The table is reached with a //go:linkname pull, as internal/lua51 does
// for OP_CONCAT and OP_LEN; that package checks the whole table at init
// and patches nothing if an entry is not gopher-lua's, so it is imported
// here to run first. The entries replaced here must be gopher-lua
// functions at init; otherwise nothing is patched and Patched reports
// false (TestPatched fails).
//
// Goroutine contract: Register, Unregister, Arm and Disarm are safe from
// any goroutine; a Check function runs on the goroutine running the Lua
// state, inside the VM.
package interrupt

import (
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	_ "github.com/copas-lua/copas-lua/internal/lua51" // checks and patches the jump table first
	lua "github.com/yuin/gopher-lua"
)

type instFunc func(L *lua.LState, inst uint32, baseframe unsafe.Pointer) int

//go:linkname jumpTable github.com/yuin/gopher-lua.jumpTable
var jumpTable [lua.OP_NOP + 1]instFunc

// Check is called inside the VM, on the goroutine running L, while any
// state of the process has a request armed. It raises a Lua error
// (L.RaiseError) to interrupt the running code, or returns.
type Check func(L *lua.LState)

var (
	armed  atomic.Int32
	checks sync.Map // *lua.Global -> Check

	// Patched reports whether the wrappers are installed.
	Patched bool

	stockJmp, stockForLoop, stockTForLoop, stockCall, stockTailCall instFunc
)

func init() {
	ops := []int{lua.OP_JMP, lua.OP_FORLOOP, lua.OP_TFORLOOP, lua.OP_CALL, lua.OP_TAILCALL}
	for _, op := range ops {
		f := jumpTable[op]
		if f == nil {
			return
		}
		fn := runtime.FuncForPC(reflect.ValueOf(f).Pointer())
		if fn == nil || !strings.HasPrefix(fn.Name(), "github.com/yuin/gopher-lua.") {
			return
		}
	}
	stockJmp, jumpTable[lua.OP_JMP] = jumpTable[lua.OP_JMP], opJmp
	stockForLoop, jumpTable[lua.OP_FORLOOP] = jumpTable[lua.OP_FORLOOP], opForLoop
	stockTForLoop, jumpTable[lua.OP_TFORLOOP] = jumpTable[lua.OP_TFORLOOP], opTForLoop
	stockCall, jumpTable[lua.OP_CALL] = jumpTable[lua.OP_CALL], opCall
	stockTailCall, jumpTable[lua.OP_TAILCALL] = jumpTable[lua.OP_TAILCALL], opTailCall
	Patched = true
}

// Register installs c as the Check of the state whose global state is g
// (L.G of any of its coroutines). Safe from any goroutine.
func Register(g *lua.Global, c Check) { checks.Store(g, c) }

// Unregister removes the Check of g. Safe from any goroutine.
func Unregister(g *lua.Global) { checks.Delete(g) }

// Arm makes the VM call Check functions until the matching Disarm. Calls
// nest; every Arm needs one Disarm. Safe from any goroutine.
func Arm() { armed.Add(1) }

// Disarm undoes one Arm. Safe from any goroutine.
func Disarm() { armed.Add(-1) }

func poll(L *lua.LState) {
	if c, ok := checks.Load(L.G); ok {
		c.(Check)(L)
	}
}

func opJmp(L *lua.LState, inst uint32, bf unsafe.Pointer) int {
	if armed.Load() != 0 {
		poll(L)
	}
	return stockJmp(L, inst, bf)
}

func opForLoop(L *lua.LState, inst uint32, bf unsafe.Pointer) int {
	if armed.Load() != 0 {
		poll(L)
	}
	return stockForLoop(L, inst, bf)
}

func opTForLoop(L *lua.LState, inst uint32, bf unsafe.Pointer) int {
	if armed.Load() != 0 {
		poll(L)
	}
	return stockTForLoop(L, inst, bf)
}

func opCall(L *lua.LState, inst uint32, bf unsafe.Pointer) int {
	if armed.Load() != 0 {
		poll(L)
	}
	return stockCall(L, inst, bf)
}

func opTailCall(L *lua.LState, inst uint32, bf unsafe.Pointer) int {
	if armed.Load() != 0 {
		poll(L)
	}
	return stockTailCall(L, inst, bf)
}
