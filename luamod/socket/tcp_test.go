//go:build linux

package socket_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
	"go.uber.org/goleak"
)

// taskRuntime returns a runtime whose Lua global go(fn, ...) starts fn as
// a loop task (the in-task execution mode); task errors fail the test.
func taskRuntime(t *testing.T) *copaslua.Runtime {
	t.Helper()
	r := copaslua.New()
	t.Cleanup(r.Close)
	L := r.State()
	L.SetGlobal("go", L.NewFunction(func(L *lua.LState) int {
		fn := L.CheckFunction(1)
		args := make([]lua.LValue, 0, L.GetTop())
		for i := 2; i <= L.GetTop(); i++ {
			args = append(args, L.Get(i))
		}
		r.Loop().Spawn(fn, args...)
		return 0
	}))
	r.Loop().TaskError = func(_ *scheduler.Task, err error) { t.Errorf("task: %v", err) }
	if err := r.DoString(`function ipport(s) local ip, port = s:getsockname() return ip, port end`); err != nil {
		t.Fatal(err)
	}
	return r
}

// runScript runs src on the main thread, then the loop until nothing is
// pending (bounded by the test's deadline, not by wall-clock luck).
func runScript(t *testing.T, r *copaslua.Runtime, src string) {
	t.Helper()
	if err := r.DoString(src); err != nil {
		t.Fatal(err)
	}
	for r.Loop().Pending() {
		r.Loop().Step(time.Second)
	}
}

func TestTCPTasks(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, host := range []string{"127.0.0.1", "::1"} {
		t.Run(host, func(t *testing.T) {
			r := taskRuntime(t)
			runScript(t, r, fmt.Sprintf(`
			local socket = require "socket"
			local host = %q
			local srv = assert(socket.tcp())
			assert(srv:bind(host, 0)); assert(srv:listen())
			local ip, port = srv:getsockname()
			big = string.rep("0123456789abcdef", 2^18) -- 4 MB: sends must park
			out = {}
			local function put(...) out[#out+1] = table.concat({...}, " ") end
			go(function()
			  local c = assert(srv:accept())
			  put("line", c:receive())
			  put("count", c:receive(6, "pre"))
			  c:settimeout(0.05)
			  local d, e, p = c:receive()
			  put("timeout", tostring(d), e, p)
			  assert(c:send("go\n")) -- only now may the client finish the line
			  c:settimeout(-1)
			  local d2 = c:receive("*l", p)
			  put("resumed", d2)
			  local all = c:receive(#big)
			  put("big", tostring(all == big))
			  assert(c:send("done\n"))
			  put("rest", c:receive("*a"))
			  put("stats", tostring(c:getstats() == 5 + 3 + 13 + #big + 4))
			  c:close(); srv:close()
			end)
			go(function()
			  local c = socket.tcp()
			  assert(c:connect(ip, port))
			  assert(c:send("abc\r\n12"))
			  assert(c:send("3partial"))
			  assert(c:receive() == "go")
			  assert(c:send(" line\n"))
			  go(function() assert(c:send(big) == #big) end) -- parks: nobody reads yet
			  put("reply", c:receive())
			  assert(c:send("tail")); c:close()
			end)
			`, host))
			want := []string{"line abc", "count pre123", "timeout nil timeout partial", "resumed partial line",
				"big true", "reply done", "rest tail", "stats true"}
			got := luaStrings(t, r, "out")
			if strings.Join(got, "|") != strings.Join(sorted(want, got), "|") {
				t.Fatalf("got %q\nwant (any order) %q", got, want)
			}
		})
	}
}

// sorted returns want in got's order when they hold the same items.
func sorted(want, got []string) []string {
	if len(want) != len(got) {
		return want
	}
	seen := map[string]int{}
	for _, w := range want {
		seen[w]++
	}
	for _, g := range got {
		if seen[g] == 0 {
			return want
		}
		seen[g]--
	}
	return got
}

func luaStrings(t *testing.T, r *copaslua.Runtime, global string) []string {
	t.Helper()
	tbl, ok := r.State().GetGlobal(global).(*lua.LTable)
	if !ok {
		t.Fatalf("%s is not a table", global)
	}
	var out []string
	for i := 1; i <= tbl.Len(); i++ {
		out = append(out, tbl.RawGetInt(i).String())
	}
	return out
}

// A task parked in receive ends with "closed" when another task closes
// the socket, and its helper goroutine returns.
func TestTCPCloseWakesParkedReceive(t *testing.T) {
	defer goleak.VerifyNone(t)
	r := taskRuntime(t)
	runScript(t, r, `
	local socket = require "socket"
	local srv = assert(socket.bind("127.0.0.1", 0))
	local c = assert(socket.connect(ipport(srv)))
	local s = assert(srv:accept())
	c:send("part")
	go(function() res = {s:receive()} end)
	go(function() s:close() end)
	srv:close()
	`)
	got := luaStrings(t, r, "res")
	if len(got) != 3 || got[0] != "nil" || got[1] != "closed" || got[2] != "part" {
		t.Fatalf("receive on a socket closed while parked: %q", got)
	}
}

