-- table library, including the deprecated 5.1 functions.
local function dump(t)
  local out = {}
  for i = 1, #t do out[#out + 1] = tostring(t[i]) end
  return "{" .. table.concat(out, ",") .. "}"
end
local function try(label, f, ...)
  print(label, pcall(f, ...))
end
print(table.concat({ 1, 2, 3 }, ", "), table.concat({ "a", "b" }), table.concat({}, "x"))
print(table.concat({ 1, 2, 3 }, 0), table.concat({ 1, 2.5, "x" }, "-", 2, 3))
try("concat nil", table.concat, { 1, nil, 3 }, ",", 1, 3)
try("concat table", table.concat, { 1, {} })
local t = { 1, 2, 3 }
table.insert(t, 4); table.insert(t, 1, 0)
print(dump(t), #t)
try("insert pos", table.insert, {}, 10, 1)
try("insert args", table.insert, t, 1, 2, 3)
print(table.remove(t), table.remove(t, 1), dump(t))
print(table.remove({}), select("#", table.remove({})))
local s = { 5, 2, 8, 1, 9, 3 }
table.sort(s); print(dump(s))
table.sort(s, function(a, b) return a > b end); print(dump(s))
local words = { "banana", "apple", "Cherry", "date" }
table.sort(words); print(dump(words))
try("sort mixed", table.sort, { 1, "x", 2 })
try("sort bad cmp", table.sort, { 3, 2, 1 }, 42)
print(table.getn and table.getn({ 1, 2, 3 }))
print(table.maxn and table.maxn({ 1, 2, [10] = 3 }))
try("setn", function() return table.setn({}, 3) end)
try("foreachi", function()
  local acc = {}
  table.foreachi({ "a", "b", "c" }, function(i, v) acc[#acc + 1] = i .. "=" .. v end)
  return table.concat(acc, " ")
end)
try("foreach", function()
  local keys = {}
  table.foreach({ x = 1, y = 2 }, function(k, v) keys[#keys + 1] = k .. v end)
  table.sort(keys)
  return table.concat(keys, " ")
end)
try("foreach ret", function() return table.foreach({ 1, 2, 3 }, function(k, v) if v == 2 then return "found" .. k end end) end)
print(#{ 1, 2, 3, nil }, #{ n = 1 }, select("#", unpack({ 1, 2, 3 })))
print(unpack({ 1, 2, 3 }, 2), unpack({ 1, 2, 3 }, 2, 3))
print(next({}), type(next), rawlen == nil, rawequal(t, t), rawget({ 5 }, 1))
