-- copas.future: run a function as a Copas thread and collect its outcome
-- later (Copas 4.11 API).
--
-- Written for copas-lua. A future stores its outcome pcall-style (true and
-- the results, or false and the error). Threads blocked in get() wait on a
-- semaphore that is given exactly what they wait for once the outcome is set.

local copas = require("copas")
local Semaphore = require("copas.semaphore")

local setmetatable, select, pcall, tostring, error = setmetatable, select, pcall, tostring, error
local unpack = unpack or table.unpack

local M = {
  SUCCESS = true,
  PENDING = false,
  ERROR = "error",
}

-- Reading a field the module lacks is a mistake (e.g. future.PNEDING).
setmetatable(M, {
  __index = function(_, key)
    error("unknown field 'future." .. tostring(key) .. "'", 2)
  end,
})


local Future = {}
Future.__index = Future
Future.__call = function(self) return self:get() end   -- f() is f:get()

-- Records the outcome (packed, pcall-style) and releases the threads
-- waiting in get(). The first outcome wins.
local function settle(self, ...)
  if self.outcome then
    return false
  end
  self.outcome = { n = select("#", ...), ... }
  local waiting = self.ready:get_wait()
  if waiting > 0 then
    self.ready:give(waiting)
  end
  return true
end


--- Waits for the task to end. Returns true and its results, or false and
-- the error ("cancelled" after cancel()). Returns at once when it has ended.
function Future:get()
  if not self.outcome then
    self.ready:take(1, math.huge)
  end
  local outcome = self.outcome
  return unpack(outcome, 1, outcome.n)
end


--- Checks without waiting. Returns future.PENDING (false); or
-- future.SUCCESS (true) and the results; or future.ERROR ("error") and the
-- error.
function Future:try()
  local outcome = self.outcome
  if not outcome then
    return M.PENDING
  end
  if outcome[1] then
    return M.SUCCESS, unpack(outcome, 2, outcome.n)
  end
  return M.ERROR, outcome[2]
end


--- Cancels the task unless it has ended: its thread is removed and get()
-- returns false, "cancelled". Returns true if cancelled, false if it had
-- already ended (or was cancelled before).
function Future:cancel()
  if not settle(self, false, "cancelled") then
    return false
  end
  copas.removethread(self.co)
  return true
end


-- Calls func; a value that cannot be called fails with Lua 5.1's message
-- for Copas' upvalue (gopher-lua's differs).
local function call(func, ...)
  if type(func) ~= "function" then
    local mt = getmetatable(func)
    if type(mt) ~= "table" or mt.__call == nil then
      error(("attempt to call upvalue 'func' (a %s value)"):format(type(func)))
    end
  end
  return func(...)
end


--- Like copas.addnamedthread, but returns a future for the thread.
function M.addnamedthread(name, func, ...)
  local f = setmetatable({
    outcome = nil,   -- { n = <count>, ok, ... } once the task has ended
    ready = Semaphore.new(10^9, 0, math.huge),   -- get() waits here
    co = nil,        -- the task's thread
  }, Future)
  f.co = copas.addnamedthread(name, function(...)
    settle(f, pcall(call, func, ...))
  end, ...)
  return f
end


--- Like copas.addthread, but returns a future for the thread.
function M.addthread(func, ...)
  return M.addnamedthread(nil, func, ...)
end


return M
