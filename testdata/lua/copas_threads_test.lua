-- Copas threads: addthread, pause, wakeup, removethread, errors, loop/step.
local copas = require "copas"
-- copas-lua differs from Copas 4.11 on purpose in a few places (README)
local OURS = copas._DESCRIPTION:find("copas-lua", 1, true) ~= nil

local order = {}
copas.addthread(function(a, b)
  order[#order + 1] = "t1:" .. a .. b
  local slept = copas.pause(0.05)
  assert(slept >= 0.04, "pause returns the time slept: " .. slept)
  order[#order + 1] = "t1 done"
end, "x", "y")
copas.addnamedthread("second", function()
  assert(copas.getthreadname() == "second")
  order[#order + 1] = "t2"
  copas.pause(0.01)
  order[#order + 1] = "t2 done"
end)
copas.loop()
assert(table.concat(order, ",") == "t1:xy,t2,t2 done,t1 done", table.concat(order, ","))
assert(copas.finished())
assert(copas.exiting(), "loop signals exit when finished")

-- pauseforever + wakeup
local woke = false
local sleeper = copas.addthread(function()
  local t = copas.pauseforever()
  assert(type(t) == "number")
  woke = true
end)
copas.addthread(function()
  copas.pause(0.01)
  copas.wakeup(sleeper)
end)
copas.loop()
assert(woke)

-- a thread that only sleeps forever does not keep the loop running
local stuck = copas.addthread(function() copas.pauseforever() end)
copas.loop()
assert(coroutine.status(stuck) == "suspended")

-- removethread stops a sleeping thread
local count = 0
local endless = copas.addthread(function()
  while true do count = count + 1; copas.pause(0.01) end
end)
copas.addthread(function()
  copas.pause(0.055)
  copas.removethread(endless)
end)
copas.loop()
assert(count >= 3 and count <= 8, count)

-- errors go to the handlers and do not stop other threads
local seen = {}
copas.seterrorhandler(function(msg, co, skt)
  seen[#seen + 1] = { msg = msg, co = co, skt = skt }
end, true)
local bad = copas.addthread(function() copas.pause(0); error("boom") end)
local fine = false
copas.addthread(function() copas.pause(0.01); fine = true end)
local own
copas.addthread(function()
  copas.seterrorhandler(function(msg) own = msg end)
  error({ custom = true })
end)
copas.loop()
assert(fine)
assert(#seen == 1 and seen[1].msg:find("boom") and seen[1].co == bad, tostring(seen[1] and seen[1].msg))
assert(type(own) == "table" and own.custom)

-- bare coroutine.yield in a thread is an error of that thread
seen = {}
copas.addthread(function() coroutine.yield() end)
copas.loop()
assert(#seen == 1 and seen[1].msg:find("user%-code cannot yield to Copas"), tostring(seen[1] and seen[1].msg))

-- step returns whether socket events were handled (not threads run);
-- finished reflects pending work
assert(copas.step(0) == false)
local ran = false
copas.addthread(function() ran = true end)
assert(not copas.finished())
assert(copas.step(0) == false and ran)
assert(copas.finished())

-- copas.timeout callbacks, calling the module runs the loop
local fired
copas(function()
  copas.timeout(0.01, function(co) fired = co end)
  copas.pause(0.3) -- Copas 4.11's timer wheel ticks every 0.1 s
  fired = fired and coroutine.status(fired)
end)
assert(fired == "running" or fired == "normal" or fired == "suspended", tostring(fired))

-- cancelled timeout does not fire
fired = nil
copas(function()
  copas.timeout(0.01, function() fired = true end)
  copas.timeout(0)
  copas.pause(0.3)
end)
assert(fired == nil)
local ok, err = pcall(copas.timeout, -1, print)
assert(not ok)

-- status counters
copas.addthread(function() copas.pause(10) end)
local st = copas.status()
assert(st.running == false and type(st.timer) == "number" and type(st.active) == "number")
copas.cancelall()
assert(copas.finished())

-- yields inside pcall in a thread
local r
copas(function()
  local okp, v = pcall(function() copas.pause(0.001); return "inner" end)
  r = okp and v
end)
assert(r == "inner")

-- nested user coroutine (generator) doing copas pauses (real Copas hands
-- its internal yields to the generator's caller instead)
if OURS then
  local got = {}
  copas(function()
    local gen = coroutine.wrap(function()
      for i = 1, 3 do copas.pause(0.001); coroutine.yield(i) end
    end)
    for _ = 1, 3 do got[#got + 1] = gen() end
  end)
  assert(table.concat(got, ",") == "1,2,3")
end

-- thread names and bad input
local co = copas.addthread(function() end)
assert(copas.getthreadname(co) == tostring(co))
copas.setthreadname("named", co)
assert(copas.getthreadname(co) == "named")
assert(not pcall(copas.setthreadname, 1))
assert(not pcall(copas.getthreadname, 1))
copas.loop()
print("copas threads ok")

-- removethread on the running thread: it keeps its handler until it yields
local own_msg
copas.addnamedthread("me", function()
  copas.seterrorhandler(function(m) own_msg = m end)
  copas.removethread(coroutine.running())
  error("x", 0)
end)
copas.loop()
assert(own_msg == "x", tostring(own_msg))
local after_yield = false
copas.addthread(function()
  copas.removethread(coroutine.running())
  copas.pause(0)
  after_yield = true
end)
copas.loop()
assert(after_yield == false, "a removed thread is dropped at its next yield")
