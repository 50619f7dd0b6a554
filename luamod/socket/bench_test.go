//go:build linux

package socket_test

import (
	"fmt"
	"testing"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
	lua "github.com/yuin/gopher-lua"
)

// BenchmarkTCPEchoTasks is the I/O path of a Copas-style echo: conns
// loopback connections in one loop, a client task and a server task on
// each, every round trip four socket operations of which the receives
// park (the loop's poll set, a readiness callback, a resume). One op of
// the benchmark is one round trip.
func BenchmarkTCPEchoTasks(b *testing.B) {
	for _, conns := range []int{1, 50} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			r := copaslua.New()
			defer r.Close()
			L := r.State()
			L.SetGlobal("go", L.NewFunction(func(L *lua.LState) int {
				fn := L.CheckFunction(1)
				var args []lua.LValue
				for i := 2; i <= L.GetTop(); i++ {
					args = append(args, L.Get(i))
				}
				r.Loop().Spawn(fn, args...)
				return 0
			}))
			n := b.N/conns + 1
			err := r.DoString(fmt.Sprintf(`
			local socket = require "socket"
			local srv = assert(socket.bind("127.0.0.1", 0))
			local ip, port = srv:getsockname()
			for i = 1, %d do
			  local c = assert(socket.connect(ip, port))
			  local s = assert(srv:accept())
			  go(function()
			    while true do
			      local line = s:receive()
			      if not line then return end
			      s:send(line .. "\n")
			    end
			  end)
			  go(function()
			    for j = 1, %d do
			      c:send("the quick brown fox jumps over the lazy dog\n")
			      assert(c:receive())
			    end
			    c:close()
			  end)
			end
			srv:close()`, conns, n))
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			deadline := time.Now().Add(5 * time.Minute)
			for r.Loop().Pending() && time.Now().Before(deadline) {
				r.Loop().Step(time.Second)
			}
		})
	}
}
