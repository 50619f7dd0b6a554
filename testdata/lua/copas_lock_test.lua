-- copas.lock: new/get/release/destroy, re-entrancy, FIFO hand-over,
-- timeouts (0, default, math.huge), destroy while waiting, bad input.
-- Also passes on the reference Copas 4.11 (LuaJIT), except the parts marked
-- copas-lua only.
local copas = require "copas"
local Lock = copas.lock
local now = copas.gettime

local H = require "copas_submodule_helper"
local OURS, step = H.OURS, H.step

-- bad input to new(), outside any thread
do
  local ok, err = pcall(Lock.new, -1)
  assert(not ok and err:find("greater than or equal to 0", 1, true), tostring(err))
  ok, err = pcall(Lock.new, "abc")
  assert(not ok and err:find("got: abc", 1, true), tostring(err))
  local l = Lock.new()
  assert(l.timeout == 10, "default timeout is 10")
  assert(Lock.new("2.5").timeout == 2.5, "numeric strings are accepted")
  assert(Lock.new(math.huge).timeout == math.huge)
  assert(Lock.new(0).timeout == 0)
  -- objects expose the class functions too
  assert(type(l.new) == "function" and type(l.get) == "function")
end

copas.loop(function()
  -- free lock: get returns 0 at once; re-entrant by default
  do
    local l = Lock.new()
    assert(l:get() == 0)
    assert(l:get() == 0, "re-entrant get")
    assert(l:release() == true)
    assert(l:release() == true)
    local ok, err = l:release()
    assert(ok == nil and err == "cannot release a lock not owned", tostring(err))
    step("reentrant")
  end

  -- release from a thread that does not own it
  do
    local l = Lock.new()
    assert(l:get() == 0)
    local res
    copas.addthread(function()
      res = { l:release() }
    end)
    copas.pause(0.05)
    assert(res[1] == nil and res[2] == "cannot release a lock not owned", tostring(res[2]))
    assert(l:release())
    step("not owner")
  end

  -- not re-entrant: the owner's second get waits and times out
  do
    local l = Lock.new(nil, true)
    assert(l:get() == 0)
    local ok, err, waited = l:get(0)
    assert(ok == nil and err == "timeout" and waited == 0, "get(0) fails at once")
    local s = now()
    ok, err, waited = l:get(0.2)
    local took = now() - s
    assert(ok == nil and err == "timeout", tostring(err))
    assert(took >= 0.19 and took < 3, "took " .. took)
    assert(type(waited) == "number" and waited >= 0.19 and waited < 3, tostring(waited))
    assert(l:release())
    step("not reentrant")
  end

  -- timeout 0 never yields
  do
    local l = Lock.new()
    local other_ran = false
    copas.addthread(function()
      assert(l:get())
      copas.pause(0.2)
      assert(l:release())
    end)
    copas.pause(0.05)            -- the other thread now holds the lock
    copas.addthread(function() other_ran = true end)
    local ok, err, waited = l:get(0)
    assert(ok == nil and err == "timeout" and waited == 0)
    assert(not other_ran, "get(0) must not yield")
    copas.pause(0.3)
    assert(l:get(0) == 0, "free again after the holder released")
    assert(l:release())
    step("timeout 0")
  end

  -- FIFO hand-over, wait times, a timed-out waiter is skipped
  do
    local l = Lock.new(5)
    assert(l:get())
    local order = {}
    local function waiter(name, timeout)
      copas.addthread(function()
        local waited, err, t = l:get(timeout)
        if waited then
          assert(type(waited) == "number" and waited > 0, "wait time returned")
          order[#order + 1] = name
          copas.pause(0.02)
          assert(l:release())
        else
          order[#order + 1] = name .. ":" .. err
          assert(type(t) == "number" and t > 0, "wait time with the error")
        end
      end)
    end
    waiter("a")
    waiter("b", 0.1)         -- times out before we release
    waiter("c", math.huge)
    waiter("d")
    copas.pause(0.5)   -- the reference fires timeouts up to ~0.2 s late
    assert(table.concat(order, ",") == "b:timeout", table.concat(order, ","))
    assert(l:release())
    copas.pause(0.3)
    assert(table.concat(order, ",") == "b:timeout,a,c,d", table.concat(order, ","))
    assert(l:get(0) == 0, "lock is free at the end")
    assert(l:release())
    step("fifo")
  end

  -- default timeout from new(); math.huge outlasts it
  do
    local l = Lock.new(0.1)
    assert(l:get())
    local res = {}
    copas.addthread(function()
      local s = now()
      local ok, err = l:get()
      res.default = { ok, err, now() - s }
    end)
    copas.addthread(function()
      local ok, err = l:get(math.huge)
      res.forever = { ok, err }
      if ok then assert(l:release()) end
    end)
    copas.pause(0.5)
    assert(res.default and res.default[1] == nil and res.default[2] == "timeout", "default timeout applies")
    assert(res.default[3] >= 0.09 and res.default[3] < 3, tostring(res.default[3]))
    assert(res.forever == nil, "math.huge still waiting")
    assert(l:release())
    copas.pause(0.05)
    assert(res.forever and type(res.forever[1]) == "number", tostring(res.forever and res.forever[2]))
    step("math.huge")
  end

  -- destroy while threads wait
  do
    local l = Lock.new(math.huge)
    assert(l:get())
    local results = {}
    for i = 1, 3 do
      copas.addthread(function()
        local ok, err, waited = l:get(i == 1 and 0.5 or nil)
        results[i] = { ok, err, waited }
      end)
    end
    copas.pause(0.1)
    assert(l:destroy() == true)
    copas.pause(0.05)
    for i = 1, 3 do
      local r = results[i]
      assert(r, "waiter " .. i .. " released")
      assert(r[1] == nil and r[2] == "destroyed", tostring(r[2]))
      assert(type(r[3]) == "number" and r[3] >= 0.05, "wait time " .. tostring(r[3]))
    end
    -- every method now fails
    local ok, err = l:get()
    assert(ok == nil and err == "destroyed")
    ok, err = l:release()
    assert(ok == nil and err == "destroyed")
    ok, err = l:destroy()
    assert(ok == nil and err == "destroyed")
    assert(l.destroyed == true)
    -- the cancelled timeout of waiter 1 must not fire later
    copas.pause(0.6)
    assert(results[1][2] == "destroyed")
    step("destroy")
  end

  -- bad timeout while the lock is held raises an error
  do
    local l = Lock.new()
    assert(l:get())
    copas.addthread(function()
      local ok = pcall(l.get, l, -1)
      assert(not ok, "negative timeout must raise")
      step("bad timeout")
    end)
    copas.pause(0.05)
  end

  if OURS then
    -- copas-lua only: get(0) leaves nothing behind in the waiting line
    -- (the reference keeps the thread queued and later hands it the lock)
    local l = Lock.new()
    local got
    copas.addthread(function()
      assert(l:get())
      copas.pause(0.1)
      assert(l:release())
    end)
    copas.pause(0.02)
    copas.addthread(function()
      local ok, err = l:get(0)
      assert(ok == nil and err == "timeout")
      copas.pause(0.5)    -- must not be woken early by a hand-over
    end)
    copas.addthread(function()
      got = l:get(1)
    end)
    copas.pause(0.3)
    assert(got, "the real waiter got the lock")
    step("get(0) leaves no trace")
  end

  step("end")
end)

local want = "reentrant,not owner,not reentrant,timeout 0,fifo,math.huge,destroy,bad timeout"
  .. (OURS and ",get(0) leaves no trace" or "") .. ",end"
H.check(want)
print("copas_lock_test ok")
