package copaslua

import (
	"reflect"
	"runtime"
	"sync"
)

// Which goroutine drives a runtime, without goroutine ids. Every method
// that uses the Lua state runs its work through enter, which holds the
// runtime's exec lock and calls the work through the runtime's own
// trampoline: one of a fixed set of distinct functions, handed out to
// live runtimes. A goroutine is inside the runtime (its loop goroutine,
// in Run or DoString, or in a Go function that Lua called from there)
// exactly when the runtime's trampoline is on its stack; inEntry looks
// for it with runtime.Callers, and only when the runtime is busy. With
// more live runtimes than trampolines, the extra ones cannot tell: their
// Call from inside their own loop waits for its context instead of
// returning ErrOnLoop.

//go:noinline
func tramp0(f func()) { f() }

//go:noinline
func tramp1(f func()) { f() }

//go:noinline
func tramp2(f func()) { f() }

//go:noinline
func tramp3(f func()) { f() }

//go:noinline
func tramp4(f func()) { f() }

//go:noinline
func tramp5(f func()) { f() }

//go:noinline
func tramp6(f func()) { f() }

//go:noinline
func tramp7(f func()) { f() }

//go:noinline
func tramp8(f func()) { f() }

//go:noinline
func tramp9(f func()) { f() }

//go:noinline
func tramp10(f func()) { f() }

//go:noinline
func tramp11(f func()) { f() }

//go:noinline
func tramp12(f func()) { f() }

//go:noinline
func tramp13(f func()) { f() }

//go:noinline
func tramp14(f func()) { f() }

//go:noinline
func tramp15(f func()) { f() }

var trampolines = [...]func(func()){
	tramp0, tramp1, tramp2, tramp3, tramp4, tramp5, tramp6, tramp7,
	tramp8, tramp9, tramp10, tramp11, tramp12, tramp13, tramp14, tramp15,
}

var (
	trampEntry [len(trampolines)]uintptr
	slots      struct {
		sync.Mutex
		used [len(trampolines)]bool
	}
)

func init() {
	for i, f := range trampolines {
		trampEntry[i] = runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Entry()
	}
}

// takeSlot returns a free trampoline index, or -1.
func takeSlot() int {
	slots.Lock()
	defer slots.Unlock()
	for i, u := range slots.used {
		if !u {
			slots.used[i] = true
			return i
		}
	}
	return -1
}

func releaseSlot(i int) {
	if i < 0 {
		return
	}
	slots.Lock()
	slots.used[i] = false
	slots.Unlock()
}

// enter runs fn as the runtime's loop goroutine: nested on the goroutine
// that is already inside, or else holding exec (waiting for another
// goroutine's enter to finish). The outermost enter releases the state
// if Close was called meanwhile.
func (r *Runtime) enter(fn func()) {
	if r.inEntry() {
		fn()
		return
	}
	r.emb.exec.Lock()
	defer r.emb.exec.Unlock()
	r.emb.depth.Add(1)
	defer func() {
		if r.emb.depth.Add(-1) == 0 && r.emb.closing.Load() {
			r.release()
		}
	}()
	if r.emb.closed.Load() {
		return
	}
	if s := r.emb.slot; s >= 0 {
		trampolines[s](fn)
	} else {
		fn()
	}
}

// inEntry reports whether the calling goroutine is inside enter of r.
// Safe from any goroutine.
func (r *Runtime) inEntry() bool {
	s := r.emb.slot
	if s < 0 || r.emb.depth.Load() == 0 {
		return false
	}
	want := trampEntry[s]
	var pcs [64]uintptr
	for skip := 2; ; skip += len(pcs) {
		n := runtime.Callers(skip, pcs[:])
		frames := runtime.CallersFrames(pcs[:n])
		for {
			f, more := frames.Next()
			if f.Entry == want {
				return true
			}
			if !more {
				break
			}
		}
		if n < len(pcs) {
			return false
		}
	}
}
