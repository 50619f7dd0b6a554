package main

import (
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/copas-lua/copas-lua/internal/interrupt"
	lua "github.com/yuin/gopher-lua"
)

// Signals, as a server runtime handles them and as lua5.1 does where no
// Copas loop runs:
//
//   - SIGINT, SIGTERM, SIGHUP, first time, while copas.loop runs: a
//     graceful stop. The servers are removed (no new connections),
//     copas.exit() tells the threads (copas.exiting(), waitforexit), and
//     they get the grace period (--grace, default 5 s) to finish; then
//     copas.cancelall() closes what is left. When the script ends, its
//     buffered output is flushed and the process kills itself with the
//     same signal, so the exit status is the one a shell reports for the
//     signal (130, 143, 129).
//   - SIGINT where no Copas loop runs (a plain script, the interactive
//     prompt's chunk): lua5.1's "interrupted!" error, raised in the
//     running Lua code; it unwinds like any error (pcall can catch it).
//   - SIGTERM, SIGHUP where no Copas loop runs: buffered output is
//     flushed and the process dies of the signal, as lua5.1 does (it
//     does not flush).
//   - The second SIGINT/SIGTERM/SIGHUP before the first was dealt with,
//     or during the grace period: the process dies of it at once.
//   - SIGUSR1: every Copas thread, with its state and traceback, is
//     written to stderr (observe.go).
//
// Only the loop goroutine may touch the Lua state, and it may be deep in
// Lua code that never returns to Go (`while true do end`). A signal
// therefore reaches it two ways, and the first to run acts: a function
// posted onto the loop (run when copas.loop steps), and a check in the
// VM (internal/interrupt: while a request is armed, every jump and call
// of the process calls check). gopher-lua's own remedy, LState.SetContext,
// selects on a channel before every instruction, ~50 % slower for all
// code all the time; interrupt costs one atomic load per jump or call
// while nothing is armed. Lua code blocked in a Go function (a
// LuaSocket receive outside Copas) sees the signal when it returns, as
// in lua5.1, whose hook also waits for the next instruction.
type signals struct {
	c     *cli
	grace time.Duration

	count   atomic.Int32 // stop signals not yet consumed as "interrupted!"
	pending atomic.Int32 // stop signal waiting for the loop; 0 if none
	exitSig atomic.Int32 // signal to die of after cleanup; 0 if none

	mu    sync.Mutex
	calls []func(L *lua.LState) // loop requests (dump, stats), see onLoop
	armed int                   // interrupt.Arm calls not yet undone
	ch    chan os.Signal
}

// stopSignals are the signals that stop the program.
var stopSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// ignoredAtStart records the stop signals that were ignored when the
// program started; written before signal handling starts.
var ignoredAtStart = map[syscall.Signal]bool{}

// installSignals starts handling signals for c. SIGHUP stays ignored if
// it was when the program started (nohup); SIGINT is caught even then
// (a background job of a non-interactive shell starts with it ignored),
// as lua5.1 does.
func installSignals(c *cli, grace time.Duration) *signals {
	s := &signals{c: c, grace: grace, ch: make(chan os.Signal, 4)}
	interrupt.Register(c.L.G, s.check)
	for _, sig := range append(stopSignals, syscall.SIGUSR1) {
		if signal.Ignored(sig) {
			if sig == syscall.SIGHUP {
				continue
			}
			ignoredAtStart[sig.(syscall.Signal)] = true
		}
		signal.Notify(s.ch, sig)
	}
	go s.receive()
	return s
}

// stop ends signal handling; the signals get their default action back.
func (s *signals) stop() {
	signal.Stop(s.ch)
	interrupt.Unregister(s.c.L.G)
	s.mu.Lock()
	for ; s.armed > 0; s.armed-- {
		interrupt.Disarm()
	}
	s.mu.Unlock()
}

// receive runs on its own goroutine: it never touches the Lua state.
func (s *signals) receive() {
	for sig := range s.ch {
		ss := sig.(syscall.Signal)
		if ss == syscall.SIGUSR1 {
			s.onLoop(dumpThreads)
			continue
		}
		if s.count.Add(1) > 1 {
			dieOf(ss)
		}
		s.pending.Store(int32(ss))
		s.arm()
		s.c.r.Post(func(L *lua.LState) { s.fromLoop(L) })
	}
}

func (s *signals) arm() {
	s.mu.Lock()
	s.armed++
	s.mu.Unlock()
	interrupt.Arm()
}

func (s *signals) disarm() {
	s.mu.Lock()
	if s.armed > 0 {
		s.armed--
		interrupt.Disarm()
	}
	s.mu.Unlock()
}

