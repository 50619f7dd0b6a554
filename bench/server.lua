-- Copas echo server for the scale benchmark (bench/echobench).
--
--   copas-lua bench/server.lua [port]
--   luajit    bench/server.lua [port]   (LUA_PATH pointing at Copas 4.11)
--
-- Each client sends lines and gets every line back. The script is plain
-- Copas 4.11 + LuaSocket 3 and runs unchanged on both. It prints
-- "listening <port>" once bound (port 0: the OS picks one).
local copas = require "copas"
local socket = require "socket"

local port = tonumber(arg and arg[1]) or 0
local server = assert(socket.bind("127.0.0.1", port, 1024))
local _, bound = server:getsockname()
io.stdout:write("listening ", tostring(bound), "\n")
io.stdout:flush()

copas.addserver(server, copas.handler(function(skt)
  while true do
    local line = skt:receive("*l")
    if not line then return end
    if not skt:send(line .. "\n") then return end
  end
end), nil, "echo")

copas.loop()
