print(pcall(function()
  local a = {}
  local x = a
   +
   1
end))
print(pcall(function()
  local a
  return a
   ..
   "x"
end))
local function h(a, m) local q; q, m = 1, (string.match(m, "x")) return m end print(h(1, "xy"))
local function p(m) m = (string.match(m, "x")) return m end print(p("xy"))