// Killing a parked task ends the helper goroutine's wait without
// resuming the task; the socket stays usable.
func TestTCPKilledTaskDropsWait(t *testing.T) {
	defer goleak.VerifyNone(t)
	r := taskRuntime(t)
	L := r.State()
	if err := r.DoString(`
	socket = require "socket"
	srv = assert(socket.bind("127.0.0.1", 0))
	c = assert(socket.connect(ipport(srv)))
	s = assert(srv:accept())
	`); err != nil {
		t.Fatal(err)
	}
	fn, err := L.LoadString(`resumed = true; return s:receive()`)
	if err != nil {
		t.Fatal(err)
	}
	task := r.Loop().Spawn(fn)
	for !task.Parked() {
		r.Loop().Step(time.Second)
	}
	if err := L.DoString(`resumed = nil`); err != nil {
		t.Fatal(err)
	}
	task.Kill()
	for r.Loop().Pending() {
		r.Loop().Step(time.Second)
	}
	if L.GetGlobal("resumed") != lua.LNil {
		t.Fatal("killed task ran again")
	}
	runScript(t, r, `
	c:send("after\n")
	go(function() got = s:receive() end)
	`)
	if g := L.GetGlobal("got"); g.String() != "after" {
		t.Fatalf("receive after a killed receive: %v", g)
	}
	if err := L.DoString(`c:close() s:close() srv:close()`); err != nil {
		t.Fatal(err)
	}
}

// Two tasks receiving on one socket are served one after the other.
func TestTCPQueuedReceivers(t *testing.T) {
	defer goleak.VerifyNone(t)
	r := taskRuntime(t)
	runScript(t, r, `
	local socket = require "socket"
	local srv = assert(socket.bind("127.0.0.1", 0))
	local c = assert(socket.connect(ipport(srv)))
	local s = assert(srv:accept())
	out = {}
	go(function() table.insert(out, (s:receive())) end)
	go(function() table.insert(out, (s:receive())) end)
	go(function() c:send("one\n"); c:send("two\n") end)
	go(function() end)
	`)
	got := luaStrings(t, r, "out")
	if strings.Join(got, ",") != "one,two" {
		t.Fatalf("got %q", got)
	}
}

// Connects in tasks: refused, non-blocking completion, host names
// resolved off the loop, and socket.connect.
func TestTCPConnectInTask(t *testing.T) {
	defer goleak.VerifyNone(t)
	r := taskRuntime(t)
	runScript(t, r, `
	local socket = require "socket"
	local srv = assert(socket.bind("127.0.0.1", 0))
	local ip, port = srv:getsockname()
	local l = socket.tcp4(); l:bind("127.0.0.1", 0); local _, closed = l:getsockname(); l:close()
	out = {}
	go(function()
	  local ok, e = socket.tcp():connect("127.0.0.1", closed)
	  out[#out+1] = "refused " .. tostring(e)
	  local nb = socket.tcp(); nb:settimeout(0)
	  local r1, e1 = nb:connect(ip, port)
	  local r2, e2 = nb:connect(ip, port)
	  out[#out+1] = "nb " .. tostring(r1 == 1 or e1 == "timeout") .. " " .. tostring(r2 == 1 or e2 == "already connected")
	  local c = socket.tcp(); c:settimeout(5)
	  out[#out+1] = "name " .. tostring(c:connect("localhost", port))
	  local g = socket.connect(ip, port, "127.0.0.1", 0)
	  out[#out+1] = "global " .. g.class
	  nb:close(); c:close(); g:close(); srv:close()
	end)
	`)
	want := "refused connection refused|nb true true|name 1|global tcp{client}"
	if got := strings.Join(luaStrings(t, r, "out"), "|"); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// Outside tasks an operation blocks the caller for at most its timeout,
// and a zero timeout still returns data already in the kernel.
func TestTCPBlockingTimeouts(t *testing.T) {
	r := taskRuntime(t)
	runScript(t, r, `
	local socket = require "socket"
	local srv = assert(socket.bind("127.0.0.1", 0))
	local c = assert(socket.connect(ipport(srv)))
	local s = assert(srv:accept())
	s:settimeout(0.05)
	local t0 = socket.gettime()
	local d, e, p = s:receive()
	assert(d == nil and e == "timeout" and p == "", e)
	assert(socket.gettime() - t0 >= 0.04, "returned before its timeout")
	c:send("ready\n")
	local deadline = socket.gettime() + 5
	s:settimeout(0)
	repeat d, e = s:receive() until d or socket.gettime() > deadline
	assert(d == "ready", e)
	srv:settimeout(0.05)
	local a, ae = srv:accept()
	assert(a == nil and ae == "timeout", ae)
	c:close(); s:close(); srv:close()
	`)
}

// An unreachable socket object has its descriptor closed by the garbage
// collector (gopher-lua has no __gc).
func TestTCPUnreachableSocketIsClosed(t *testing.T) {
	r := taskRuntime(t)
	L := r.State()
	if err := r.DoString(`fd = require("socket").tcp4():getfd()`); err != nil {
		t.Fatal(err)
	}
	fd := int(L.GetGlobal("fd").(lua.LNumber))
	link, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil || !strings.HasPrefix(link, "socket:") {
		t.Fatalf("fd %d is not a socket: %q %v", fd, link, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		runtime.GC()
		now, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
		if err != nil || now != link {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("descriptor of an unreachable socket still open")
}

// A receive in a task that cannot park (inside a metamethod) blocks like
// plain LuaSocket instead of corrupting the coroutine.
func TestTCPCannotParkBlocks(t *testing.T) {
	defer goleak.VerifyNone(t)
	r := taskRuntime(t)
	runScript(t, r, `
	local socket = require "socket"
	local srv = assert(socket.bind("127.0.0.1", 0))
	local c = assert(socket.connect(ipport(srv)))
	local s = assert(srv:accept())
	c:send("x\n")
	go(function()
	  local t = setmetatable({}, {__index = function(_, k) return s:receive() end})
	  got = t.anything
	  c:close(); s:close(); srv:close()
	end)
	`)
	if g := r.State().GetGlobal("got"); g.String() != "x" {
		t.Fatalf("got %v", g)
	}
}
