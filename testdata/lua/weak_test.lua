-- Weak tables: entries whose objects are unreachable elsewhere disappear
-- at collectgarbage(); strongly held ones stay.
local wk = setmetatable({}, { __mode = "k" })
local keep = {}
wk[keep] = "kept"
wk[{}] = "dropped"
wk["str"] = "strings are values"
local wv = setmetatable({}, { __mode = "v" })
wv[1] = {}
wv[2] = keep
wv.f = function() end
local co = coroutine.create(function() end)
wk[co] = true
co = nil
collectgarbage()
collectgarbage()
local n = 0
for k in pairs(wk) do n = n + 1 end
assert(n == 2, "weak keys: " .. n)
assert(wk[keep] == "kept" and wk.str)
assert(wv[1] == nil and wv[2] == keep and wv.f == nil)

-- a plain table is never weak
local strong = {}
strong[{}] = true
collectgarbage()
assert(next(strong) ~= nil)

-- __mode set later through the metatable is ignored only until the next
-- setmetatable; a "kv" table drops on either side
local kv = setmetatable({}, { __mode = "kv" })
kv[keep] = {}
kv[{}] = keep
collectgarbage()
assert(next(kv) == nil)

-- copas: a thread paused forever and dropped by the program is collected
local copas = require "copas"
local t1 = copas.addthread(function() copas.pauseforever() end)
local gc = setmetatable({ [t1] = true }, { __mode = "k" })
copas.loop()
t1 = nil
collectgarbage()
collectgarbage()
assert(next(gc) == nil, "paused-forever thread should be collected")
