//go:build linux

package socket_test

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// UDP receives park their task until a datagram or the timeout arrives.
func TestUDPTasks(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, host := range []string{"127.0.0.1", "::1"} {
		t.Run(host, func(t *testing.T) {
			r := taskRuntime(t)
			runScript(t, r, `
			local socket = require "socket"
			local host = "`+host+`"
			local srv = socket.udp()
			assert(srv:setsockname(host, 0))
			local ip, port = srv:getsockname()
			out = {}
			go(function()
			  local d, from, fport = srv:receivefrom()
			  out[#out+1] = "got " .. d
			  srv:settimeout(0.05)
			  local n, e = srv:receivefrom()
			  out[#out+1] = "then " .. tostring(n) .. " " .. e
			  srv:settimeout(-1)
			  assert(srv:sendto("pong", from, fport))
			  srv:close()
			end)
			go(function()
			  local c = socket.udp()
			  assert(c:setpeername(ip, port))
			  assert(c:send("ping"))
			  table.insert(out, "reply " .. c:receive())
			  c:close()
			end)
			`)
			want := "got ping|then nil timeout|reply pong"
			if got := strings.Join(luaStrings(t, r, "out"), "|"); got != want {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		})
	}
}
