-- Multiple assignment and the other gopher-lua 1.1.2 miscompilations that
-- internal/rewrite fixes, for every way a chunk can be loaded. Expected
-- values are what Lua 5.1.5 gives.

local function eq(got, want, what)
  if got ~= want then
    error(what .. ": got " .. tostring(got) .. ", want " .. tostring(want), 2)
  end
end

-- Locals, upvalues, globals.
local a, b = 1, 2
a, b = b, a
eq(a, 2, "swap a"); eq(b, 1, "swap b")
local x, y, z = 1, 2, 3
x, y, z = z, x, y
eq(x .. y .. z, "312", "rotate")
local function swapup() a, b = b, a end
swapup()
eq(a .. b, "12", "upvalue swap")
ga, gb = 1, 2
ga, gb = gb, ga
eq(ga .. gb, "21", "global swap")

-- Manual §2.4.3: i, a[i] = i+1, 20 sets a[3].
do
  local i, t = 3, {}
  i, t[i] = i + 1, 20
  eq(t[3], 20, "t[3]"); eq(t[4], nil, "t[4]"); eq(i, 4, "i")
  local t0 = t
  t, t.x = {}, 5
  eq(t0.x, 5, "old table field"); eq(t.x, nil, "new table field")
end

-- Value adjustment.
do
  local function three() return 1, 2, 3 end
  local p, q, r = 0, 0, 0
  p, q, r = three()
  eq(p .. q .. r, "123", "call expands")
  p, q, r = 9, three()
  eq(p .. q .. r, "912", "call expands last")
  p, q, r = three(), 9
  eq(p .. q .. tostring(r), "19nil", "call truncated")
  p, q = 7
  eq(q, nil, "missing value is nil")
  local n = 0
  local function bump() n = n + 1 end
  p, q = q, p, bump(), bump()
  eq(n, 2, "extra values evaluated")
  eq(p, nil, "p"); eq(q, 7, "q")
end

-- Evaluation order: table and keys, then values, then stores right to left.
do
  local log = {}
  local function L(s, v) log[#log + 1] = s; return v end
  local t = setmetatable({}, {__newindex = function(t, k, v) log[#log + 1] = "set" .. k; rawset(t, k, v) end})
  L("o1", t)[L("k1", "a")], L("o2", t)[L("k2", "b")] = L("v1", 1), L("v2", 2)
  eq(table.concat(log, " "), "o1 k1 o2 k2 v1 v2 setb seta", "order")
end

-- local f = function ... f ... end refers to the outer f.
do
  local tostring = function(v) return "<" .. tostring(v) .. ">" end
  eq(tostring(1), "<1>", "local f = function wrapping f")
  local function fact(n) if n <= 1 then return 1 end return n * fact(n - 1) end
  eq(fact(5), 120, "local function recursion")
end

-- Generic for with fewer than three values starts with nil state/control.
do
  local t = {a = 1, b = 2}
  do local u, v, w = 1, 2, "a" end
  local n = 0
  for _ in next, t do n = n + 1 end
  eq(n, 2, "for k in next, t")
  do local u, v, w = 1, 2, 3 end
  for _ in function(s, c) eq(s, nil, "state"); eq(c, nil, "control") end do end
end

-- Every loader gets the fix.
local src = "local a, b = 1, 2; a, b = b, a; return a, b"
local f = assert(loadstring(src))
local r1, r2 = f()
eq(r1 .. r2, "21", "loadstring")
local parts = {"local a, b = 1, 2\n", "a, b = b, a\n", "return a, b"}
f = assert(load(function() return table.remove(parts, 1) end))
r1, r2 = f()
eq(r1 .. r2, "21", "load")
local helper = TESTDIR .. "/assign_helper.lua"
local m = assert(loadfile(helper))()
eq(m.a .. m.b, "21", "loadfile")
m = dofile(helper)
eq(m.a .. m.b, "21", "dofile")
m = require("assign_helper")
eq(m.a .. m.b, "21", "require")
eq(m.name, "assign_helper", "require passes the module name")

-- Lua 5.1 messages.
local fn, msg = loadstring("x = = 1")
eq(fn, nil, "syntax error")
eq(msg:match("^%[string \"x = = 1\"%]:1: .* near '='$") ~= nil, true, "syntax error message: " .. msg)
fn, msg = loadstring("x = ", "=chunk")
eq(msg:match("^chunk:1: .* near '<eof>'$") ~= nil, true, "eof error message: " .. msg)
fn, msg = loadstring("return x.y.z", "@file.lua")
local ok, err = pcall(fn)
eq(ok, false, "runtime error")
eq(err:match("^file.lua:1: ") ~= nil, true, "runtime error position: " .. err)
fn, msg = loadfile(TESTDIR .. "/no such file.lua")
eq(fn, nil, "loadfile missing")
eq(msg, "cannot open " .. TESTDIR .. "/no such file.lua: No such file or directory", "loadfile missing message")
ok, err = pcall(dofile, TESTDIR .. "/no such file.lua")
eq(ok, false, "dofile missing")
eq(err, "cannot open " .. TESTDIR .. "/no such file.lua: No such file or directory", "dofile missing message")
fn, msg = load(function() return {} end)
eq(msg:find("reader function must return a string", 1, true) ~= nil, true, "load reader message: " .. msg)
fn, msg = load(function() error("reader failed", 0) end)
eq(fn, nil, "load reader error")
eq(msg:find("^reader failed") ~= nil, true, "load reader error message: " .. msg)
ok, err = pcall(require, "assign_no_such_module")
eq(ok, false, "require missing")
eq(err:find("no file '" .. TESTDIR .. "/assign_no_such_module.lua'", 1, true) ~= nil, true, "require message: " .. err)

-- setfenv/getfenv with loaded chunks.
do
  local g = assert(loadstring("return who"))
  eq(getfenv(g), _G, "loaded chunk environment")
  setfenv(g, {who = "env"})
  eq(g(), "env", "setfenv on a loaded chunk")
  local h = assert(loadstring("local p, q = 1, 2; p, q = q, p; return p, q, getfenv(1).marker"))
  setfenv(h, setmetatable({marker = "m"}, {__index = _G}))
  local hp, hq, hm = h()
  eq(hp .. hq .. hm, "21m", "setfenv and swap")
end
