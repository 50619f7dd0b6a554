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
	if err := L.DoString(`dns = require("socket").dns`); err != nil {
		t.Fatal(err)
	}
	return L, loop
}

// dnsChecks is the Lua script test of socket.dns, run here in blocking
// mode and inside a task.
func dnsChecks(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/lua/socket_dns_test.lua")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDNSBlocking(t *testing.T) {
	L, _ := newDNSState(t)
	if err := L.DoString(dnsChecks(t)); err != nil {
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
	fn, err := L.LoadString(dnsChecks(t))
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
