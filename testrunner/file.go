package testrunner

import (
	_ "embed"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

//go:embed testing.lua
var testingSource string

// ModuleName is the name under which test files require the test API.
const ModuleName = "testing"

// block is a describe block (the file itself is the root block).
type block struct {
	name                                   string // full name ("" for the file)
	parent                                 *block
	items                                  []item // tests and blocks, in order
	setup, teardown, beforeEach, afterEach []*lua.LFunction
	timeout                                time.Duration // 0: inherited
}

type item struct {
	block *block
	test  *testCase
}

type testCase struct {
	name    string
	fn      *lua.LFunction // nil: pending
	timeout time.Duration
	where   string
	block   *block
}

// step is one timed unit of work on the loop: loading the file, a hook
// or a test.
type step struct {
	start, deadline time.Time
	task            *scheduler.Task // the thread running now (nil while loading)
	taskName        string
	co              *lua.LState // the task's coroutine: a detached task has none
	timedOut        bool
	stuck           bool          // waiting with nothing left that could wake it
	waiting         string        // the threads still waiting at timeout
	overran         time.Duration // it ended this late, never yielding in time
	timer, hung     *time.Timer
}

func (s *step) limit() time.Duration { return s.deadline.Sub(s.start) }

// fileRun runs one file. Its Lua side is confined to the goroutine that
// runs run(); the fields under mu are shared with the watchdog timers and
// with RunFile.
type fileRun struct {
	path string
	opts Options
	r    *copaslua.Runtime
	L    *lua.LState
	loop *scheduler.Loop
	mod  *lua.LTable
	run_ *lua.LFunction // the module's _run

	root, cur  *block
	collecting bool // the file's main chunk is running
	testing    bool // a hook or test is running
	step       *step

	mu        sync.Mutex
	results   []Result
	fileOut   strings.Builder
	out       *strings.Builder // output of the running test; nil: fileOut
	current   *Result          // the test running now
	curStart  time.Time
	gen       uint64 // watchdog generation; bumped when a step ends or re-arms
	abandoned bool
	abandon   chan struct{}
}

// RunFile runs the test file at path and returns its results. The file's
// Runtime runs on a new goroutine; if a test that timed out does not give
// the loop back (a busy loop, a blocking call), RunFile gives up on that
// goroutine, reports the test as timed out and returns without the rest of
// the file. Safe from any goroutine.
func RunFile(path string, opts Options) FileResult {
	f := &fileRun{path: path, opts: opts, abandon: make(chan struct{})}
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.run()
	}()
	select {
	case <-done:
	case <-f.abandon:
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return FileResult{
		File:     path,
		Results:  slices.Clone(f.results),
		Output:   f.fileOut.String(),
		Duration: time.Since(start),
	}
}

func (f *fileRun) run() {
	defer func() {
		if p := recover(); p != nil {
			f.add(Result{File: f.path, Status: Fail, Kind: KindError,
				Message: fmt.Sprintf("internal error in the test runner: %v", p), Details: string(debug.Stack())})
		}
	}()
	f.newRuntime()
	defer f.close()

	f.root = &block{}
	f.cur = f.root
	whole := &Result{File: f.path}
	f.begin(whole)
	s := f.newStep(f.opts.timeout())
	f.collecting = true
	err := f.r.DoFile(f.path)
	f.collecting = false
	plain := !f.root.hasTests()
	if plain && err == nil && !s.timedOut {
		// A script without tests: drive the loop until nothing is pending.
		f.drive(s, func() bool { return !f.loop.Pending() }, false)
	}
	f.finishStep(s)
	if plain || err != nil || s.timedOut {
		if plain && !f.opts.selected(whole.ID()) {
			f.end(nil)
			return
		}
		var rets []lua.LValue
		if err != nil {
			rets = f.loadError(err)
		} else {
			rets = []lua.LValue{lua.LString("pass")}
		}
		f.settle(whole, s, rets)
		f.end(whole)
		return
	}
	f.end(nil) // output while loading belongs to the file
	f.runBlock(f.root)
}

// close tears down what tests left running (servers, timers) and releases
// the runtime.
func (f *fileRun) close() {
	if f.r == nil {
		return
	}
	if f.mod != nil && !f.isAbandoned() {
		f.loop.ProtectedCall(f.mod.RawGetString("_teardown"))
	}
	f.r.Close()
}

func (f *fileRun) newRuntime() {
	f.r = copaslua.New()
	L := f.r.State()
	f.L, f.loop = L, f.r.Loop()
	dir, err := filepath.Abs(filepath.Dir(f.path))
	if err != nil {
		dir = filepath.Dir(f.path)
	}
	// Helper modules next to the test file come first on the path.
	pkg := L.GetGlobal("package")
	path := lua.LVAsString(L.GetField(pkg, "path"))
	L.SetField(pkg, "path", lua.LString(filepath.Join(dir, "?.lua")+";"+filepath.Join(dir, "?", "init.lua")+";"+path))
	L.SetGlobal("TESTDIR", lua.LString(dir))

	fn, err := L.Load(strings.NewReader(testingSource), "=[testing]")
	if err != nil {
		panic(err)
	}
	L.Push(fn)
	L.Push(f.core())
	L.Call(1, 1)
	f.mod = L.Get(-1).(*lua.LTable)
	L.Pop(1)
	f.run_ = f.mod.RawGetString("_run").(*lua.LFunction)
	L.SetField(L.GetField(pkg, "loaded"), ModuleName, f.mod)
	L.PreloadModule(ModuleName, func(L *lua.LState) int {
		L.Push(f.mod)
		return 1
	})
	if names, ok := f.mod.RawGetString("_globals").(*lua.LTable); ok {
		names.ForEach(func(_, name lua.LValue) {
			L.SetGlobal(name.String(), f.mod.RawGet(name))
		})
	}
	// Output is kept per test; os.exit would end the whole runner.
	L.SetGlobal("print", L.NewFunction(f.print))
	L.SetField(L.GetGlobal("os"), "exit", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("os.exit(%s) called in a test file", L.Get(1).String())
		return 0
	}))
	if f.opts.Setup != nil {
		f.opts.Setup(f.r)
	}
}

