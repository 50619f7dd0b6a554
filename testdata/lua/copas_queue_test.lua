-- copas.queue: new/push/pop/get_size/stop/finish/destroy/add_worker/
-- get_workers: FIFO with nil items, pop timeouts (0, given, math.huge), stop
-- and finish (with and without timeout), destroy while waiting, workers and
-- their names, bad input. Also passes on the reference Copas 4.11 (LuaJIT),
-- except the parts marked copas-lua only.
local copas = require "copas"
local Queue = copas.queue
local now = copas.gettime

local H = require "copas_submodule_helper"
local OURS, step = H.OURS, H.step

-- names and bad input, outside any thread
do
  local q = Queue.new()
  assert(type(q.name) == "string" and q.name:match("^copas_queue_%d+$"), tostring(q.name))
  local q2 = Queue:new()   -- the class table passed as options is fine
  assert(q2.name:match("^copas_queue_%d+$") and q2.name ~= q.name, q2.name)
  assert(Queue.new({ name = "jobs" }).name == "jobs")
  local ok, err = pcall(q.add_worker, q, "not a function")
  assert(not ok and err:find("expected worker to be a function", 1, true), tostring(err))
  assert(q:get_size() == 0)
  assert(#q:get_workers() == 0)
  assert(q:destroy() == true)
  assert(q2:destroy() == true)
end

copas.loop(function()
  -- FIFO, nil items, get_size
  do
    local q = Queue.new()
    assert(q:push(1) == true)
    assert(q:push(nil) == true)
    assert(q:push("three") == true)
    assert(q:get_size() == 3)
    assert(q:pop() == 1)
    local v, err = q:pop()
    assert(v == nil and err == nil, "a nil item is not an error")
    assert(q:pop() == "three")
    assert(q:get_size() == 0)
    step("fifo")
  end

  -- pop waits for a push; timeouts 0, given, math.huge
  do
    local q = Queue.new()
    local other_ran = false
    copas.addthread(function() other_ran = true end)
    local v, err = q:pop(0)
    assert(v == nil and err == "timeout")
    assert(not other_ran, "pop(0) must not yield")
    local t = now()
    v, err = q:pop(0.2)
    local took = now() - t
    assert(v == nil and err == "timeout", tostring(err))
    assert(took >= 0.19 and took < 3, "took " .. took)

    copas.addthread(function()
      copas.pause(0.2)
      q:push("late")
    end)
    t = now()
    assert(q:pop(math.huge) == "late")
    assert(now() - t >= 0.19, "pop waited for the push")
    step("pop")
  end

  -- stop: no more pushes, destroyed once empty
  do
    local q = Queue.new()
    q:push("a")
    q:push("b")
    assert(q:stop() == true)
    assert(q:stop() == true, "stop twice is fine")
    local ok, err = q:push("c")
    assert(ok == nil and err == "stopping", tostring(err))
    assert(q:get_size() == 2)
    assert(q:pop() == "a")
    assert(q:pop() == "b")
    ok, err = q:pop()
    assert(ok == nil and err == "destroyed", "empty after stop means destroyed")
    ok, err = q:get_size()
    assert(ok == nil and err == "destroyed")

    local empty = Queue.new()
    assert(empty:stop())
    ok, err = empty:push(1)
    assert(ok == nil and err == "destroyed", "an empty queue is destroyed by stop")
    step("stop")
  end

  -- destroy while threads wait in pop; every method fails afterwards
  do
    local q = Queue.new()
    local res = {}
    for i = 1, 2 do
      copas.addthread(function() res[i] = { q:pop(i == 1 and 5 or math.huge) } end)
    end
    copas.pause(0.05)
    q:push("x")   -- taken by the first waiter
    copas.pause(0.05)
    q:push("left behind")
    assert(q:destroy() == true)
    copas.pause(0.05)
    assert(res[1] and res[1][1] == "x")
    assert(res[2] and res[2][1] == nil and res[2][2] == "destroyed", tostring(res[2] and res[2][2]))
    for _, method in ipairs { "push", "pop", "get_size", "get_workers", "stop", "finish", "destroy", "add_worker" } do
      local ok, err = q[method](q, function() end)
      assert(ok == nil and err == "destroyed", method)
    end
    step("destroy")
  end

  -- workers: names, get_workers, processing, exit on finish
  do
    local q = Queue.new({ name = "wq" })
    local seen, names = {}, {}
    local w1 = q:add_worker(function(item)
      names[copas.getthreadname()] = true
      copas.pause(0.05)
      seen[#seen + 1] = item
    end)
    local w2 = q:add_worker(function(item)
      names[copas.getthreadname()] = true
      copas.pause(0.05)
      seen[#seen + 1] = item
    end)
    assert(type(w1) == "thread" and type(w2) == "thread")
    local list = q:get_workers()
    assert(#list == 2, "two workers")
    for i = 1, 4 do q:push(i) end
    copas.pause(0.2)
    assert(#seen == 4, "all items handled: " .. #seen)
    assert(names["wq:worker_1"] and names["wq:worker_2"], "worker names")
    local t = now()
    assert(q:finish(5) == true)
    assert(now() - t < 1, "idle workers exit at once")
    assert(coroutine.status(w1) == "dead" and coroutine.status(w2) == "dead")
    local ok, err = q:get_workers()
    assert(ok == nil and err == "destroyed")
    step("workers")
  end

  -- finish waits for the workers to finish their last item
  do
    local q = Queue.new()
    local log = {}
    q:add_worker(function(item)
      log[#log + 1] = "start " .. item
      copas.pause(0.3)
      log[#log + 1] = "end " .. item
    end)
    q:push(1)
    q:push(2)
    copas.pause(0.1)
    log[#log + 1] = "finish"
    local ok, err = q:finish(math.huge)
    log[#log + 1] = "finished " .. tostring(ok) .. " " .. tostring(err)
    local got = table.concat(log, ",")
    assert(got == "start 1,finish,end 1,start 2,end 2,finished true nil", got)
    step("finish waits")
  end

  -- finish times out and destroys the queue; or not, when asked
  do
    local q = Queue.new()
    q:push(1)   -- no worker will take it
    local t = now()
    local ok, err = q:finish(0.2)
    local took = now() - t
    assert(ok == nil and err == "timeout", tostring(err))
    assert(took >= 0.19 and took < 3, "took " .. took)
    ok, err = q:pop()
    assert(ok == nil and err == "destroyed", "destroyed on timeout")

    q = Queue.new()
    q:push(1)
    ok, err = q:finish(0, true)
    assert(ok == nil and err == "timeout", "finish(0) fails at once")
    ok, err = q:finish(0.1, true)
    assert(ok == nil and err == "timeout")
    assert(q:get_size() == 1, "items kept")
    ok, err = q:push(2)
    assert(ok == nil and err == "stopping", "but it is stopping")
    assert(q:pop() == 1)
    ok, err = q:pop()
    assert(ok == nil and err == "destroyed", "and gone once empty")
    step("finish timeout")
  end

  -- finish times out while a worker is still busy
  do
    local q = Queue.new()
    q:add_worker(function() copas.pause(1) end)
    q:push(1)
    copas.pause(0.05)
    local ok, err = q:finish(0.2)
    assert(ok == nil and err == "timeout", tostring(err))
    step("finish worker timeout")
  end

  -- several threads finishing the same queue all return (once it is
  -- destroyed, finish() fails with "destroyed" like every method)
  do
    local q = Queue.new()
    q:add_worker(function() copas.pause(0.1) end)
    q:push(1)
    q:push(2)
    q:push(3)
    local res = {}
    for i = 1, 3 do
      copas.addthread(function() res[i] = { q:finish(5) } end)
    end
    copas.pause(0.5)
    for i = 1, 3 do
      assert(res[i] and res[i][1] == true, "finisher " .. i .. ": " .. tostring(res[i] and res[i][2]))
    end
    local ok, err = q:finish()
    assert(ok == nil and err == "destroyed")
    step("finish many")
  end

  -- an exited worker is not kept alive by the queue
  do
    local q = Queue.new()
    q:push(1)
    q:stop()
    local weak = setmetatable({}, { __mode = "v" })
    weak[1] = q:add_worker(function() end)
    copas.pause(0.05)
    assert(coroutine.status(weak[1]) == "dead")
    collectgarbage()
    collectgarbage()
    assert(weak[1] == nil, "worker thread collected")
    assert(q, "while the queue is still referenced")
    step("gc")
  end

  if OURS then
    -- copas-lua only: a worker that died of an error does not hold up finish
    -- (the reference waits for it until the timeout)
    local handler = copas.geterrorhandler()
    local caught
    copas.seterrorhandler(function(msg) caught = msg end, true)
    local q = Queue.new()
    local w = q:add_worker(function() error("worker boom") end)
    q:push(1)
    copas.pause(0.05)
    copas.seterrorhandler(handler, true)
    assert(caught and tostring(caught):find("worker boom", 1, true), tostring(caught))
    assert(coroutine.status(w) == "dead")
    assert(#q:get_workers() == 0)
    local t = now()
    assert(q:finish(2) == true)
    assert(now() - t < 1)
    step("dead worker")
  end

  step("end")
end)

H.check("fifo,pop,stop,destroy,workers,finish waits,finish timeout,finish worker timeout,finish many,gc"
  .. (OURS and ",dead worker" or "") .. ",end")
print("copas_queue_test ok")
