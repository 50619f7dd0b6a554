-- The Copas 4.11 dispatcher for copas-lua, written for this project.
--
-- Threads are tasks of the Go event loop (`core`, passed in by Go):
-- `core.sleep` parks a thread on a loop timer, and socket operations park
-- it inside the socket module, so there is no select() set and no
-- descriptor ceiling. Socket methods are called with the Copas timeout of
-- that socket as their own timeout; inside a thread they wait without
-- blocking other threads.
local core = ...

if package.loaded["socket.http"] and package.loaded["socket.http"].__copas_lua_original then
  error("you must require copas before require'ing socket.http")
end

-- LuaSocket is loaded only when a socket function needs it: Copas also
-- runs programs that use no sockets at all (its no_luasocket test).
local socket_mod
local function sockets()
  socket_mod = socket_mod or package.loaded.socket or require("socket")
  return socket_mod
end
local gettime = core.gettime
local co_running = coroutine.running
local co_status = coroutine.status
local pcall, error, type, tostring, select, setmetatable, getmetatable, rawget =
      pcall, error, type, tostring, select, setmetatable, getmetatable, rawget
local random, huge = math.random, math.huge
-- A private reference (core.traceback is debug.traceback as the runtime
-- installed it): the default error handler works when the embedding
-- program's sandbox has removed the debug library.
local traceback = core.traceback or (debug and debug.traceback) or function(msg) return msg end

local UDP_DATAGRAM_MAX = 8192 -- socket._DATAGRAMSIZE

local copas = {
  _COPYRIGHT = "Copyright (C) 2026 the copas-lua authors; API of Copas by the Kepler Project and Thijs Schreijer",
  _DESCRIPTION = "Coroutine Oriented Portable Asynchronous Services (copas-lua)",
  _VERSION = "Copas 4.11.0",
  autoclose = true,
  running = false,
  gettime = gettime,
}

local function weak(mode) return setmetatable({}, { __mode = mode }) end

-------------------------------------------------------------------------------
-- Names of threads and sockets
-------------------------------------------------------------------------------
local names = weak("k")

local function nameof(obj)
  local n = names[obj]
  if n == nil then
    n = tostring(obj)
    if obj ~= nil then names[obj] = n end
  end
  return n
end

-------------------------------------------------------------------------------
-- Per-thread and per-socket state. Entries of threads are dropped when the
-- thread ends; socket entries are weak.
-------------------------------------------------------------------------------
local registered = weak("k")    -- threads added with addthread (removable)
local errhandlers = weak("k")   -- error handler per thread
local thread_socket = weak("k") -- socket a thread serves (for error reports)
local autoclose = weak("k")     -- thread -> socket to close when it ends
local autoclose_r = weak("k")   -- socket -> thread
local to_connect = weak("k")    -- Copas timeouts per socket; nil = forever
local to_send = weak("k")
local to_receive = weak("k")
local socket_errors = weak("k") -- threads that want raw timeout errors

-- Copas exports its per-thread timeout registries when _G._TEST is set
-- (its tests check they do not keep threads). Socket timeouts here are the
-- socket's own deadlines, so there is nothing to register: the tables stay
-- empty by construction.
if rawget(_G, "_TEST") then
  copas._socket_register = weak("k")
  copas._operation_register = weak("k")
  copas._timeout_flags = weak("k")
end

local servers = {}       -- server socket -> { thread = co, handler = fn }
local nservers = 0

local reporter = core.reporter()
local function default_error_handler(msg, co, skt)
  local tb = copas.gettraceback(msg, co, skt)
  if reporter then reporter(tb) else print(tb) end
end
local deferror = default_error_handler

local function forget(co)
  errhandlers[co] = nil
  thread_socket[co] = nil
  registered[co] = nil
  socket_errors[co] = nil
  local skt = autoclose[co]
  if skt then
    autoclose[co] = nil
    autoclose_r[skt] = nil
  end
end

-- Timeout callbacks run on the main thread; Copas runs them in its timer
-- thread "copas_core_timer" and reports their errors with that thread. This
-- stand-in (never resumed) plays that part for error handlers.
local timer_thread = coroutine.create(function() end)
names[timer_thread] = "copas_core_timer"

