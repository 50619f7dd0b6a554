-- Lua-level part of the socket module (the counterpart of LuaSocket's
-- socket.lua, written for copas-lua). Receives socket.core and returns the
-- same table extended, as LuaSocket does.
local socket = ...

local type, tostring, error, ipairs, setmetatable = type, tostring, error, ipairs, setmetatable
local min = math.min

socket.BLOCKSIZE = 2048
socket.try = socket.newtry()

-- socket.connect belongs to socket.core (tcp); this is only a stand-in
-- for a core that lacks it: create, optionally bind, connect.
if socket.connect == nil then
  local makers = { inet = "tcp4", inet6 = "tcp6" }
  function socket.connect(address, port, laddress, lport, family)
    local make = socket[makers[family] or "tcp"]
    local sock, err = make()
    if not sock then return nil, err end
    if laddress then
      local ok, berr = sock:bind(laddress, lport or 0)
      if not ok then sock:close(); return nil, berr end
    end
    local ok, cerr = sock:connect(address, port)
    if not ok then sock:close(); return nil, cerr end
    return sock
  end
end

function socket.connect4(address, port, laddress, lport)
  return socket.connect(address, port, laddress, lport, "inet")
end

function socket.connect6(address, port, laddress, lport)
  return socket.connect(address, port, laddress, lport, "inet6")
end

-- Tries every address the host resolves to and returns the first socket
-- that binds and listens; otherwise nil and the last error.
function socket.bind(host, port, backlog)
  if host == "*" then host = "0.0.0.0" end
  local addrs, err = socket.dns.getaddrinfo(host)
  if not addrs then return nil, err end
  err = "no info on address"
  for _, a in ipairs(addrs) do
    local sock, serr
    if a.family == "inet" then sock, serr = socket.tcp4() else sock, serr = socket.tcp6() end
    if not sock then return nil, serr end
    sock:setoption("reuseaddr", true)
    local ok, e = sock:bind(a.addr, port)
    if ok then ok, e = sock:listen(backlog) end
    if ok then return sock end
    sock:close()
    err = e
  end
  return nil, err
end

-- choose(t) returns a dispatcher: f(name, a, b) calls t[name](a, b); a
-- first argument that is not a string selects t.default with all arguments.
function socket.choose(t)
  return function(name, a, b)
    if type(name) ~= "string" then
      -- (one statement at a time: gopher-lua 1.1.2 mis-compiles the
      -- swap `name, a, b = "default", name, a` on parameters)
      b = a
      a = name
      name = "default"
    end
    local f = t[name or "nil"]
    if not f then error("unknown key (" .. tostring(name) .. ")", 3) end
    return f(a, b)
  end
end

-- LTN12 sources and sinks over a socket. They are callable tables that
-- keep getfd/dirty so socket.select accepts them too.
local function selectable(sock, call)
  return setmetatable({
    getfd = function() return sock:getfd() end,
    dirty = function() return sock:dirty() end,
  }, { __call = call })
end

local sinkt, sourcet = {}, {}
socket.sinkt, socket.sourcet = sinkt, sourcet

sinkt["close-when-done"] = function(sock)
  return selectable(sock, function(_, chunk)
    if chunk then return sock:send(chunk) end
    sock:close()
    return 1
  end)
end

sinkt["keep-open"] = function(sock)
  return selectable(sock, function(_, chunk)
    if chunk then return sock:send(chunk) end
    return 1
  end)
end

sinkt.default = sinkt["keep-open"]
socket.sink = socket.choose(sinkt)

-- A length is whole bytes: a fraction left over (Content-Length: 2.5)
-- ends the body, where LuaSocket would receive(0.5) = "" forever.
sourcet["by-length"] = function(sock, length)
  return selectable(sock, function()
    if length < 1 then return nil end
    local chunk, err = sock:receive(min(socket.BLOCKSIZE, length))
    if err then return nil, err end
    length = length - #chunk
    return chunk
  end)
end

sourcet["until-closed"] = function(sock)
  local finished = false
  return selectable(sock, function()
    if finished then return nil end
    local chunk, err, partial = sock:receive(socket.BLOCKSIZE)
    if not err then return chunk end
    if err ~= "closed" then return nil, err end
    sock:close()
    finished = true
    return partial
  end)
end

sourcet.default = sourcet["until-closed"]
socket.source = socket.choose(sourcet)

return socket
