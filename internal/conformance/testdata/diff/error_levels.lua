print(pcall(error, "m", 2))
print(pcall(error, "m", 1))
print(pcall(error, "m"))
local function f() error("deep", 2) end
local function g() f() end
print(pcall(g))
print(pcall(function() error("lvl3", 3) end))
local co = coroutine.create(function() error("in co", 2) end)
print(coroutine.resume(co))
print(pcall(function() local ok, e = pcall(error, "x", 2) return e end))
