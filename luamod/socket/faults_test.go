//go:build linux

package socket_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
	"go.uber.org/goleak"
)

// emfileChild is set in the environment of the child process that
// TestAcceptOutOfDescriptors starts: only there may the descriptor limit
// be lowered.
const emfileChild = "COPAS_LUA_SOCKET_EMFILE_CHILD"

// TestAcceptOutOfDescriptors runs a Copas echo server into its
// descriptor limit, in a child process with a lowered RLIMIT_NOFILE
// (never this test process's own limit): creating sockets fails with
// nil, "Too many open files"; the server neither dies nor spins while it
// cannot accept; the connection it already has keeps being served; once
// descriptors are free it serves new clients again; one notice marks the
// start of the burst and one its end.
func TestAcceptOutOfDescriptors(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestEMFILEChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), emfileChild+"=1")
	out, err := cmd.CombinedOutput()
	text := string(out)
	if err != nil {
		t.Fatalf("child: %v\n%s", err, text)
	}
	if !strings.Contains(text, "--- PASS: TestEMFILEChild") {
		t.Fatalf("child did not run the test:\n%s", text)
	}
	if !strings.Contains(text, "notice: accept on 127.0.0.1:") ||
		!strings.Contains(text, "Too many open files; retrying with back-off up to 1s") {
		t.Errorf("no back-off notice:\n%s", text)
	}
	if n := strings.Count(text, "retrying with back-off"); n != 1 {
		t.Errorf("%d back-off notices, want one per burst:\n%s", n, text)
	}
	m := regexp.MustCompile(`serving again after (\d+) failed attempts`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no recovery notice:\n%s", text)
	}
	// The burst lasts about half a second; back-off from 10 ms doubling
	// makes that a handful of attempts. A spinning server makes thousands.
	if n, _ := strconv.Atoi(m[1]); n < 1 || n > 60 {
		t.Errorf("%d accept attempts during the burst", n)
	}
}

// TestEMFILEChild is the child half of TestAcceptOutOfDescriptors.
func TestEMFILEChild(t *testing.T) {
	if os.Getenv(emfileChild) != "1" {
		t.Skip("runs as the child of TestAcceptOutOfDescriptors")
	}
	runtime.LockOSThread() // keep the thread count (and so descriptors) steady
	r := copaslua.New()
	defer r.Close()
	r.Loop().Notice = func(msg string) { t.Log("notice: " + msg) }
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	rl.Cur = uint64(len(ents) + 40)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if err := r.DoString(emfileScript); err != nil {
		t.Fatal(err)
	}
	if got := r.State().GetGlobal("finished").String(); got != "yes" {
		t.Fatalf("script did not finish: %s", got)
	}
}

const emfileScript = `
local copas = require "copas"
local socket = require "socket"
local srv = assert(socket.bind("127.0.0.1", 0))
local _, port = srv:getsockname()
copas.addserver(srv, copas.handler(function(skt)
  while true do
    local l = skt:receive()
    if not l then break end
    skt:send(l .. "\n")
  end
end))
local function eq(got, want, what)
  if got ~= want then error(what .. ": got " .. tostring(got) .. ", want " .. tostring(want), 2) end
end
local failure
copas.addthread(function()
  local ok, err = pcall(function()
    local function client()
      local c = copas.wrap(socket.tcp())
      copas.settimeout(c, 10)
      assert(c:connect("127.0.0.1", port))
      return c
    end
    local function echo(c, s)
      assert(c:send(s .. "\n"))
      return c:receive()
    end
    local old = client()
    eq(echo(old, "before"), "before", "echo before the limit")

    -- Use up every descriptor.
    local filler = {}
    local fill_err
    while true do
      local u, e = socket.udp4()
      if not u then fill_err = e break end
      filler[#filler + 1] = u
    end
    eq(fill_err, "Too many open files", "udp4 at the limit")
    local s, e = socket.tcp4(); eq(s, nil, "tcp4 at the limit"); eq(e, "Too many open files", "tcp4 message")
    s, e = socket.udp6(); eq(e, "Too many open files", "udp6 at the limit")
    s, e = socket.bind("127.0.0.1", 0); eq(s, nil, "bind at the limit"); eq(e, "Too many open files", "bind message")
    s, e = socket.connect("127.0.0.1", port); eq(e, "Too many open files", "connect at the limit")

    -- A client takes the last descriptor; its connection waits in the
    -- backlog, since the server has none left to accept it with.
    table.remove(filler):close()
    local new = client()
    assert(new:send("new\n"))
    copas.pause(0.5)
    eq(echo(old, "during"), "during", "the open connection is still served")
    -- receivepartial waits in socket.select, which has no descriptor to
    -- spare for its wake-up eventfd now
    copas.addthread(function() copas.pause(0.1); old:send("partial\n") end)
    local got, perr, part = old:receivepartial("*l")
    eq(got or part, "partial", "receivepartial at the limit (" .. tostring(perr) .. ")")

    -- Descriptors come back: the server accepts again.
    for _ = 1, 10 do table.remove(filler):close() end
    eq(new:receive(), "new", "the waiting client is served")
    local third = client()
    eq(echo(third, "third"), "third", "a new client is served")
    old:close(); new:close(); third:close()
    for _, u in ipairs(filler) do u:close() end
  end)
  if not ok then failure = err end
  copas.removeserver(srv)
end)
copas.loop()
if failure then error(failure, 0) end
finished = "yes"
`

// A receive of a huge count reserves nothing up front: memory grows with
// the data that arrives (LuaSocket's buffer grows the same way).
func TestTCPHugeReceiveAllocatesAsDataArrives(t *testing.T) {
	r := copaslua.New()
	defer r.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := r.DoString(`
		local socket = require "socket"
		local srv = assert(socket.bind("127.0.0.1", 0))
		local _, port = srv:getsockname()
		local c = assert(socket.connect("127.0.0.1", port))
		local a = assert(srv:accept())
		assert(a:send(("d"):rep(100000)))
		a:close()
		for _, n in ipairs({2^31, 2^40, 1e300}) do
		  local d, err, part = c:receive(n)
		  assert(d == nil and err == "closed", tostring(err))
		  if n == 2^31 then assert(#part == 100000, #part) end
		end
		c:close(); srv:close()
	`); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Fatalf("receive(2^31) of 100 kB allocated %d MB", grew>>20)
	}
}
