-- copas.lock: a mutual-exclusion lock for Copas threads (Copas 4.11 API).
--
-- Written for copas-lua. The lock is a one-resource copas.semaphore plus an
-- owner: waiting threads form its FIFO line, and on release the lock goes
-- straight to the first thread still waiting, so a late arrival can never
-- overtake it. A lock is re-entrant unless created with `not_reentrant`.

local copas = require("copas")
local Semaphore = require("copas.semaphore")

local gettime = copas.gettime
local running = coroutine.running
local setmetatable = setmetatable
local tonumber, tostring, error = tonumber, tostring, error

local DEFAULT_TIMEOUT = 10

local Lock = {}
Lock.__index = Lock

-- A destroyed lock answers nil, "destroyed" to every method call.
local function destroyed() return nil, "destroyed" end
local destroyed_mt = { __index = function() return destroyed end }


--- Creates a lock. `seconds` is the default wait timeout for `get` (10 when
-- omitted, math.huge waits forever); a truthy `not_reentrant` makes a second
-- `get` by the owner wait like anyone else.
function Lock.new(seconds, not_reentrant)
  local timeout = tonumber(seconds or DEFAULT_TIMEOUT) or -1
  if timeout < 0 then
    error("expected timeout (1st argument) to be a number greater than or equal to 0, got: "
          .. tostring(seconds), 2)
  end
  return setmetatable({
    timeout = timeout,
    not_reentrant = not_reentrant,
    owner = nil,   -- coroutine holding the lock
    depth = 0,     -- how many times the owner holds it
    -- the lock itself: 1 when free; waiters queue on it in FIFO order
    sema = Semaphore.new(1, 1, math.huge),
  }, Lock)
end


--- Acquires the lock, waiting up to `timeout` seconds (default: the lock's
-- timeout; 0 never yields; math.huge waits forever).
-- Returns the seconds waited, or nil, "timeout"|"destroyed", seconds waited.
function Lock:get(timeout)
  local co = running()
  if self.owner == co and co ~= nil and not self.not_reentrant then
    self.depth = self.depth + 1
    return 0
  end

  timeout = timeout or self.timeout
  local sema = self.sema
  local free = sema:get_count() == 1
  local start = gettime()
  local ok, err = sema:take(1, timeout)
  local waited = (free or timeout == 0) and 0 or gettime() - start
  if not ok then
    return nil, err, waited
  end
  self.owner, self.depth = co, 1
  return waited
end


--- Releases the lock held by the running thread.
-- Returns true, or nil, "cannot release a lock not owned".
function Lock:release()
  local co = running()
  if self.owner == nil or self.owner ~= co then
    return nil, "cannot release a lock not owned"
  end
  if self.depth > 1 then
    self.depth = self.depth - 1
    return true
  end
  self.owner, self.depth = nil, 0
  self.sema:give(1)   -- hands the lock to the first waiter, if any
  return true
end


--- Destroys the lock: every waiting thread gets nil, "destroyed", and every
-- later method call returns nil, "destroyed". Returns true.
function Lock:destroy()
  self.destroyed = true
  setmetatable(self, destroyed_mt)
  self.sema:destroy()
  return true
end


return Lock
