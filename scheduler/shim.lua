-- Yield-transparent pcall/xpcall and coroutine functions for gopher-lua.
-- Loaded once per state by scheduler.installCoroutines; the Go helpers come
-- in as arguments. A protected call runs its function on a pooled worker
-- coroutine, so a yield inside it only suspends the worker; the caller
-- forwards the yield upward and passes the answer back down.
local SENTINEL, gyield, can_yield, resume, newworker, rawyield, raw_create = ...
local type, error = type, error

local DONE = {}
local pool, npool = {}, 0
local POOLMAX = 64

local function pass(...) return ... end

-- Worker body. A pooled worker must not keep its last job's function,
-- arguments or results reachable (weak tables and collectgarbage() rely
-- on it), so after reporting DONE it is resumed once more to return from
-- run() and park in body(), whose frame holds nothing.
local function run(f, ...)
  rawyield(DONE, f(...))
end

local function body()
  while true do run(rawyield()) end
end

local function acquire()
  if npool > 0 then
    local co = pool[npool]
    pool[npool] = nil
    npool = npool - 1
    return co
  end
  local co = newworker(body)
  resume(co) -- park at the first rawyield
  return co
end

local function finish(co, ok, first, ...)
  if not ok then return false, first end
  if first == DONE then
    resume(co)
    if npool < POOLMAX then npool = npool + 1; pool[npool] = co end
    return true, ...
  end
  local yok, msg = can_yield()
  if not yok then return false, msg end
  return finish(co, resume(co, gyield(first, ...)))
end

-- Also on the main thread: gopher-lua's own pcall closes every open upvalue
-- of the thread when it catches an error, cutting live closures loose from
-- their enclosing functions. An error inside a worker only ends the worker.
local function ypcall(f, ...)
  local co = acquire()
  return finish(co, resume(co, f, ...))
end

local function handle(handler, ok, ...)
  if ok then return true, ... end
  -- the handler runs after the worker unwound; an error inside it is
  -- reported like Lua's "error in error handling".
  local _, res = ypcall(handler, (...))
  return false, res
end

local function yxpcall(f, handler, ...)
  local co = acquire()
  return handle(handler, finish(co, resume(co, f, ...)))
end

-- coroutine.resume: scheduler operations yielded inside a user coroutine
-- travel on up to the loop; everything else comes back to the caller.
local function fwd(co, ok, first, ...)
  if ok and first == SENTINEL then
    return fwd(co, resume(co, gyield(SENTINEL, ...)))
  end
  return ok, first, ...
end

local function co_resume(co, ...)
  return fwd(co, resume(co, ...))
end

local function wrapped(ok, ...)
  if ok then return ... end
  error((...), 0)
end

local function co_wrap(f)
  if type(f) ~= "function" then
    error("bad argument #1 to 'wrap' (Lua function expected)", 2)
  end
  local co = raw_create(f)
  return function(...)
    return wrapped(fwd(co, resume(co, ...)))
  end
end

local function co_yield(...)
  return pass(gyield(...))
end

return ypcall, yxpcall, co_resume, co_wrap, co_yield
