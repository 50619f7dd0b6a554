local function f(v4, v5, ...) do local t = 1; v4 = (...) end return v5, v4 end
print(f("a", "tab", 2))
local function g(v4, v5, ...) do local t = 1; v4 = ... end return v5, v4 end
print(g("a", "tab", 2))
local function h(v4, v5, ...) local t = 1; v4 = (...) return v5, v4 end
print(h("a", "tab", 2))
local function h(v4, ...) local t = 1; local q = (...) return q end
print(h("a", 2, 3))
local function k(...) local t; t = (...) return t end print(k(5,6))
