-- copas.future: addthread/addnamedthread, get (also by calling the future),
-- try, cancel, PENDING/SUCCESS/ERROR, several waiters, errors, the typo
-- guard. Also passes on the reference Copas 4.11 (LuaJIT).
local copas = require "copas"
local future = copas.future

local H = require "copas_submodule_helper"
local step = H.step

-- constants and the typo guard, outside any thread
do
  assert(future.SUCCESS == true and future.PENDING == false and future.ERROR == "error")
  assert(type(future.addthread) == "function" and type(future.addnamedthread) == "function")
  local ok, err = pcall(function() return future.SUCESS end)
  assert(not ok and tostring(err):find("unknown field 'future.SUCESS'", 1, true), tostring(err))
end

copas.loop(function()
  -- get: arguments in, every result out (nils included); repeatable; callable
  do
    local f = future.addthread(function(a, b)
      copas.pause(0.05)
      return a + b, nil, "x", nil
    end, 1, 2)
    assert(f:try() == future.PENDING)
    local r = { n = select("#", f:get()), f:get() }
    assert(r.n == 5 and r[1] == true and r[2] == 3 and r[3] == nil and r[4] == "x" and r[5] == nil,
      "got " .. r.n .. " values")
    local ok, v = f()
    assert(ok == true and v == 3, "calling the future is get()")
    local status, a, b, c = f:try()
    assert(status == future.SUCCESS and a == 3 and b == nil and c == "x")
    assert(select("#", f:try()) == 5)
    assert(f:cancel() == false, "cannot cancel a finished task")
    assert(f:try() == future.SUCCESS)
    step("get")
  end

  -- errors: message or any error value, pcall-style
  do
    local f = future.addthread(function() error("kaboom") end)
    local ok, err = f:get()
    assert(ok == false and tostring(err):find("kaboom", 1, true), tostring(err))
    local status, err2 = f:try()
    assert(status == future.ERROR and err2 == err)
    local obj = { code = 42 }
    f = future.addthread(function() copas.pause(0.01); error(obj) end)
    ok, err = f:get()
    assert(ok == false and err == obj, "error values pass unchanged")
    f = future.addthread(nil)
    ok, err = f:get()
    assert(ok == false and type(err) == "string", "calling nil fails in the task")
    step("errors")
  end

  -- several threads waiting on one future all get the results
  do
    local f = future.addthread(function()
      copas.pause(0.1)
      return "shared"
    end)
    local got = {}
    for i = 1, 5 do
      copas.addthread(function()
        local ok, v = f:get()
        got[i] = ok and v
      end)
    end
    copas.pause(0.3)
    for i = 1, 5 do
      assert(got[i] == "shared", "waiter " .. i)
    end
    step("waiters")
  end

  -- cancel a running task: waiters get false, "cancelled"; the task stops
  do
    local reached = false
    local f = future.addthread(function()
      copas.pause(0.2)
      reached = true
    end)
    copas.pause(0.05)   -- the task is now sleeping
    local waiter
    copas.addthread(function() waiter = { f:get() } end)
    copas.pause(0.05)
    assert(waiter == nil, "waiting for the task")
    assert(f:cancel() == true)
    assert(f:cancel() == false, "already cancelled")
    copas.pause(0.05)
    assert(waiter and waiter[1] == false and waiter[2] == "cancelled", tostring(waiter and waiter[2]))
    local ok, err = f:get()
    assert(ok == false and err == "cancelled")
    local status, err2 = f:try()
    assert(status == future.ERROR and err2 == "cancelled")
    copas.pause(0.3)
    assert(not reached, "a cancelled task does not go on")
    step("cancel running")
  end

  -- cancel before the task started: it never runs
  do
    local ran = false
    local f = future.addthread(function() ran = true end)
    assert(f:cancel() == true)
    copas.pause(0.05)
    assert(not ran, "task never ran")
    step("cancel early")
  end

  -- addnamedthread: the task runs under that name, with arguments
  do
    local f = future.addnamedthread("named-task", function(x)
      return copas.getthreadname(), x
    end, "arg")
    local ok, name, x = f:get()
    assert(ok and name == "named-task" and x == "arg", tostring(name))
    step("named")
  end

  step("end")
end)

H.check("get,errors,waiters,cancel running,cancel early,named,end")
print("copas_future_test ok")