// core is the Go half of module "testing".
func (f *fileRun) core() *lua.LTable {
	L := f.L
	t := L.NewTable()
	reg := func(name string, fn lua.LGFunction) { t.RawSetString(name, L.NewFunction(fn)) }
	reg("format", func(L *lua.LState) int {
		L.Push(lua.LString(formatValue(L.Get(1))))
		return 1
	})
	reg("same", func(L *lua.LState) int {
		L.Push(lua.LBool(same(L.Get(1), L.Get(2))))
		return 1
	})
	reg("diff", func(L *lua.LState) int {
		L.Push(lua.LString(diffValues(L.Get(1), L.Get(2))))
		return 1
	})
	reg("describe", func(L *lua.LState) int {
		f.mustCollect(L, "describe")
		b := &block{name: join(f.cur.name, L.CheckString(1)), parent: f.cur, timeout: optTimeout(L, 3)}
		f.cur.items = append(f.cur.items, item{block: b})
		prev := f.cur
		f.cur = b
		defer func() { f.cur = prev }()
		L.Push(L.CheckFunction(2))
		L.Call(0, 0)
		return 0
	})
	reg("it", func(L *lua.LState) int {
		f.mustCollect(L, "it")
		fn, _ := L.Get(2).(*lua.LFunction)
		tc := &testCase{name: join(f.cur.name, L.CheckString(1)), fn: fn, timeout: optTimeout(L, 3),
			where: L.OptString(4, ""), block: f.cur}
		f.cur.items = append(f.cur.items, item{test: tc})
		return 0
	})
	reg("hook", func(L *lua.LState) int {
		kind := L.CheckString(1)
		f.mustCollect(L, kind)
		fn := L.CheckFunction(2)
		b := f.cur
		switch kind {
		case "setup":
			b.setup = append(b.setup, fn)
		case "teardown":
			b.teardown = append(b.teardown, fn)
		case "before_each":
			b.beforeEach = append(b.beforeEach, fn)
		case "after_each":
			b.afterEach = append(b.afterEach, fn)
		}
		return 0
	})
	reg("running", func(L *lua.LState) int {
		L.Push(lua.LBool(f.testing))
		return 1
	})
	reg("timeout", func(L *lua.LState) int {
		d := seconds(float64(L.CheckNumber(1)))
		if f.collecting {
			f.cur.timeout = d
		}
		if s := f.step; s != nil && !s.timedOut {
			s.deadline = s.start.Add(d)
			f.arm(s)
		}
		return 0
	})
	return t
}

