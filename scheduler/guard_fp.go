//go:build amd64 || arm64

package scheduler

import (
	"runtime"
	"sync"
	"unsafe"
)

// getfp returns the frame pointer of its caller (guard_*.s).
func getfp() unsafe.Pointer

// callerPCs fills pcs with the return addresses of the frames above its
// caller by following the frame-pointer chain, as the runtime's tracer
// does (fpTracebackPCs): the return address sits one word above the
// frame pointer, which points at the caller's saved frame pointer.
// Pointers into the stack are kept as unsafe.Pointer, so a stack copy in
// between would adjust them.
//
//go:nosplit
func callerPCs(pcs []uintptr) int {
	fp := getfp()
	n := 0
	for n < len(pcs) && fp != nil {
		pcs[n] = *(*uintptr)(unsafe.Add(fp, unsafe.Sizeof(uintptr(0))))
		fp = *(*unsafe.Pointer)(fp)
		n++
	}
	return n
}

// frame kinds of a logical frame.
const (
	kOther uint8 = iota
	kMainLoop
	kThreadRun
)

// kinds caches, per return PC, the kinds of the logical frames (innermost
// first) that the physical frame stands for; nil when all are kOther.
var kinds sync.Map // uintptr -> []uint8

func frameKinds(pc uintptr) []uint8 {
	if v, ok := kinds.Load(pc); ok {
		return v.([]uint8)
	}
	var ks []uint8
	any := false
	frames := runtime.CallersFrames([]uintptr{pc})
	for {
		f, more := frames.Next()
		k := kOther
		switch f.Function {
		case luaPkg + "mainLoop", luaPkg + "mainLoopWithContext":
			k = kMainLoop
		case luaPkg + "threadRun":
			k = kThreadRun
		}
		any = any || k != kOther
		ks = append(ks, k)
		if !more {
			break
		}
	}
	if !any {
		ks = nil
	}
	kinds.Store(pc, ks)
	return ks
}

// yieldable reports whether the innermost running Lua loop on this
// goroutine's stack is a coroutine's base loop.
func yieldable() bool {
	var pcs [maxFrames]uintptr
	n := callerPCs(pcs[:])
	seenLoop := false
	for _, pc := range pcs[:n] {
		ks := frameKinds(pc)
		if ks == nil {
			if seenLoop {
				return false
			}
			continue
		}
		for _, k := range ks {
			if seenLoop {
				return k == kThreadRun
			}
			seenLoop = k == kMainLoop
		}
	}
	return false
}
