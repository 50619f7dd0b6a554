-- The `..` operator as Lua 5.1 runs it (internal/lua51/vmconcat.go):
-- numbers with "%.14g", __concat from the right, errors naming the
-- variable. Plain asserts: the file is one test.

-- Normal use.

-- A parameter reassigned with `..` (issue 11: the old source rewrite
-- called a function value here).
local function f(m) m = m .. tostring(1) return m end
assert(f("x") == "x1")
local function g(a, b) a = a .. b; b = b .. a; return a, b end
local ga, gb = g("p", "q")
assert(ga == "pq" and gb == "qpq")

local z = 0
assert(10 / 3 .. "" == "3.3333333333333")
assert(1 / z .. "|" .. -1 / z == "inf|-inf")
assert(-z .. "" == "-0")
assert(2 ^ 53 .. "" == "9.007199254741e+15")
assert(1e100 .. "" == "1e+100")
assert(100 .. 200 == "100200")

local up = "u"
local function addBang() up = up .. "!" return up end
addBang()
assert(addBang() == "u!!")

local function va(...) return ... .. "|" .. select("#", ...) end
assert(va("a", "b") == "a|2")

local x, y = "x", "y"
x, y = y .. x, x .. y
assert(x == "yx" and y == "xy")

local t = {n = 1}
t.s = "v" .. t.n
assert(t.s == "v1")

local s = ""
for i = 1, 5 do s = s .. i end
assert(s == "12345")

-- __concat: left operand first, strings and numbers joined before the
-- metamethod sees them, numbers passed unconverted.
local mt = {}
mt.__concat = function(a, b)
  local function tag(v) return type(v) == "table" and "T" or type(v) .. ":" .. tostring(v) end
  return tag(a) .. "+" .. tag(b)
end
local obj = setmetatable({}, mt)
assert(obj .. 1 == "T+number:1")
assert(1 .. obj == "number:1+T")
assert(obj .. 1 .. 2 == "T+string:12")
assert("a" .. obj .. "b" == "aT+string:b")

-- Error path: Lua 5.1's messages, with the variable's kind and name.
local function message(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "no error")
  return (string.gsub(err, "^[^:]*:%d+: ", ""))
end
local missing
assert(message(function() return "a" .. missing end) == "attempt to concatenate upvalue 'missing' (a nil value)")
assert(message(function() local v return v .. "a" end) == "attempt to concatenate local 'v' (a nil value)")
assert(message(function() return "a" .. undefinedGlobal end) == "attempt to concatenate global 'undefinedGlobal' (a nil value)")
assert(message(function() return t.nofield .. "a" end) == "attempt to concatenate field 'nofield' (a nil value)")
assert(message(function() return "a" .. {} end) == "attempt to concatenate a table value")
assert(message(function(p) return p .. "a" end, true) == "attempt to concatenate local 'p' (a boolean value)")

-- A metamethod's error passes through unchanged.
local boom = setmetatable({}, {__concat = function() error("boom", 0) end})
local ok, err = pcall(function() return boom .. "x" end)
assert(not ok and err == "boom")

-- Bad input: a __concat that is not callable, metamethods returning
-- non-strings, long chains.
local notCallable = setmetatable({}, {__concat = 42})
assert(message(function() return notCallable .. "x" end) == "attempt to call a number value")
local nilResult = setmetatable({}, {__concat = function() return nil end})
assert(select("#", nilResult .. "x") == 1 and (nilResult .. "x") == nil)
assert(message(function() return "s" .. setmetatable({}, {__concat = function() return false end}) .. {} end)
  == "attempt to concatenate a boolean value")
local parts = {}
for i = 1, 300 do parts[i] = i end
local long = table.concat(parts)
local built = ""
for i = 1, 300 do built = built .. i end
assert(built == long)