func (f *fileRun) mustCollect(L *lua.LState, what string) {
	if !f.collecting {
		L.RaiseError("%s: tests and hooks can only be declared while the file loads, not inside a test", what)
	}
}

func seconds(s float64) time.Duration {
	if s > 1e9 {
		return time.Duration(1<<63 - 1)
	}
	return time.Duration(s * float64(time.Second))
}

// optTimeout reads the timeout field of an options table at idx.
func optTimeout(L *lua.LState, idx int) time.Duration {
	t, ok := L.Get(idx).(*lua.LTable)
	if !ok {
		return 0
	}
	if n, ok := t.RawGetString("timeout").(lua.LNumber); ok && n > 0 {
		return seconds(float64(n))
	}
	return 0
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

func (f *fileRun) print(L *lua.LState) int {
	var b strings.Builder
	for i := 1; i <= L.GetTop(); i++ {
		if i > 1 {
			b.WriteByte('\t')
		}
		b.WriteString(L.ToStringMeta(L.Get(i)).String())
	}
	b.WriteByte('\n')
	f.mu.Lock()
	if f.out != nil {
		f.out.WriteString(b.String())
	} else {
		f.fileOut.WriteString(b.String())
	}
	f.mu.Unlock()
	return 0
}

// begin makes r the running test: its output is collected apart.
func (f *fileRun) begin(r *Result) {
	f.mu.Lock()
	f.current, f.curStart, f.out = r, time.Now(), &strings.Builder{}
	f.mu.Unlock()
}

// end records r (if not nil) with the output since begin; with nil that
// output goes to the file's.
func (f *fileRun) end(r *Result) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r != nil {
		r.Output = f.out.String()
		r.Duration = time.Since(f.curStart)
		if !f.abandoned {
			f.results = append(f.results, *r)
		}
	} else if f.out != nil {
		f.fileOut.WriteString(f.out.String())
	}
	f.current, f.out = nil, nil
}

func (f *fileRun) add(r Result) {
	f.mu.Lock()
	if !f.abandoned {
		f.results = append(f.results, r)
	}
	f.mu.Unlock()
}

func (f *fileRun) isAbandoned() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.abandoned
}

func (b *block) hasTests() bool {
	for _, it := range b.items {
		if it.test != nil || it.block.hasTests() {
			return true
		}
	}
	return false
}

// selected lists the tests of b (and its blocks) that the run selects.
func (f *fileRun) selected(b *block) []*testCase {
	var out []*testCase
	for _, it := range b.items {
		if it.test != nil {
			if f.opts.selected(f.path + ": " + it.test.name) {
				out = append(out, it.test)
			}
		} else {
			out = append(out, f.selected(it.block)...)
		}
	}
	return out
}

// runBlock runs the selected tests of b between its setup and teardown
// hooks. A failing setup fails every test of the block; a failing
// teardown is reported as a test of its own.
func (f *fileRun) runBlock(b *block) {
	tests := f.selected(b)
	if len(tests) == 0 {
		return
	}
	var setupFailed *Result
	for _, h := range b.setup {
		if r := f.runHook(b, h); r.Status == Fail {
			setupFailed = &r
			break
		}
	}
	if setupFailed != nil {
		for _, tc := range tests {
			r := *setupFailed
			r.Name, r.Message = tc.name, "setup failed: "+r.Message
			f.add(r)
		}
	} else {
		for _, it := range b.items {
			if f.isAbandoned() {
				return
			}
			if it.test != nil {
				if f.opts.selected(f.path + ": " + it.test.name) {
					f.runTest(it.test)
				}
			} else {
				f.runBlock(it.block)
			}
		}
	}
	for _, h := range b.teardown {
		if r := f.runHook(b, h); r.Status == Fail {
			r.Name = join(b.name, "(teardown)")
			f.add(r)
		}
	}
}

func (b *block) timeoutFor(own time.Duration, def time.Duration) time.Duration {
	if own > 0 {
		return own
	}
	for ; b != nil; b = b.parent {
		if b.timeout > 0 {
			return b.timeout
		}
	}
	return def
}