core.onexit(function(co, ok, err)
  if co == nil then -- a timeout callback failed (core.timer reports it)
    local hok, herr = pcall(deferror, err, timer_thread, nil)
    if not hok then
      print("Failed executing error handler: " .. tostring(herr))
    end
    return
  end
  if ok == nil then -- removed by removethread while it ran
    forget(co)
    return
  end
  if not ok then
    local handler = errhandlers[co] or deferror
    local hok, herr = pcall(handler, err, co, thread_socket[co])
    if not hok then
      print("Failed executing error handler: " .. tostring(herr))
    end
  end
  local skt = autoclose[co]
  forget(co)
  if skt then skt:close() end
end)

-------------------------------------------------------------------------------
-- Socket I/O
-------------------------------------------------------------------------------
local is_socket_timeout = { timeout = true, wantread = true, wantwrite = true }

local function timeout_error(err)
  if socket_errors[co_running() or 0] then return err end
  return "timeout"
end

-- Copas may yield to other threads after an operation so one busy socket
-- cannot starve the rest (tests/starve.lua relies on it).
-- Copas does it at random on 10% of operations; every tenth is as fair
-- and cheaper.
local ops = 0
local function fairness()
  ops = ops + 1
  if ops >= 10 then
    ops = 0
    if co_running() then core.sleep(0) end
  end
end

-- Sockets threads are waiting on, so cancelall can close them as Copas
-- closes its read and write sets.
local io_wait = weak("k")

-- Sets the socket's own timeout to the Copas one for the next operation.
-- The socket's own timeout last set by Copas, to skip the call when it
-- does not change (the common case: one timeout per socket).
local armed = weak("k")

local function settimeout(skt, t)
  if armed[skt] ~= t then
    skt:settimeout(t)
    armed[skt] = t
  end
end

local function arm(skt, t)
  settimeout(skt, t or -1)
  local co = co_running()
  if co then io_wait[co] = skt end
end

local function disarm()
  local co = co_running()
  if co then io_wait[co] = nil end
end

-- Copas calls a method of the socket it is given first; these checks give
-- Lua 5.1's messages for a value that is no socket (the usual case: the
-- nil of a failed socket.connect), which gopher-lua words differently.
local indexable = { table = true, userdata = true, string = true }
local function check_socket(skt, name, method)
  local t = type(skt)
  if not indexable[t] then
    error(("attempt to index local '%s' (a %s value)"):format(name, t), 2)
  end
  local m = skt[method]
  if m == nil then
    error(("attempt to call method '%s' (a nil value)"):format(method), 2)
  end
end

local function kind(skt)
  local s = tostring(skt):sub(1, 3)
  if s == "tcp" then return "tcp" end
  if s == "SSL" then return "ssl" end
  return nil
end

function copas.close(skt, ...)
  if type(skt) ~= "userdata" then check_socket(skt, "skt", "close") end
  return skt:close(...)
end

function copas.settimeout(skt, timeout)
  timeout = timeout or -1
  if type(timeout) ~= "number" then
    return nil, "timeout must be 'nil' or a number"
  end
  return copas.settimeouts(skt, timeout, timeout, timeout)
end

local function set_one(tbl, skt, v, what)
  if v ~= nil and type(v) ~= "number" then
    return nil, what .. " timeout must be 'nil' or a number"
  end
  if v then
    if v < 0 then v = nil end
    tbl[skt] = v
  end
  return true
end

function copas.settimeouts(skt, connect, send, read)
  local ok, err = set_one(to_connect, skt, connect, "connect")
  if not ok then return nil, err end
  ok, err = set_one(to_send, skt, send, "send")
  if not ok then return nil, err end
  ok, err = set_one(to_receive, skt, read, "read")
  if not ok then return nil, err end
  return true
end

local function finish_io(s, err, ...)
  if s == nil and is_socket_timeout[err] then
    return nil, timeout_error(err), ...
  end
  return s, err, ...
