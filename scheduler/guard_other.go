//go:build !amd64 && !arm64

package scheduler

import (
	"runtime"
	"sync"
)

// Without a frame-pointer chain, ask the runtime for the logical frames
// (inlined ones expanded) and classify each by its function name.

// names caches the function name of each return PC seen (a few dozen).
var names sync.Map

// yieldable reports whether the innermost running Lua loop on this
// goroutine's stack is a coroutine's base loop.
func yieldable() bool {
	var pcs [maxFrames]uintptr
	n := runtime.Callers(2, pcs[:])
	for i := 0; i < n-1; i++ {
		if isMainLoop(pcs[i]) {
			return funcName(pcs[i+1]) == luaPkg+"threadRun"
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
