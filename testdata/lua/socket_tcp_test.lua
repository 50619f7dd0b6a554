-- TCP objects of LuaSocket 3 used outside Copas (blocking semantics).
-- Every expectation here was checked against lua5.1 + LuaSocket 3.1.
local socket = require "socket"

local function eq(got, want, what)
  if got ~= want then
    error(string.format("%s: got %s, want %s", what, tostring(got), tostring(want)), 2)
  end
end

-- classes, tostring, methods in the metatable's __index
local m = socket.tcp()
eq(m.class, "tcp{master}", "class")
eq(getmetatable(m).__index.class, "tcp{master}", "__index.class")
assert(tostring(m):match("^tcp{master}: 0x%x+$"), tostring(m))
for _, name in ipairs{"accept", "bind", "close", "connect", "dirty", "getfamily", "getfd",
    "getoption", "getpeername", "getsockname", "getstats", "setstats", "listen", "receive",
    "send", "setfd", "setoption", "setpeername", "setsockname", "settimeout", "gettimeout", "shutdown"} do
  eq(type(getmetatable(m).__index[name]), "function", name)
end
eq(m:getfd(), -1, "tcp() has no descriptor yet")
eq(m:getfamily(), "inet4", "family of tcp()")
local b, t = m:gettimeout()
eq(b, -1, "block timeout"); eq(t, -1, "total timeout")
eq(m:settimeout(1, "t"), 1, "settimeout")
b, t = m:gettimeout(); eq(b, -1, "block"); eq(t, 1, "total")
m:settimeout(nil); m:settimeout(2, "r")
b, t = m:gettimeout(); eq(b, -1, "nil resets block"); eq(t, 2, "r is total")
local ok, e = m:getsockname(); eq(ok, nil, "getsockname no fd"); eq(e, "Bad file descriptor", "getsockname err")
ok, e = m:getoption("keepalive"); eq(e, "getsockopt failed", "getoption no fd")
ok, e = m:setoption("keepalive", true); eq(e, "setsockopt failed", "setoption no fd")
ok, e = m:listen(); eq(e, "Bad file descriptor", "listen no fd")
eq(m:close(), 1, "close"); eq(m:close(), 1, "close twice")

-- server, client, accepted connection
local srv = assert(socket.tcp4())
assert(srv:setoption("reuseaddr", true))
eq(srv:getoption("reuseaddr"), true, "reuseaddr")
eq(srv:bind("127.0.0.1", 0), 1, "bind")
assert(srv:getfd() >= 0)
local ip, port, fam = srv:getsockname()
eq(ip, "127.0.0.1", "sockname ip"); eq(fam, "inet", "sockname family")
eq(srv:listen(), 1, "listen")
eq(srv.class, "tcp{server}", "listen makes a server")
srv:settimeout(0)
ok, e = srv:accept(); eq(ok, nil, "accept nothing"); eq(e, "timeout", "accept timeout")
srv:settimeout(-1)

local c = socket.tcp()
eq(c:connect(ip, port), 1, "connect")
eq(c.class, "tcp{client}", "connect makes a client")
local s = assert(srv:accept())
eq(s.class, "tcp{client}", "accepted class")
local pip, pport, pfam = s:getpeername()
local cip, cport = c:getsockname()
eq(pip, cip, "peer ip"); eq(tostring(pport), cport, "peer port (getsockname gives a string)"); eq(pfam, "inet", "peer family")
eq(tostring(select(2, c:getpeername())), port, "client peer port")
eq(select('#', c:connect(ip, port)) >= 1, true, "connect again answers")

-- send ranges
eq(c:send("hello\r\nwor\rld\nabc"), 17, "send")
eq(c:send("0123456789", 3, 5), 5, "send i..j")
eq(c:send("0123456789", -3), 10, "send negative i")
eq(c:send("0123456789", 5, 3), 4, "empty range")
eq(c:send("0123456789", 0, 0), 0, "send 0,0")
eq(c:send("0123456789", 9, 100), 10, "j beyond end")
eq(c:send(12), 2, "numbers are strings")
eq(select('#', c:send("")), 3, "send returns three values")

