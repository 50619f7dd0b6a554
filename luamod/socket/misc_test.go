//go:build linux

package socket_test

import (
	"context"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"go.uber.org/goleak"
)

// Inside a task, socket.sleep parks on a loop timer (other tasks run
// meanwhile) and protect/newtry allow yields in the protected function
// and in the finalizer.
func TestMiscInTask(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	r := newRuntime(t)
	failOnTaskError(t, r)
	mustDo(t, r, `order = {}`)
	spawn(t, r, `
		socket.sleep(0.3) -- far longer than the other task needs
		order[#order + 1] = "slow"`)
	spawn(t, r, `
		assert(select("#", socket.sleep(0)) == 0)
		order[#order + 1] = "fast"
		local fin = 0
		local try = socket.newtry(function() socket.sleep(0); fin = fin + 1 end)
		local f = socket.protect(function(x)
			socket.sleep(0)
			if x then return try(nil, "failed: " .. x) end
			return "fine", 2
		end)
		local a, b = f()
		assert(a == "fine" and b == 2)
		a, b = f("x")
		assert(a == nil and b == "failed: x" and fin == 1, tostring(b))
		local ok, e = pcall(socket.protect(function() socket.sleep(0); error({code = 7}) end))
		assert(not ok and e.code == 7)
		order[#order + 1] = "protect"`)
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.DoString(`assert(table.concat(order, ",") == "fast,protect,slow", table.concat(order, ","))`); err != nil {
		t.Fatal(err)
	}
}

// A sleeping task that is killed leaves no timer behind.
func TestSleepKilled(t *testing.T) {
	r := newRuntime(t)
	task := spawn(t, r, `socket.sleep(3600); error("must not resume")`)
	r.Loop().Step(0)
	if !task.Parked() || r.Loop().Timers() != 1 {
		t.Fatalf("parked %v, timers %d", task.Parked(), r.Loop().Timers())
	}
	task.Kill()
	if r.Loop().Timers() != 0 {
		t.Fatal("timer still armed")
	}
	if task.Wake(lua.LNil) {
		t.Fatal("killed task woke")
	}
}
