-- copas.handler with TLS params: a client that never completes the
-- handshake is dropped after the server's timeout and the handler never
-- runs; a proper client is served. Uses the shared throw-away pair
-- (read-only); skipped when it is not there.
local dir = TESTDIR .. "/../../../shared/api/"
local f = io.open(dir .. "testcert.pem")
if not f then print("ssl_handler: shared test certificate not found, skipped") return end
f:close()

local copas = require "copas"
local socket = require "socket"

local params = { mode = "server", protocol = "any",
  certificate = dir .. "testcert.pem", key = dir .. "testkey.pem" }
local handled = 0
local srv = assert(socket.bind("127.0.0.1", 0))
local _, port = srv:getsockname()
copas.addserver(srv, copas.handler(function(skt)
  handled = handled + 1
  skt:send("served\n")
end, params), 2) -- generous: a handshake under the race detector is slow

local silent_result, good
copas.addthread(function()
  -- a plain TCP client that stays silent: its handshake times out
  local raw = copas.wrap(socket.tcp())
  assert(raw:connect("127.0.0.1", port))
  raw:settimeout(20)
  local t0 = socket.gettime()
  silent_result = { raw:receive() }
  silent_result.waited = socket.gettime() - t0
  raw:close()
  -- a TLS client is served
  local c = copas.wrap(socket.tcp(), { mode = "client", protocol = "any", verify = "none" })
  assert(c:connect("127.0.0.1", port))
  good = c:receive()
  c:close()
  copas.removeserver(srv)
end)
copas.loop()
assert(silent_result[1] == nil and silent_result[2] == "closed", tostring(silent_result[2]))
assert(silent_result.waited < 15, "dropped after the handshake timeout")
assert(handled == 1, "the handler must not run for a timed-out handshake: " .. handled)
assert(good == "served", tostring(good))
