-- socket.select from a plain script (no tasks): argument checks always;
-- real loopback sockets when socket.tcp is available.
local socket = require("socket")

local function fails(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error matching " .. pattern)
  assert(tostring(err):find(pattern, 1, true), "unexpected error: " .. tostring(err))
end

-- nothing to watch: empty tables and "timeout"
local r, w, e = socket.select(nil, nil, 0)
assert(type(r) == "table" and type(w) == "table" and next(r) == nil and next(w) == nil and e == "timeout")
r, w, e = socket.select({}, {}, 0.001)
assert(e == "timeout")
-- objects without a descriptor are skipped
r, w, e = socket.select({{}, {getfd = function() return -1 end}}, {{getfd = function() return nil end}}, 0)
assert(e == "timeout")
-- bad input
fails("bad argument #1", socket.select, "wrong", nil, 0)
fails("bad argument #2", socket.select, {}, 1, 0)
fails("bad argument #3", socket.select, {}, {}, "later")
fails("attempt to index", socket.select, {1}, nil, 0)
fails("descriptor too large for set size", socket.select, {{getfd = function() return 1e9 end}}, nil, 0)
fails("getfd failed", socket.select, {{getfd = function() error("getfd failed", 0) end}}, nil, 0)

if not socket.tcp then return end -- the rest needs tcp objects

local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
local client = assert(socket.connect("127.0.0.1", port))
r, w, e = socket.select({server}, {client}, 5)
assert(e == nil and r[1] == server and r[server] == 1 and w[1] == client and w[client] == 1, tostring(e))
local peer = assert(server:accept())
r, w, e = socket.select({peer}, nil, 0)
assert(e == "timeout", "nothing sent yet")
assert(client:send("one\ntwo\n"))
r = socket.select({peer}, nil, 5)
assert(r[1] == peer)
assert(peer:receive() == "one")
-- "two" is buffered in the object: dirty, so readable without waiting,
-- also through a Copas-style wrapper table
local wrapper = {getfd = function() return peer:getfd() end, dirty = function() return peer:dirty() end}
r, w, e = socket.select({wrapper, server}, nil, 0)
assert(e == nil and #r == 1 and r[1] == wrapper and r[wrapper] == 1)
assert(peer:receive() == "two")
-- socket.source/sink objects keep getfd and dirty for select
local src = socket.source("until-closed", peer)
local snk = socket.sink("keep-open", client)
r, w = socket.select({src}, {snk}, 0)
assert(w[1] == snk and #r == 0)
assert(snk("three"))
client:close()
r = socket.select({src}, nil, 5)
assert(r[1] == src)
assert(src() == "three" and src() == nil)
-- closed sockets have no descriptor: skipped
r, w, e = socket.select({peer, client}, {client}, 0)
assert(e == "timeout")
server:close()
