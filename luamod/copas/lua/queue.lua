-- copas.queue: a FIFO queue for Copas threads, with optional worker threads
-- (Copas 4.11 API).
--
-- Written for copas-lua. Items may be nil. A semaphore counts the items so
-- `pop` can wait for one. `stop` refuses further pushes and destroys the
-- queue once it runs empty; `finish` additionally waits for that and for the
-- workers to exit (on two more semaphores). Workers drop themselves from the
-- queue's list when they exit, so the queue holds no finished thread.

local copas = require("copas")
local Semaphore = require("copas.semaphore")

local gettime = copas.gettime
local running = coroutine.running
local co_status = coroutine.status
local setmetatable, rawget = setmetatable, rawget
local type, tostring, assert, error, pairs = type, tostring, assert, error, pairs

local DEFAULT_FINISH_TIMEOUT = 10   -- the default lock timeout in Copas

local Queue = {}
Queue.__index = Queue

-- A destroyed queue answers nil, "destroyed" to every method call.
local function destroyed() return nil, "destroyed" end
local destroyed_mt = { __index = function() return destroyed end }

local queue_count = 0


-- Releases every thread waiting on semaphore `s` (without storing any).
local function release_all(s)
  local waiting = s:get_wait()
  if waiting and waiting > 0 then
    s:give(waiting)
  end
end

-- Removes list[i], shifting the rest down. (Not table.remove: gopher-lua's
-- keeps a reference to the removed last element in the table's storage.)
local function remove_at(list, i)
  local n = #list
  for j = i, n - 1 do
    list[j] = list[j + 1]
  end
  list[n] = nil
end

-- Number of worker threads still able to run; forgets dead ones (a worker
-- whose function raised an error dies without unregistering).
local function live_workers(self)
  local workers, n = self.workers, 0
  for i = #workers, 1, -1 do
    if co_status(workers[i]) == "dead" then
      remove_at(workers, i)
    else
      n = n + 1
    end
  end
  return n
end


--- Creates a queue. `opts.name` names it (default "copas_queue_<n>"); the
-- workers it starts are named "<name>:worker_<n>".
function Queue.new(opts)
  opts = opts or {}
  local name = opts.name
  if name == nil then
    queue_count = queue_count + 1
    name = "copas_queue_" .. queue_count
  end
  return setmetatable({
    name = name,
    items = {},       -- items[rd .. wr-1]; values may be nil
    rd = 1,           -- index of the next item to pop
    wr = 1,           -- index the next pushed item goes to
    sema = Semaphore.new(10^9),  -- counts the items; its timeout is pop's default
    stopping = false,
    destroyed = false,
    workers = {},     -- worker coroutines, in the order they were added
    worker_id = 0,
    gone = Semaphore.new(1, 0, math.huge),    -- finish() waits here; destroy() destroys it
    exits = Semaphore.new(10^9, 0, math.huge), -- finish() waits here for a worker to exit
  }, Queue)
end


--- Pushes `item` (may be nil). Returns true, or nil, "stopping"|"destroyed".
function Queue:push(item)
  if self.stopping then
    return nil, "stopping"
  end
  local wr = self.wr
  self.items[wr] = item
  self.wr = wr + 1
  self.sema:give(1)
  return true
end


--- Pops the oldest item, waiting up to `timeout` seconds for one (default:
-- 10; 0 never yields; math.huge waits forever).
-- Returns the item (may be nil), or nil, "timeout"|"destroyed".
function Queue:pop(timeout)
  local ok, err = self.sema:take(1, timeout)
  if not ok then
    return nil, err
  end
  local items, rd = self.items, self.rd
  local item = items[rd]
  items[rd] = nil
  rd = rd + 1
  if rd == self.wr then   -- ran empty: start afresh
    self.items, self.rd, self.wr = {}, 1, 1
    if self.stopping then
      self:destroy()
    end
  else
    self.rd = rd
  end
  return item
end


--- Returns the number of items in the queue.
function Queue:get_size()
  return self.wr - self.rd
end


--- Refuses further pushes; the queue destroys itself once it is empty (now,
-- if it already is). Returns immediately: true.
function Queue:stop()
  if not self.stopping then
    self.stopping = true
    if self.wr == self.rd then
      self:destroy()
    end
  end
  return true
end


--- Stops the queue and waits, up to `timeout` seconds in total (default 10,
-- math.huge waits forever), for it to run empty and for its workers to exit.
-- On a timeout the queue is destroyed unless `no_destroy_on_timeout`.
-- Returns true, or nil, "timeout"|"destroyed".
function Queue:finish(timeout, no_destroy_on_timeout)
  timeout = timeout or DEFAULT_FINISH_TIMEOUT
  if type(timeout) ~= "number" or timeout < 0 then
    error("expected timeout to be a number greater than or equal to 0, got: "
          .. tostring(timeout), 2)
  end
  local deadline = gettime() + timeout
  self:stop()

  local ok, err = true, nil
  if not rawget(self, "destroyed") then
    ok, err = self.gone:take(1, timeout)   -- fails with "destroyed" once the queue is gone
    if err == "destroyed" then
      ok, err = true, nil
    end
  end
  while ok and live_workers(self) > 0 do
    local left = deadline - gettime()
    ok, err = self.exits:take(1, left > 0 and left or 0)
  end

  if not ok then
    if not no_destroy_on_timeout and not rawget(self, "destroyed") then
      self:destroy()
    end
    return nil, err
  end
  return true
end


--- Destroys the queue at once, abandoning its items; threads waiting in
-- pop() get nil, "destroyed", workers exit, and every later method call
-- returns nil, "destroyed". Returns true.
function Queue:destroy()
  local items = self.items
  for k in pairs(items) do
    items[k] = nil
  end
  self.rd, self.wr = 1, 1
  self.destroyed = true
  setmetatable(self, destroyed_mt)
  self.sema:destroy()
  self.gone:destroy()
  return true
end


--- Adds a worker thread calling `worker(item)` for every item popped, until
-- the queue is destroyed. Worker functions run unprotected: an error ends
-- that worker. Returns the worker coroutine, or nil, "destroyed".
function Queue:add_worker(worker)
  assert(type(worker) == "function", "expected worker to be a function")
  self.worker_id = self.worker_id + 1
  local workers, exits = self.workers, self.exits

  local co = copas.addnamedthread(self.name .. ":worker_" .. self.worker_id, function()
    while true do
      local item, err = self:pop(math.huge)
      if err then break end
      worker(item)
    end
    local me = running()
    for i = #workers, 1, -1 do
      if workers[i] == me then
        remove_at(workers, i)
        break
      end
    end
    release_all(exits)
  end)

  if co_status(co) ~= "dead" then
    workers[#workers + 1] = co
  end
  return co
end


--- Returns an array of the worker threads (from add_worker) still running.
function Queue:get_workers()
  local list, workers = {}, self.workers
  for i = 1, #workers do
    if co_status(workers[i]) ~= "dead" then
      list[#list + 1] = workers[i]
    end
  end
  return list
end


return Queue
