-- A thread blocked on a TLS connection (copas.receivepartial, which waits
-- in socket.select, and receive) wakes with nil, "closed" when another
-- thread closes the connection. Uses the shared throw-away pair
-- (read-only); skipped when it is not there.
local dir = TESTDIR .. "/../../../shared/api/"
local f = io.open(dir .. "testcert.pem")
if not f then print("ssl_close: shared test certificate not found, skipped") return end
f:close()

local copas, socket = require "copas", require "socket"
local srvp = { mode = "server", protocol = "any",
  certificate = dir .. "testcert.pem", key = dir .. "testkey.pem" }
local srv = assert(socket.bind("127.0.0.1", 0))
local _, port = srv:getsockname()
copas.addserver(srv, copas.handler(function(skt) skt:receive("*a") end, srvp), 10)

local results = {}
local function blocked(method)
  local c = copas.wrap(socket.tcp(), { mode = "client", protocol = "any", verify = "none" })
  assert(c:connect("127.0.0.1", port))
  copas.addthread(function() copas.pause(0.2); c:close() end)
  local t0 = socket.gettime()
  local data, err = c[method](c, 10)
  results[method] = { data = data, err = err, t = socket.gettime() - t0 }
end
copas.addthread(function()
  blocked("receivepartial")
  blocked("receive")
  copas.removeserver(srv)
end)
copas.loop()
for _, m in ipairs { "receivepartial", "receive" } do
  local r = results[m]
  assert(r, m .. " never returned")
  assert(r.data == nil and r.err == "closed", m .. ": " .. tostring(r.data) .. ", " .. tostring(r.err))
  assert(r.t < 8, m .. " woke late: " .. r.t)
end
-- bad input: closing twice is harmless
local c = copas.wrap(socket.tcp(), { mode = "client", protocol = "any", verify = "none" })
c:close()
c:close()
