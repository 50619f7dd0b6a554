-- The .. operator in every syntactic position.
local function f(m) m = m .. tostring(1) return m end
print(f("x"))
local function g(a, b) a = a .. b; b = b .. a; return a, b end
print(g("p", "q"))
local function h(...) local s = "" for i = 1, select("#", ...) do s = s .. select(i, ...) .. "," end return s end
print(h(1, "a", 2.5))
local up = "u"
local function addup(x) up = up .. x return up end
addup("1"); addup(2)
print(up)
local t = { "a" .. "b", k = "c" .. 1, ["d" .. 2] = 3 .. "" }
print(t[1], t.k, t.d2)
print(("x" .. "y"):upper(), #("ab" .. "cd"))
print(string.rep("z" .. "", 3), tostring(1 .. 2) .. 3)
local function ret() return "r" .. 1, 2 .. "r" end
print(ret())
local a, b, c = "1" .. 2, 3 .. "4", 5 .. 6
print(a, b, c)
a, b = b .. a, a .. b
print(a, b)
local n = 1
n = n .. n
print(n, type(n))
local s = ""
for i = 1, 5 do s = s .. i end
print(s)
local x = 1
x = x .. "" .. x .. x
print(x)
local function p(q) q = (q .. "!") .. (q .. "?") return q end
print(p("w"))
local function nested(a) return (a .. (a .. (a .. a))) end
print(nested("n"))
local mt = setmetatable({}, { __concat = function(l, r) return "MT" end })
local function withmeta(v) v = v .. "s" return v end
print(withmeta(mt))
local function numparam(v) v = v .. v return v + 1 end
print(numparam(2))
local function errparam(v) v = v .. "x" return v end
print(pcall(errparam, nil))
print(pcall(errparam, {}))
local function multi(a, b) a, b = b .. "1", a .. "2" return a, b end
print(multi("A", "B"))
local obj = { name = "o" }
function obj:greet(pre) pre = pre .. self.name return pre end
print(obj:greet("hi "))
print(1 .. 2 == "12", 1.5 .. "" == "1.5", -1 .. "")
local function closure(v) return function() v = v .. "+" return v end end
local cl = closure("c")
cl()
print(cl())
local function va(...) local a = ... a = a .. "v" return a, ... end
print(va("w", "z"))
