-- Half-closed TCP streams: after shutdown("send") the reading direction
-- keeps working until the peer's end of stream, and the side that shut
-- its sending direction still receives everything the peer sends; checked
-- against lua5.1 + LuaSocket 3 for the raw objects and with Copas'
-- wrappers on top.
local copas = require "copas"
local socket = require "socket"

local function pair()
  local srv = assert(socket.bind("127.0.0.1", 0))
  local _, port = srv:getsockname()
  local c = assert(socket.connect("127.0.0.1", port))
  local a = assert(srv:accept())
  srv:close()
  return c, a
end

-- sum is a cheap checksum of a string, so a lost or repeated piece shows.
local function sum(s)
  local h = 0
  for i = 1, #s, 97 do h = (h * 31 + s:byte(i)) % 2147483647 end
  return h .. ":" .. #s
end

describe("shutdown send", function()
  it("still reads the peer's full answer, then closed with the tail", function()
    local c, a = pair()
    assert(c:send("request"))
    assert.equal(1, c:shutdown("send"))
    -- the peer sees the end of our stream...
    assert.equal("request", a:receive("*a"))
    -- ...and answers afterwards
    assert(a:send("line 1\nline 2\ntail"))
    a:close()
    assert.equal("line 1", c:receive())
    assert.equal("line 2", c:receive())
    local d, err, part = c:receive()
    assert.is_nil(d); assert.equal("closed", err); assert.equal("tail", part)
    d, err, part = c:receive()
    assert.is_nil(d); assert.equal("closed", err); assert.equal("", part)
    c:close()
  end)

  it("receives everything the peer sends, in order", function()
    local c, a = pair()
    local blob = {}
    for i = 1, 40000 do blob[i] = string.format("%07d\n", i) end
    blob = table.concat(blob) -- 320 000 bytes, more than a socket buffer
    assert.equal(1, a:shutdown("send"))
    copas.addthread(function()
      assert(c:send(blob))
      c:close()
    end)
    local d, err, part = a:receive("*a")
    assert.equal(sum(blob), sum(d or part))
    a:close()
  end)

  it("gives the sender closed, not the reader", function()
    local c, a = pair()
    c:shutdown("send")
    local n, err, last = c:send("late")
    assert.is_nil(n); assert.equal("closed", err); assert.equal(0, last)
    assert(a:send("still here\n"))
    assert.equal("still here", c:receive())
    c:close(); a:close()
  end)

  it("works through Copas' wrappers", function()
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    local big = ("0123456789abcdef"):rep(2 ^ 16) -- 1 MB answer
    copas.addserver(srv, copas.handler(function(skt)
      local req = skt:receive("*a")
      skt:send("len " .. #req .. "\n")
      skt:send(big)
    end))
    local c = copas.wrap(socket.tcp())
    assert(c:connect("127.0.0.1", port))
    assert(c:send(("q"):rep(5000)))
    c:shutdown("send")
    assert.equal("len 5000", c:receive())
    -- Copas' *a gives everything: as data if it was all there at the
    -- first try, else as nil, "closed", everything
    local d, err, part = c:receive("*a")
    if d == nil then assert.equal("closed", err) end
    assert.equal(sum(big), sum(d or part))
    c:close()
    copas.removeserver(srv)
  end)

  it("lets receivepartial read to the end", function()
    local c, a = pair()
    local w = copas.wrap(c)
    w:shutdown("send")
    copas.addthread(function()
      for i = 1, 5 do a:send("piece " .. i .. ";"); copas.pause(0.01) end
      a:close()
    end)
    local got = {}
    while true do
      local d, err, part = w:receivepartial(1000)
      got[#got + 1] = d or part
      if err == "closed" then break end
    end
    assert.equal("piece 1;piece 2;piece 3;piece 4;piece 5;", table.concat(got))
    w:close()
  end)
end)

describe("shutdown receive", function()
  it("behaves as on Linux with LuaSocket: data still arrives, sending works", function()
    local c, a = pair()
    assert.equal(1, c:shutdown("receive"))
    assert(a:send("after\n"))
    c:settimeout(1)
    assert.equal("after", c:receive())
    assert.equal(3, c:send("hi\n"))
    assert.equal("hi", a:receive())
    c:close(); a:close()
  end)
end)

describe("shutdown both and bad input", function()
  it("ends both directions", function()
    local c, a = pair()
    assert.equal(1, c:shutdown("both"))
    local n, err = c:send("x")
    assert.is_nil(n); assert.equal("closed", err)
    local d, err2, part = c:receive()
    assert.is_nil(d); assert.equal("closed", err2); assert.equal("", part)
    local d2, err3 = a:receive()
    assert.is_nil(d2); assert.equal("closed", err3)
    c:close(); a:close()
  end)

  it("defaults to both and repeats harmlessly", function()
    local c, a = pair()
    assert.equal(1, c:shutdown())
    assert.equal(1, c:shutdown("send"))
    assert.equal(1, c:shutdown("receive"))
    c:close()
    assert.equal(1, c:shutdown("send")) -- closed: LuaSocket ignores the error
    a:close()
  end)

  it("raises for an unknown direction", function()
    local c, a = pair()
    assert.has_error(function() c:shutdown("sideways") end)
    assert.has_error(function() c:shutdown({}) end)
    local srv = assert(socket.bind("127.0.0.1", 0))
    assert.has_error(function() srv:shutdown("send") end) -- tcp{client} expected
    c:close(); a:close(); srv:close()
  end)
end)