// onLoop runs fn on the loop goroutine as soon as the loop steps or the
// running Lua code jumps or calls. Safe from any goroutine.
func (s *signals) onLoop(fn func(L *lua.LState)) {
	s.mu.Lock()
	s.calls = append(s.calls, fn)
	s.mu.Unlock()
	s.arm()
	s.c.r.Post(func(L *lua.LState) { s.runCalls(L) })
}

// runCalls runs the queued loop requests. Loop goroutine only.
func (s *signals) runCalls(L *lua.LState) {
	s.mu.Lock()
	calls := s.calls
	s.calls = nil
	s.mu.Unlock()
	for _, fn := range calls {
		s.disarm()
		fn(L)
	}
}

// fromLoop is the posted half: the loop is stepping, so copas.loop (or a
// script's own copas.step) is running. Only a graceful stop is started
// here: raising "interrupted!" from a posted function would unwind
// through the scheduler's Step, so that is left to check.
func (s *signals) fromLoop(L *lua.LState) {
	if !copasRunning(L) {
		return // a script stepping Copas itself: check acts
	}
	if sig := s.pending.Swap(0); sig != 0 {
		s.disarm()
		s.stopGracefully(L, syscall.Signal(sig))
	}
}

// check runs inside the VM, on the loop goroutine, while anything is
// armed.
func (s *signals) check(L *lua.LState) {
	s.mu.Lock()
	queued := len(s.calls) > 0
	s.mu.Unlock()
	if queued {
		s.runCalls(L)
	}
	sig := syscall.Signal(s.pending.Load())
	if sig == 0 || copasRunning(L) {
		// A Copas loop runs: the posted half starts the graceful stop
		// once the running thread yields.
		return
	}
	if !s.pending.CompareAndSwap(int32(sig), 0) {
		return
	}
	s.disarm()
	if sig == syscall.SIGINT {
		s.count.Add(-1) // consumed: the next ^C interrupts again
		L.RaiseError("interrupted!")
		return
	}
	s.c.flush(L)
	dieOf(sig)
}

// stopGracefully is the first stop signal while Copas runs: remove the
// servers, copas.exit(), and copas.cancelall() after the grace period.
func (s *signals) stopGracefully(L *lua.LState, sig syscall.Signal) {
	s.exitSig.Store(int32(sig))
	s.c.logf("signal %v: stopping (grace period %v)", sig, s.grace)
	if fn, err := L.LoadString(gracefulStop); err == nil {
		if err := L.CallByParam(lua.P{Fn: fn, Protect: true}); err != nil {
			s.c.logf("stopping: %v", err)
		}
	}
	time.AfterFunc(s.grace, func() {
		s.c.r.Post(func(L *lua.LState) {
			if !copasRunning(L) {
				return
			}
			s.c.logf("grace period over: closing what is left")
			if fn, err := L.LoadString(`local copas = package.loaded.copas copas.cancelall()`); err == nil {
				if err := L.CallByParam(lua.P{Fn: fn, Protect: true}); err != nil {
					s.c.logf("cancelall: %v", err)
				}
			}
		})
	})
}

// gracefulStop removes Copas' servers and calls copas.exit(). Copas has
// no public list of its servers; the table is the upvalue "servers" of
// copas.removeserver, and without it the servers close with cancelall
// at the end of the grace period.
const gracefulStop = `
local copas = package.loaded.copas
local getupvalue = debug and debug.getupvalue
if getupvalue and type(copas.removeserver) == "function" then
  for i = 1, 64 do
    local name, servers = getupvalue(copas.removeserver, i)
    if name == nil then break end
    if name == "servers" and type(servers) == "table" then
      local list = {}
      for skt in pairs(servers) do list[#list + 1] = skt end
      for _, skt in ipairs(list) do pcall(copas.removeserver, skt) end
      break
    end
  end
end
copas.exit()
`

// copasRunning reports whether copas.loop is running in L's state.
func copasRunning(L *lua.LState) bool {
	loaded, ok := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable)
	if !ok {
		return false
	}
	copas, ok := loaded.RawGetString("copas").(*lua.LTable)
	return ok && lua.LVAsBool(copas.RawGetString("running"))
}

// exitSignal is the signal the program should die of once it has
// cleaned up (0: none).
func (s *signals) exitSignal() syscall.Signal {
	return syscall.Signal(s.exitSig.Load())
}

// dieOf ends the process by sig with its default action, so that the
// parent sees death by that signal. Safe from any goroutine.
func dieOf(sig syscall.Signal) {
	stopCPUProfile()
	if ignoredAtStart[sig] {
		// Its default action cannot be restored (os/signal gives back
		// the ignored state): the status a shell would show must do.
		os.Exit(128 + int(sig))
	}
	signal.Reset(sig)
	syscall.Kill(os.Getpid(), sig)
	// The default action of the stop signals is to terminate; should it
	// not (a blocked signal inherited from the parent), exit as a shell
	// would report it.
	time.Sleep(time.Second)
	os.Exit(128 + int(sig))
}
