package copaslua_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
	lua "github.com/yuin/gopher-lua"
	"go.uber.org/goleak"
)

func newRT(t *testing.T, src string, opts ...copaslua.Option) *copaslua.Runtime {
	t.Helper()
	rt := copaslua.New(opts...)
	t.Cleanup(rt.Close)
	if src != "" {
		if err := rt.DoString(src); err != nil {
			t.Fatal(err)
		}
	}
	return rt
}

func TestServeManyClients(t *testing.T) {
	defer goleak.VerifyNone(t)
	rt := newRT(t, `
		function echo(sock)
		  while true do
		    local line, err = sock:receive()
		    if not line then return end
		    sock:send(line .. "\n")
		  end
		end`)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := rt.Serve(ctx, ln, "echo"); err != nil {
		t.Fatal(err)
	}

	const clients = 1000
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(50 * time.Second))
			r := bufio.NewReader(c)
			for j := 0; j < 3; j++ {
				msg := fmt.Sprintf("client %d msg %d", i, j)
				fmt.Fprintln(c, msg)
				got, err := r.ReadString('\n')
				if err != nil || strings.TrimSpace(got) != msg {
					errs <- fmt.Errorf("client %d: got %q, %v", i, got, err)
					return
				}
			}
		}(i)
	}
	go func() { wg.Wait(); cancel() }()
	if err := rt.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCallConcurrent(t *testing.T) {
	defer goleak.VerifyNone(t)
	rt := newRT(t, `
		local copas = require "copas"
		calls = 0
		function work(n, s)
		  copas.pause(0.001)
		  calls = calls + 1
		  return n * 2, s .. "!", { n, s }
		end
		function fail(msg) error({ reason = msg }) end`)
	release := rt.KeepAlive()
	ctx := context.Background()
	const n = 1000
	var wg sync.WaitGroup
	var posted sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		posted.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := rt.Call(ctx, "work", i, "x")
			if err != nil {
				errs <- err
				return
			}
			if res[0].(float64) != float64(2*i) || res[1].(string) != "x!" {
				errs <- fmt.Errorf("call %d: %v", i, res)
			}
			if tbl, ok := res[2].([]any); !ok || tbl[0].(float64) != float64(i) {
				errs <- fmt.Errorf("call %d table: %#v", i, res[2])
			}
		}(i)
		go func() {
			rt.Post(func(L *lua.LState) { L.SetGlobal("touched", lua.LTrue); posted.Done() })
		}()
	}
	var lerr *copaslua.Error
	go func() {
		wg.Wait()
		posted.Wait()
		_, err := rt.Call(ctx, "fail", "nope")
		if !errors.As(err, &lerr) {
			errs <- fmt.Errorf("want LuaError, got %v", err)
		}
		if _, err := rt.Call(ctx, "missing"); err == nil || !strings.Contains(err.Error(), "no global function") {
			errs <- fmt.Errorf("missing function: %v", err)
		}
		release()
	}()
	if err := rt.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if m, ok := lerr.Value.(map[any]any); !ok || m["reason"] != "nope" {
		t.Errorf("error value: %#v", lerr.Value)
	}
	if v := rt.State().GetGlobal("calls"); v.(lua.LNumber) != n {
		t.Errorf("calls = %v", v)
	}
}

func TestCallOnLoopGoroutine(t *testing.T) {
	rt := newRT(t, "")
	var got error
	rt.SetGlobal("nested", func(L *lua.LState) int {
		_, got = rt.Call(context.Background(), "print")
		return 0
	})
	if err := rt.DoString(`nested()`); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(got, copaslua.ErrOnLoop) {
		t.Fatalf("got %v", got)
	}
}

// Cancelling Run while a thread waits on a socket: the thread sees
// copas.exiting() only if it looks, so after the grace period the wait is
// ended and nothing is left running.
func TestCancelMidIO(t *testing.T) {
	defer goleak.VerifyNone(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c) // never answers
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	rt := newRT(t, fmt.Sprintf(`
		local copas, socket = require "copas", require "socket"
		state = "start"
		copas.addthread(function()
		  local c = copas.wrap(socket.tcp())
		  assert(c:connect("127.0.0.1", %d))
		  state = "waiting"
		  local line, err = c:receive()
		  state = "woke: " .. tostring(err)
		end)`, port), copaslua.WithGracePeriod(50*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := rt.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Run took %v", d)
	}
	if s := rt.State().GetGlobal("state").String(); s != "waiting" {
		t.Fatalf("state = %s (the thread must have been dropped while waiting)", s)
	}
	st, _ := rt.Stats(context.Background())
	if st.Tasks != 0 {
		t.Fatalf("tasks left: %+v", st)
	}
}

// Shutdown with open connections served by Serve: clients see the
// connection closed.
func TestShutdownOpenConnections(t *testing.T) {
	defer goleak.VerifyNone(t)
	rt := newRT(t, `function idle(sock) sock:receive() end`, copaslua.WithGracePeriod(20*time.Millisecond))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := rt.Serve(ctx, ln, "idle"); err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	for i := 0; i < 20; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	if err := rt.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("client read: %v, want EOF", err)
		}
		c.Close()
	}
}

