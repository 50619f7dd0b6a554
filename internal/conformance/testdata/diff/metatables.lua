-- Metatables and metamethods.
local V = {}
V.__index = V
V.__add = function(a, b) return setmetatable({ x = a.x + b.x }, V) end
V.__sub = function(a, b) return setmetatable({ x = a.x - b.x }, V) end
V.__mul = function(a, b) return setmetatable({ x = (type(a) == "number" and a or a.x) * (type(b) == "number" and b or b.x) }, V) end
V.__unm = function(a) return setmetatable({ x = -a.x }, V) end
V.__eq = function(a, b) return a.x == b.x end
V.__lt = function(a, b) return a.x < b.x end
V.__le = function(a, b) return a.x <= b.x end
V.__tostring = function(a) return "V(" .. a.x .. ")" end
V.__concat = function(a, b)
  local sa = type(a) == "table" and "V" .. a.x or tostring(a)
  local sb = type(b) == "table" and "V" .. b.x or tostring(b)
  return sa .. "&" .. sb
end
V.__call = function(self, y) return self.x + y end
V.__len = function(a) return 99 end
function V.new(x) return setmetatable({ x = x }, V) end
function V:double() return V.new(self.x * 2) end
local a, b = V.new(2), V.new(5)
print(tostring(a + b), tostring(a - b), tostring(a * 3), tostring(2 * b), tostring(-a))
print(a == b, a == V.new(2), a < b, a <= b, a > b, a >= b, a ~= b)
print(a .. b, a .. "s", "s" .. a, 1 .. a, a .. 1 .. 2)
print(a(10), tostring(a:double()), #a)
print(rawequal(a, V.new(2)), rawget(a, "double"), rawlen)
local log = {}
local proxy = setmetatable({}, {
  __index = function(t, k) log[#log + 1] = "get " .. tostring(k); return k .. "!" end,
  __newindex = function(t, k, v) log[#log + 1] = "set " .. tostring(k) .. "=" .. tostring(v); rawset(t, k, v) end,
})
print(proxy.foo, proxy.bar)
proxy.baz = 1
proxy.baz = 2
print(proxy.baz, table.concat(log, "; "))
local chain = setmetatable({}, { __index = setmetatable({ a = 1 }, { __index = { b = 2 } }) })
print(chain.a, chain.b, chain.c)
local ro = setmetatable({}, { __newindex = function() error("read-only table", 2) end })
print(pcall(function() ro.x = 1 end))
local prot = setmetatable({}, { __metatable = "locked" })
print(getmetatable(prot), pcall(setmetatable, prot, {}))
print(getmetatable("abc").__index == string, ("x"):upper())
local nts = setmetatable({}, { __tostring = function() return 42 end })
print(pcall(tostring, nts))
local nilts = setmetatable({}, { __tostring = function() return nil end })
print(pcall(tostring, nilts))
local cmp1 = setmetatable({}, { __lt = function() return true end })
local cmp2 = setmetatable({}, { __lt = function() return true end })
print(pcall(function() return cmp1 < cmp2 end))
print(pcall(function() return cmp1 < 1 end))
local eq1 = setmetatable({}, { __eq = function() return true end })
print(eq1 == setmetatable({}, getmetatable(eq1)), eq1 == {}, eq1 == 1)
local idx = setmetatable({}, { __index = "str" })
print(pcall(function() return type(idx.len) end))
local cc = setmetatable({}, { __concat = function(a, b) return "cc" end })
print(cc .. 1, 1 .. cc, cc .. cc, "a" .. "b" .. cc)
print(pcall(function() return {} .. cc .. {} end))
local mod = setmetatable({}, { __mod = function() return "mod" end, __pow = function() return "pow" end, __div = function() return "div" end })
print(mod % 1, mod ^ 2, mod / 3)
