-- A Copas echo server: every line a client sends comes back.
--   copas-lua examples/copas-echo-server.lua [port]
-- Try it with: nc 127.0.0.1 8080
local copas = require "copas"
local socket = require "socket"

local port = tonumber(arg and arg[1]) or 8080
local server = assert(socket.bind("127.0.0.1", port))
print("echo server listening on 127.0.0.1:" .. select(2, server:getsockname()))

copas.addserver(server, copas.handler(function(skt)
  while true do
    local line, err = skt:receive("*l")
    if not line then
      if err ~= "closed" then print("receive error: " .. tostring(err)) end
      return
    end
    skt:send(line .. "\n")
  end
end), nil, "echo")

copas.loop()
