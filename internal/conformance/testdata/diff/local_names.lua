local function f(a)
  if a then local x = 1 end
  local t = nil
  return t.x
end
print(pcall(f, true))
local g = function()
  for i = 1, 2 do local y = i end
  local z
  return z .. "a"
end
print(pcall(g))
local v = "x"; print(pcall(function() return v + 1 end))
local s = string.format; print(pcall(function() s("%s", {}) end))
print(pcall(function() local q = {} do local w = 1 end undefinedglobal.x = 1 end))
print(string.gfind == string.gmatch)