end

function copas.receive(client, pattern, part)
  if type(client) ~= "userdata" then check_socket(client, "client", "receive") end
  pattern = pattern or "*l"
  if pattern == "*a" then
    -- Copas reads non-blocking and retries, so unless the whole stream is
    -- already there its final read sees only the close: nil, "closed",
    -- everything. Reproduce that with one non-blocking attempt first.
    settimeout(client, 0)
    local s, err, rest = client:receive(pattern, part)
    if s or not is_socket_timeout[err] then
      fairness()
      return finish_io(s, err, rest)
    end
    arm(client, to_receive[client])
    s, err, rest = client:receive(pattern, rest)
    disarm()
    fairness()
    if s then return nil, "closed", s end
    return finish_io(s, err, rest)
  end
  arm(client, to_receive[client])
  local s, err, rest = client:receive(pattern, part)
  disarm()
  fairness()
  return finish_io(s, err, rest)
end

function copas.receivefrom(client, size)
  if type(client) ~= "userdata" then check_socket(client, "client", "receivefrom") end
  size = size or UDP_DATAGRAM_MAX
  arm(client, to_receive[client])
  local s, ip, port = client:receivefrom(size)
  disarm()
  fairness()
  if s == nil and is_socket_timeout[ip] then
    return nil, timeout_error(ip), port
  end
  return s, ip, port
end

