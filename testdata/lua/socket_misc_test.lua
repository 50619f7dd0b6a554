-- socket.core's small functions and socket.lua's helpers (no network).
local socket = require("socket")
local core = require("socket.core")

local function eq(a, b, msg)
  if a ~= b then error((msg or "") .. ": expected " .. tostring(b) .. ", got " .. tostring(a), 2) end
end
local function fails(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error matching " .. pattern)
  assert(tostring(err):find(pattern), "unexpected error: " .. tostring(err))
end

-- one table, LuaSocket-style
assert(socket == core, "socket and socket.core are the same table")
eq(socket._VERSION, "LuaSocket 3.0.0", "_VERSION")
eq(socket._DEBUG, nil, "_DEBUG")
eq(type(socket._SETSIZE), "number", "_SETSIZE")
assert(socket._SETSIZE >= 1024, "_SETSIZE")
eq(socket._SOCKETINVALID, -1, "_SOCKETINVALID")
eq(socket.BLOCKSIZE, 2048, "BLOCKSIZE")
eq(type(socket.__unload), "function", "__unload")
for _, name in ipairs({"select", "sleep", "gettime", "skip", "newtry", "protect", "try",
    "choose", "sink", "source", "bind", "connect", "connect4", "connect6"}) do
  eq(type(socket[name]), "function", name)
end
for _, name in ipairs({"toip", "tohostname", "gethostname", "getaddrinfo", "getnameinfo"}) do
  eq(type(socket.dns[name]), "function", "dns." .. name)
end

-- skip
eq(select("#", socket.skip(1, "a", "b", "c")), 2, "skip count")
local a, b = socket.skip(1, "a", "b", "c")
eq(a, "b"); eq(b, "c")
eq(socket.skip(0, "x"), "x", "skip 0")
eq(select("#", socket.skip(5, "x")), 0, "skip past the end")
eq(select("#", socket.skip(2, nil, nil, nil)), 1, "skip keeps nils")
eq(socket.skip("1", "a", "b"), "b", "numeric string count")
local n, x, y = socket.skip(-1, "x", "y")
eq(n, -1); eq(x, "x"); eq(y, "y")
fails("number expected", socket.skip)
fails("number expected", socket.skip, "one")

-- gettime / sleep
local t0 = socket.gettime()
assert(t0 > 1e9, "gettime is seconds since the epoch")
eq(select("#", socket.sleep(0)), 0, "sleep returns nothing")
socket.sleep(-5) -- negative is zero
socket.sleep(0.01)
assert(socket.gettime() >= t0 + 0.009, "sleep(0.01) slept")
fails("number expected", socket.sleep)
fails("number expected", socket.sleep, "soon")

-- newtry / protect
-- (the counter lives in a table: gopher-lua 1.1.2 detaches the main
-- chunk's open upvalues when a main-thread pcall catches an error)
local count = {finalized = 0}
local try = socket.newtry(function() count.finalized = count.finalized + 1 end)
eq(select("#", try(1, nil, 3, nil)), 4, "try passes every value through")
local ok, e = pcall(try, nil, "boom")
assert(not ok and type(e) == "table" and e[1] == "boom", "try raises {err}")
eq(getmetatable(e), false, "exception metatable is protected")
eq(count.finalized, 1, "finalizer ran once")
ok, e = pcall(try, false)
assert(not ok and type(e) == "table" and e[1] == nil, "try(false) raises {nil}")

local f = socket.protect(function(fail, ...)
  if fail == "error" then error("plain", 0) end
  if fail == "table" then error(...) end
  return try(...)
end)
local r1, r2, r3 = f(nil, 1, 2, 3)
assert(r1 == 1 and r2 == 2 and r3 == 3, "protect returns the results")
r1, r2, r3 = f(nil, nil, "why")
assert(r1 == nil and r2 == "why" and r3 == nil, "protect turns a try error into nil, err")
eq(count.finalized, 3, "finalizer ran for each failure")
ok, e = pcall(f, "error")
assert(not ok and e == "plain", "protect re-raises other errors unchanged: " .. tostring(e))
local obj = {}
ok, e = pcall(f, "table", obj)
assert(not ok and e == obj, "protect keeps error objects")
ok, e = pcall(socket.protect(1))
assert(not ok and tostring(e):find("attempt to call"), "protect of a non-function")
-- socket.try has no finalizer
ok, e = pcall(socket.try, nil, "x")
assert(not ok and e[1] == "x")
eq(socket.try("v", 2), "v")
-- a finalizer error propagates
ok, e = pcall(socket.newtry(function() error("fin", 0) end), nil, "x")
assert(not ok and e == "fin", "finalizer error")

-- choose
local chosen = socket.choose({
  default = function(p, q) return "default", p, q end,
  named = function(p, q) return "named", p, q end,
})
local w1, w2, w3 = chosen("named", 1, 2)
assert(w1 == "named" and w2 == 1 and w3 == 2)
w1, w2, w3 = chosen(7, 8)
assert(w1 == "default" and w2 == 7 and w3 == 8)
ok, e = pcall(chosen, "nope")
assert(not ok and e:find("unknown key %(nope%)"), e)

-- sinks and sources over a fake socket
local function fake(input)
  local s = {sent = {}, closed = false, pos = 1}
  function s:getfd() return self.closed and -1 or 42 end
  function s:dirty() return false end
  function s:send(d) self.sent[#self.sent + 1] = d; return #d end
  function s:close() self.closed = true; return 1 end
  function s:receive(n)
    if self.pos > #input then return nil, "closed", "" end
    local piece = input:sub(self.pos, self.pos + n - 1)
    self.pos = self.pos + n
    if #piece < n then return nil, "closed", piece end
    return piece
  end
  return s
end

local s = fake("")
local sk = socket.sink("close-when-done", s)
eq(sk:getfd(), 42, "sink keeps getfd")
eq(sk("abc"), 3); eq(sk(nil), 1)
assert(s.closed and s.sent[1] == "abc", "close-when-done closes")
s = fake("")
sk = socket.sink(s) -- default is keep-open
eq(sk(nil), 1); assert(not s.closed, "keep-open stays open")
fails("unknown key", socket.sink, "sideways", s)

local data = string.rep("x", 5000) .. "tail"
s = fake(data)
local src = socket.source("by-length", s, 4100)
local got = {}
for chunk in src do got[#got + 1] = chunk end
eq(table.concat(got), data:sub(1, 4100), "by-length")
eq(#got[1], 2048, "by-length reads BLOCKSIZE pieces")
s = fake(data)
src = socket.source(s) -- until-closed
got = {}
while true do
  local chunk, err = src()
  if not chunk then assert(err == nil, err) break end
  got[#got + 1] = chunk
end
eq(table.concat(got), data, "until-closed")
assert(s.closed, "until-closed closes at the end")
eq(src(), nil, "until-closed stays finished")

-- the module table can be pumped through ltn12
local ltn12 = require("ltn12")
s = fake("")
assert(ltn12.pump.all(ltn12.source.string("hello world"), socket.sink("close-when-done", s)))
eq(table.concat(s.sent), "hello world"); assert(s.closed)
