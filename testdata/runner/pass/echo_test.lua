-- A network test suite as users write one: a server started in setup,
-- tests connecting to it as Copas threads.
local copas = require "copas"
local socket = require "socket"

describe("echo server", function()
  local server, port
  local log = {}

  setup(function()
    server = assert(socket.bind("127.0.0.1", 0))
    port = select(2, server:getsockname())
    copas.addserver(server, copas.handler(function(skt)
      while true do
        local line = skt:receive()
        if not line then return end
        skt:send(line .. "\n")
      end
    end), nil, "echo")
  end)

  teardown(function()
    copas.removeserver(server)
  end)

  before_each(function() log[#log + 1] = "before" end)
  after_each(function() log[#log + 1] = "after" end)

  it("echoes a line", function()
    local c = copas.wrap(socket.tcp())
    assert.is_true(c:connect("127.0.0.1", port) == 1)
    c:send("hello\n")
    assert.are.equal("hello", c:receive())
    c:close()
  end)

  it("serves clients concurrently", function()
    local got = {}
    local done = 0
    for i = 1, 5 do
      copas.addthread(function()
        local c = copas.wrap(socket.tcp())
        c:connect("127.0.0.1", port)
        c:send("n" .. i .. "\n")
        got[i] = c:receive()
        c:close()
        done = done + 1
      end)
    end
    while done < 5 do copas.pause(0.01) end
    assert.same({ "n1", "n2", "n3", "n4", "n5" }, got)
  end)

  it("ran the hooks around each test", function()
    assert.same({ "before", "after", "before", "after", "before" }, log)
  end)
end)

describe("assertions", function()
  it("has luassert-style chains", function()
    assert.is_not.equal(1, 2)
    assert.are_not.same({ 1 }, { 2 })
    assert.truthy(0)
    assert.falsy(nil)
    assert.is_false(false)
    assert.is_nil(nil)
    assert.is_not_nil(false)
    assert.is_string("x")
    assert.is_table({})
    assert.near(1, 1.05, 0.1)
    assert.matches("^he", "hello")
    assert.has_error(function() error("boom") end)
    assert.has_error(function() error("boom") end, "boom")
    assert.has_no.errors(function() end)
    assert.error_matches(function() error("a 42 b") end, "%d+")
    assert.unique({ 1, 2, 3 })
    assert.Equal(3, 3)
  end)

  it("keeps plain assert", function()
    local a, b = assert(1, "m")
    assert(a == 1 and b == "m")
    local ok, err = pcall(assert, false, "plain message")
    assert(not ok and err:find("plain message"))
    ok, err = pcall(function() assert(nil) end)
    assert(not ok and err:find("assertion failed!"))
  end)

  it("lets a failing assertion be caught", function()
    local ok, err = pcall(assert.equal, 1, 2)
    assert.is_false(ok)
    assert.matches("expected values to be equal", err)
  end)

  it("can sleep and use timers", function()
    local fired = false
    copas.timeout(0.01, function() fired = true end)
    copas.pause(0.05)
    assert.is_true(fired)
  end)
end)

it("is a test outside any describe", function()
  local t = require "testing"
  assert.equal(t.assert, assert)
end)

pending("a test to write later")

describe("skips", function()
  it("can be skipped from inside", function()
    pending("not today")
    error("not reached")
  end)
end)