-- Returns as soon as any data arrived, even if the pattern is not complete.
function copas.receivepartial(client, pattern, part)
  if type(client) ~= "userdata" then check_socket(client, "client", "receive") end
  pattern = pattern or "*l"
  local orig = #(part or "")
  local limit = to_receive[client]
  local deadline = limit and gettime() + limit
  repeat
    settimeout(client, 0)
    local s, err, rest = client:receive(pattern, part)
    if s or (type(rest) == "string" and #rest > orig) or not is_socket_timeout[err] then
      fairness()
      return finish_io(s, err, rest)
    end
    part = rest
    local wait = deadline and deadline - gettime()
    if wait and wait <= 0 then
      return nil, timeout_error(err), rest
    end
    local co = co_running()
    if co then io_wait[co] = client end
    sockets().select({ client }, nil, wait)
    disarm()
  until false
end
copas.receivePartial = copas.receivepartial

function copas.send(client, data, from, to)
  if type(client) ~= "userdata" then check_socket(client, "client", "send") end
  arm(client, to_send[client])
  local s, err, last = client:send(data, from, to)
  disarm()
  fairness()
  return finish_io(s, err, last)
end

function copas.sendto(client, data, ip, port)
  if type(client) ~= "userdata" then check_socket(client, "client", "sendto") end
  return client:sendto(data, ip, port)
end

function copas.connect(skt, host, port)
  if type(skt) ~= "userdata" then check_socket(skt, "skt", "settimeout") end
  arm(skt, to_connect[skt])
  local ok, err = skt:connect(host, port)
  disarm()
  if not ok and is_socket_timeout[err] then
    -- Copas retries a non-blocking connect, so the raw error it reports on
    -- a timeout is the retry's EALREADY.
    return nil, timeout_error("Operation already in progress")
  end
  return ok, err
end

function copas.flush()
end

-------------------------------------------------------------------------------
-- TLS
-------------------------------------------------------------------------------
local function ssl_wrap(skt, params)
  if kind(skt) == "ssl" then return skt end
  if not params then
    error("cannot wrap socket into a secure socket (using 'ssl.wrap()') without parameters/context")
  end
  local ssl = require "ssl"
  local nskt = assert(ssl.wrap(skt, params))
  copas.settimeouts(nskt, to_connect[skt] or -1, to_send[skt] or -1, to_receive[skt] or -1)
  local co = autoclose_r[skt]
  if co then
    autoclose[co] = nskt
    autoclose_r[skt] = nil
    autoclose_r[nskt] = co
  end
  local n = rawget(names, skt)
  if n and n ~= tostring(skt) then names[nskt] = n end
  return nskt
end

local strict_params = {
  __index = function(_, key)
    error("accessing unknown 'ssl_params' table key: " .. tostring(key))
  end,
}
-- Plain connections share one parameter table (it is only read).
local no_ssl = setmetatable({ wrap = false, sni = false }, strict_params)

local function normalize_sslt(sslt)
  local t = type(sslt)
  if t == "nil" then return no_ssl end
  local r = setmetatable({}, strict_params)
  if t == "table" then
    if sslt.mode or sslt.protocol then
      r.wrap, r.sni = sslt, false
    else
      r.wrap, r.sni = sslt.wrap or false, sslt.sni or false
    end
  elseif t == "userdata" then
    r.wrap, r.sni = sslt, false
  else
    error("ssl parameters; did not expect type " .. tostring(sslt))
  end
  return r
end

function copas.dohandshake(skt, params)
  local nskt = ssl_wrap(skt, params)
  arm(nskt, to_connect[nskt])
  local ok, err = nskt:dohandshake()
  disarm()
  if ok then return nskt end
  if is_socket_timeout[err] then
    return nil, timeout_error(err)
  end
  error("TLS/SSL handshake failed: " .. tostring(err))
end

-------------------------------------------------------------------------------
-- Wrapped sockets
-------------------------------------------------------------------------------
local function try_method(self, method, fallback, ...)
  local fn = self.socket[method]
  if not fn then return nil, fallback end
  local ok, a, b, c = pcall(fn, self.socket, ...)
  if ok then return a, b, c end
  return nil, fallback
end

local tcp_methods = {
  send = function(self, data, from, to) return copas.send(self.socket, data, from, to) end,
  receive = function(self, pattern, prefix)
    if to_receive[self.socket] == 0 then
      return copas.receivepartial(self.socket, pattern, prefix)
    end
    return copas.receive(self.socket, pattern, prefix)
  end,
  receivepartial = function(self, pattern, prefix) return copas.receivepartial(self.socket, pattern, prefix) end,
  flush = function(self) return copas.flush(self.socket) end,
  settimeout = function(self, t) return copas.settimeout(self.socket, t) end,
  settimeouts = function(self, c, s, r) return copas.settimeouts(self.socket, c, s, r) end,
  connect = function(self, ...)
    local res, err = copas.connect(self.socket, ...)
    if res then
      if self.ssl_params.sni then self:sni() end
      if self.ssl_params.wrap then res, err = self:dohandshake() end
    end
    return res, err
  end,
  close = function(self, ...) return copas.close(self.socket, ...) end,
  bind = function(self, ...) return self.socket:bind(...) end,
  getsockname = function(self, ...) return try_method(self, "getsockname", "not implemented by LuaSec", ...) end,
  getpeername = function(self, ...) return try_method(self, "getpeername", "not implemented by LuaSec", ...) end,
  getstats = function(self, ...) return self.socket:getstats(...) end,
  setstats = function(self, ...) return self.socket:setstats(...) end,
  listen = function(self, ...) return self.socket:listen(...) end,
  accept = function(self, ...) return self.socket:accept(...) end,
  setoption = function(self, ...) return try_method(self, "setoption", "not implemented by LuaSec", ...) end,
  getoption = function(self, ...) return try_method(self, "getoption", "not implemented by LuaSec", ...) end,
  shutdown = function(self, ...) return self.socket:shutdown(...) end,
  sni = function(self, names_, strict)
    local p = self.ssl_params
    self.socket = ssl_wrap(self.socket, p.wrap)
    if names_ == nil then
      names_, strict = p.sni.names, p.sni.strict
    end
    return self.socket:sni(names_, strict)
  end,
  dohandshake = function(self, params)
    local nskt, err = copas.dohandshake(self.socket, params or self.ssl_params.wrap)
    if not nskt then return nskt, err end
    self.socket = nskt
    return self
  end,
  getalpn = function(self, ...) return try_method(self, "getalpn", "not a tls socket", ...) end,
  getsniname = function(self, ...) return try_method(self, "getsniname", "not a tls socket", ...) end,
}

local tcp_mt = {
  __index = tcp_methods,
  __tostring = function(self) return tostring(self.socket) .. " (copas wrapped)" end,
}

local udp_methods = {}
for k, v in pairs(tcp_methods) do udp_methods[k] = v end
udp_methods.send = function(self, ...) return self.socket:send(...) end
udp_methods.sendto = function(self, ...) return self.socket:sendto(...) end
udp_methods.receive = function(self, size) return copas.receive(self.socket, size or UDP_DATAGRAM_MAX) end
udp_methods.receivefrom = function(self, size) return copas.receivefrom(self.socket, size or UDP_DATAGRAM_MAX) end
udp_methods.setpeername = function(self, ...) return self.socket:setpeername(...) end
udp_methods.setsockname = function(self, ...) return self.socket:setsockname(...) end
udp_methods.close = function() return true end -- the server socket is shared

local udp_mt = { __index = udp_methods, __tostring = tcp_mt.__tostring }

local function unwrap(skt)
  local mt = getmetatable(skt)
  if mt == tcp_mt or mt == udp_mt then return skt.socket end
  return skt
end

function copas.wrap(skt, sslt)
  local mt = getmetatable(skt)
  if mt == tcp_mt or mt == udp_mt then return skt end
  if type(skt) ~= "userdata" then check_socket(skt, "skt", "settimeout") end
  skt:settimeout(0)
  armed[skt] = 0
  if kind(skt) then
    return setmetatable({ socket = skt, ssl_params = normalize_sslt(sslt) }, tcp_mt)
  end
  return setmetatable({ socket = skt }, udp_mt)
end

function copas.handler(handler, sslparams)
  return function(skt, ...)
    skt = copas.wrap(skt, sslparams)
    local p = skt.ssl_params
    if p.sni then skt:sni(p.sni.names, p.sni.strict) end
    if p.wrap then
      -- Unlike Copas 4.11, never hand the handler a connection whose
      -- handshake failed or timed out (it would run on a half-open TLS
      -- socket), and report a failed handshake as one log line per peer
      -- and minute instead of an error traceback per connection.
      skt.socket = ssl_wrap(skt.socket, p.wrap)
      require("copaslua.tls").logfailures(skt.socket)
      local ok, res, err = pcall(skt.dohandshake, skt, p.wrap)
      if not (ok and res) then
        skt:close()
        return nil, ok and err or res
      end
    end
    return handler(skt, ...)
  end
end

-------------------------------------------------------------------------------
-- Errors
-------------------------------------------------------------------------------
function copas.gettraceback(msg, co, skt)
  local co_str = co == nil and "nil" or copas.getthreadname(co)
  local skt_str = skt == nil and "nil" or copas.getsocketname(skt)
  local m = msg == nil and "" or tostring(msg)
  if m == "" then
    m = ("(coroutine: %s, socket: %s)"):format(co_str, skt_str)
  else
    m = ("%s (coroutine: %s, socket: %s)"):format(m, co_str, skt_str)
  end
  if type(co) == "thread" then
    return traceback(co, m)
  end
  return traceback(m, 2)
end

function copas.seterrorhandler(err, default)
  assert(err == nil or type(err) == "function", "Expected the handler to be a function, or nil")
  if default then
    assert(err ~= nil, "Expected the handler to be a function when setting the default")
    deferror = err
  else
    local co = co_running()
    if co then errhandlers[co] = err end
  end
end
copas.setErrorHandler = copas.seterrorhandler

function copas.geterrorhandler(co)
  co = co or co_running()
  return (co and errhandlers[co]) or deferror
end

function copas.useSocketTimeoutErrors(bool)
  local co = co_running()
  if co then socket_errors[co] = not not bool end
end

-------------------------------------------------------------------------------
-- Threads
-------------------------------------------------------------------------------
local function spawn(fn, ...)
  return core.spawn(fn, ...)
end

-- Copas' thread body calls the handler as an upvalue: a handler that is no
-- function fails when the thread first runs, with Lua 5.1's message.
local function callable(handler)
  if type(handler) == "function" then return handler end
  return function(...)
    local mt = getmetatable(handler)
    if type(mt) ~= "table" or mt.__call == nil then
      error(("attempt to call upvalue 'handler' (a %s value)"):format(type(handler)))
    end
    return handler(...)
  end
end

function copas.addnamedthread(name, handler, ...)
  if type(name) == "function" and type(handler) == "string" then
    name, handler = handler, name
  end
  local co = spawn(callable(handler), ...)
  if name then names[co] = name end
  registered[co] = true
  return co
end

function copas.addthread(handler, ...)
  return copas.addnamedthread(nil, handler, ...)
end

function copas.removethread(co)
  if co == nil then
    -- Copas fails indexing its registry with nil
    error("bad argument #1 to 'removethread' (coroutine expected, got nil)", 2)
  end
  if registered[co] then
    if core.kill(co) then forget(co) end
  end
end

function copas.sleep(t)
  t = t or 0
  if type(t) ~= "number" then
    -- Copas' dispatcher fails comparing it (and stops the loop); fail in
    -- the thread that asked instead.
    error("bad argument #1 to 'sleep' (number expected, got " .. type(t) .. ")", 2)
  end
  core.sleep(t)
end

function copas.pause(t)
  local start = gettime()
  if t and t > 0 then core.sleep(t) else core.sleep(0) end
  return gettime() - start
end

function copas.pauseforever()
  local start = gettime()
  core.sleep(-1)
  return gettime() - start
end

function copas.wakeup(co)
  core.wakeup(co)
end

-------------------------------------------------------------------------------
-- Timeouts: one per thread, the callback runs on the main thread
-------------------------------------------------------------------------------
local timeouts = weak("k")

-- As in Copas (coxpcall in its timer thread), a string error of a timeout
-- callback gets the callback's traceback; other values pass unchanged.
local function timer_trace(err)
  local t = type(err)
  if t == "string" or t == "number" then
    return traceback(tostring(err), 2)
  end
  return err
end

function copas.gettimeouts()
  local _, _, _, _, n = core.counts()
  return n
end

function copas.timeout(delay, callback)
  local co = co_running() or "main"
  local existing = timeouts[co]
  if existing then
    core.cancel(existing)
    timeouts[co] = nil
  end
  if delay > 0 and delay ~= huge then
    if callback == nil then
      error("the callback parameter is required")
    end
    timeouts[co] = core.timer(delay, function(c)
      timeouts[c] = nil
      local ok, err = xpcall(function() return callback(c) end, timer_trace)
      if not ok then
        local hok, herr = pcall(deferror, err, timer_thread, nil)
        if not hok then
          print("Failed executing error handler: " .. tostring(herr))
        end
      end
    end, co)
  elseif delay ~= 0 and delay ~= huge then
    error("timout value must be greater than or equal to 0, got: " .. tostring(delay))
  end
  return true
end

-------------------------------------------------------------------------------
-- Servers
-------------------------------------------------------------------------------
local function serve_tcp(server, handler)
  local count = 0
  while true do
    server:settimeout(-1)
    local client, err = server:accept()
    if client then
      count = count + 1
      local sname = tostring(nameof(server))
      names[client] = sname .. ":client_" .. count
      client:settimeout(0)
      armed[client] = 0
      copas.settimeouts(client, to_connect[server] or -1, to_send[server] or -1, to_receive[server] or -1)
      local co = spawn(handler, client)
      names[co] = sname .. ":handler_" .. count
      thread_socket[co] = client
      if copas.autoclose then
        autoclose[co] = client
        autoclose_r[client] = co
      end
    elseif err == "closed" then
      return
    end
  end
end

function copas.addserver(server, handler, timeout, name)
  if type(server) ~= "userdata" then check_socket(server, "server", "settimeout") end
  if type(handler) ~= "function" then
    -- Copas fails creating the handler's coroutine, for TCP servers only
    -- at the first client and out of copas.loop.
    error("bad argument #2 to 'addserver' (function expected, got " .. type(handler) .. ")", 2)
  end
  if name then names[server] = name end
  if timeout then copas.settimeout(server, timeout) end
  if kind(server) then
    server:settimeout(0)
    local co = spawn(serve_tcp, server, handler)
    names[co] = tostring(nameof(server)) .. ":server"
    servers[server] = co
    nservers = nservers + 1
  else
    server:settimeout(0)
    local co = spawn(handler, server)
    names[co] = tostring(nameof(server)) .. ":handler"
    thread_socket[co] = server
  end
end

function copas.removeserver(server, keep_open)
  if type(server) ~= "userdata" then check_socket(server, "server", "close") end
  local skt = unwrap(server)
  local co = servers[skt]
  if co then
    servers[skt] = nil
    nservers = nservers - 1
    core.kill(co)
    forget(co)
  end
  if keep_open then return true end
  return server:close()
end

-------------------------------------------------------------------------------
-- The loop
-------------------------------------------------------------------------------
local stats_enabled, stats, min_ever, max_ever = false, nil, nil, nil
local IDLE_GC_INTERVAL, last_idle_gc = 1, gettime()

function copas.step(timeout)
  local t0 = stats_enabled and gettime()
  if timeout ~= nil and type(timeout) ~= "number" then
    error("bad argument #1 to 'step' (number expected, got " .. type(timeout) .. ")", 2)
  end
  local _, io = core.step(timeout)
  if stats_enabled then
    local now = gettime()
    local s = stats
    if not s then
      s = { duration_max = -1, duration_min = 999999, duration_tot = 0, steps = 0, time_start = now }
      stats = s
    end
    local d = now - t0
    if d > s.duration_max then s.duration_max = d end
    if d < s.duration_min then s.duration_min = d end
    s.duration_tot = s.duration_tot + d
    s.steps = s.steps + 1
  end
  if not io then
    -- As Copas (which does it on ~10% of its 0.1 s idle ticks): when idle,
    -- collect garbage about once a second so sockets the program dropped
    -- get closed and weak tables are cleared.
    local now = gettime()
    if now - last_idle_gc >= IDLE_GC_INTERVAL then
      last_idle_gc = now
      collectgarbage()
    end
    return false
  end
  return true
end

function copas.finished()
  local ready, sleeping, lethargic, io, tos = core.counts()
  return ready == 0 and io == 0 and sleeping == 0 and nservers == 0
     and not (tos > 0 and lethargic > 0)
end

local exiting, exit_waiters = false, {}

function copas.exit()
  if exiting then return end
  exiting = true
  local w = exit_waiters
  exit_waiters = {}
  for i = 1, #w do core.wakeup(w[i]) end
end

function copas.exiting()
  return exiting
end

function copas.waitforexit()
  if exiting then return end
  local co = co_running()
  exit_waiters[#exit_waiters + 1] = co
  repeat core.sleep(-1) until exiting
end

function copas.cancelall()
  for skt, co in pairs(servers) do
    core.kill(co)
    forget(co)
    pcall(skt.close, skt)
  end
  servers, nservers = {}, 0
  local waiting = {}
  for co, skt in pairs(io_wait) do waiting[#waiting + 1] = skt end
  for co, skt in pairs(autoclose) do waiting[#waiting + 1] = skt end
  io_wait = weak("k")
  core.cancelall()
  for _, skt in ipairs(waiting) do pcall(skt.close, skt) end
  copas.exit()
end

local function ms(t) return math.floor(t * 1000000 + 0.5) / 1000 end
local function sec(t) return math.floor(t * 1000 + 0.5) / 1000 end

function copas.status(enable_stats)
  local res = {}
  if enable_stats == true and not stats_enabled then
    stats_enabled, stats, min_ever, max_ever = true, nil, nil, nil
  elseif enable_stats == false then
    stats_enabled, stats = false, nil
  elseif stats_enabled and stats and stats.steps > 0 then
    local s = stats
    stats = nil
    min_ever = math.min(min_ever or 9999999, s.duration_min)
    max_ever = math.max(max_ever or 0, s.duration_max)
    local now = gettime()
    res.duration_avg = ms(s.duration_tot / s.steps)
    res.duration_max = ms(s.duration_max)
    res.duration_min = ms(s.duration_min)
    res.duration_max_ever = ms(max_ever)
    res.duration_min_ever = ms(min_ever)
    res.duration_tot = ms(s.duration_tot)
    res.steps = s.steps
    res.time_start = sec(s.time_start)
    res.time_end = sec(now)
    res.time_tot = sec(now - s.time_start)
    res.time_avg = ms((now - s.time_start) / s.steps)
  end
  local ready, sleeping, lethargic, io, tos = core.counts()
  res.running = not not copas.running
  res.timeout = tos
  res.timer = sleeping
  res.inactive = lethargic
  res.read = io + nservers
  res.write = 0
  res.active = ready
  return res
end

function copas.loop(initializer, timeout)
  if type(initializer) == "function" then
    copas.addnamedthread("copas_initializer", initializer)
  else
    timeout = initializer or timeout
  end
  exiting, exit_waiters = false, {}
  copas.running = true
  local ok, err = pcall(function()
    while true do
      copas.step(timeout)
      if copas.finished() then
        if copas.exiting() then break end
        copas.exit()
      end
    end
  end)
  copas.running = false
  if not ok then error(err, 0) end
end

-------------------------------------------------------------------------------
-- Names
-------------------------------------------------------------------------------
function copas.setsocketname(name, skt)
  assert(type(name) == "string", "expected arg #1 to be a string")
  skt = assert(unwrap(skt), "expected arg #2 to be a socket")
  names[skt] = name
end

function copas.getsocketname(skt)
  skt = assert(unwrap(skt), "expected arg #1 to be a socket")
  return nameof(skt)
end

function copas.setthreadname(name, co)
  assert(type(name) == "string", "expected arg #1 to be a string")
  co = co or co_running()
  assert(type(co) == "thread", "expected arg #2 to be a coroutine or nil")
  names[co] = name
end

function copas.getthreadname(co)
  co = co or co_running()
  assert(type(co) == "thread", "expected arg #1 to be a coroutine or nil")
  return nameof(co)
end

-------------------------------------------------------------------------------
-- Debugging
-------------------------------------------------------------------------------
copas.debug = {}
local debug_log

function copas.debug.start(logger, _core)
  debug_log = logger or print
  core.trace(function(event, co, arg)
    local name = nameof(co)
    if event == "yield" then
      debug_log("yielding '", name, "' to SLEEP for ", arg, " seconds")
    elseif event == "resume" then
      debug_log("resuming '", name, "'")
    elseif event == "exit" then
      debug_log("exiting '", name, "'")
    end
  end)
end

function copas.debug.stop()
  debug_log = nil
  core.trace(nil)
end

-- Wraps a socket so every call on it is logged.
function copas.debug.socket(skt)
  local log = function(...) (debug_log or print)(...) end
  local proxy = {}
  local mt = getmetatable(skt)
  local idx = mt and mt.__index
  return setmetatable(proxy, {
    __tostring = function() return tostring(skt) end,
    __index = function(_, key)
      local v = skt[key]
      if type(v) ~= "function" then return v end
      return function(self, ...)
        if self == proxy then self = skt end
        log("calling ", nameof(skt), ":", key, "(", select("#", ...), " args)")
        local r = { v(self, ...) }
        log("returned ", nameof(skt), ":", key, ": ", tostring(r[1]), " ", tostring(r[2]))
        return unpack(r, 1, table.maxn(r))
      end
    end,
    __newindex = function(_, k, v) skt[k] = v end,
    __metatable = idx and mt or nil,
  })
end

-------------------------------------------------------------------------------
-- Submodules load on first use; calling the module runs the loop.
-------------------------------------------------------------------------------
local submodules = { ftp = true, future = true, http = true, lock = true, queue = true,
                     semaphore = true, smtp = true, timer = true }

setmetatable(copas, {
  __call = function(_, ...) return copas.loop(...) end,
  __index = function(self, key)
    if submodules[key] then
      local mod = require("copas." .. key)
      rawset(self, key, mod)
      return mod
    end
  end,
})

return copas
