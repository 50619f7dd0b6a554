-- Copas socket functions against local servers: addserver naming and
-- handlers, wrap, connect, receive patterns and timeouts with partial
-- data, close while another thread reads, removeserver, errors in
-- handlers, UDP, settimeouts validation.
local copas = require "copas"
local socket = require "socket"

local function server(handler, timeout, name)
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  copas.addserver(s, handler, timeout, name)
  return s, tonumber(port)
end

-- addserver: handler gets the raw client; names follow name:client_N
local seen = {}
local srv, port = server(function(skt)
  seen[#seen + 1] = { sock = copas.getsocketname(skt), thread = copas.getthreadname() }
  skt = copas.wrap(skt)
  local line = skt:receive()
  skt:send("got " .. line .. "\n")
end, nil, "srv")
local replies = {}
copas.addthread(function()
  for i = 1, 2 do
    local c = copas.wrap(socket.tcp())
    assert(c:connect("127.0.0.1", port))
    assert(c:send("hi" .. i .. "\n"))
    replies[i] = c:receive()
    c:close()
  end
  copas.removeserver(srv)
end)
copas.loop()
assert(replies[1] == "got hi1" and replies[2] == "got hi2", tostring(replies[1]))
assert(seen[1].sock == "srv:client_1" and seen[1].thread == "srv:handler_1", seen[1].sock .. " " .. seen[1].thread)
assert(seen[2].sock == "srv:client_2")

-- wrap is idempotent and names the wrapper; settimeout validation
local raw = socket.tcp()
local w = copas.wrap(raw)
assert(copas.wrap(w) == w)
assert(tostring(w):find("copas wrapped"))
local ok, err = copas.settimeout(w, "x")
assert(ok == nil and err == "timeout must be 'nil' or a number")
ok, err = copas.settimeouts(w, nil, "y")
assert(ok == nil and err == "send timeout must be 'nil' or a number")
assert(copas.settimeouts(w, 1, nil, 2))
raw:close()

-- receive patterns and a timeout that keeps the partial data
local results = {}
srv, port = server(copas.handler(function(skt)
  skt:send("line one\r\nline two\nab")
  copas.pause(0.2)  -- the client's 0.05 s timeout fires first
  skt:send("cdef")
  copas.pause(0.05)
end))
copas.addthread(function()
  local c = copas.wrap(socket.tcp())
  assert(c:connect("127.0.0.1", port))
  results.l1 = c:receive("*l")
  results.l2 = c:receive()
  c:settimeout(0.05)
  local data, e, partial = c:receive(10)
  results.timeout = { data, e, partial }
  c:settimeout(2)
  results.rest = { c:receive(4, partial) }
  results.all = { c:receive("*a") }
  c:close()
  copas.removeserver(srv)
end)
copas.loop()
assert(results.l1 == "line one" and results.l2 == "line two", tostring(results.l1))
assert(results.timeout[1] == nil and results.timeout[2] == "timeout" and results.timeout[3] == "ab",
  tostring(results.timeout[2]) .. " " .. tostring(results.timeout[3]))
assert(results.rest[1] == "abcd", tostring(results.rest[1]))
-- as in Copas: the stream arrived in pieces, so "*a" ends with the close
assert(results.all[1] == nil and results.all[2] == "closed" and results.all[3] == "ef",
  tostring(results.all[1]) .. " " .. tostring(results.all[2]))

-- connection refused and a bad port are errors, not crashes
local refused
copas.addthread(function()
  local probe = socket.bind("127.0.0.1", 0)
  local _, p = probe:getsockname()
  probe:close()
  local c = copas.wrap(socket.tcp())
  refused = { c:connect("127.0.0.1", p) }
  c:close()
end)
copas.loop()
assert(refused[1] == nil and refused[2] == "connection refused", tostring(refused[2]))

-- close while another thread reads: the reader gets "closed"
local reader_result
srv, port = server(copas.handler(function(skt) copas.pause(0.3) end))
copas.addthread(function()
  local c = copas.wrap(socket.tcp())
  assert(c:connect("127.0.0.1", port))
  copas.addthread(function()
    copas.pause(0.05)
    c:close()
  end)
  reader_result = { c:receive() }
  copas.removeserver(srv)
end)
copas.loop()
assert(reader_result[1] == nil and reader_result[2] == "closed", tostring(reader_result[2]))

-- errors in handlers go to the error handler with the client socket, and
-- the server keeps serving
local errs = {}
copas.seterrorhandler(function(msg, co, skt) errs[#errs + 1] = { msg = msg, skt = skt } end, true)
local served = 0
srv, port = server(function(skt)
  served = served + 1
  if served == 1 then error("handler failed") end
  copas.wrap(skt):send("fine\n")
end)
local second
copas.addthread(function()
  local c1 = copas.wrap(socket.tcp()); assert(c1:connect("127.0.0.1", port))
  local lost = { c1:receive() } -- the failing handler's socket is closed (autoclose)
  local c2 = copas.wrap(socket.tcp()); assert(c2:connect("127.0.0.1", port))
  second = c2:receive()
  c1:close(); c2:close()
  copas.removeserver(srv)
  assert(lost[2] == "closed", tostring(lost[2]))
end)
copas.loop()
assert(second == "fine")
assert(#errs == 1 and tostring(errs[1].msg):find("handler failed") and errs[1].skt ~= nil)
copas.seterrorhandler(function(msg, co, skt) print(copas.gettraceback(msg, co, skt)) end, true)

-- removeserver while clients connect: later connects are refused
srv, port = server(function(skt) end)
local after
copas.addthread(function()
  copas.removeserver(srv)
  local c = copas.wrap(socket.tcp())
  after = { c:connect("127.0.0.1", port) }
  c:close()
end)
copas.loop()
assert(after[1] == nil, "connect after removeserver must fail")

-- removeserver(skt, true) keeps the socket open
srv, port = server(function() end)
assert(copas.removeserver(srv, true))
assert(srv:getsockname(), "kept open")
srv:close()

-- UDP server: the handler gets the server socket
local udp = socket.udp()
assert(udp:setsockname("127.0.0.1", 0))
local _, uport = udp:getsockname()
local echoed
copas.addserver(udp, function(s)
  s = copas.wrap(s)
  local data, ip, p = s:receivefrom()
  s:sendto("re:" .. data, ip, p)
end)
copas.addthread(function()
  local c = copas.wrap(socket.udp())
  assert(c:setpeername("127.0.0.1", uport))
  assert(c:send("ping"))
  echoed = c:receive()
  c:close()
end)
copas.loop()
assert(echoed == "re:ping", tostring(echoed))
udp:close()

-- exit with pending threads: waitforexit returns once the loop signals exit
local order = {}
copas.addthread(function()
  copas.waitforexit()
  order[#order + 1] = "exit seen"
end)
copas.addthread(function()
  copas.pause(0.01)
  order[#order + 1] = "worker done"
end)
copas.loop()
assert(table.concat(order, ",") == "worker done,exit seen", table.concat(order, ","))

-- bad input
assert(not pcall(copas.addserver, nil, function() end))
assert(not pcall(copas.receive, nil))
print("copas sockets ok")
