-- copas.semaphore: new/take/give/get_count/get_wait/destroy, FIFO order,
-- timeouts (0, default, math.huge), "too many", destroy while waiting, bad
-- input. Also passes on the reference Copas 4.11 (LuaJIT), except the parts
-- marked copas-lua only.
local copas = require "copas"
local Semaphore = copas.semaphore
local now = copas.gettime

local H = require "copas_submodule_helper"
local OURS, step = H.OURS, H.step

-- bad input to new()
do
  local ok, err = pcall(Semaphore.new, 0)
  assert(not ok and err:find("max resources", 1, true), tostring(err))
  ok, err = pcall(Semaphore.new, "10")
  assert(not ok and err:find("max resources", 1, true), tostring(err))
  ok, err = pcall(Semaphore.new, nil)
  assert(not ok, "max is required")
  ok, err = pcall(Semaphore.new, 10, 0, -1)
  assert(not ok and err:find("greater than or equal to 0", 1, true), tostring(err))
  local s = Semaphore.new(3)
  assert(s:get_count() == 0, "start defaults to 0")
  assert(s.timeout == 10, "timeout defaults to 10")
  assert(s:get_wait() == 0)
  assert(Semaphore.new(3, 2, math.huge):get_count() == 2)
end

copas.loop(function()
  -- take/give without waiting; "too many"
  do
    local s = Semaphore.new(10, 5, 1)
    assert(s:take(3) == true)
    assert(s:get_count() == 2)
    assert(s:take() == true, "take defaults to 1")
    assert(s:get_count() == 1)
    assert(s:give() == true, "give defaults to 1")
    assert(s:give(3) == true)
    assert(s:get_count() == 5)
    local ok, err = s:give(6)
    assert(ok == nil and err == "too many", tostring(err))
    assert(s:get_count() == 10, "capped at max")
    local t = now()
    ok, err = s:take(11)
    assert(ok == nil and err == "too many", tostring(err))
    assert(now() - t < 0.5, "'too many' does not wait")
    step("basic")
  end

  -- timeout 0 fails at once without yielding; a real timeout waits
  do
    local s = Semaphore.new(10, 2, 1)
    local other_ran = false
    copas.addthread(function() other_ran = true end)
    local ok, err = s:take(3, 0)
    assert(ok == nil and err == "timeout")
    assert(not other_ran, "take(n, 0) must not yield")
    local t = now()
    ok, err = s:take(5, 0.2)
    local took = now() - t
    assert(ok == nil and err == "timeout", tostring(err))
    assert(took >= 0.19 and took < 3, "took " .. took)
    assert(s:get_count() == 2, "count untouched by failed takes")
    assert(s:get_wait() == -2, "nobody waiting any more")
    step("timeouts")
  end

  -- strict FIFO: a big request blocks the small ones behind it; get_wait
  do
    local s = Semaphore.new(10, 0, math.huge)
    local got = {}
    copas.addthread(function() assert(s:take(3)); got[#got + 1] = "a" end)
    copas.pause(0.01)
    copas.addthread(function() assert(s:take(1)); got[#got + 1] = "b" end)
    copas.pause(0.01)
    assert(s:get_wait() == 4)
    assert(s:give(1))
    copas.pause(0.05)
    assert(#got == 0, "b must wait behind a")
    assert(s:get_count() == 1 and s:get_wait() == 3)
    -- someone new also queues, even though 1 is available
    local ok, err = s:take(1, 0)
    assert(ok == nil and err == "timeout", "no overtaking the line")
    assert(s:give(s:get_wait()))
    copas.pause(0.05)
    assert(table.concat(got, ",") == "a,b", table.concat(got, ","))
    assert(s:get_count() == 0 and s:get_wait() == 0)
    step("fifo")
  end

  -- default timeout from new(); math.huge outlasts it
  do
    local s = Semaphore.new(5, 0, 0.1)
    local res = {}
    copas.addthread(function() res.default = { s:take(1) } end)
    copas.addthread(function() res.forever = { s:take(1, math.huge) } end)
    copas.pause(0.5)
    assert(res.default and res.default[1] == nil and res.default[2] == "timeout")
    assert(res.forever == nil, "math.huge still waiting")
    assert(s:give(1))
    copas.pause(0.05)
    assert(res.forever and res.forever[1] == true)
    step("math.huge")
  end

  -- destroy while waiting
  do
    local s = Semaphore.new(10, 0, 0.5)
    local res = {}
    for i = 1, 2 do
      copas.addthread(function() res[i] = { s:take(5) } end)
    end
    copas.pause(0.1)
    assert(s:destroy() == true)
    copas.pause(0.05)
    for i = 1, 2 do
      assert(res[i] and res[i][1] == nil and res[i][2] == "destroyed", "waiter " .. i)
    end
    local ok, err = s:destroy();   assert(ok == nil and err == "destroyed")
    ok, err = s:give(1);           assert(ok == nil and err == "destroyed")
    ok, err = s:take(1);           assert(ok == nil and err == "destroyed")
    ok, err = s:get_count();       assert(ok == nil and err == "destroyed")
    ok, err = s:get_wait();        assert(ok == nil and err == "destroyed")
    -- the waiters' timeouts were cancelled: nothing fires after 0.5 s
    copas.pause(0.6)
    step("destroy")
  end

  -- resources given to a waiter that has not resumed yet, then destroy
  do
    local s = Semaphore.new(10, 0, math.huge)
    local res
    copas.addthread(function() res = { s:take(2) } end)
    copas.pause(0.05)
    assert(s:give(2))
    assert(s:destroy())
    copas.pause(0.05)
    assert(res and res[1] == nil and res[2] == "destroyed", "destroyed wins")
    step("destroy after give")
  end

  -- bad timeout while it would wait raises an error
  do
    local s = Semaphore.new(10)
    local ok = pcall(s.take, s, 1, -1)
    assert(not ok, "negative timeout must raise")
    step("bad timeout")
  end

  -- threads that waited are not kept alive by the semaphore
  do
    local s = Semaphore.new(10, 0, 0.05)
    local weak = setmetatable({}, { __mode = "v" })
    weak[1] = copas.addthread(function() s:take(1) end)                  -- times out
    weak[2] = copas.addthread(function() s:take(1, math.huge) end)       -- is served
    weak[3] = copas.addthread(function() s:take(1, math.huge) end)       -- sees destroy
    copas.pause(0.3)
    assert(s:give(1))
    copas.pause(0.05)
    assert(s:destroy())
    copas.pause(0.05)
    collectgarbage()
    collectgarbage()
    assert(next(weak) == nil, "waiting threads collected")
    assert(s, "while the semaphore is still referenced")
    step("gc")
  end

  if OURS then
    -- copas-lua only: when the waiter at the front times out, those behind it
    -- that fit are served at once (the reference waits for the next give)
    local s = Semaphore.new(10, 2, math.huge)
    local res = {}
    copas.addthread(function() res.big = { s:take(5, 0.1) } end)
    copas.pause(0.01)
    copas.addthread(function() res.small = { s:take(1) } end)
    copas.pause(0.3)
    assert(res.big and res.big[2] == "timeout")
    assert(res.small and res.small[1] == true, "small request served")
    assert(s:get_count() == 1)

    -- copas-lua only: destroy releases every waiter, even when what they
    -- asked for together exceeds max (the reference leaves some waiting)
    s = Semaphore.new(10, 0, 1)
    res = {}
    for i = 1, 2 do
      copas.addthread(function() res[i] = { s:take(6) } end)
    end
    copas.pause(0.05)
    assert(s:destroy())
    copas.pause(0.05)
    assert(res[1] and res[1][2] == "destroyed" and res[2] and res[2][2] == "destroyed")
    step("ours")
  end

  step("end")
end)

local want = "basic,timeouts,fifo,math.huge,destroy,destroy after give,bad timeout,gc"
  .. (OURS and ",ours" or "") .. ",end"
H.check(want)
print("copas_semaphore_test ok")
