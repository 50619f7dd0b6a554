-- Yield-safe pcall/xpcall and coroutine functions on the main thread and in
-- plain coroutines (scheduler-driven cases are in scheduler's Go tests).

-- pcall/xpcall basics
assert(select('#', pcall(function() end)) == 1)
local ok, e = pcall(error, { code = 7 })
assert(not ok and e.code == 7)
ok, e = pcall(error, "msg", 0)
assert(not ok and e == "msg")
ok, e = pcall(nil)
assert(not ok and e:find("attempt to call"), e)
ok, e = xpcall(function() error("x", 0) end, function(m) return "handled " .. m end)
assert(not ok and e == "handled x")
local a, b, c = pcall(function(...) return ... end, 1, nil, 3)
assert(a and b == 1 and c == nil)

-- yield inside pcall inside a user coroutine reaches the resumer
local co = coroutine.create(function()
  local ok, v = pcall(function()
    local x = coroutine.yield("first")
    return x * 2
  end)
  assert(ok and v == 42)
  local ok2, err = pcall(function()
    coroutine.yield("second")
    error({ tag = "after-yield" })
  end)
  assert(not ok2 and err.tag == "after-yield")
  return "done"
end)
local r1, v1 = coroutine.resume(co)
assert(r1 and v1 == "first")
local r2, v2 = coroutine.resume(co, 21)
assert(r2 and v2 == "second")
local r3, v3 = coroutine.resume(co)
assert(r3 and v3 == "done", tostring(v3))
assert(coroutine.status(co) == "dead")

-- coroutine.running inside pcall is the coroutine itself
co = coroutine.create(function()
  local me = coroutine.running()
  local ok, inner = pcall(coroutine.running)
  assert(ok and inner == me)
  assert(coroutine.status(me) == "running")
  return true
end)
assert(coroutine.resume(co))
assert(coroutine.running() == nil, "main thread reports nil")

-- resuming with fewer values than the yield site expects
co = coroutine.create(function()
  local x, y, z = coroutine.yield()
  return x, y, z
end)
coroutine.resume(co)
local okr, x, y, z = coroutine.resume(co)
assert(okr and x == nil and y == nil and z == nil)

-- refusals instead of crashes (gopher-lua D3)
local self_co
self_co = coroutine.create(function() return coroutine.resume(self_co) end)
local _, ok_inner, msg = coroutine.resume(self_co)
assert(ok_inner == false and msg == "cannot resume running coroutine", msg)
local dead = coroutine.create(function() end)
coroutine.resume(dead)
ok, e = coroutine.resume(dead)
assert(not ok and e == "cannot resume dead coroutine")

-- yields that cannot be made give Lua 5.1's error
co = coroutine.create(function()
  local t = setmetatable({}, { __index = function() coroutine.yield() end })
  return t.x
end)
ok, e = coroutine.resume(co)
assert(not ok and e:find("attempt to yield across metamethod/C%-call boundary"), e)
ok, e = pcall(coroutine.yield)
assert(not ok and e:find("attempt to yield from outside a coroutine"), e)

-- wrap
local gen = coroutine.wrap(function(n) for i = 1, n do coroutine.yield(i) end return "end" end)
assert(gen(2) == 1 and gen() == 2 and gen() == "end")
ok, e = pcall(gen)
assert(not ok and e:find("cannot resume dead coroutine"), e)
ok, e = pcall(coroutine.wrap, 1)
assert(not ok)

-- bad input
ok, e = pcall(coroutine.resume, 1)
assert(not ok and e:find("bad argument #1"), e)
ok, e = pcall(coroutine.status, "x")
assert(not ok)

-- runaway nesting is a Lua error, not a dead process (Lua 5.1: "C stack
-- overflow")
local function nest(n) return coroutine.wrap(function() return nest(n + 1) end)() end
local okd, ed = pcall(nest, 1)
assert(not okd and tostring(ed):find("C stack overflow"), tostring(ed))
local function pnest(n) local okp, e = pcall(pnest, n + 1); if not okp then error(e, 0) end end
okd, ed = pcall(pnest, 1)
assert(not okd and tostring(ed):find("overflow"), tostring(ed))
local function rec(n) return rec(n + 1) + 1 end
okd, ed = pcall(rec, 1)
assert(not okd and tostring(ed):find("overflow"), tostring(ed))