-- receive patterns
eq(s:receive(), "hello", "*l strips CR LF")
eq(s:receive("*l"), "world", "*l drops every CR")
eq((s:getstats()), 14, "received count includes terminators")
eq(s:receive(3), "abc", "count")
eq(s:receive(4, "xy"), "xy23", "count with prefix")
eq(s:receive(2, "ppp"), "ppp", "prefix longer than count: no read")
eq(select('#', s:receive(0, "pp")), 3, "receive returns three values")
s:settimeout(0)
local d, err, part = s:receive()
eq(d, nil, "no line yet"); eq(err, "timeout", "line timeout"); eq(part, "47898912", "partial")
eq(s:dirty(), false, "partial consumed the buffer")
d, err, part = s:receive("*a"); eq(err, "timeout", "*a timeout"); eq(part, "", "no partial")
d, err, part = s:receive(10, "pre"); eq(err, "timeout", "count timeout"); eq(part, "pre", "prefix kept")
d, err, part = s:receive(0); eq(err, "timeout", "receive(0) reads first")
d, err, part = s:receive("*l", 12); eq(part, "12", "numeric prefix")
c:send("line\nmore")
socket.sleep(0.05)
eq(s:receive(), "line", "line available")
eq(s:dirty(), true, "rest buffered")
eq(s:receive(0), "", "receive(0) with data buffered")

-- stats
local r, snt, age = c:getstats()
eq(r, 0, "client received"); eq(snt, 36, "client sent"); assert(age >= 0)
eq(c:setstats(10, 20, 5), 1, "setstats")
r, snt, age = c:getstats()
eq(r, 10, "set received"); eq(snt, 20, "set sent"); assert(age >= 5 and age < 6, age)

-- shutdown and end of stream
eq(c:shutdown("send"), 1, "shutdown send")
s:settimeout(1)
d = s:receive("*a"); eq(d, "more", "*a until closed is success")
d, err, part = s:receive("*a"); eq(d, nil, "*a after close"); eq(err, "closed", "*a closed")
d, err, part = s:receive(); eq(err, "closed", "line after close"); eq(part, "", "empty partial")
eq(s:send("zz"), 2, "half-closed peer still reads")
eq(c:receive(2), "zz", "client reads")
eq(c:shutdown(), 1, "shutdown both")

-- closed objects
c:close()
eq(c:getfd(), -1, "closed fd")
assert(tostring(c):match("^tcp{client}: "))
d, err, part = c:receive(); eq(err, "closed", "receive on closed"); eq(part, "", "partial")
d, err, part = c:send("x"); eq(err, "closed", "send on closed"); eq(part, 0, "last index")
ok, e = c:getsockname(); eq(e, "Bad file descriptor", "sockname closed")
eq(c:dirty(), false, "dirty closed")
eq(c:shutdown(), 1, "shutdown closed")
eq((c:getstats()), 12, "stats survive close")

-- *a returns data then closed; peer close during a line gives the partial
local c2 = assert(socket.connect(ip, port))
local s2 = assert(srv:accept())
c2:send("little string")
c2:close()
d, err, part = s2:receive()
eq(err, "closed", "peer closed"); eq(part, "little string", "partial line")
s2:close()

-- IPv6
local srv6 = socket.tcp6()
eq(srv6:getfamily(), "inet6", "tcp6 family")
eq(srv6:bind("::1", 0), 1, "bind ::1")
local ip6, port6, fam6 = srv6:getsockname()
eq(ip6, "::1", "v6 address"); eq(fam6, "inet6", "v6 family")
assert(srv6:listen())
local c6 = socket.tcp()
eq(c6:connect("::1", port6), 1, "connect ::1")
eq(c6:getfamily(), "inet6", "family follows the address")
local s6 = assert(srv6:accept())
c6:send("six\n")
eq(s6:receive(), "six", "v6 data")
eq(select(3, s6:getpeername()), "inet6", "v6 peer family")
ok, e = socket.tcp4():bind("::1", 0)
eq(e, "Address family for hostname not supported", "v6 address on tcp4")
c6:close(); s6:close(); srv6:close()

-- non-blocking connect completes later
local nb = socket.tcp()
nb:settimeout(0)
local r1, e1 = nb:connect(ip, port)
assert(r1 == 1 or e1 == "timeout", tostring(e1))
socket.sleep(0.05)
local r2, e2 = nb:connect(ip, port)
assert(r2 == 1 or e2 == "already connected", tostring(e2))
eq(nb:send("x"), 1, "usable after completion")
nb:close()
srv:accept():close()

-- socket.connect with a local address; accept of a closed server
local c3 = assert(socket.connect(ip, port, "127.0.0.1", 0))
eq(c3.class, "tcp{client}", "socket.connect class")
c3:close()
srv:close()
ok, e = srv:accept(); eq(e, "closed", "accept on closed server")
print("socket_tcp ok")
