-- copas.timer: new/arm/cancel, one-shot and recurring timers, name, params,
-- initial_delay, re-arming (also from the timer's own callback), errors in
-- callbacks, bad input. Also passes on the reference Copas 4.11 (LuaJIT).
local copas = require "copas"
local timer = copas.timer
local now = copas.gettime

local H = require "copas_submodule_helper"
local step = H.step

local function noop() end

-- bad input, outside any thread
do
  local ok, err = pcall(timer.new, { callback = noop })
  assert(not ok and err:find("delay must be greater than or equal to 0", 1, true), tostring(err))
  ok, err = pcall(timer.new, { delay = -1, callback = noop })
  assert(not ok and err:find("delay must be greater than or equal to 0", 1, true), tostring(err))
  ok, err = pcall(timer.new, { delay = 1 })
  assert(not ok and err:find("expected callback to be a function", 1, true), tostring(err))
  ok, err = pcall(timer.new, { delay = 1, callback = noop, initial_delay = -1 })
  assert(not ok and err:find("delay must be greater than or equal to 0", 1, true), tostring(err))
end

copas.loop(function()
  -- one-shot: fires once with params under its name; disarmed afterwards
  do
    local calls, got = 0, {}
    local params = { "p" }
    local t = timer.new({
      delay = 0.1,
      params = params,
      callback = function(timer_obj, p)
        calls = calls + 1
        got.obj, got.params, got.name = timer_obj, p, copas.getthreadname()
      end,
    })
    assert(getmetatable(t) and type(t.arm) == "function" and type(t.cancel) == "function")
    assert(type(t.name) == "string" and t.name:match("^copas_timer_%d+$"), tostring(t.name))
    copas.pause(0.3)
    assert(calls == 1, "fired once, got " .. calls)
    assert(got.obj == t and got.params == params and got.name == t.name)
    local ok, err = t:cancel()
    assert(ok == nil and err == "not armed", tostring(err))
    -- arm again, with a new first delay
    local s = now()
    assert(t:arm(0.05) == t)
    local ok2, err2 = t:arm()
    assert(ok2 == nil and err2 == "already armed")
    copas.pause(0.3)
    assert(calls == 2, "fired again after arm")
    assert(now() - s < 3)
    step("one-shot")
  end

  -- named; cancelled before it expires; arm again after cancel
  do
    local calls = 0
    -- 1 s leaves room for a loaded machine between creating and cancelling
    local t = timer.new({ name = "my-timer", delay = 1, callback = function() calls = calls + 1 end })
    assert(t.name == "my-timer")
    copas.pause(0.05)
    assert(t:cancel() == t)
    local ok, err = t:cancel()
    assert(ok == nil and err == "not armed", tostring(err))
    copas.pause(1.2)
    assert(calls == 0, "a cancelled timer does not fire")
    assert(t:arm(0) == t, "initial_delay 0")
    copas.pause(0.2)
    assert(calls == 1, "calls=" .. calls)
    step("cancel")
  end

  -- recurring: initial_delay 0, then every delay; cancels itself after 3
  do
    local times = {}
    local start = now()
    local t
    t = timer.new({
      delay = 0.1,
      recurring = true,
      initial_delay = 0,
      callback = function(timer_obj)
        times[#times + 1] = now() - start
        -- a recurring timer cannot be armed while it runs
        local ok, err = timer_obj:arm(1)
        assert(ok == nil and err == "already armed")
        if #times == 3 then
          assert(timer_obj:cancel() == timer_obj)
        end
      end,
    })
    copas.pause(0.6)
    assert(#times == 3, "ran " .. #times .. " times")
    assert(times[2] - times[1] >= 0.09, "initial_delay 0 fires a full delay before the second run")
    assert(times[3] >= 0.19 and times[3] < 3, "then every 0.1 s: " .. times[3])
    local ok, err = t:cancel()
    assert(ok == nil and err == "not armed")
    step("recurring")
  end

  -- a recurring timer cancelled from outside
  do
    local calls = 0
    local t = timer.new({ delay = 0.05, recurring = true, callback = function() calls = calls + 1 end })
    copas.pause(0.2)
    assert(calls >= 1, "it ran")
    assert(t:cancel() == t)
    local seen = calls
    copas.pause(0.2)
    assert(calls == seen, "no more runs after cancel")
    step("recurring cancel")
  end

  -- a one-shot timer re-arms itself from its own callback
  do
    local runs = {}
    local start = now()
    timer.new({
      delay = 0.05,
      params = "again",
      callback = function(timer_obj, p)
        runs[#runs + 1] = now() - start
        assert(p == "again")
        if #runs < 3 then
          assert(timer_obj:arm(0.1) == timer_obj, "re-arm from own callback")
        end
      end,
    })
    copas.pause(0.6)
    assert(#runs == 3, "ran " .. #runs .. " times")
    assert(runs[2] - runs[1] >= 0.09 and runs[3] - runs[2] >= 0.09, "the new delay applies")
    step("re-arm")
  end

  -- errors in the callback go to the timer's error handler; a recurring
  -- timer keeps running
  do
    local errors, calls = {}, 0
    local t = timer.new({
      name = "err-timer",
      delay = 0.05,
      recurring = true,
      errorhandler = function(msg, co, skt)
        errors[#errors + 1] = { msg = msg, co = co, skt = skt }
      end,
      callback = function(timer_obj)
        calls = calls + 1
        if calls == 2 then timer_obj:cancel() end
        error("tick " .. calls .. "!")
      end,
    })
    copas.pause(0.4)
    assert(calls == 2, "kept running after an error")
    assert(#errors == 2, "handler got both errors: " .. #errors)
    assert(tostring(errors[1].msg):find("tick 1!", 1, true), tostring(errors[1].msg))
    assert(tostring(errors[2].msg):find("tick 2!", 1, true))
    assert(type(errors[1].co) == "thread" and copas.getthreadname(errors[1].co) == "err-timer")
    assert(errors[1].skt == nil)
    assert(t:cancel() == nil)
    step("errors")
  end

  step("end")
end)

H.check("one-shot,cancel,recurring,recurring cancel,re-arm,errors,end")
print("copas_timer_test ok")
