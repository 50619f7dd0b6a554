-- mime.core transforms and socket.url against values produced by lua5.1 +
-- LuaSocket 3 (chunked-call contracts included), plus filter round trips.
local mime = require "mime"
local ltn12 = require "ltn12"
local url = require "socket.url"

local function eq(got, want, what)
  if got ~= want then
    error(string.format("%s: got %q, want %q", what, tostring(got), tostring(want)), 2)
  end
end

local function check(name, args, want1, want2)
  local r1, r2 = mime[name](args[1], args[2], args[3])
  eq(r1, want1, name .. " first result")
  eq(r2, want2, name .. " second result")
end

assert(require("mime.core") == mime, "mime extends mime.core")
eq(mime._VERSION, "MIME 1.0.3", "version")
check("b64", {"abcd", nil, nil}, "YWJjZA==", nil)
check("b64", {"ab", "cdefg", nil}, "YWJjZGVm", "g")
check("b64", {"", nil, nil}, nil, nil)
check("b64", {"\000\255\128", nil, nil}, "AP+A", nil)
check("unb64", {"YWJj\013\010ZA==", nil, nil}, "abcd", nil)
check("unb64", {"YW", "JjZA", nil}, "abc", "ZA")
check("unb64", {"", nil, nil}, nil, nil)
check("qp", {"a=b \013\010c\009", nil, nil}, "a=3Db=20\013\010c=09=\013\010", nil)
check("qp", {"caf\233 ", "\013\010x", nil}, "caf=E9=20\013\010x", "")
check("qp", {"line\013\010", nil, "=0D=0A"}, "line=0D=0A", nil)
check("unqp", {"a=3Db=\013\010c=ZZ\013\010", nil, nil}, "a=bc=ZZ\013\010", nil)
check("unqp", {"x=4", "1y", nil}, "xAy", "")
check("wrp", {3, "abcdefgh", nil}, "abc\013\010defgh", 71)
check("wrp", {10, "ab\010cd", nil}, "ab\013\010cd", 74)
check("wrp", {2, nil, nil}, "\013\010", 76)
check("wrp", {76, nil, nil}, nil, 76)
check("qpwrp", {5, "abc=3Ddef", nil}, "abc=\013\010=3Ddef", 70)
check("qpwrp", {3, nil, nil}, "=\013\010", 76)
check("eol", {0, "a\013b\010c\013\010d\010\013e\013\013f", nil}, "a\013\010b\013\010c\013\010d\013\010e\013\010\013\010f", 0)
check("eol", {13, "\010x\013", nil}, "x\013\010", 13)
check("eol", {0, "a\010b", "\124"}, "a\124b", 0)
check("dot", {2, ".a\013\010.b\013\010", nil}, "..a\013\010..b\013\010", 2)
check("dot", {0, "x.\013\010.", nil}, "x.\013\010..", 0)
check("dot", {1, "\010.", nil}, "\010..", 0)
eq(url.absolute("http://a/b/c/d;p?q", "../g"), "http://a/b/g", "absolute")
eq(url.absolute("http://a/b/", "./x/../y"), "http://a/b/y", "absolute")
eq(url.absolute("http://u:p@h:8/p?q#f", "//other/z"), "http://other/z", "absolute")
eq(url.escape("a b/ç"), "a%20b%2f%c3%a7", "escape")
eq(url.build_path(url.parse_path("/a b/c%2Fd/")), "/a%20b/c%2Fd/", "path round trip")

-- filters: chunk boundaries must not change the output
local function through(filter, s, size)
  local out = {}
  local src = ltn12.source.string(s)
  if size then
    local whole = s
    local pos = 1
    src = function()
      if pos > #whole then return nil end
      local c = whole:sub(pos, pos + size - 1)
      pos = pos + size
      return c
    end
  end
  local snk = ltn12.sink.table(out)
  ltn12.pump.all(ltn12.source.chain(src, filter), snk)
  return table.concat(out)
end

local data = {}
for i = 0, 2000 do data[#data + 1] = string.char(i % 256) end
data = table.concat(data) .. "tail \r\n. dot\r\n"
local enc = through(ltn12.filter.chain(mime.encode("base64"), mime.wrap("base64")), data)
for _, size in ipairs{ 1, 2, 3, 5, 7, 64, 1000 } do
  eq(through(ltn12.filter.chain(mime.encode("base64"), mime.wrap("base64")), data, size), enc, "b64 chunking " .. size)
  eq(through(mime.decode("base64"), enc, size), data, "b64 decode " .. size)
end
local qpenc = through(ltn12.filter.chain(mime.normalize(), mime.encode("quoted-printable"), mime.wrap("quoted-printable")), data)
for _, size in ipairs{ 1, 2, 3, 7, 100 } do
  eq(through(ltn12.filter.chain(mime.normalize(), mime.encode("quoted-printable"), mime.wrap("quoted-printable")), data, size), qpenc, "qp chunking " .. size)
end
for line in qpenc:gmatch("([^\n]*)\n") do assert(#line <= 77, "qp line too long: " .. #line) end
eq(through(mime.stuff(), ".a\r\n.b", 1), "..a\r\n..b", "stuff")
local ok, err = pcall(mime.encode, "nope")
assert(not ok and err:find("unknown key %(nope%)"), err)
assert(mime.wrapt["default"] == mime.wrapt.text and mime.wrapt.base64 == mime.wrapt.text, "wrap table aliases")
