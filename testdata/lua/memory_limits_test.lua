-- Strings whose size a script chooses fail with Lua 5.1's "not enough
-- memory" before they are allocated, instead of the process dying: `..`,
-- table.concat, string.rep. Normal sizes still work.
local s = string.rep("x", 2^28) -- 256 MiB
local ok, err = pcall(function() return s .. s .. s .. s .. s end)
assert(not ok and err == "not enough memory", tostring(err))
ok, err = pcall(table.concat, { s, s, s, s, s })
assert(not ok and err == "not enough memory", tostring(err))
ok, err = pcall(table.concat, { s, s, s }, s)
assert(not ok and err == "not enough memory", tostring(err))
ok, err = pcall(string.rep, s, 8)
assert(not ok, "string.rep past the cap must fail")
s = nil
collectgarbage()
-- normal path
assert(("ab"):rep(3) .. "c" == "abababc")
assert(table.concat({ 1, "a", 2.5 }, "-") == "1-a-2.5")
-- bad input
assert(not pcall(table.concat, { {} }))
assert(select(2, pcall(function() local t = {} return "x" .. t end)):find("attempt to concatenate"))