// runHook runs a setup or teardown hook of b as a thread and returns its
// outcome (output goes to the file's).
func (f *fileRun) runHook(b *block, fn *lua.LFunction) Result {
	r := Result{File: f.path, Name: b.name}
	s := f.newStep(b.timeoutFor(0, f.opts.timeout()))
	f.testing = true
	rets := f.runTask(s, "hook", f.run_, f.list(fn), lua.LFalse)
	f.testing = false
	f.finishStep(s)
	f.settle(&r, s, rets)
	if r.Status == Skip {
		r.Status = Pass
	}
	return r
}

// runTest runs a test: its before_each hooks (outermost first), then its
// body, then after_each hooks and finally callbacks, each part a thread of
// its own so a body that waits shows its own frames; the test's time limit
// covers them all. The body is skipped after a failed before_each; the
// after part still runs unless the test timed out (the runtime was torn
// down then).
func (f *fileRun) runTest(tc *testCase) {
	r := &Result{File: f.path, Name: tc.name, Where: tc.where}
	if tc.fn == nil {
		r.Status, r.Message = Skip, "pending"
		f.add(*r)
		return
	}
	var befores, afters []*lua.LFunction
	for b := tc.block; b != nil; b = b.parent {
		befores = append(slices.Clone(b.beforeEach), befores...)
		afters = append(afters, b.afterEach...)
	}
	f.begin(r)
	f.loop.ProtectedCall(f.mod.RawGetString("_begin"))
	f.loop.ProtectedCall(f.mod.RawGetString("_watch_threads"))
	s := f.newStep(tc.block.timeoutFor(tc.timeout, f.opts.timeout()))
	f.testing = true
	name := "test: " + tc.name
	passed := func(rets []lua.LValue) bool {
		return !s.timedOut && !s.stuck && len(rets) > 0 && lua.LVAsString(rets[0]) != "fail"
	}
	rets := []lua.LValue{lua.LString("pass")}
	if len(befores) > 0 {
		rets = f.runTask(s, name, f.run_, f.list(befores...), lua.LFalse)
	}
	if passed(rets) {
		rets = f.runTask(s, name, tc.fn)
	}
	if !s.timedOut && !s.stuck {
		after := f.runTask(s, name, f.run_, f.list(afters...), lua.LTrue)
		if passed(rets) && lua.LVAsString(rets[0]) == "pass" {
			rets = after
		}
	}
	f.testing = false
	f.finishStep(s)
	f.settle(r, s, rets)
	if rets, _, ok := f.loop.ProtectedCall(f.mod.RawGetString("_take_thread_errors")); ok && len(rets) > 0 {
		if errs := lua.LVAsString(rets[0]); errs != "" {
			if r.Status != Fail {
				r.Status, r.Kind, r.Message, r.Details = Fail, KindError, "a Copas thread failed during the test", errs
			} else {
				r.Details = strings.TrimPrefix(r.Details+"\n"+errs, "\n")
			}
		}
	}
	f.end(r)
}

func (f *fileRun) list(fns ...*lua.LFunction) *lua.LTable {
	t := f.L.CreateTable(len(fns), 0)
	for _, fn := range fns {
		t.Append(fn)
	}
	return t
}

// runTask runs fn(args...) as a thread within step s and drives the loop
// until it ends, s times out or nothing could make it end. It returns the
// outcome as the module's _run does ("pass" | "skip", reason | "fail",
// kind, where, message, details); nil if the step timed out or got stuck.
func (f *fileRun) runTask(s *step, name string, fn *lua.LFunction, args ...lua.LValue) []lua.LValue {
	if s.timedOut || s.stuck {
		return nil
	}
	var (
		ended bool
		rets  []lua.LValue
		err   error
	)
	t := f.loop.Spawn(fn, args...)
	t.OnExit = func(_ *scheduler.Task, e error, r []lua.LValue) {
		ended, err, rets = true, e, r
	}
	s.task, s.taskName, s.co = t, name, t.Co
	f.drive(s, func() bool { return ended }, true)
	s.task, s.co = nil, nil
	switch {
	case !ended:
		return nil
	case err != nil:
		return f.outcome(scheduler.ErrorValue(err))
	case fn == f.run_:
		return rets
	}
	return []lua.LValue{lua.LString("pass")}
}

// outcome classifies an error value with the module's _outcome.
func (f *fileRun) outcome(v lua.LValue) []lua.LValue {
	rets, _, ok := f.loop.ProtectedCall(f.mod.RawGetString("_outcome"), v)
	if !ok {
		return []lua.LValue{lua.LString("fail"), lua.LString(KindError), lua.LNil, lua.LString(v.String())}
	}
	return rets
}

