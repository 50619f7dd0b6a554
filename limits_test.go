package copaslua_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
	"go.uber.org/goleak"
)

// generous bounds: the point is "returns", not "returns fast".
const returnsWithin = 20 * time.Second

func runAsync(rt *copaslua.Runtime, ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	return done
}

func waitRun(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(returnsWithin):
		t.Fatal("Run did not return")
		return nil
	}
}

const spinner = `
	local copas = require "copas"
	copas.addthread(function() while true do end end)
	copas.addthread(function() while true do pcall(function() while true do end end) end end)`

// Cancelling Run's context stops Copas threads spinning in pure Lua once
// the grace period is over; Run returns ctx.Err().
func TestRunCancelStopsSpinningThreads(t *testing.T) {
	defer goleak.VerifyNone(t)
	rt := newRT(t, spinner, copaslua.WithGracePeriod(100*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	if err := waitRun(t, runAsync(rt, ctx)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if s, _ := rt.Stats(context.Background()); s.Tasks != 0 {
		t.Fatalf("threads left: %+v", s)
	}
}

// Close from another goroutine stops a spinning thread and makes Run
// return ErrClosed; the state is released.
func TestCloseStopsRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	rt := copaslua.New()
	if err := rt.DoString(spinner); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		rt.Close()
	}()
	if err := waitRun(t, runAsync(rt, context.Background())); !errors.Is(err, copaslua.ErrClosed) {
		t.Fatalf("Run = %v", err)
	}
	if err := rt.DoString(`x = 1`); !errors.Is(err, copaslua.ErrClosed) {
		t.Fatalf("DoString after Close = %v", err)
	}
	if _, err := rt.Call(context.Background(), "print"); !errors.Is(err, copaslua.ErrClosed) {
		t.Fatalf("Call after Close = %v", err)
	}
}

// Close from a Go function that Lua called: the chunk stops, the state
// is released when DoString returns.
func TestCloseFromInsideLua(t *testing.T) {
	rt := copaslua.New()
	rt.SetGlobal("quit", func(*lua.LState) int { rt.Close(); return 0 })
	err := rt.DoString(`quit() while true do end`)
	if err == nil || !strings.Contains(err.Error(), "runtime closed") {
		t.Fatalf("DoString = %v", err)
	}
	if err := rt.DoString(`x = 1`); !errors.Is(err, copaslua.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	rt.Close()
}

// Call's deadline stops the thread even while it spins, and the loop is
// not wedged: the next Call works.
func TestCallDeadlineStopsSpinningThread(t *testing.T) {
	defer goleak.VerifyNone(t)
	rt := newRT(t, `function spin() while true do end end
		function add(a, b) return a + b end`)
	release := rt.KeepAlive()
	ctx, cancel := context.WithCancel(context.Background())
	done := runAsync(rt, ctx)
	cctx, ccancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer ccancel()
	if _, err := rt.Call(cctx, "spin"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call(spin) = %v", err)
	}
	vals, err := rt.Call(context.Background(), "add", 2, 3)
	if err != nil || len(vals) != 1 || vals[0] != 5.0 {
		t.Fatalf("Call(add) = %v, %v", vals, err)
	}
	release()
	cancel()
	waitRun(t, done)
}

// WithThreadBudget: the runaway thread ends with the budget error,
// reported to the logger; the others finish; Run returns nil.
func TestThreadBudget(t *testing.T) {
	defer goleak.VerifyNone(t)
	var mu sync.Mutex
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	rt := newRT(t, `
		local copas = require "copas"
		copas.addthread(function() while true do pcall(function() while true do end end) end end)
		copas.addthread(function() for i = 1, 3 do copas.pause(0.01) end finished = true end)`,
		copaslua.WithThreadBudget(200*time.Millisecond), copaslua.WithLogger(logger))
	if err := waitRun(t, runAsync(rt, context.Background())); err != nil {
		t.Fatal(err)
	}
	if got := rt.State().GetGlobal("finished").String(); got != "true" {
		t.Fatalf("the other thread did not finish: %s", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "CPU budget") {
		t.Fatalf("no budget error logged: %q", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// DoString, DoFile and Call return *Error with value, message and
// traceback; syntax errors unwrap to *parse.Error.
func TestErrorType(t *testing.T) {
	defer goleak.VerifyNone(t)
	rt := newRT(t, `function fail(x) local t = nil; return t.field end
		function raise() error({code = 7}) end`)
	var e *copaslua.Error
	err := rt.DoString("\n\nlocal a = nil\nreturn a.b")
	if !errors.As(err, &e) || !strings.Contains(e.Message, "<string>:4:") || !strings.Contains(e.Traceback, "stack traceback") {
		t.Fatalf("DoString: %#v", err)
	}
	err = rt.DoString("x = = 1")
	var pe *parse.Error
	if !errors.As(err, &e) || !errors.As(err, &pe) {
		t.Fatalf("syntax error: %#v", err)
	}
	if err := rt.DoFile("/nonexistent/file.lua"); !errors.As(err, &e) || !strings.Contains(e.Message, "no such file") {
		t.Fatalf("DoFile: %v", err)
	}

	release := rt.KeepAlive()
	ctx, cancel := context.WithCancel(context.Background())
	done := runAsync(rt, ctx)
	_, err = rt.Call(context.Background(), "fail", 1)
	if !errors.As(err, &e) || !strings.Contains(e.Message, "attempt to index local 't' (a nil value)") || !strings.Contains(e.Traceback, "stack traceback") {
		t.Fatalf("Call: %#v", err)
	}
	_, err = rt.Call(context.Background(), "raise")
	if !errors.As(err, &e) {
		t.Fatalf("Call(raise): %v", err)
	}
	if m, ok := e.Value.(map[any]any); !ok || m["code"] != 7.0 {
		t.Fatalf("error value = %#v", e.Value)
	}
	release()
	cancel()
	waitRun(t, done)
}
