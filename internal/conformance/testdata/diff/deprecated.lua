-- Deprecated functions still in Lua 5.1's library.
local function try(label, f, ...)
  local r = { pcall(f, ...) }
  for i = 1, #r do r[i] = tostring(r[i]) end
  print(label, table.concat(r, " "))
end
try("gcinfo", function() return type(gcinfo()) end)
try("math.mod", function() return math.mod(10, 3) end)
try("string.gfind", function()
  local out = {}
  for w in string.gfind("a b c", "%a") do out[#out + 1] = w end
  return table.concat(out)
end)
try("loadstring", function() return loadstring("return 1 + 1")() end)
try("loadstring err", function() return loadstring("return +") end)
try("loadstring name", function() local f, e = loadstring("x(", "chunk") return e end)
try("setfenv", function()
  local f = function() return y end
  setfenv(f, { y = "from env" })
  return f()
end)
try("getfenv", function() return getfenv(1) == _G end)
try("module", function()
  module("mymod", package.seeall)
  function hello() return "hello from " .. _NAME end
  return hello()
end)
print(type(mymod), mymod and mymod.hello and mymod.hello(), mymod and mymod._NAME, mymod and mymod._PACKAGE)
print(package.loaded.mymod == mymod)
try("table.getn", function() return table.getn({ 1, 2 }) end)
try("math.pow", function() return math.pow(2, 3) end)
try("math.log10", function() return math.log10(100) end)
try("unpack", function() return unpack({ 1, 2 }) end)
try("newproxy", function() return type(newproxy) end)
print(_VERSION)
