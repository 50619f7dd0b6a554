//go:build linux

package socket_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
	"go.uber.org/goleak"
)

// newRuntime returns a runtime with socket loaded as the global socket and
// a global mk(fd [, dirty]) building a LuaSocket-like object around a
// descriptor, the way Copas wraps sockets in tables.
func newRuntime(t *testing.T) *copaslua.Runtime {
	t.Helper()
	r := copaslua.New()
	t.Cleanup(r.Close)
	mustDo(t, r, `socket = require("socket")
		function mk(fd, dirty)
			return {getfd = function() return fd end, dirty = function() return dirty end}
		end`)
	return r
}

func mustDo(t *testing.T, r *copaslua.Runtime, src string) {
	t.Helper()
	if err := r.DoString(src); err != nil {
		t.Fatal(err)
	}
}

// pair returns a connected pair of stream sockets, closed at cleanup.
func pair(t *testing.T) (int, int) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fds[0]); syscall.Close(fds[1]) })
	return fds[0], fds[1]
}

func write(t *testing.T, fd int) {
	t.Helper()
	if _, err := syscall.Write(fd, []byte("x")); err != nil {
		t.Fatal(err)
	}
}

func TestSelectBlocking(t *testing.T) {
	r := newRuntime(t)
	a, b := pair(t)
	c, _ := pair(t)
	mustDo(t, r, fmt.Sprintf(`A, B, C = mk(%d), mk(%d), mk(%d)`, a, b, c))
	// nothing to read, but writable; the result has both shapes
	mustDo(t, r, `
		local rd, wr, err = socket.select({A}, {A, C}, 0)
		assert(err == nil and #rd == 0 and #wr == 2, tostring(err))
		assert(wr[1] == A and wr[2] == C and wr[A] == 1 and wr[C] == 2)
		rd, wr, err = socket.select({A, C}, nil, 0)
		assert(type(rd) == "table" and type(wr) == "table" and next(rd) == nil and next(wr) == nil)
		assert(err == "timeout")
		rd, wr, err = socket.select(nil, nil, 0.001)
		assert(next(rd) == nil and next(wr) == nil and err == "timeout")`)
	write(t, b)
	mustDo(t, r, `
		local rd, wr, err = socket.select({C, A, mk(-1)}, {}, 0)
		assert(err == nil and #rd == 1 and rd[1] == A and rd[A] == 1, tostring(err))
		-- blocking without a timeout returns as soon as something is ready
		rd = socket.select({A})
		assert(rd[1] == A)
		-- a dirty object is readable without asking the kernel, even twice
		local D = mk(C:getfd(), true)
		rd, wr, err = socket.select({D, A, D}, nil, nil)
		assert(err == nil and #rd == 3 and rd[1] == D and rd[2] == D and rd[3] == A, tostring(#rd))
		-- numeric strings are descriptors, as lua_tonumber says
		rd = socket.select({{getfd = function() return tostring(A:getfd()) end}}, nil, 0)
		assert(#rd == 1)
		-- objects without getfd, or with fd -1 (closed), are ignored
		rd, wr, err = socket.select({{}, mk(-1), mk(nil)}, {mk(-1)}, 0)
		assert(err == "timeout")`)
}

func TestSelectErrors(t *testing.T) {
	r := newRuntime(t)
	cases := []struct{ src, want string }{
		{`socket.select(1, nil, 0)`, "bad argument #1"},
		{`socket.select(nil, "x", 0)`, "bad argument #2"},
		{`socket.select(nil, nil, "soon")`, "bad argument #3"},
		{`socket.select({1}, nil, 0)`, "attempt to index"},
		{`socket.select({mk(1e9)}, nil, 0)`, "descriptor too large for set size"},
		{`socket.select({mk(socket._SETSIZE - 1)}, nil, 0)`, "select failed"}, // not open
		{`socket.select({{getfd = function() error("in getfd") end}}, nil, 0)`, "in getfd"},
	}
	for _, c := range cases {
		err := r.DoString(c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.src, err, c.want)
		}
	}
}