func TestSandbox(t *testing.T) {
	rt := newRT(t, "", copaslua.WithSandbox())
	for _, src := range []string{
		`os.execute("true")`, `io.popen("true")`, `os.remove("/tmp/x")`, `os.exit(1)`,
		`debug.traceback()`,
	} {
		if err := rt.DoString(src); err == nil {
			t.Errorf("%s: allowed in the sandbox", src)
		}
	}
	if err := rt.DoString(`
		local f, err = io.open(os.tmpname and "/tmp/copas-lua-sandbox-test" or "", "w")
		assert(f == nil and err:find("not available"), tostring(err))
		assert(require("socket").gettime() > 0, "sockets stay available")`); err != nil {
		t.Fatal(err)
	}
}

func TestModulesAllowList(t *testing.T) {
	rt := newRT(t, "", copaslua.WithModules("socket", "socket.core"))
	if err := rt.DoString(`assert(require("socket").tcp)`); err != nil {
		t.Fatal(err)
	}
	if err := rt.DoString(`require "copas"`); err == nil {
		t.Fatal("copas loaded though not allowed")
	}
}

func TestStdoutAndLogger(t *testing.T) {
	var out, logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	rt := newRT(t, `
		print("a", 1, nil)
		io.write("b", 2, "\n")
		io.stdout:write("c\n")
		local copas = require "copas"
		copas.addthread(function() error("thread failed here") end)
		copas.loop()`, copaslua.WithStdout(&out), copaslua.WithLogger(logger))
	_ = rt
	if got := out.String(); got != "a\t1\tnil\nb2\nc\n" {
		t.Errorf("stdout = %q", got)
	}
	if !strings.Contains(logs.String(), "thread failed here") {
		t.Errorf("logger did not get the thread error: %q", logs.String())
	}
}

func TestStatsFromOtherGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t)
	rt := newRT(t, `
		local copas = require "copas"
		for i = 1, 3 do copas.addthread(function() copas.pause(10) end) end
		copas.addthread(function() copas.pauseforever() end)`)
	release := rt.KeepAlive()
	got := make(chan copaslua.Stats, 1)
	go func() {
		time.Sleep(20 * time.Millisecond)
		s, err := rt.Stats(context.Background())
		if err != nil {
			t.Error(err)
		}
		got <- s
		rt.Post(func(L *lua.LState) { L.DoString(`require("copas").cancelall()`) })
		release()
	}()
	if err := rt.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := <-got
	if s.Timer != 3 || s.Inactive != 1 || !s.Running {
		t.Fatalf("stats = %+v", s)
	}
}

func TestDecode(t *testing.T) {
	rt := newRT(t, `opts = { name = "x", count = 3, verbose = true }`)
	var o struct {
		Name    string
		Count   int
		Verbose bool
	}
	if err := copaslua.Decode(rt.State().GetGlobal("opts"), &o); err != nil || o.Name != "x" || o.Count != 3 || !o.Verbose {
		t.Fatalf("decode: %+v %v", o, err)
	}
	if err := rt.DoString(`bad = { count = "many" }`); err != nil {
		t.Fatal(err)
	}
	if err := copaslua.Decode(rt.State().GetGlobal("bad"), &o); err == nil {
		t.Fatal("wrong type accepted")
	}
	if err := copaslua.Decode(lua.LString("x"), &o); err == nil {
		t.Fatal("non-table accepted")
	}
}

// print calls the global tostring, as Lua 5.1's does.
func TestPrintUsesGlobalTostring(t *testing.T) {
	var out strings.Builder
	rt := newRT(t, `
		print(1, "a", 2.5)
		local orig = tostring
		tostring = function(v) return "<" .. orig(v) .. ">" end
		print(1, "a")
		tostring = function() return {} end
		local ok, err = pcall(print, 1)
		tostring = orig
		assert(not ok and err:find("'tostring' must return a string to 'print'"), tostring(err))`,
		copaslua.WithStdout(&out))
	_ = rt
	if got := out.String(); got != "1\ta\t2.5\n<1>\t<a>\n" {
		t.Fatalf("stdout = %q", got)
	}
}
