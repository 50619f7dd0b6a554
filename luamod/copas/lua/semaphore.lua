-- copas.semaphore: a counting semaphore for Copas threads (Copas 4.11 API).
--
-- Written for copas-lua. Takers wait in strict FIFO order: a request that
-- does not fit blocks everyone behind it. Each waiter carries its own record
-- (no registry keyed by coroutine), so nothing here keeps a finished thread
-- alive, and a waiter's timeout is cancelled as soon as it is released.

local copas = require("copas")

local running = coroutine.running
local setmetatable, rawget = setmetatable, rawget
local tonumber, tostring, type, error = tonumber, tostring, type, error

local DEFAULT_TIMEOUT = 10

-- give and take refuse a count that is not a number >= 0 (Copas 4.11 takes
-- it: give(-5) drives the count negative, take(-1) adds one), before they
-- touch the semaphore.
local function check_count(n, method)
  if type(n) ~= "number" then
    error(("bad argument #1 to '%s' (number expected, got %s)"):format(method, type(n)), 3)
  end
  if not (n >= 0) then -- also NaN
    error(("bad argument #1 to '%s' (number greater than or equal to 0 expected, got %s)")
          :format(method, tostring(n)), 3)
  end
end

local Semaphore = {}
Semaphore.__index = Semaphore

-- A destroyed semaphore answers nil, "destroyed" to every method call.
local function destroyed() return nil, "destroyed" end
local destroyed_mt = { __index = function() return destroyed end }


--- Creates a semaphore holding at most `max` resources, `start` (default 0)
-- of them available now; `seconds` is the default timeout for `take` (10
-- when omitted, math.huge waits forever).
function Semaphore.new(max, start, seconds)
  local timeout = tonumber(seconds or DEFAULT_TIMEOUT) or -1
  if timeout < 0 then
    error("expected timeout (3rd argument) to be a number greater than or equal to 0, got: "
          .. tostring(seconds), 2)
  end
  if type(max) ~= "number" or max < 1 then
    error("expected max resources (1st argument) to be a number greater than 0, got: "
          .. tostring(max), 2)
  end
  return setmetatable({
    count = start or 0,
    max = max,
    timeout = timeout,
    line = {},   -- waiter records; a `false` slot is a waiter that left
    first = 1,   -- index of the first slot still in line
    next = 1,    -- index the next waiter goes to
  }, Semaphore)
end


-- Releases waiters from the front of the line for as long as the available
-- resources cover the request at the front.
local function serve(self)
  local line, i, last, count = self.line, self.first, self.next, self.count
  while i < last do
    local waiter = line[i]
    if waiter then
      if waiter.requested > count then break end
      count = count - waiter.requested
      waiter.state = "ok"
      copas.wakeup(waiter.co)
    end
    line[i] = nil
    i = i + 1
  end
  if i == last then   -- line empty: start afresh
    self.line, self.next, i = {}, 1, 1
  end
  self.first, self.count = i, count
end


--- Returns `given` (default 1) resources. More than `max` in store is capped
-- at `max` and reported as nil, "too many" (waiters are still served).
function Semaphore:give(given)
  given = given or 1
  check_count(given, "give")
  local count = self.count + given
  local err
  if count > self.max then
    count, err = self.max, "too many"
  end
  self.count = count
  serve(self)
  if err then
    return nil, err
  end
  return true
end


--- Takes `requested` (default 1) resources, waiting up to `timeout` seconds
-- (default: the semaphore's timeout; 0 never yields; math.huge waits forever).
-- Returns true, or nil, "timeout"|"too many"|"destroyed".
function Semaphore:take(requested, timeout)
  requested = requested or 1
  check_count(requested, "take")
  if self.first == self.next and self.count >= requested then
    -- nobody in line and enough in store
    self.count = self.count - requested
    return true
  end
  if requested > self.max then
    return nil, "too many"
  end

  timeout = timeout or self.timeout
  if timeout == 0 then
    return nil, "timeout"
  end
  if type(timeout) ~= "number" or timeout < 0 then
    error("expected timeout to be a number greater than or equal to 0, got: "
          .. tostring(timeout), 2)
  end

  -- get in line
  local co = running()
  local slot = self.next
  local waiter = { co = co, requested = requested }  -- state: "ok" | "timeout" | "destroyed"
  self.line[slot] = waiter
  self.next = slot + 1

  local line = self.line
  copas.timeout(timeout, function()
    if waiter.state == nil then
      waiter.state = "timeout"
      line[slot] = false
      serve(self)   -- whoever waited behind us may fit now
      copas.wakeup(co)
    end
  end)

  repeat
    copas.pauseforever()
  until waiter.state ~= nil

  if waiter.state == "timeout" then
    return nil, "timeout"
  end
  copas.timeout(0)
  if waiter.state == "destroyed" or rawget(self, "destroyed") then
    return nil, "destroyed"
  end
  return true
end


--- Returns the number of resources available now.
function Semaphore:get_count()
  return self.count
end


--- Returns what all waiting threads request together minus what is available:
-- `give(get_wait())` releases every waiter and leaves 0 in store.
function Semaphore:get_wait()
  local wanted, line = 0, self.line
  for i = self.first, self.next - 1 do
    local waiter = line[i]
    if waiter then
      wanted = wanted + waiter.requested
    end
  end
  return wanted - self.count
end


--- Destroys the semaphore: every waiting thread gets nil, "destroyed", and
-- every later method call returns nil, "destroyed". Returns true.
function Semaphore:destroy()
  local line = self.line
  for i = self.first, self.next - 1 do
    local waiter = line[i]
    line[i] = nil
    if waiter then
      waiter.state = "destroyed"
      copas.wakeup(waiter.co)
    end
  end
  self.line, self.first, self.next = {}, 1, 1
  self.count = self.max
  self.destroyed = true
  setmetatable(self, destroyed_mt)
  return true
end


return Semaphore