// drive steps the loop until done() holds, the step times out or (with
// deadlock) nothing could ever make it hold.
func (f *fileRun) drive(s *step, done func() bool, deadlock bool) {
	defer func() {
		// Finished, but past the limit: it held the loop too long.
		if done() && !s.timedOut && !s.stuck && time.Now().After(s.deadline) {
			s.timedOut, s.overran = true, time.Since(s.start)
			f.teardown()
		}
	}()
	for !done() && !s.timedOut && !f.isAbandoned() {
		if !time.Now().Before(s.deadline) {
			f.expire(s)
			return
		}
		if deadlock && !f.loop.Pending() {
			s.stuck = true
			s.waiting = f.waitingThreads(s)
			f.teardown()
			return
		}
		f.loop.Step(time.Until(s.deadline))
	}
}

// newStep starts timing a step of at most limit.
func (f *fileRun) newStep(limit time.Duration) *step {
	now := time.Now()
	s := &step{start: now, deadline: now.Add(limit)}
	f.step = s
	f.arm(s)
	return s
}

// arm (re)starts the watchdog of s: at the deadline a posted function
// expires the step; if the loop does not run it within the grace time,
// the goroutine is stuck and the file is abandoned.
func (f *fileRun) arm(s *step) {
	f.stopTimers(s)
	g := f.bump()
	d := time.Until(s.deadline)
	s.timer = time.AfterFunc(d, func() {
		f.r.Post(func(*lua.LState) {
			if f.current0(g) {
				f.expire(s)
			}
		})
	})
	s.hung = time.AfterFunc(d+f.opts.graceTime(), func() { f.checkHung(g, s) })
}

func (f *fileRun) stopTimers(s *step) {
	if s.timer != nil {
		s.timer.Stop()
	}
	if s.hung != nil {
		s.hung.Stop()
	}
}

func (f *fileRun) bump() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen++
	return f.gen
}

// current0 reports whether g is still the watchdog generation.
func (f *fileRun) current0(g uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gen == g
}

func (f *fileRun) finishStep(s *step) {
	f.stopTimers(s)
	f.bump()
	if f.step == s {
		f.step = nil
	}
}

// expire ends a step that ran out of time: it lists the threads still
// waiting and tears the runtime down so the next test starts clean. Loop
// goroutine only.
func (f *fileRun) expire(s *step) {
	if f.step != s || s.timedOut {
		return
	}
	s.timedOut = true
	s.waiting = f.waitingThreads(s)
	f.teardown()
	// The code that timed out must now give the loop back.
	f.stopTimers(s)
	g := f.bump()
	s.hung = time.AfterFunc(f.opts.graceTime(), func() { f.checkHung(g, s) })
}

// checkHung abandons the file if watchdog generation g is still current:
// the loop goroutine has not come back since. Any goroutine.
func (f *fileRun) checkHung(g uint64, s *step) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gen != g || f.abandoned {
		return
	}
	f.abandoned = true
	r := Result{File: f.path, Status: Fail, Kind: KindTimeout}
	if f.current != nil {
		r = *f.current
		r.Status, r.Kind = Fail, KindTimeout
		r.Output = f.out.String()
		r.Duration = time.Since(f.curStart)
	}
	r.Message = fmt.Sprintf("timed out after %s and did not give the loop back (a busy loop or a blocking call?); the rest of the file was abandoned", s.limit())
	f.results = append(f.results, r)
	close(f.abandon)
}

// teardown drops every thread, timer and server of the runtime, with
// copas.cancelall when Copas is loaded. Loop goroutine only.
func (f *fileRun) teardown() {
	rets, _, ok := f.loop.ProtectedCall(f.mod.RawGetString("_teardown"))
	if ok && len(rets) > 0 && lua.LVAsBool(rets[0]) {
		return
	}
	f.loop.EachTask(func(t *scheduler.Task) { t.Kill() })
	f.loop.DropDetached()
	f.loop.StopTimers(func(*scheduler.Timer) bool { return true })
}

