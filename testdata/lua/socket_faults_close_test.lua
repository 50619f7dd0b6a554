-- Close while blocked: an operation parked in one Copas thread ends with
-- nil, "closed" (plus the partial data or the count sent) as soon as
-- another thread closes its socket, for every blocking operation and for
-- copas.receivepartial, which waits in socket.select. Each test also
-- checks the normal path and that the loop keeps serving afterwards.
local copas = require "copas"
local socket = require "socket"

local function listener(backlog)
  local s = assert(socket.tcp())
  assert(s:bind("127.0.0.1", 0))
  assert(s:listen(backlog))
  local _, port = s:getsockname()
  return s, tonumber(port)
end

-- pair returns both ends of a fresh local connection.
local function pair()
  local srv, port = listener()
  local c = assert(socket.connect("127.0.0.1", port))
  local a = assert(srv:accept())
  srv:close()
  return c, a
end

-- closer closes skt after a short pause, from another thread.
local function closer(skt, delay)
  copas.addthread(function()
    copas.pause(delay or 0.05)
    skt:close()
  end)
end

-- timed(fn) runs fn and returns its results packed, and the time taken.
local function timed(fn)
  local t0 = socket.gettime()
  local r = { n = 0 }
  local function pack(...) r = { n = select("#", ...), ... } end
  pack(fn())
  return r, socket.gettime() - t0
end

-- Every wake-up below must be prompt; 5 s is far above the 50 ms pause
-- even on a loaded machine, and far below "never".
local PROMPT = 5

describe("receive", function()
  for _, case in ipairs({
    { "*l", "abc", "abc" }, { "*a", "abc", "abc" }, { 10, "abc", "abc" },
    { "*l", "", "" }, { 2 ^ 31, "xy", "xy" },
  }) do
    local pattern, sent, partial = case[1], case[2], case[3]
    it("pattern " .. tostring(pattern) .. " with " .. #sent .. " bytes waiting", function()
      local c, a = pair()
      if sent ~= "" then assert(a:send(sent)) end
      closer(c)
      local r, took = timed(function() return c:receive(pattern) end)
      assert.is_nil(r[1])
      assert.equal("closed", r[2])
      assert.equal(partial, r[3])
      assert.is_true(took < PROMPT)
      a:close()
    end)
  end

  it("keeps the prefix", function()
    local c, a = pair()
    assert(a:send("de"))
    closer(c)
    local d, err, part = c:receive("*l", "abc")
    assert.is_nil(d)
    assert.equal("closed", err)
    assert.equal("abcde", part)
    a:close()
  end)

  it("wakes every thread queued on the socket", function()
    local c, a = pair()
    local results = {}
    for i = 1, 3 do
      copas.addthread(function()
        local _, err = c:receive()
        results[i] = err
      end)
    end
    copas.pause(0.05)
    c:close()
    copas.pause(0.05)
    assert.same({ "closed", "closed", "closed" }, results)
    a:close()
  end)

  it("still completes normally when nobody closes", function()
    local c, a = pair()
    copas.addthread(function() copas.pause(0.02); a:send("line\n") end)
    assert.equal("line", c:receive())
    c:close(); a:close()
  end)

  it("gives closed on an already closed socket", function()
    local c, a = pair()
    c:close()
    local d, err, part = c:receive()
    assert.is_nil(d); assert.equal("closed", err); assert.equal("", part)
    a:close()
  end)
end)

describe("copas.receivepartial", function()
  for _, pattern in ipairs({ "*l", "*a", 10 }) do
    it("pattern " .. tostring(pattern), function()
      local c, a = pair()
      local w = copas.wrap(c)
      closer(w)
      local r, took = timed(function() return w:receivepartial(pattern) end)
      assert.is_nil(r[1])
      assert.equal("closed", r[2])
      assert.equal("", r[3])
      assert.is_true(took < PROMPT)
      a:close()
    end)
  end

  it("returns the data that came before the close", function()
    local c, a = pair()
    local w = copas.wrap(c)
    assert(a:send("ab"))
    local d, err, part = w:receivepartial("*l")
    assert.is_nil(d); assert.equal("timeout", err); assert.equal("ab", part)
    closer(w)
    d, err, part = w:receivepartial("*l", part)
    assert.is_nil(d); assert.equal("closed", err); assert.equal("ab", part)
    a:close()
  end)

  it("tears down a two-thread pump", function()
    -- A proxy pump: one thread per direction; the first to see the end
    -- closes both sockets, and the other must wake up.
    local c1, a1 = pair()
    local c2, a2 = pair()
    local w1, w2 = copas.wrap(a1), copas.wrap(a2)
    local ended = 0
    local function pump(from, to)
      copas.addthread(function()
        while true do
          local d, err, part = from:receivepartial(8192)
          local chunk = d or part
          if chunk and #chunk > 0 then to:send(chunk) end
          if err == "closed" then break end
        end
        from:close(); to:close()
        ended = ended + 1
      end)
    end
    pump(w1, w2); pump(w2, w1)
    assert(c1:send("ping"))
    c2:settimeout(1)
    assert.equal("ping", c2:receive(4))
    c1:close()
    for _ = 1, 100 do
      if ended == 2 then break end
      copas.pause(0.05)
    end
    assert.equal(2, ended)
    c2:close()
  end)
end)

