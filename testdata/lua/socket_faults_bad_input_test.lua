-- Bad input to LuaSocket objects: ports out of range, UDP receive sizes,
-- methods on closed UDP objects, huge TCP receive counts. Where LuaSocket
-- 3 (lua5.1, Debian's lua-socket) behaves sanely we match it; where it
-- wraps a port modulo 65536 or loses a datagram we deliberately do not
-- (noted at each case).
local socket = require "socket"

local EAI_SERVICE = "service not supported for socket type" -- LuaSocket's wording
local EAI_SERVICE_RAW = "Servname not supported for ai_socktype" -- glibc's, in sendto

local function udp_pair()
  local a = assert(socket.udp())
  assert(a:setsockname("127.0.0.1", 0))
  local _, port = a:getsockname()
  local b = assert(socket.udp())
  assert(b:setpeername("127.0.0.1", port))
  a:settimeout(2)
  return a, b, tonumber(port)
end

describe("ports out of range", function()
  -- LuaSocket passes the port to getaddrinfo, which wraps 70000 to 4464
  -- and 1e10 to 58368; it refuses -1 with EAI_SERVICE. We refuse every
  -- port outside 0..65535 the way it refuses -1.
  local bad = { 70000, 65536, 1e10, -1, 2 ^ 31, 2 ^ 32, "70000", " 65536", "-5" }
  local calls = {
    { "tcp bind", function(p) return socket.tcp():bind("127.0.0.1", p) end },
    { "tcp setsockname", function(p) return socket.tcp():setsockname("127.0.0.1", p) end },
    { "tcp connect", function(p) return socket.tcp():connect("127.0.0.1", p) end },
    { "tcp setpeername", function(p) return socket.tcp():setpeername("127.0.0.1", p) end },
    { "socket.bind", function(p) return socket.bind("127.0.0.1", p) end },
    { "socket.connect", function(p) return socket.connect("127.0.0.1", p) end },
    { "socket.connect local port", function(p) return socket.connect("127.0.0.1", 9, "127.0.0.1", p) end },
    { "udp setsockname", function(p) return socket.udp():setsockname("127.0.0.1", p) end },
    { "udp setpeername", function(p) return socket.udp():setpeername("127.0.0.1", p) end },
  }
  for _, c in ipairs(calls) do
    it(c[1] .. " fails", function()
      for _, p in ipairs(bad) do
        local ok, err = c[2](p)
        assert.is_nil(ok, "port " .. tostring(p))
        assert.equal(EAI_SERVICE, err, "port " .. tostring(p))
      end
    end)
  end

  it("udp sendto fails with glibc's message and sends nothing", function()
    local a, b = udp_pair()
    local _, port = a:getsockname()
    for _, p in ipairs(bad) do
      local ok, err = socket.udp():sendto("x", "127.0.0.1", p)
      assert.is_nil(ok)
      assert.equal(EAI_SERVICE_RAW, err, "port " .. tostring(p))
      -- 70000 would have been port 4464: make sure nothing went to ours
      ok, err = socket.udp():sendto("x", "127.0.0.1", tonumber(port) + 65536)
      assert.equal(EAI_SERVICE_RAW, err)
    end
    a:settimeout(0)
    local d, err = a:receive()
    assert.is_nil(d); assert.equal("timeout", err)
  end)

  it("accepts the edges and what glibc reads as a number", function()
    for _, p in ipairs({ 0, "0", " 0", "+0", "-0", "00" }) do
      local s = socket.tcp()
      assert.equal(1, s:bind("127.0.0.1", p), "port " .. tostring(p))
      s:close()
    end
    -- 65535 is in range: it may be taken, but is never refused as a port
    local s = socket.tcp()
    local ok, err = s:bind("127.0.0.1", 65535)
    assert.is_true(ok == 1 or err == "address already in use")
    s:close()
  end)

  it("keeps LuaSocket's errors for ports that are not numbers", function()
    local ok, err = socket.tcp():bind("127.0.0.1", "0x10")
    assert.equal(EAI_SERVICE, err)
    ok, err = socket.tcp():bind("127.0.0.1", 1.5)
    assert.equal(EAI_SERVICE, err)
    ok, err = socket.udp():sendto("x", "127.0.0.1", "abc")
    assert.equal("Name or service not known", err)
    ok, err = socket.udp():sendto("x", "127.0.0.1", 0 / 0)
    assert.is_nil(ok)
    assert.equal("Name or service not known", err)
  end)

  it("still binds and connects in range", function()
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    local c = assert(socket.connect("127.0.0.1", port))
    assert.equal("tcp{client}", c.class)
    c:close(); srv:close()
  end)
end)

describe("udp receive sizes", function()
  it("gives the first n bytes of one datagram and drops the rest", function()
    local a, b = udp_pair()
    assert(b:send("hello world"))
    assert(b:send("second"))
    assert.equal("hello", a:receive(5))
    assert.equal("second", a:receive())
    local from = socket.udp()
    assert(from:sendto("abcdef", a:getsockname()))
    local d, ip = a:receivefrom(3)
    assert.equal("abc", d); assert.equal("127.0.0.1", ip)
    a:close(); b:close(); from:close()
  end)

  it("clamps huge sizes and keeps every datagram", function()
    -- LuaSocket mallocs the size: 2^31 works if memory allows, 2^53 is
    -- "out of memory", 1e300 and inf become 0 and the datagram is lost.
    local a, b = udp_pair()
    for _, n in ipairs({ 2 ^ 31, 2 ^ 53, 1e300, 1 / 0, 65536 }) do
      local msg = "dgram " .. tostring(n)
      assert(b:send(msg))
      assert.equal(msg, a:receive(n), tostring(n))
      assert(b:send(msg))
      assert.equal(msg, (a:receivefrom(n)), tostring(n))
    end
    local big = ("z"):rep(65507) -- the largest IPv4 datagram
    assert(b:send(big))
    assert.equal(big, a:receive(2 ^ 31))
    a:close(); b:close()
  end)

  it("fails like LuaSocket for a negative or NaN size, keeping the datagram", function()
    local a, b = udp_pair()
    assert(b:send("kept"))
    for _, n in ipairs({ -1, 0 / 0, -1e300 }) do
      local d, err = a:receive(n)
      assert.is_nil(d); assert.equal("out of memory", err)
      d, err = a:receivefrom(n)
      assert.is_nil(d); assert.equal("out of memory", err)
    end
    assert.equal("kept", a:receive())
    a:close(); b:close()
  end)

  it("size 0 consumes one datagram, as in LuaSocket", function()
    local a, b = udp_pair()
    assert(b:send("gone")); assert(b:send("next"))
    assert.equal("", a:receive(0))
    assert.equal("next", a:receive())
    a:close(); b:close()
  end)

  it("raises for a size that is not a number", function()
    local a, b = udp_pair()
    assert.has_error(function() a:receive("x") end)
    assert.has_error(function() a:receive({}) end)
    a:close(); b:close()
  end)
end)

describe("closed udp objects", function()
  -- LuaSocket does not raise for methods on a closed UDP object: they
  -- answer as a descriptor-less object does.
  it("answer as in LuaSocket", function()
    local u = assert(socket.udp())
    assert(u:setsockname("127.0.0.1", 0))
    u:close()
    assert.equal("", u:receive())
    assert.equal("", u:receive(10))
    local d, err = u:receivefrom(); assert.is_nil(d); assert.equal("ai_family not supported", err)
    d, err = u:sendto("x", "127.0.0.1", 9); assert.is_nil(d); assert.equal("refused", err)
    assert.equal(-1, u:getfd())
    assert.equal(false, u:dirty())
    assert.equal(1, u:settimeout(1))
    assert.equal(1, u:close())
    assert.is_truthy(tostring(u):match("^udp{unconnected}: "))
    assert.equal(1, u:setsockname("127.0.0.1", 0)) -- makes a new descriptor
    u:close()

    local v = assert(socket.udp())
    assert(v:setpeername("127.0.0.1", 9))
    v:close()
    assert.equal("", v:receive())
    d, err = v:send("x"); assert.is_nil(d); assert.equal("refused", err)
    d, err = v:getpeername(); assert.is_nil(d); assert.equal("Bad file descriptor", err)
    assert.equal(1, v:setpeername("*"))
    assert.equal("udp{unconnected}", v.class)
  end)

  it("raise for a wrong self as LuaSocket does", function()
    local u = assert(socket.udp())
    u:close()
    assert.has_error(function() u:send("x") end) -- udp{connected} expected
    assert.has_error(function() u:getpeername() end)
    assert.has_error(function() socket.udp().receive(socket.tcp()) end)
  end)
end)

describe("tcp receive of huge counts", function()
  it("returns what arrived, without reserving the count", function()
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    local c = assert(socket.connect("127.0.0.1", port))
    local a = assert(srv:accept())
    assert(a:send("0123456789"))
    a:close()
    for _, n in ipairs({ 2 ^ 31, 2 ^ 53, 1e300, 1 / 0 }) do
      local d, err, part = c:receive(n)
      assert.is_nil(d); assert.equal("closed", err)
      if n == 2 ^ 31 then assert.equal("0123456789", part) else assert.equal("", part) end
    end
    c:close(); srv:close()
  end)

  it("completes a count that arrives in pieces", function()
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    local c = assert(socket.connect("127.0.0.1", port))
    local a = assert(srv:accept())
    local piece = ("p"):rep(100000)
    for _ = 1, 5 do assert(a:send(piece)) end
    c:settimeout(5)
    assert.equal(piece:rep(5), c:receive(500000))
    c:close(); a:close(); srv:close()
  end)
end)
