-- Connects to a TCP service and prints the first line it sends.
--   copas-lua examples/daytime-client.lua host port
local socket = require "socket"
local host, port = arg[1] or "127.0.0.1", tonumber(arg[2]) or 13
local c, err = socket.connect(host, port)
if not c then
  io.stderr:write("connect failed: ", err, "\n")
  os.exit(1)
end
c:settimeout(5)
print(c:receive("*l"))
c:close()
