-- copas.timer: one-shot and recurring timers running as Copas threads
-- (Copas 4.11 API).
--
-- Written for copas-lua. An armed timer owns one named Copas thread that
-- sleeps and then runs the callback; cancelling removes that thread. A
-- one-shot timer disarms itself before its callback runs, so the callback
-- may arm it again. Callback errors go to the timer's error handler (or the
-- Copas default) and do not stop a recurring timer.

local copas = require("copas")

local running = coroutine.running
local setmetatable, assert, type, xpcall = setmetatable, assert, type, xpcall

local Timer = {}
Timer.__index = Timer

local timer_count = 0


-- Body of the timer thread.
local function run(self, first_delay)
  if self.errorhandler then
    copas.seterrorhandler(self.errorhandler)
  end
  copas.pause(first_delay)
  while not self.cancelled do
    if not self.recurring then
      -- disarm first, so the callback can arm the timer again
      self.cancelled, self.co = true, nil
      self:callback(self.params)
      return
    end
    self:callback(self.params)
    if self.cancelled then
      break
    end
    copas.pause(self.delay)
  end
  self.co, self.cancelled = nil, true
end


--- Arms a timer that was cancelled or has expired (a one-shot timer may arm
-- itself again from its own callback). `initial_delay` (default: the timer's
-- delay) is the wait before the first expiry.
-- Returns the timer, or nil, "already armed".
function Timer:arm(initial_delay)
  assert(initial_delay == nil or initial_delay >= 0, "delay must be greater than or equal to 0")
  if self.co then
    return nil, "already armed"
  end
  self.cancelled = false
  self.co = copas.addnamedthread(self.name, run, self, initial_delay or self.delay)
  return self
end


--- Cancels an armed timer. Returns the timer, or nil, "not armed".
function Timer:cancel()
  local co = self.co
  if not co then
    return nil, "not armed"
  end
  if self.cancelled then
    return nil, "already cancelled"
  end
  self.cancelled, self.co = true, nil
  copas.wakeup(co)        -- take it off the sleeping list...
  copas.removethread(co)  -- ...and drop it instead of resuming it
  return self
end


-- xpcall message handler: hand the error to the Copas error handler of the
-- timer thread (the timer's own handler, when it has one).
local function forward_error(err)
  return copas.geterrorhandler()(err, running(), nil)
end


--- Creates and arms a timer. Options: `delay` (seconds, required),
-- `callback` (function(timer, params), required), `recurring` (boolean),
-- `initial_delay`, `params` (passed to the callback), `name` (thread name,
-- default "copas_timer_<n>"), `errorhandler` (a Copas error handler).
-- Returns the timer; raises an error on bad options.
function Timer.new(opts)
  assert((opts.delay or -1) >= 0, "delay must be greater than or equal to 0")
  local fn = opts.callback
  assert(type(fn) == "function", "expected callback to be a function")

  local name = opts.name
  if name == nil then
    timer_count = timer_count + 1
    name = "copas_timer_" .. timer_count
  end

  local self = setmetatable({
    name = name,
    delay = opts.delay,
    recurring = not not opts.recurring,
    params = opts.params,
    errorhandler = opts.errorhandler,
    cancelled = false,
    co = nil,
    callback = function(timer_obj, params)
      xpcall(function() return fn(timer_obj, params) end, forward_error)
    end,
  }, Timer)
  return self:arm(opts.initial_delay)
end


return Timer