// A plain LuaSocket script (no tasks) watching 2,000 descriptors: far past
// select(2)'s FD_SETSIZE of 1024.
func TestSelectThousands(t *testing.T) {
	r := newRuntime(t)
	const n = 2000
	var writers []int
	tbl := r.State().NewTable()
	for i := 0; i < n; i++ {
		a, b := pair(t)
		writers = append(writers, b)
		r.State().DoString(fmt.Sprintf("return mk(%d)", a))
		tbl.Append(r.State().Get(-1))
		r.State().Pop(1)
	}
	r.State().SetGlobal("objs", tbl)
	for i := 0; i < n; i += 7 {
		write(t, writers[i])
	}
	mustDo(t, r, `
		local rd, _, err = socket.select(objs, nil, 0)
		assert(err == nil and #rd == math.ceil(2000 / 7), #rd)
		for i, o in ipairs(rd) do assert(rd[o] == i and objs[(i - 1) * 7 + 1] == o) end
		local _, wr = socket.select(nil, objs, 0)
		assert(#wr == 2000)`)
	// Blocking until the last one becomes readable: whether the write
	// lands before or during the wait, the answer is the same.
	mustDo(t, r, `for i = 1, 2000, 7 do objs[i] = mk(-1) end`)
	go func() { syscall.Write(writers[n-1], []byte("x")) }()
	mustDo(t, r, `local rd = socket.select(objs); assert(#rd == 1 and rd[1] == objs[2000])`)
}

// spawn starts src as a task (a Lua chunk run as a coroutine by the loop).
func spawn(t *testing.T, r *copaslua.Runtime, src string) *scheduler.Task {
	t.Helper()
	fn, err := r.State().LoadString(src)
	if err != nil {
		t.Fatal(err)
	}
	return r.Loop().Spawn(fn)
}

// stepUntil steps the loop until cond holds.
func stepUntil(t *testing.T, r *copaslua.Runtime, cond func() bool) {
	t.Helper()
	for i := 0; !cond(); i++ {
		if i > 10000 {
			t.Fatal("condition never met")
		}
		r.Loop().Step(10 * time.Millisecond)
	}
}

func failOnTaskError(t *testing.T, r *copaslua.Runtime) {
	r.Loop().TaskError = func(_ *scheduler.Task, err error) { t.Errorf("task error: %v", err) }
}

func TestSelectInTask(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	r := newRuntime(t)
	failOnTaskError(t, r)
	a, b := pair(t)
	mustDo(t, r, fmt.Sprintf(`A = mk(%d)`, a))
	waiter := spawn(t, r, `
		local rd, wr, err = socket.select({A}, nil, nil)
		assert(err == nil and rd[1] == A and rd[A] == 1)
		got = "readable"`)
	// a second task keeps running while the first is parked in select
	other := spawn(t, r, `for i = 1, 3 do socket.sleep(0) end; other = true`)
	stepUntil(t, r, other.Done)
	if !waiter.Parked() {
		t.Fatal("select did not park its task")
	}
	write(t, b)
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := r.State().GetGlobal("got"); got.String() != "readable" {
		t.Fatalf("got %v", got)
	}
	// ready at once: no parking; nothing ready within the timeout: "timeout"
	spawn(t, r, `
		local rd = socket.select({A}, nil, 5)
		assert(rd[1] == A)
		local rd2, wr2, err = socket.select({mk(-1)}, nil, 0.01)
		assert(next(rd2) == nil and next(wr2) == nil and err == "timeout", err)
		done2 = true`)
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r.State().GetGlobal("done2") != lua.LTrue {
		t.Fatal("second task did not finish")
	}
}

