-- TLS echo benchmark: a Copas TLS server and N concurrent Copas TLS
-- clients in one process on 127.0.0.1; reports handshakes per second.
-- Runs unchanged on copas-lua and on LuaJIT + Copas + LuaSec (see
-- ssl_bench.sh). Usage: ssl_echo.lua CERT KEY [N]
local copas = require "copas"
local socket = require "socket"
local ssl = require "ssl"
local cert, key, n = arg[1], arg[2], tonumber(arg[3] or 1000)

local srv = assert(socket.bind("127.0.0.1", 0, 2048))
local _, port = srv:getsockname()
copas.addserver(srv, copas.handler(function(skt)
  local l = skt:receive()
  if l then skt:send(l .. "\n") end
end, { mode = "server", protocol = "any", certificate = cert, key = key }))

local ok, fail = 0, 0
local t0 = socket.gettime()
local tfirst
for i = 1, n do
  copas.addthread(function()
    local skt = copas.wrap(socket.tcp(), { mode = "client", protocol = "any" })
    local res, err = skt:connect("127.0.0.1", port)
    if res and skt:send("ping " .. i .. "\n") and skt:receive() == "ping " .. i then
      ok = ok + 1
    else
      fail = fail + 1
      if fail == 1 then print("first failure: " .. tostring(err)) end
    end
    skt:close()
    if ok + fail == n then
      local dt = socket.gettime() - t0
      print(string.format("%s: %d TLS clients (%d ok, %d failed) in %.2f s: %.0f handshakes/s",
        jit and "LuaJIT+LuaSec" or "copas-lua", n, ok, fail, dt, ok / dt))
      copas.removeserver(srv)
    end
  end)
end
copas.loop()
