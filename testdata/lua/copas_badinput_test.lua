-- Copas with bad input: copas.timeout's arguments and failing callbacks,
-- semaphore counts, thread handlers that are no function, socket arguments
-- that are no socket, servers without a handler, sync objects with wrong
-- arguments; then a normal echo round trip still works.
--
-- A plain script (no describe/it) so it also runs on the reference, Copas
-- 4.11 on PUC Lua 5.1 (see luamod/copas/reference_test.go):
--   LUA_PATH="<copas>/src/?.lua;<timerwheel>/src/?/init.lua;;" lua5.1 copas_badinput_test.lua
-- Checks of copas-lua's stricter behaviour (where Copas accepts the value or
-- fails later inside its own loop) run only on copas-lua.
local copas = require "copas"
local socket = require "socket"
local pcall = require("coxpcall").pcall -- yield-safe on the reference too

local OURS = tostring(copas._DESCRIPTION):find("copas-lua", 1, true) ~= nil

-- The message of an error without its position and (coxpcall adds one on
-- the reference) traceback.
local function msg(err)
  local s = tostring(err):match("^[^\n]*")
  return (s:gsub("^[^:]*:%d+: ", ""))
end

local function raises(want, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error: " .. want)
  if want ~= "" then
    assert(msg(err) == want, "got error: " .. msg(err) .. "\nexpected:  " .. want)
  end
  return err
end

local function raises_like(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error like " .. pattern)
  assert(msg(err):find(pattern), "got error: " .. msg(err) .. "\nexpected like: " .. pattern)
end

-- Errors reaching the default error handler, and anything printed (a
-- failing dispatcher prints "copas: ..." instead of raising).
local reported, printed = {}, {}
copas.seterrorhandler(function(m, co, skt)
  reported[#reported + 1] = { msg = m, co = co, skt = skt }
end, true)
local real_print = print
print = function(...)
  local t = {}
  for i = 1, select("#", ...) do t[i] = tostring((select(i, ...))) end
  printed[#printed + 1] = table.concat(t, "\t")
end

-- Waits (generously: the reference's timers tick every 0.1 s) until cond()
-- holds.
local function wait_for(cond, what)
  local t0 = copas.gettime()
  while not cond() do
    assert(copas.gettime() - t0 < 10, "timed out waiting for " .. what)
    copas.pause(0.01)
  end
end

local steps = {}

copas.loop(function()
  ---------------------------------------------------------------------------
  -- copas.timeout: arguments
  ---------------------------------------------------------------------------
  raises("the callback parameter is required", copas.timeout, 1, nil)
  raises("the callback parameter is required", copas.timeout, 1)
  raises("timout value must be greater than or equal to 0, got: -1", copas.timeout, -1, function() end)
  raises("attempt to compare number with nil", copas.timeout, nil, function() end)
  raises("attempt to compare number with string", copas.timeout, "1", function() end)
  assert(copas.timeout(0) == true, "0 cancels, no callback needed")
  assert(copas.timeout(math.huge) == true, "math.huge cancels, no callback needed")

  -- normal path: the callback gets the thread that set it
  local fired
  local me = coroutine.running()
  copas.timeout(0.05, function(co) fired = co end)
  wait_for(function() return fired end, "a timeout")
  assert(fired == me, "callback gets the thread that set the timeout")
  steps[#steps + 1] = "timeout"

  ---------------------------------------------------------------------------
  -- errors raised in timeout callbacks reach the default error handler
  -- with the value raised (strings with their position), the timer thread
  -- "copas_core_timer" and no socket; the dispatcher keeps going.
  ---------------------------------------------------------------------------
  local tbl = {}
  local values = { "a string", 42, tbl, false }
  local done = 0
  for i = 1, #values + 1 do -- the last one raises nil
    copas.addthread(function()
      copas.timeout(0.05, function() error(values[i]) end)
      copas.pause(0.3)
      copas.timeout(0)
      done = done + 1
    end)
  end
  wait_for(function() return #reported >= #values + 1 and done == #values + 1 end, "timeout callback errors")
  assert(#reported == #values + 1, "one report per failing callback, got " .. #reported)
  local seen = {}
  for _, r in ipairs(reported) do
    assert(type(r.co) == "thread", "reported with a thread, got " .. type(r.co))
    assert(copas.getthreadname(r.co) == "copas_core_timer", copas.getthreadname(r.co))
    assert(r.skt == nil)
    if type(r.msg) == "string" then
      if r.msg:find("a string", 1, true) then seen.string = true
      elseif r.msg:find("42", 1, true) then seen.number = true end
    elseif r.msg == tbl then seen.table = true
    elseif r.msg == false then seen["false"] = true
    elseif r.msg == nil then seen["nil"] = true
    end
    -- the default handler's formatting copes with every value
    assert(type(copas.gettraceback(r.msg, r.co, r.skt)) == "string")
  end
  for _, k in ipairs({ "string", "number", "table", "false", "nil" }) do
    assert(seen[k], "error value " .. k .. " reported as raised")
  end
  reported = {}
  -- a callback that is no function fails when it fires, reported the same way
  copas.addthread(function()
    copas.timeout(0.05, "not a function")
    copas.pause(0.3)
    copas.timeout(0)
  end)
  wait_for(function() return #reported == 1 end, "a failing non-function callback")
  assert(copas.getthreadname(reported[1].co) == "copas_core_timer")
  reported = {}
  steps[#steps + 1] = "timeout errors"

  ---------------------------------------------------------------------------
  -- semaphores: counts must be numbers >= 0
  ---------------------------------------------------------------------------
  local sema = copas.semaphore.new(10, 5, 1)
  raises_like("", sema.give, sema, "x")
  assert(sema:get_count() == 5)
  raises_like("", sema.take, sema, {})
  assert(sema:get_count() == 5)
  if OURS then
    raises("bad argument #1 to 'give' (number greater than or equal to 0 expected, got -5)", sema.give, sema, -5)
    assert(sema:get_count() == 5, "give(-5) leaves the count")
    raises("bad argument #1 to 'take' (number greater than or equal to 0 expected, got -1)", sema.take, sema, -1)
    assert(sema:get_count() == 5, "take(-1) leaves the count")
    raises_like("got %-?nan", sema.give, sema, 0 / 0)
    raises_like("got %-?nan", sema.take, sema, 0 / 0)
    raises("bad argument #1 to 'give' (number expected, got string)", sema.give, sema, "x")
    raises("bad argument #1 to 'take' (number expected, got table)", sema.take, sema, {})
    assert(sema:get_count() == 5)
    -- a later take does not time out because of a bad give
    assert(sema:take(5, 0) == true)
  end
  -- normal path
  assert(sema:give(0) == true)
  assert(sema:give(2) == true)
  assert(sema:take(2, 0) == true)
  steps[#steps + 1] = "semaphore"

  ---------------------------------------------------------------------------
  -- threads with a handler that is no function: Copas accepts them and the
  -- thread fails when it runs
  ---------------------------------------------------------------------------
  for _, v in ipairs({ "nil", 1, "x", {} }) do
    if v == "nil" then v = nil end
    local co = copas.addthread(v)
    assert(type(co) == "thread", "addthread returns the thread")
    wait_for(function() return #reported == 1 end, "the failing thread")
    assert(reported[1].co == co)
    assert(msg(reported[1].msg) == "attempt to call upvalue 'handler' (a " .. type(v) .. " value)", msg(reported[1].msg))
    reported = {}
  end
  local called
  copas.addthread(setmetatable({}, { __call = function(_, a) called = a end }), "arg")
  wait_for(function() return called end, "a callable table as handler")
  assert(called == "arg")
  raises("", copas.removethread, nil)
  copas.removethread(1) -- not a thread: nothing to do
  copas.wakeup(nil)
  copas.wakeup("x")
  if OURS then
    -- Copas fails in its dispatcher (out of copas.loop) here
    raises("bad argument #1 to 'sleep' (number expected, got string)", copas.sleep, "x")
    raises("bad argument #1 to 'sleep' (number expected, got table)", copas.sleep, {})
    raises("bad argument #1 to 'removethread' (coroutine expected, got nil)", copas.removethread, nil)
  end
  raises("attempt to compare number with string", copas.pause, "x")
  steps[#steps + 1] = "threads"

  ---------------------------------------------------------------------------
  -- values that are no socket get Lua 5.1's messages
  ---------------------------------------------------------------------------
  raises("attempt to index local 'skt' (a nil value)", copas.wrap, nil)
  raises("attempt to index local 'skt' (a number value)", copas.wrap, 1)
  raises("attempt to call method 'settimeout' (a nil value)", copas.wrap, {})
  raises("attempt to call method 'settimeout' (a nil value)", copas.wrap, "x")
  raises("attempt to index local 'client' (a nil value)", copas.receive, nil)
  raises("attempt to call method 'receive' (a nil value)", copas.receive, {})
  raises("attempt to index local 'client' (a nil value)", copas.receivepartial, nil)
  raises("attempt to index local 'client' (a nil value)", copas.receivefrom, nil)
  raises("attempt to index local 'client' (a nil value)", copas.send, nil, "x")
  raises("attempt to index local 'skt' (a nil value)", copas.connect, nil, "127.0.0.1", 1)
  raises("attempt to index local 'skt' (a nil value)", copas.close, nil)
  raises("attempt to index local 'server' (a nil value)", copas.removeserver, nil)
  raises("attempt to call method 'close' (a nil value)", copas.removeserver, {})
  raises("attempt to index local 'server' (a nil value)", copas.addserver, nil, function() end)
  raises("attempt to index local 'server' (a number value)", copas.addserver, 1, function() end)
  raises("attempt to call method 'settimeout' (a nil value)", copas.addserver, {}, function() end)
  assert(select(2, copas.settimeout({}, "x")) == "timeout must be 'nil' or a number")
  assert(select(2, copas.settimeouts({}, 1, "x")) == "send timeout must be 'nil' or a number")
  raises("expected arg #1 to be a string", copas.setthreadname, 1)
  raises("Expected the handler to be a function, or nil", copas.seterrorhandler, 1)
  if OURS then
    -- Copas fails at the first client (TCP), out of copas.loop
    local srv = assert(socket.bind("127.0.0.1", 0))
    raises("bad argument #2 to 'addserver' (function expected, got nil)", copas.addserver, srv, nil)
    raises("bad argument #2 to 'addserver' (function expected, got string)", copas.addserver, srv, "x")
    srv:close()
    local udp = assert(socket.udp())
    raises("bad argument #2 to 'addserver' (function expected, got nil)", copas.addserver, udp, nil)
    udp:close()
  end
  steps[#steps + 1] = "sockets"

  ---------------------------------------------------------------------------
  -- sync objects: wrong arguments raise
  ---------------------------------------------------------------------------
  raises_like("expected timeout %(1st argument%)", copas.lock.new, "x")
  raises_like("expected timeout %(1st argument%)", copas.lock.new, -1)
  local lk = copas.lock.new(1)
  assert(lk:get() == 0)
  copas.addthread(function()
    -- lock held by the other thread: a bad timeout raises
    raises_like("", lk.get, lk, {})
    raises_like("", lk.get, lk, -1)
    steps[#steps + 1] = "lock held"
  end)
  wait_for(function() return steps[#steps] == "lock held" end, "the lock checks")
  local ok, err = lk:release()
  assert(ok == true, tostring(err))
  ok, err = lk:release()
  assert(ok == nil and err == "cannot release a lock not owned", tostring(err))
  raises_like("", copas.queue.new, 1)
  local q = copas.queue.new()
  raises_like("", q.pop, q, "x")
  raises_like("", q.pop, q, -1)
  raises_like("expected worker to be a function", q.add_worker, q, nil)
  assert(q:push(1) == true)
  assert(q:pop(0) == 1)
  q:stop()
  local f = copas.future.addthread(nil)
  assert(type(f) == "table", "future.addthread(nil) returns a future")
  local fok, ferr = f:get()
  assert(fok == false and msg(ferr) == "attempt to call upvalue 'func' (a nil value)", tostring(ferr))
  raises_like("", copas.timer.new, nil)
  raises_like("delay must be greater than or equal to 0", copas.timer.new, {})
  raises_like("expected callback to be a function", copas.timer.new, { delay = 1, callback = 1 })
  steps[#steps + 1] = "sync"

  ---------------------------------------------------------------------------
  -- after all that, a normal echo round trip works
  ---------------------------------------------------------------------------
  local srv = assert(socket.bind("127.0.0.1", 0))
  local _, port = srv:getsockname()
  copas.addserver(srv, copas.handler(function(skt)
    local line = skt:receive()
    if line then skt:send(line .. "\n") end
  end))
  local c = copas.wrap(socket.tcp())
  assert(c:connect("127.0.0.1", port))
  assert(c:send("ping\n"))
  assert(c:receive() == "ping")
  c:close()
  copas.removeserver(srv)
  steps[#steps + 1] = "echo"
end)

print = real_print
assert(#reported == 0, "unexpected error: " .. tostring(reported[1] and reported[1].msg))
local got = table.concat(steps, ",")
assert(got == "timeout,timeout errors,semaphore,threads,sockets,lock held,sync,echo", "steps run: " .. got)
for _, line in ipairs(printed) do
  assert(not line:find("table index is nil", 1, true), "dispatcher error printed: " .. line)
end
assert(#printed == 0, "printed: " .. tostring(printed[1]))
print("copas_badinput: ok")
