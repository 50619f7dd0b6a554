-- select, unpack and varargs.
local function count(...) return select("#", ...) end
print(count(), count(nil), count(nil, nil), count(1, nil, 3, nil))
print(select(2, "a", "b", "c"), select(-1, "a", "b", "c"))
print(pcall(select, 0, "a"))
print(pcall(select, -5, "a"))
print(select("#"))
local function pass(...) return ... end
print(pass(1, 2, 3), pass(), pass(nil, 2))
print((pass(1, 2, 3)))
local function tail(...) local a, b = ... return a, b, select("#", ...) end
print(tail(9), tail(1, 2, 3))
local function packed(...) local t = { ... } return #t, t[1], t[#t] end
print(packed("x", "y", "z"))
local function withArg(...) return arg and arg.n, ... end
print(withArg(1, 2))
print(unpack({}, 1, 3))
print(unpack({ 1, 2, 3 }, -1, 1))
local t = { pass(1, 2), pass(3, 4) }
print(#t, t[1], t[2], t[3])
print(string.format("%s %s", pass("a", "b", "c")))
local function vcat(...) return table.concat({ ... }, "+") end
print(vcat(1, 2, 3), vcat())
local function rec(n, ...) if n == 0 then return select("#", ...) end return rec(n - 1, n, ...) end
print(rec(50))
print(math.max(unpack({ 3, 9, 2 })))