// waitingThreads describes the live threads: the step's own first, then
// the others by name, each with its traceback.
func (f *fileRun) waitingThreads(s *step) string {
	type thread struct {
		own      bool
		name, tb string
	}
	var ts []thread
	info := f.mod.RawGetString("_threadinfo")
	describe := func(t *scheduler.Task, co *lua.LState) thread {
		th := thread{own: t == s.task, name: co.String()}
		if rets, _, ok := f.loop.ProtectedCall(info, co); ok && len(rets) == 2 {
			th.name, th.tb = lua.LVAsString(rets[0]), strings.TrimSpace(lua.LVAsString(rets[1]))
		}
		if th.own {
			th.name = s.taskName
		}
		return th
	}
	ownListed := false
	f.loop.EachTask(func(t *scheduler.Task) {
		ownListed = ownListed || t == s.task
		ts = append(ts, describe(t, t.Co))
	})
	detached := f.loop.Detached()
	if s.task != nil && !s.task.Done() && !ownListed {
		// Paused forever: the loop keeps no reference, but we do.
		th := describe(s.task, s.co)
		th.name += " (paused forever)"
		ts = append(ts, th)
		detached--
	}
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].own != ts[j].own {
			return ts[i].own
		}
		return ts[i].name < ts[j].name
	})
	var b strings.Builder
	if len(ts) > 0 {
		b.WriteString("threads still waiting:")
	}
	for _, t := range ts {
		fmt.Fprintf(&b, "\n  %s\n", t.name)
		for _, line := range strings.Split(t.tb, "\n") {
			b.WriteString("    " + strings.TrimLeft(line, "\t ") + "\n")
		}
	}
	switch {
	case detached == 1:
		b.WriteString("\n(and 1 thread paused forever)")
	case detached > 1:
		fmt.Fprintf(&b, "\n(and %d threads paused forever)", detached)
	}
	return strings.TrimRight(b.String(), "\n")
}

// settle fills r's outcome from its step: a timeout, or rets as the
// module's _run returns them.
func (f *fileRun) settle(r *Result, s *step, rets []lua.LValue) {
	switch {
	case s.timedOut:
		r.Status, r.Kind = Fail, KindTimeout
		r.Message = fmt.Sprintf("timed out after %s", s.limit())
		if s.overran > 0 {
			r.Message += fmt.Sprintf(": it ran for %s without giving the loop back", s.overran.Round(time.Millisecond))
		}
		r.Details = s.waiting
		return
	case s.stuck:
		r.Status, r.Kind = Fail, KindTimeout
		r.Message = "can never finish: it waits, and nothing left in the loop could wake it"
		r.Details = s.waiting
		return
	}
	get := func(i int) string {
		if i < len(rets) && rets[i] != lua.LNil {
			return lua.LVAsString(rets[i])
		}
		return ""
	}
	switch get(0) {
	case "pass":
		r.Status = Pass
	case "skip":
		r.Status, r.Message = Skip, get(1)
	default:
		r.Status, r.Kind = Fail, get(1)
		if w := get(2); w != "" {
			r.Where = w
		}
		r.Message, r.Details = get(3), get(4)
		if r.Kind == "" {
			r.Kind, r.Message = KindError, "the test runner's thread returned nothing"
		}
	}
}

// loadError is the outcome of a file that failed to load or run: Lua
// 5.1's "file:line: message" for syntax errors, and the stack trace of
// errors that are not assertion failures.
func (f *fileRun) loadError(err error) []lua.LValue {
	val := lua.LValue(lua.LString(err.Error()))
	var stack string
	if ae := (*lua.ApiError)(nil); errors.As(err, &ae) {
		var pe *parse.Error
		if errors.As(ae.Cause, &pe) {
			msg := pe.Message
			if pe.Pos.Line != parse.EOF {
				msg += " near '" + pe.Token + "'"
			}
			line := pe.Pos.Line
			if line == parse.EOF {
				line = 0
			}
			return []lua.LValue{lua.LString("fail"), lua.LString(KindError),
				lua.LString(fmt.Sprintf("%s:%d", pe.Pos.Source, line)), lua.LString(msg)}
		}
		if ae.Object != nil {
			val, stack = ae.Object, ae.StackTrace
		}
	}
	rets := f.outcome(val)
	if stack != "" && len(rets) > 1 && lua.LVAsString(rets[1]) == KindError {
		for len(rets) < 5 {
			rets = append(rets, lua.LNil)
		}
		details := strings.TrimPrefix(lua.LVAsString(rets[4])+"\n"+stack, "\n")
		rets[4] = lua.LString(details)
	}
	return rets
}
