package interrupt

import (
	"context"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

func TestPatched(t *testing.T) {
	if !Patched {
		t.Fatal("jump table not patched: an entry is not gopher-lua's")
	}
}

// A spinning loop of every kind stops once its state is armed, and other
// states keep running.
func TestInterruptLoops(t *testing.T) {
	for _, src := range []string{
		`while true do end`,
		`repeat until false`,
		`for i = 1, math.huge do end`,
		`local function f() return f() end f()`,
		`for _ in function() return 1 end do end`,
		`local t = {} while true do t[1] = (t[1] or 0) + 1 end`,
	} {
		t.Run(src, func(t *testing.T) {
			L := lua.NewState()
			defer L.Close()
			stop := make(chan struct{})
			Register(L.G, func(L *lua.LState) {
				select {
				case <-stop:
					L.RaiseError("interrupted")
				default:
				}
			})
			defer Unregister(L.G)
			done := make(chan error, 1)
			go func() { done <- L.DoString(src) }()
			time.Sleep(20 * time.Millisecond)
			close(stop)
			Arm()
			defer Disarm()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "interrupted") {
					t.Fatalf("err = %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("not interrupted")
			}
		})
	}
}

// Unregistered states are untouched while another state is armed.
func TestOtherStatesRun(t *testing.T) {
	Arm()
	defer Disarm()
	L := lua.NewState()
	defer L.Close()
	if err := L.DoString(`local n = 0 for i = 1, 1e5 do n = n + i end assert(n == 5000050000)`); err != nil {
		t.Fatal(err)
	}
}

const fib = `local function fib(n) if n < 2 then return n end return fib(n-1) + fib(n-2) end
for i = 1, 3 do fib(20) end`

func benchFib(b *testing.B, setup func(L *lua.LState)) {
	L := lua.NewState()
	defer L.Close()
	setup(L)
	fn, err := L.LoadString(fib)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		L.Push(fn)
		if err := L.PCall(0, 0, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCancelCost compares the cost of making Lua code stoppable:
// stock gopher-lua (not stoppable), this package's wrappers with nothing
// armed (the state of every runtime that is not being stopped), the same
// with a request armed somewhere in the process (only while a stop is
// pending), and gopher-lua's LState.SetContext.
func BenchmarkCancelCost(b *testing.B) {
	b.Run("stock", func(b *testing.B) {
		restore := useStock()
		defer restore()
		benchFib(b, func(*lua.LState) {})
	})
	b.Run("patched", func(b *testing.B) { benchFib(b, func(*lua.LState) {}) })
	b.Run("patched-armed-elsewhere", func(b *testing.B) {
		Arm()
		defer Disarm()
		benchFib(b, func(*lua.LState) {})
	})
	b.Run("SetContext", func(b *testing.B) {
		restore := useStock()
		defer restore()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		benchFib(b, func(L *lua.LState) { L.SetContext(ctx) })
	})
}

// useStock puts gopher-lua's handlers back (benchmarks only: no other
// state may run meanwhile).
func useStock() func() {
	saved := jumpTable
	jumpTable[lua.OP_JMP], jumpTable[lua.OP_FORLOOP], jumpTable[lua.OP_TFORLOOP] = stockJmp, stockForLoop, stockTForLoop
	jumpTable[lua.OP_CALL], jumpTable[lua.OP_TAILCALL] = stockCall, stockTailCall
	return func() { jumpTable = saved }
}