// A task woken or killed while parked in select must not leave the poll
// goroutine behind.
func TestSelectCancel(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	r := newRuntime(t)
	failOnTaskError(t, r)
	a, _ := pair(t)
	mustDo(t, r, fmt.Sprintf(`A = mk(%d)`, a))
	woken := spawn(t, r, `woke = socket.select({A}, nil, nil)`)
	killed := spawn(t, r, `socket.select({A}, nil, nil); error("must not resume")`)
	stepUntil(t, r, func() bool { return woken.Parked() && killed.Parked() })
	woken.Wake(lua.LString("woken"))
	killed.Kill()
	stepUntil(t, r, func() bool { return woken.Done() && r.Loop().Inflight() == 0 })
	if got := r.State().GetGlobal("woke"); got.String() != "woken" {
		t.Fatalf("got %v", got)
	}
}

// select inside a metamethod cannot park: it blocks like plain LuaSocket.
func TestSelectCannotPark(t *testing.T) {
	r := newRuntime(t)
	failOnTaskError(t, r)
	a, b := pair(t)
	write(t, b)
	mustDo(t, r, fmt.Sprintf(`A = mk(%d)`, a))
	task := spawn(t, r, `
		local mt = {__index = function() return socket.select({A}, nil, nil) end}
		local rd = setmetatable({}, mt).x
		assert(rd[1] == A)
		done = true`)
	stepUntil(t, r, task.Done)
	if r.State().GetGlobal("done") != lua.LTrue {
		t.Fatal("task failed")
	}
}

// A plain LuaSocket server (no tasks) multiplexing 2,000 concurrent
// loopback clients with socket.select: all clients connect first and
// only then send, so the server watches more than 2,000 sockets at once.
func TestSelectServes2000Clients(t *testing.T) {
	r := newRuntime(t)
	const n = 2000
	if err := r.DoString(`assert(socket.tcp and socket.bind, "no tcp")`); err != nil {
		t.Skip("socket.tcp is not available yet")
	}
	mustDo(t, r, `
		server = assert(socket.bind("127.0.0.1", 0, 4096))
		server:settimeout(0)
		local _, port = server:getsockname()
		PORT = port`)
	port := int(lua.LVAsNumber(r.State().GetGlobal("PORT")))

	var connected, release sync.WaitGroup
	connected.Add(n)
	release.Add(1)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			errs <- func() error {
				c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
				connected.Done()
				if err != nil {
					return err
				}
				defer c.Close()
				release.Wait()
				msg := fmt.Sprintf("hello %d", i)
				if _, err := fmt.Fprintf(c, "%s\n", msg); err != nil {
					return err
				}
				reply, err := bufio.NewReader(c).ReadString('\n')
				if err != nil || reply != "echo "+msg+"\n" {
					return fmt.Errorf("client %d: %q %v", i, reply, err)
				}
				return nil
			}()
		}()
	}
	// The server accepts until every client is in, then lets them talk.
	r.State().SetGlobal("N", lua.LNumber(n))
	mustDo(t, r, `
		watched = {server}
		function accept_all()
			while true do
				local c = server:accept()
				if not c then return end
				c:settimeout(0)
				watched[#watched + 1] = c
			end
		end
		while #watched <= N do
			local rd, _, err = socket.select({server}, nil, 30)
			assert(not err, err)
			accept_all()
		end`)
	connected.Wait()
	release.Done()
	mustDo(t, r, `
		local served, partial, most = 0, {}, #watched
		while served < N do
			local rd, _, err = socket.select(watched, nil, 30)
			assert(not err, err)
			for _, s in ipairs(rd) do
				local line, rerr, part = s:receive("*l", partial[s])
				partial[s] = part
				if line then assert(s:send("echo " .. line .. "\n")) end
				if line or (rerr and rerr ~= "timeout") then
					s:close()
					served = served + 1
					for i = #watched, 2, -1 do
						if watched[i] == s then table.remove(watched, i) break end
					end
				end
			end
		end
		assert(most == N + 1, most)
		server:close()`)
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
