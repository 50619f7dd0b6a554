-- ltn12: every source, sink, filter and pump, normal and error paths.
local ltn12 = require("ltn12")

local function eq(a, b, msg)
  if a ~= b then error((msg or "") .. ": expected " .. tostring(b) .. ", got " .. tostring(a), 2) end
end
local function fails(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error matching " .. pattern)
  assert(tostring(err):find(pattern, 1, true), "unexpected error: " .. tostring(err))
end
local function drain(src)
  local out = {}
  while true do
    local chunk, err = src()
    if not chunk then return table.concat(out), err end
    out[#out + 1] = chunk
  end
end

eq(ltn12._VERSION, "LTN12 1.0.3", "_VERSION")
eq(ltn12.BLOCKSIZE, 2048, "BLOCKSIZE")
eq(rawget(_G, "ltn12"), ltn12, "global set as by module()")

-- sources
eq(ltn12.source.empty()(), nil, "empty")
local chunk, err = ltn12.source.error("bad")()
assert(chunk == nil and err == "bad", "source.error")
local big = string.rep("abcdefghij", 500)
local src = ltn12.source.string(big)
eq(#src(), 2048, "string source uses BLOCKSIZE")
eq(drain(ltn12.source.string(big)), big, "string source")
eq(ltn12.source.string(nil)(), nil, "string(nil) is empty")
eq(ltn12.source.string("")(), nil, "empty string")
eq(drain(ltn12.source.table({"a", "b", "c"})), "abc", "table source")
fails("assertion failed", ltn12.source.table, "nope")
eq(drain(ltn12.source.cat(ltn12.source.string("ab"), ltn12.source.empty(), ltn12.source.string("cd"))), "abcd", "cat")
chunk, err = ltn12.source.cat(ltn12.source.string("x"), ltn12.source.error("E"), ltn12.source.string("y"))
local cat = ltn12.source.cat(ltn12.source.string("x"), ltn12.source.error("E"), ltn12.source.string("y"))
eq(cat(), "x"); chunk, err = cat(); assert(chunk == nil and err == "E", "cat stops at an error")

local rw = ltn12.source.rewind(ltn12.source.table({"1", "2"}))
eq(rw(), "1"); rw("1"); rw("0")
eq(rw(), "0"); eq(rw(), "1"); eq(rw(), "2"); eq(rw(), nil)
fails("assertion failed", ltn12.source.rewind)

-- a fancy source hands over to another one
local fancy = function() return "first", ltn12.source.string("second") end
eq(drain(ltn12.source.simplify(fancy)), "firstsecond", "simplify")
chunk, err = ltn12.source.simplify(ltn12.source.error("oops"))()
assert(chunk == nil and err == "oops")

-- file source and sink (temporary file)
local name = os.tmpname()
local snk = ltn12.sink.file(io.open(name, "wb"))
assert(ltn12.pump.all(ltn12.source.string(big), snk))
eq(drain(ltn12.source.file(io.open(name, "rb"))), big, "file round trip")
os.remove(name)
chunk, err = ltn12.source.file(nil, "cannot open")()
assert(chunk == nil and err == "cannot open")
chunk, err = ltn12.source.file(nil)()
eq(err, "unable to open file")
local ok, serr = ltn12.sink.file(nil)("x")
assert(ok == nil and serr == "unable to open file")

-- sinks
local t
snk, t = ltn12.sink.table()
assert(snk("a") and snk("b") and snk(nil))
eq(table.concat(t), "ab", "table sink")
local mine = {}
snk, t = ltn12.sink.table(mine)
assert(t == mine)
eq(ltn12.sink.null()("whatever"), 1)
ok, serr = ltn12.sink.error("full")("x")
assert(ok == nil and serr == "full")
local got = {}
local fancysink = function(c) got[#got + 1] = "1:" .. tostring(c); return 1, function(c2) got[#got + 1] = "2:" .. tostring(c2); return 1 end end
local simple = ltn12.sink.simplify(fancysink)
simple("a"); simple("b"); simple(nil)
eq(table.concat(got, ","), "1:a,2:b,2:nil", "sink.simplify")

-- filters
local upper = function(c) return c and c:upper() end
local count = 0
local low = function(ctx, c, extra) count = count + 1; return c and (ctx .. c .. extra), ctx .. "+" end
local cyc = ltn12.filter.cycle(low, "<", ">")
eq(cyc("a"), "<a>"); eq(cyc("b"), "<+b>"); eq(cyc(nil), nil)
fails("assertion failed", ltn12.filter.cycle)
eq(drain(ltn12.source.chain(ltn12.source.string("hello"), upper)), "HELLO", "source.chain")
-- a well-behaved filter answers "" to "" (nothing held back)
local wrap = function(c) if c == nil or c == "" then return c end return "[" .. c .. "]" end
eq(drain(ltn12.source.chain(ltn12.source.string("x"), upper, wrap, wrap)), "[[X]]", "several filters")
local chained = ltn12.filter.chain(upper, wrap)
eq(chained("ab"), "[AB]")
snk, t = ltn12.sink.table()
local csnk = ltn12.sink.chain(upper, wrap, snk)
assert(ltn12.pump.all(ltn12.source.table({"a", "b"}), csnk))
eq(table.concat(t), "[A][B]", "sink.chain")
-- a filter returning nil for data is a broken filter
local broken = function() return nil end
fails("filter returned inappropriate nil", ltn12.source.chain(ltn12.source.string("x"), broken))
local exhausted = ltn12.source.chain(ltn12.source.empty(), upper)
eq(exhausted(), nil)
fails("source is empty!", exhausted)
chunk, err = ltn12.source.chain(ltn12.source.error("E"), upper)()
assert(chunk == nil and err == "E", "chain passes source errors")
ok, serr = ltn12.sink.chain(upper, ltn12.sink.error("S"))("x")
assert(ok == nil and serr == "S", "chain passes sink errors")

-- pumps
snk, t = ltn12.sink.table()
local step = ltn12.source.table({"p", "q"})
eq(ltn12.pump.step(step, snk), 1); eq(ltn12.pump.step(step, snk), 1)
ok, err = ltn12.pump.step(step, snk)
assert(ok == nil and err == nil, "step at the end")
eq(table.concat(t), "pq")
ok, err = ltn12.pump.all(ltn12.source.error("src"), ltn12.sink.null())
assert(ok == nil and err == "src")
ok, err = ltn12.pump.all(ltn12.source.string("x"), ltn12.sink.error("snk"))
assert(ok == nil and err == "snk")
local steps = 0
assert(ltn12.pump.all(ltn12.source.string("x"), ltn12.sink.null(), function(s, k) steps = steps + 1; return ltn12.pump.step(s, k) end))
eq(steps, 2, "custom step")
fails("assertion failed", ltn12.pump.all, nil, ltn12.sink.null())

-- BLOCKSIZE is read at call time
ltn12.BLOCKSIZE = 3
eq(ltn12.source.string("abcdefg")(), "abc")
ltn12.BLOCKSIZE = 2048
