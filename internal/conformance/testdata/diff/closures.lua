-- Closures and upvalues.
local function counter()
  local n = 0
  return function() n = n + 1 return n end, function() return n end
end
local inc, get = counter()
inc(); inc()
print(get(), inc(), get())
local fns = {}
for i = 1, 3 do fns[i] = function() return i end end
print(fns[1](), fns[2](), fns[3]())
local fns2 = {}
local j = 1
while j <= 3 do local k = j; fns2[j] = function() return k end; j = j + 1 end
print(fns2[1](), fns2[3]())
local function outer()
  local x = "o"
  local function mid()
    local function inner() x = x .. "i" return x end
    return inner
  end
  return mid(), function() return x end
end
local inner, peek = outer()
inner(); inner()
print(peek())
local function adder(a) return function(b) return a + b end end
print(adder(1)(2), adder("3")(4))
local shared
do
  local v = 10
  shared = { function() v = v * 2 return v end, function() return v end }
end
shared[1]()
print(shared[2]())
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
print(fib(20))
local rec
rec = function(n) if n == 0 then return "done" end return rec(n - 1) end
print(rec(100))
local function params(a, b, c) a = a .. "!" b = b or "dflt" c = (c or 0) + 1 return a, b, c end
print(params("x"), params("y", "z", 5))
local function swap(a, b) a, b = b, a return a, b end
print(swap(1, 2))
local function reassign(m) m = m .. tostring(1) return m end
print(reassign("x"))
local function varup(...)
  local args = { ... }
  return function() return #args, args[1] end
end
print(varup(7, 8, 9)())
local t = {}
for _, name in ipairs({ "a", "b" }) do
  t[name] = function(self) return name .. (self.suffix or "") end
end
t.suffix = "?"
print(t:a(), t:b())
