package socket

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
	"go.uber.org/goleak"
)

// These tests only resolve names the hosts file answers (localhost,
// 127.0.0.1) or that Go refuses without asking a server ("bad name!"):
// no query leaves the machine.

func newDNSState(t *testing.T) (*lua.LState, *scheduler.Loop) {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	loop := scheduler.New(L)
	Preload(L)
	if err := L.DoString(`socket = require("socket"); dns = socket.dns`); err != nil {
		t.Fatal(err)
	}
	return L, loop
}

const dnsChecks = `
local ip, res = dns.toip("localhost")
assert(ip == "127.0.0.1", tostring(ip))
assert(res.name == "localhost" and res.ip[1] == "127.0.0.1" and type(res.alias) == "table")
ip, res = dns.toip("127.0.0.1")
assert(ip == "127.0.0.1" and res.name == "localhost" and res.ip[1] == "127.0.0.1", tostring(res and res.name))
local name = dns.tohostname("127.0.0.1")
assert(name == "localhost", tostring(name))
name, res = dns.tohostname("localhost")
assert(name == "localhost" and res.ip[1] == "127.0.0.1")
-- gethostbyname is IPv4 only
local none, err = dns.toip("::1")
assert(none == nil and err == "host not found", tostring(err))
none, err = dns.toip("bad name!")
assert(none == nil and err == "host not found", tostring(err))
none, err = dns.tohostname("bad name!")
assert(none == nil and err == "host not found", tostring(err))

local list = assert(dns.getaddrinfo("localhost"))
local found = false
for _, a in ipairs(list) do
  assert(a.family == "inet" or a.family == "inet6")
  if a.family == "inet" then assert(a.addr == "127.0.0.1"); found = true end
end
assert(found, "no inet address for localhost")
list = assert(dns.getaddrinfo("::1"))
assert(#list == 1 and list[1].family == "inet6" and list[1].addr == "::1")
list = assert(dns.getaddrinfo("127.1")) -- inet_aton's short form
assert(list[1].family == "inet" and list[1].addr == "127.0.0.1")
list = assert(dns.getaddrinfo(12))
assert(list[1].addr == "0.0.0.12")
none, err = dns.getaddrinfo("")
assert(none == nil and err == "host or service not provided, or not known", err)
none, err = dns.getaddrinfo("bad name!")
assert(none == nil and err == "host or service not provided, or not known", err)

local names, serv = dns.getnameinfo("127.0.0.1", 80)
assert(names[1] == "localhost" and serv == "http", tostring(serv))
names, serv = dns.getnameinfo(nil, "http")
assert(next(names) == nil and serv == "http")
names, serv = dns.getnameinfo(nil, 99999) -- truncated like htons
assert(serv == "34463", serv)
assert(select("#", dns.getnameinfo("127.0.0.1")) == 1)
none, err = dns.getnameinfo("127.0.0.1", "no-such-service")
assert(none == nil and err == "service not supported for socket type", err)
none, err = dns.getnameinfo("bad name!", 80)
assert(none == nil and err == "host or service not provided, or not known", err)
done = true
`

func TestDNSBlocking(t *testing.T) {
	L, _ := newDNSState(t)
	if err := L.DoString(dnsChecks); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if err := L.DoString(`return dns.gethostname()`); err != nil || L.Get(-1).String() != host {
		t.Fatalf("gethostname: %v %v", L.Get(-1), err)
	}
}

func TestDNSBadInput(t *testing.T) {
	L, _ := newDNSState(t)
	cases := []struct{ src, want string }{
		{`dns.toip()`, "bad argument #1"},
		{`dns.tohostname({})`, "bad argument #1"},
		{`dns.getaddrinfo(nil)`, "bad argument #1"},
		{`dns.getnameinfo()`, "host and serv cannot be both nil"},
		{`dns.getnameinfo({}, 80)`, "bad argument #1"},
		{`dns.getnameinfo("localhost", {})`, "bad argument #2"},
	}
	for _, c := range cases {
		if err := L.DoString(c.src); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.src, err, c.want)
		}
	}
}

func runLoop(t *testing.T, loop *scheduler.Loop) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := loop.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestDNSInTask(t *testing.T) {
	L, loop := newDNSState(t)
	loop.TaskError = func(_ *scheduler.Task, err error) { t.Errorf("task: %v", err) }
	fn, err := L.LoadString(dnsChecks)
	if err != nil {
		t.Fatal(err)
	}
	loop.Spawn(fn)
	runLoop(t, loop)
	if L.GetGlobal("done") != lua.LTrue {
		t.Fatal("checks did not complete")
	}
}

// A task killed during a lookup releases the loop at once and the lookup
// is cancelled: no goroutine is left waiting on the resolver.
func TestDNSCancel(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	dialed := make(chan context.Context, 1)
	old := dnsResolver
	dnsResolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		dialed <- ctx
		<-ctx.Done() // a server that never answers
		return nil, ctx.Err()
	}}
	defer func() { dnsResolver = old }()

	L, loop := newDNSState(t)
	fn, err := L.LoadString(`dns.toip("name.that.hangs.invalid"); error("must not resume")`)
	if err != nil {
		t.Fatal(err)
	}
	task := loop.Spawn(fn)
	loop.Step(0)
	if !task.Parked() {
		t.Fatal("lookup did not park the task")
	}
	ctx := <-dialed
	task.Kill()
	<-ctx.Done()
	for loop.Inflight() > 0 {
		loop.Step(time.Second)
	}
}
