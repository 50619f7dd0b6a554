local parts = {"return ", "1"}
local i = 0
local f = load(function() i = i + 1 return parts[i] end, "modname")
print(debug.getinfo(f).source, debug.getinfo(f).short_src)
local g = loadstring("return 2")
print(debug.getinfo(g).source, debug.getinfo(g).short_src)
local a = setmetatable({}, {__tostring = function(x) return x.name end})
print(tostring(a))
print(pcall(print, a))
