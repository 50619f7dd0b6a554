-- The same echo service in plain LuaSocket, without Copas: one thread,
-- socket.select over every connection (no 1024-descriptor ceiling here).
--   copas-lua examples/luasocket-echo-server.lua [port]
local socket = require "socket"

local port = tonumber(arg and arg[1]) or 8081
local server = assert(socket.bind("127.0.0.1", port))
server:settimeout(0)
print("echo server listening on 127.0.0.1:" .. select(2, server:getsockname()))

local clients = {}
while true do
  local readable = socket.select({ server, unpack(clients) }, nil)
  for _, s in ipairs(readable) do
    if s == server then
      local c = server:accept()
      if c then
        c:settimeout(0)
        clients[#clients + 1] = c
      end
    else
      local line, err = s:receive("*l")
      if line then
        s:send(line .. "\n")
      elseif err ~= "timeout" then
        s:close()
        for i, c in ipairs(clients) do
          if c == s then table.remove(clients, i) break end
        end
      end
    end
  end
end
