package scheduler

import (
	"runtime"
	"sync"
)

// gopher-lua 1.1.2 does not refuse a yield made inside a nested VM loop
// (pcall, metamethods, for-in iterators, sort, gsub, require …): the yield
// only unwinds the nested loop and corrupts the coroutine (defect D1). The
// only place a yield is safe is the coroutine's base loop, i.e. a mainLoop
// entered directly from threadRun. We check that on the Go stack.

// names caches the function name of each return PC seen (a few dozen).
var names sync.Map

const luaPkg = "github.com/yuin/gopher-lua."

// yieldable reports whether the innermost running Lua loop on this
// goroutine's stack is a coroutine's base loop.
func yieldable() bool {
	var pcs [24]uintptr
	n := runtime.Callers(2, pcs[:])
	for i := 0; i < n-1; i++ {
		if isMainLoop(pcs[i]) {
			return isThreadRun(pcs[i+1])
		}
	}
	return false
}

func funcName(pc uintptr) string {
	if v, ok := names.Load(pc); ok {
		return v.(string)
	}
	name := ""
	if f := runtime.FuncForPC(pc - 1); f != nil {
		name = f.Name()
	}
	names.Store(pc, name)
	return name
}

func isMainLoop(pc uintptr) bool {
	name := funcName(pc)
	return name == luaPkg+"mainLoop" || name == luaPkg+"mainLoopWithContext"
}

func isThreadRun(pc uintptr) bool {
	return funcName(pc) == luaPkg+"threadRun"
}
