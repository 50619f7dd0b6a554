-- Lua 5.1 pattern matching: string.find, match, gmatch and gsub return
-- what Lua 5.1 returns and raise its errors. Passes under lua5.1 too:
-- `lua5.1 testdata/lua/patterns_test.lua`.

local function pack(...) return { n = select("#", ...), ... } end

local function same(got, want, what)
  assert(got.n == want.n, what .. ": " .. got.n .. " results, want " .. want.n)
  for i = 1, want.n do
    if got[i] ~= want[i] then
      error(string.format("%s: result %d is %s, want %s", what, i, tostring(got[i]), tostring(want[i])), 2)
    end
  end
end

local function fails(want, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "no error, want " .. want)
  if err ~= want then
    error(string.format("error %q, want %q", tostring(err), want), 2)
  end
end

-- find: init is clamped, plain search, special characters
same(pack(string.find("hello", "", 10)), pack(6, 5), "find init past the end")
same(pack(string.find("hello", "l", -2)), pack(4, 4), "find negative init")
same(pack(string.find("hello", "l", -100)), pack(3, 3), "find init before the start")
same(pack(string.find("a.b", ".", 1, true)), pack(2, 2), "plain find")
same(pack(string.find("a+b", "+")), pack(2, 2), "a lone quantifier is a character")
same(pack(string.find("hello", "xyz")), pack(nil), "no match is one nil")
same(pack(("hello"):find("(l)(l)")), pack(3, 4, "l", "l"), "find with captures")
same(pack(string.find(12345, 34)), pack(3, 4), "numbers are strings")
same(pack(string.find("abc", "b", "2")), pack(2, 2), "numeric string init")
same(pack(string.find("a\0b%", "\0b%")), pack(2, 4), "a NUL before the specials makes find plain")

-- match: classes, sets, anchors, quantifiers, captures
same(pack(string.match("key = value", "(%w+)%s*=%s*(%w+)")), pack("key", "value"), "match")
same(pack(string.match("hello", "()ll()")), pack(3, 5), "position captures")
same(pack(string.match("  trim me  ", "^%s*(.-)%s*$")), pack("trim me"), "trim")
same(pack(string.match("<a><b>", "<(.-)>")), pack("a"), "lazy")
same(pack(string.match("<a><b>", "<(.*)>")), pack("a><b"), "greedy")
same(pack(string.match("]]a", "[]]+")), pack("]]"), "']' first in a set")
same(pack(string.match("a-z", "[a%-z]+")), pack("a-z"), "escaped '-' in a set")
same(pack(string.match("0x1F g", "%x+")), pack("0"), "hex digits")
same(pack(string.match("caf\195\169", "%a+")), pack("caf"), "C locale classes")
same(pack(string.match("hello", "^.", 3)), pack("l"), "anchor at init")
same(pack(string.match("x$y", "x$y")), pack("x$y"), "'$' inside is a character")
same(pack(string.match("abab", "(ab)%1")), pack("ab"), "back-reference")
same(pack(string.match("f(a(b)c) d", "%b()")), pack("(a(b)c)"), "balanced")
same(pack(string.match("THE (quick) fox", "%f[%a]%a+", 4)), pack("quick"), "frontier")
same(pack(string.find("abc", "%f[%z]")), pack(4, 3), "frontier at the end")
same(pack(string.match("hello", "xyz")), pack(nil), "no match is one nil")
assert(select("#", string.match(string.rep("a", 32), string.rep("(a)", 32))) == 32, "32 captures")