describe("socket.select", function()
  it("returns a socket closed while it waits as readable", function()
    local c, a = pair()
    closer(c)
    local r, took = timed(function() return socket.select({ c }, nil, 10) end)
    assert.equal(c, r[1][1])
    assert.is_true(took < PROMPT)
    a:close()
  end)

  it("returns a socket closed while it waits for writing as writable", function()
    local c, a = pair()
    local big = ("x"):rep(2 ^ 20)
    c:settimeout(0)
    while true do
      local _, err = c:send(big)
      if err then break end
    end
    local other, oa = pair()
    closer(c)
    local r, took = timed(function() return socket.select({ other }, { c }, 10) end)
    assert.equal(c, r[2][1])
    assert.is_nil(r[1][1])
    assert.is_true(took < PROMPT)
    a:close(); other:close(); oa:close()
  end)
end)

describe("send", function()
  it("returns closed and the count sent", function()
    local c, a = pair()
    local big = ("x"):rep(16 * 2 ^ 20) -- more than the socket buffers hold
    closer(c)
    local r, took = timed(function() return c:send(big) end)
    assert.is_nil(r[1])
    assert.equal("closed", r[2])
    assert.is_true(r[3] > 0 and r[3] < #big)
    assert.is_true(took < PROMPT)
    a:close()
  end)
end)

describe("accept", function()
  it("returns closed", function()
    local srv = listener()
    closer(srv)
    local r, took = timed(function() return srv:accept() end)
    assert.is_nil(r[1])
    assert.equal("closed", r[2])
    assert.is_true(took < PROMPT)
  end)
end)

describe("connect", function()
  it("returns closed while the handshake is in progress", function()
    -- A full backlog of 0 makes the kernel drop the SYN: the connect
    -- stays in progress until the retry, seconds later.
    local srv, port = listener(0)
    local first = socket.tcp()
    first:settimeout(0)
    first:connect("127.0.0.1", port)
    copas.pause(0.05)
    local c = socket.tcp()
    closer(c)
    local r, took = timed(function() return c:connect("127.0.0.1", port) end)
    assert.is_nil(r[1])
    assert.equal("closed", r[2])
    assert.is_true(took < PROMPT)
    first:close(); srv:close()
  end)
end)

describe("udp", function()
  local function bound()
    local u = assert(socket.udp())
    assert(u:setsockname("127.0.0.1", 0))
    return u
  end

  for _, method in ipairs({ "receive", "receivefrom" }) do
    it(method .. " returns closed", function()
      local u = bound()
      closer(u)
      local r, took = timed(function() return u[method](u) end)
      assert.is_nil(r[1])
      assert.equal("closed", r[2])
      assert.is_true(took < PROMPT)
    end)
  end

  it("copas.receivefrom returns closed", function()
    local u = bound()
    closer(u)
    local d, err = copas.receivefrom(u)
    assert.is_nil(d)
    assert.equal("closed", err)
  end)

  it("receive on a socket closed before keeps LuaSocket's empty datagram", function()
    local u = bound()
    u:close()
    assert.equal("", u:receive())
    local d, err = u:receivefrom()
    assert.is_nil(d)
    assert.equal("ai_family not supported", err)
  end)
end)

describe("the loop afterwards", function()
  it("still serves an echo round trip", function()
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    copas.addserver(srv, copas.handler(function(skt)
      local l = skt:receive()
      skt:send(l .. "\n")
    end))
    local c = copas.wrap(socket.tcp())
    assert(c:connect("127.0.0.1", port))
    assert(c:send("echo\n"))
    assert.equal("echo", c:receive())
    c:close()
    copas.removeserver(srv)
  end)
end)
