-- Bad input and error strings of TCP/UDP objects, as LuaSocket 3.1 gives
-- them (checked against lua5.1). Only the message after the position is
-- compared.
local socket = require "socket"

local function raises(want, f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error: " .. want)
  e = tostring(e)
  assert(e:sub(-#want) == want, string.format("got %q, want ...%q", e, want))
end
local function eq(got, want, what)
  if got ~= want then error(string.format("%s: got %s, want %s", what, tostring(got), tostring(want)), 2) end
end

local m = socket.tcp4()
-- wrong class (colon calls: "bad self")
raises("calling 'receive' on bad self (tcp{client} expected)", function() return m:receive() end)
raises("calling 'send' on bad self (tcp{client} expected)", function() return m:send("x") end)
raises("calling 'accept' on bad self (tcp{server} expected)", function() return m:accept() end)
raises("calling 'shutdown' on bad self (tcp{client} expected)", function() return m:shutdown() end)
raises("calling 'getstats' on bad self (tcp{client} expected)", function() return m:getstats() end)
local u = socket.udp()
raises("calling 'getpeername' on bad self (udp{connected} expected)", function() return u:getpeername() end)
raises("calling 'send' on bad self (udp{connected} expected)", function() return u:send("x") end)

-- argument types
raises("bad argument #1 to 'settimeout' (number expected, got string)", function() return m:settimeout("x") end)
raises("bad argument #2 to 'settimeout' (invalid timeout mode)", function() return m:settimeout(1, "x") end)
raises("bad argument #1 to 'setoption' (unsupported option `foo')", function() return m:setoption("foo", true) end)
raises("bad argument #1 to 'getoption' (unsupported option `foo')", function() return m:getoption("foo") end)
raises("bad argument #1 to 'getoption' (unsupported option `ipv6-v6only')", function() return m:getoption("ipv6-v6only") end)
raises("bad argument #2 to 'setoption' (boolean expected, got number)", function() return m:setoption("keepalive", 1) end)
raises("bad argument #2 to 'setoption' (table expected, got number)", function() return m:setoption("linger", 5) end)
raises("bad argument #2 to 'setoption' (boolean 'on' field expected)", function() return m:setoption("linger", {on = 1}) end)
raises("bad argument #2 to 'setoption' (number 'timeout' field expected)", function() return m:setoption("linger", {on = true}) end)
raises("bad argument #1 to 'bind' (string expected, got nil)", function() return m:bind(nil, 0) end)
raises("bad argument #2 to 'bind' (string expected, got no value)", function() return m:bind("*") end)
raises("bad argument #1 to 'listen' (number expected, got string)", function() return m:listen("x") end)
raises("bad argument #1 to 'getoption' (unsupported option `keepalive')", function() return u:getoption("keepalive") end)
raises("bad argument #2 to 'setoption' (ip expected)", function() return u:setoption("ip-multicast-if", "x") end)
raises("bad argument #1 to 'getoption' (unsupported option `ip-multicast-ttl')", function() return u:getoption("ip-multicast-ttl") end)
raises("bad argument #2 to 'setoption' (invalid 'multiaddr' ip address)", function() return u:setoption("ip-add-membership", {multiaddr = "x", interface = "*"}) end)
raises("bad argument #2 to 'setoption' (string 'multiaddr' field expected)", function() return u:setoption("ip-add-membership", {interface = "*"}) end)
raises("bad argument #2 to 'setoption' (string 'interface' field expected)", function() return u:setoption("ip-add-membership", {multiaddr = "239.1.2.3"}) end)
raises("bad argument #3 to 'sendto' (string expected, got no value)", function() return u:sendto("x", "127.0.0.1") end)
raises("bad argument #1 to 'sendto' (string expected, got nil)", function() return u:sendto(nil, "127.0.0.1", 1) end)
raises("bad argument #1 to 'receive' (number expected, got string)", function() return u:receive("*a") end)
raises("bad argument #2 to 'setpeername' (string expected, got no value)", function() return u:setpeername("127.0.0.1") end)
raises("bad argument #5 to 'connect' (invalid option 'x')", function() return socket.connect("127.0.0.1", 1, nil, nil, "x") end)

-- setoption values that are not numbers become 0; the kernel refuses them
local ok, e = m:setoption("tcp-keepidle")
eq(e, "setsockopt failed", "keepidle nil")
eq(m:setoption("tcp-keepidle", "40"), 1, "numeric string")
eq(m:getoption("tcp-keepidle"), 40, "keepidle value")
eq(m:setoption("linger", {on = true, timeout = 5}), 1, "linger")
eq(m:getoption("linger").timeout, 5, "linger timeout")
ok, e = m:setoption("ipv6-v6only", true); eq(e, "setsockopt failed", "v6only on v4")

-- receive / send arguments on a client
local srv = assert(socket.bind("127.0.0.1", 0))
local ip, port = srv:getsockname()
local c = assert(socket.connect(ip, port))
raises("bad argument #1 to 'receive' (invalid receive pattern)", function() return c:receive("x") end)
raises("bad argument #1 to 'receive' (invalid receive pattern)", function() return c:receive("l") end)
raises("bad argument #1 to 'receive' (invalid receive pattern)", function() return c:receive(-1) end)
raises("bad argument #1 to 'receive' (string expected, got table)", function() return c:receive({}) end)
raises("bad argument #1 to 'send' (string expected, got no value)", function() return c:send() end)
raises("bad argument #1 to 'send' (string expected, got table)", function() return c:send({}) end)
raises("bad argument #2 to 'send' (number expected, got string)", function() return c:send("x", "a") end)
raises("bad argument #1 to 'shutdown' (invalid option 'x')", function() return c:shutdown("x") end)
raises("calling 'listen' on bad self (tcp{master} expected)", function() return c:listen() end)
raises("calling 'bind' on bad self (tcp{master} expected)", function() return srv:bind("*", 0) end)
c:close(); srv:close()

-- resolver and connection errors
local l = socket.tcp4(); l:bind("127.0.0.1", 0); local _, cport = l:getsockname(); l:close()
ok, e = socket.tcp():connect("127.0.0.1", cport); eq(e, "connection refused", "refused")
ok, e = socket.connect("127.0.0.1", cport); eq(e, "connection refused", "socket.connect refused")
ok, e = socket.tcp():connect("127.0.0.1", "abc"); eq(e, "service not supported for socket type", "bad service")
ok, e = socket.tcp():connect("127.0.0.1", -1); eq(e, "service not supported for socket type", "negative port")
ok, e = socket.tcp():connect("127.0.0.1", 1.5); eq(e, "service not supported for socket type", "fractional port")
ok, e = socket.tcp():connect("", 80); eq(e, "host or service not provided, or not known", "empty host")
ok, e = socket.tcp():bind("", 0); eq(e, "host or service not provided, or not known", "empty bind host")
ok, e = socket.tcp6():connect("127.0.0.1", 80); eq(e, "Address family for hostname not supported", "v4 on tcp6")
ok, e = socket.udp4():setsockname("::1", 0); eq(e, "Address family for hostname not supported", "v6 on udp4")
-- glibc wraps numeric ports modulo 65536; copas-lua refuses them as glibc
-- refuses -1 (socket_faults_bad_input_test.lua has the full matrix)
local w = socket.tcp4()
ok, e = w:bind("127.0.0.1", 65536 + 0); eq(e, "service not supported for socket type", "port 65536 refused")
w:close()
ok, e = w:bind("127.0.0.1", 0)
eq(ok, 1, "bind on a closed master makes a new descriptor")
w:close()

-- non-blocking connect to a closed port: the error is left on the socket
local nb = socket.tcp()
nb:settimeout(0)
ok, e = nb:connect("127.0.0.1", cport)
assert(e == "timeout" or e == "connection refused", e)
if e == "timeout" then
  local err
  for _ = 1, 100 do
    err = nb:getoption("error")
    if err then break end
    socket.sleep(0.01)
  end
  eq(err, "connection refused", "pending error")
end
nb:close()
print("socket_errors ok")