-- gmatch: '^' is a character, empty matches advance
local words = {}
for w in string.gmatch("one two  three", "%a+") do words[#words + 1] = w end
assert(table.concat(words, ",") == "one,two,three", "gmatch words")
local pairs_ = {}
for k, v in ("a=1, b=2"):gmatch("(%w+)=(%w+)") do pairs_[#pairs_ + 1] = k .. v end
assert(table.concat(pairs_, ",") == "a1,b2", "gmatch captures")
local got = {}
for w in string.gmatch("abc", "%a*") do got[#got + 1] = "[" .. w .. "]" end
assert(table.concat(got) == "[abc][]", "gmatch empty match: " .. table.concat(got))
got = {}
for w in string.gmatch("^a^b", "^.") do got[#got + 1] = w end
assert(table.concat(got, ",") == "^a,^b", "gmatch: '^' is not an anchor")
assert(string.gfind == string.gmatch, "gfind is gmatch")

-- gsub: strings, tables, functions, limits
same(pack(string.gsub("hello world", "o", "0")), pack("hell0 w0rld", 2), "gsub")
same(pack(string.gsub("hello world", "o", "0", 1)), pack("hell0 world", 1), "gsub with n")
same(pack(string.gsub("hello world", "(%w+)", "<%1>")), pack("<hello> <world>", 2), "gsub %1")
same(pack(string.gsub("abc", "%w", "%0%0")), pack("aabbcc", 3), "gsub %0")
same(pack(string.gsub("abc", "b", "%%%a")), pack("a%ac", 1), "gsub %% and %a")
same(pack(string.gsub("abc", "()b", "%1")), pack("a2c", 1), "gsub position capture")
same(pack(string.gsub("abc", "b", 5)), pack("a5c", 1), "gsub number replacement")
same(pack(string.gsub("hello", "", "-")), pack("-h-e-l-l-o-", 6), "gsub empty pattern")
same(pack(string.gsub("aaa", "^a", "-")), pack("-aa", 1), "gsub anchored")
same(pack(string.gsub("$name is $age", "%$(%w+)", { name = "bob", age = 3 })), pack("bob is 3", 2), "gsub table")
same(pack(string.gsub("a b", "%w", { a = false })), pack("a b", 2), "gsub false keeps the match")
same(pack(string.gsub("abc", ".", function(c) return c:upper() end)), pack("ABC", 3), "gsub function")
same(pack(string.gsub("abc", ".", function() end)), pack("abc", 3), "gsub nil keeps the match")
same(pack(string.gsub("abc", "(.)(.)", function(a, b) return b .. a end)), pack("bac", 1), "gsub function captures")
local lazy = setmetatable({}, { __index = function(_, k) return "<" .. k .. ">" end })
same(pack(string.gsub("ab", "%w", lazy)), pack("<a><b>", 2), "gsub table with __index")

-- pattern errors
fails("malformed pattern (missing ']')", string.find, "abc", "[a")
fails("malformed pattern (ends with '%')", string.match, "abc", "a%")
fails("unfinished capture", string.match, "abc", "(a")
fails("invalid pattern capture", string.match, "abc", "a)")
fails("missing '[' after '%f' in pattern", string.match, "abc", "%fx")
fails("invalid capture index", string.match, "abc", "(a)%2")
fails("invalid capture index", string.gsub, "abc", "b", "%1%2")
fails("unbalanced pattern", string.match, "abc", "%b")
fails("too many captures", string.match, string.rep("a", 40), string.rep("(a)", 33))
fails("invalid replacement value (a table)", string.gsub, "abc", ".", function() return {} end)
fails("invalid replacement value (a boolean)", string.gsub, "abc", ".", { a = true })
fails("callback", string.gsub, "abc", ".", function() error("callback", 0) end)
-- errors come only when the matcher reaches them, as in Lua 5.1
same(pack(string.find("abc", "x[")), pack(nil), "lazy error")

-- bad input
fails("bad argument #1 to '?' (string expected, got nil)", string.find, nil, "a")
fails("bad argument #2 to '?' (string expected, got no value)", string.match, "a")
fails("bad argument #3 to '?' (number expected, got table)", string.find, "a", "a", {})
fails("bad argument #3 to '?' (string/function/table expected)", string.gsub, "a", "a", true)
fails("bad argument #4 to '?' (number expected, got string)", string.gsub, "a", "a", "", "x")
fails("bad argument #1 to '?' (string expected, got table)", string.gmatch, {}, "a")
local ok, err = pcall(function() return ("x"):rep(2):find({}) end)
assert(not ok and err:find("bad argument #1 to 'find' (string expected, got table)", 1, true), err)

-- hostile patterns: an error under copas-lua, where the work is bounded
-- (lua5.1 would backtrack for ages), so this part runs only under the
-- test runner, which sets TESTDIR
if rawget(_G, "TESTDIR") then
  ok, err = pcall(string.find, string.rep("a", 40), string.rep("a*", 40) .. "b")
  assert(not ok and err == "pattern too complex", tostring(err))
end
