-- Replacements of gopher-lua base functions.
local t = {}
for i = 1, 50000 do t[i] = i end
local s = table.concat(t, ",")
assert(#s > 50000 and s:sub(1, 6) == "1,2,3,")
assert(table.concat({ "a", "b", "c" }, "-", 2, 3) == "b-c")
assert(table.concat({}, "x") == "")
assert(table.concat({ 1, 2.5 }) == "12.5")
local ok, e = pcall(table.concat, { 1, {} })
assert(not ok and e:find("invalid value %(table%) at index 2 in table for 'concat'"), e)
ok, e = pcall(table.concat, nil)
assert(not ok and e:find("bad argument #1"), e)

assert(type(collectgarbage("count")) == "number")
assert(collectgarbage() == 0)
ok = pcall(collectgarbage, "bogus")
assert(not ok)

local c0 = os.clock()
assert(type(c0) == "number" and c0 >= 0)
assert(_VERSION == "Lua 5.1")

-- debug.traceback with a thread, a message and non-string messages
local co = coroutine.create(function() coroutine.yield() end)
coroutine.resume(co)
local tb = debug.traceback(co, "msg here")
assert(type(tb) == "string" and tb:find("^msg here\nstack traceback:"), tb)
assert(debug.traceback(co):find("stack traceback:"))
local errobj = {}
assert(debug.traceback(errobj) == errobj)
assert(debug.traceback("plain"):find("^plain\nstack traceback:"))
assert(type(debug.traceback()) == "string")

-- error() without a value, as Lua 5.1 allows
local okn, en = pcall(error)
assert(okn == false and en == nil)
okn, en = pcall(error, nil)
assert(okn == false and en == nil)
okn, en = pcall(error, "lvl", 2)
assert(not okn and type(en) == "string")

-- table.remove: Lua 5.1 results, and removed values become collectable
local r = { 1, 2, 3 }
assert(table.remove(r) == 3 and #r == 2)
assert(table.remove(r, 1) == 1 and r[1] == 2 and #r == 1)
assert(select('#', table.remove({})) == 0)
assert(select('#', table.remove({ 1 }, 5)) == 0)
assert(not pcall(table.remove, nil))
local holder = { {} }
local watch = setmetatable({ holder[1] }, { __mode = "v" })
table.remove(holder)
collectgarbage()
assert(watch[1] == nil, "removed value must be collectable")

-- sizes that would exhaust memory are Lua errors, not a dead process
assert(not pcall(string.rep, "x", 1e10))
assert(not pcall(string.rep, "ab", 2^31))
assert(string.rep("ab", 3) == "ababab" and string.rep("x", 0) == "" and string.rep("x", -1) == "")
assert(not pcall(unpack, {}, 1, 1e8))
assert(select("#", unpack({ 1, 2, 3 })) == 3 and select("#", unpack({ 1, 2, 3 }, 2)) == 2)
assert(select("#", unpack({}, 1, 3)) == 3 and select("#", unpack({}, 3, 1)) == 0)
local a, b = unpack({ "x", "y" }); assert(a == "x" and b == "y")

-- error levels name the right frame (checked against lua5.1)
local function check_arg(x) if not x then error("bad x", 2) end end
local function calls_check() check_arg(false) end -- the reported line
local okl, el = pcall(calls_check)
assert(not okl and el:find(":%d+: bad x$"), el)
local reported = tonumber(el:match(":(%d+): bad x$"))
local info = debug.getinfo(calls_check, "S")
assert(reported == info.linedefined, el .. " vs line " .. info.linedefined)
okl, el = pcall(error, "direct")
assert(el == "direct", el) -- level 1 is pcall itself: no position
okl, el = pcall(function() error("here") end)
assert(el:find("^.+:%d+: here$"), el)
