-- TLS echo through Copas with the shared throw-away pair (read-only):
-- copas.handler(fn, params) on the server, copas.wrap(skt, params) on the
-- client, a receive pattern of each kind, and ALPN chosen by a server
-- callback. Skipped when the shared files are not there.
local dir = TESTDIR .. "/../../../shared/api/"
local f = io.open(dir .. "testcert.pem")
if not f then print("ssl_echo: shared test certificate not found, skipped") return end
f:close()

local copas = require "copas"
local socket = require "socket"
local ssl = require "ssl"

local server_params = {
  mode = "server", protocol = "any",
  certificate = dir .. "testcert.pem", key = dir .. "testkey.pem",
  alpn = function(offered) assert(offered[1] == "foo"); return { "bar", "foo" } end,
}
local client_params = { mode = "client", protocol = "any", verify = "peer", cafile = dir .. "testcert.pem", alpn = { "foo", "bar" } }

local srv = assert(socket.bind("127.0.0.1", 0))
local _, port = srv:getsockname()
copas.addserver(srv, copas.handler(function(skt)
  assert(skt.socket:getalpn() == "bar", tostring(skt.socket:getalpn()))
  local line = assert(skt:receive("*l"))
  local five = assert(skt:receive(5))
  skt:send(line .. "|" .. five .. "\n")
  -- as in Copas, "*a" through copas reports the close: nil, "closed", data
  local data, err, part = skt:receive("*a")
  local rest = data or (err == "closed" and part)
  assert(rest, err)
  skt:send(#rest .. "\n")
end, server_params))

local done = false
copas.addthread(function()
  local skt = copas.wrap(socket.tcp(), client_params)
  assert(skt:connect("127.0.0.1", port))
  assert(skt:getalpn() == "bar")
  assert(skt:send("line\r\n12345"))
  assert(skt:receive() == "line|12345")
  local big = string.rep("abc", 50000)
  assert(skt:send(big) == #big)
  skt.socket:close() -- close_notify: the server's "*a" ends
  copas.removeserver(srv)
  done = true
end)
copas.loop()
assert(done)
