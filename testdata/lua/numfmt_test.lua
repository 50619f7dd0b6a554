-- Numbers become strings as in Lua 5.1 ("%.14g"), and %q quotes as Lua
-- 5.1 does. Passes under lua5.1 too: `lua5.1 testdata/lua/numfmt_test.lua`.
local z = 0 -- runtime zero: no constant folding of -0, inf or nan
local cases = {
  { 10 / 3, "3.3333333333333" },
  { -10 / 3, "-3.3333333333333" },
  { 0.1 + 0.2, "0.3" },
  { 1 / 3, "0.33333333333333" },
  { 100, "100" },
  { -7, "-7" },
  { 1.5, "1.5" },
  { 1e-5, "1e-05" },
  { 99999999999999, "99999999999999" },
  { 1e14, "1e+14" },
  { 2 ^ 53, "9.007199254741e+15" },
  { 2 ^ 63, "9.2233720368548e+18" },
  { 1e100, "1e+100" },
  { 1 / z, "inf" },
  { -1 / z, "-inf" },
  { -z, "-0" },
  { z, "0" },
}

local function check(got, want, what)
  if got ~= want then
    error(string.format("%s: got %s, want %s", what, got, want), 2)
  end
end

for _, c in ipairs(cases) do
  local n, want = c[1], c[2]
  check(tostring(n), want, "tostring")
  check(n .. "", want, "n .. ''")
  check("<" .. n .. ">", "<" .. want .. ">", "'<' .. n .. '>'")
  check(string.format("%s", n), want, "%s")
  check(string.format("%q", n), '"' .. want .. '"', "%q")
  check(table.concat({ n, n }, ","), want .. "," .. want, "table.concat")
end

-- nan: glibc prints the sign bit, and 0/0 has it set on x86.
local nan = z / z
local s = tostring(nan)
assert(s == "nan" or s == "-nan", s)
check(tostring(-nan), s == "nan" and "-nan" or "nan", "-nan")
check(nan .. "", s, "nan ..")

-- Mixed chains, nested and parenthesised concatenation, long chains.
local x, y = 1 / 3, 2
check(x .. y .. x, "0.3333333333333320.33333333333333", "chain")
check((x .. y) .. (y .. x), "0.333333333333332" .. "20.33333333333333", "parens")
local parts, long = {}, ""
for i = 1, 70 do parts[i] = "i" .. i / 4 end
long = parts[1] .. parts[2] .. parts[3] .. parts[4] .. parts[5] .. parts[6] .. parts[7] .. parts[8] ..
  parts[9] .. parts[10] .. 1 / 3 .. parts[11] .. parts[12] .. parts[13] .. parts[14] .. parts[15] ..
  parts[16] .. parts[17] .. parts[18] .. parts[19] .. parts[20] .. parts[21] .. parts[22] .. parts[23] ..
  parts[24] .. parts[25] .. parts[26] .. parts[27] .. parts[28] .. parts[29] .. parts[30] .. parts[31] ..
  parts[32] .. parts[33] .. parts[34] .. parts[35] .. parts[36] .. parts[37] .. parts[38] .. parts[39] ..
  parts[40] .. parts[41] .. parts[42] .. parts[43] .. parts[44] .. parts[45] .. parts[46] .. parts[47] ..
  parts[48] .. parts[49] .. parts[50] .. parts[51] .. parts[52] .. parts[53] .. parts[54] .. parts[55] ..
  parts[56] .. parts[57] .. parts[58] .. parts[59] .. parts[60] .. parts[61] .. parts[62] .. parts[63] ..
  parts[64] .. parts[65] .. parts[66] .. parts[67] .. parts[68] .. parts[69] .. parts[70] .. 2 / 3
check(long, table.concat(parts, "", 1, 10) .. "0.33333333333333" .. table.concat(parts, "", 11, 70) ..
  "0.66666666666667", "long chain")
local function ret() return x .. "" end
check(ret(), "0.33333333333333", "return a .. b")
check(select("#", ret()), 1, "one result")

-- __concat: pairs are taken from the right, the left operand's metamethod
-- first, else the right one's; a number reaching a metamethod is passed
-- as a number.
local log = {}
local mt = { __concat = function(a, b)
  log[#log + 1] = type(a) .. ":" .. type(b)
  return "M"
end }
local t = setmetatable({}, mt)
check(1 / 3 .. t .. x .. "!", "0.33333333333333M", "__concat")
check(x .. t, "M", "number .. table")
check(table.concat(log, ","), "table:string,number:table", "__concat order")

-- A bad operand is an error at the line of the expression.
local ok, err = pcall(function() local q; return "a" .. q .. "b" end)
assert(not ok and err:find("numfmt_test.lua:%d+: attempt to concatenate") and err:find("nil value"), err)
ok, err = pcall(function() return {} .. "x" end)
assert(not ok and err:find("attempt to concatenate") and err:find("table value"), err)

-- string.format: %s with width and precision, other conversions, %q.
check(string.format("[%8.4s|%-6s|%5.2f|%d|%%]", 1 / 3, 2.5, 1 / 3, 42), "[    0.33|2.5   | 0.33|42|%]", "format")
check(string.format("%q", 'a\nb\r\0c\1\255"\\'), '"a\\\nb\\r\\000c\1\255\\"\\\\"', "%q")
check(string.format("%s=%q;%s", "k", "v\n", 1 / 3), 'k="v\\\n";0.33333333333333', "%q in the middle")
check(string.format("%5q", "x"), '"x"', "%q ignores width")
check(string.format("%%q %s", "x"), "%q x", "%%q is not a conversion")
check(loadstring("return " .. string.format("%q", "a\nb\r\0c\1\255\"\\"))(), "a\nb\r\0c\1\255\"\\", "%q round trip")
ok, err = pcall(string.format, "%q", {})
assert(not ok and err:find("bad argument #2"), err)

-- io.write and file:write.
local name = os.tmpname()
local f = assert(io.open(name, "w"))
f:write(1 / 3, " ", -z, " ", 1 / z, " ", 42, "\n")
local old = io.output()
io.output(f)
io.write(2 / 3, " ", 2 ^ 53, "\n")
io.output(old)
f:close()
f = assert(io.open(name, "r"))
local content = f:read("*a")
f:close()
os.remove(name)
check(content, "0.33333333333333 -0 inf 42\n0.66666666666667 9.007199254741e+15\n", "file contents")

-- A call or ... as an operand gives one value.
local function two() return "a", "b" end
check("x" .. two(), "xa", "call operand")
check((function(...) return "x" .. ... end)(1 / 3, "y"), "x0.33333333333333", "... operand")
