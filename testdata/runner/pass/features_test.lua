local copas = require "copas"
local testing = require "testing"

-- failure(fn) runs fn, which must fail an assertion, and returns the error.
local function failure(fn)
  local ok, err = pcall(fn)
  assert(not ok, "expected a failure")
  return err
end

describe("failure messages", function()
  it("equal shows both values", function()
    local err = failure(function() assert.are.equal(1, 2) end)
    assert.matches("features_test.lua:%d+: expected values to be equal", err)
    assert.matches("expected: %(number%) 1", err)
    assert.matches("actual: %(number%) 2", err)
  end)

  it("same shows a diff", function()
    local err = failure(function() assert.same({ a = 1, b = { 2 } }, { a = 1, b = { 3 } }) end)
    assert.matches("-     [1] = 2,", err, 1, true)
    assert.matches("+     [1] = 3,", err, 1, true)
  end)

  it("negation is worded", function()
    local err = failure(function() assert.is_not.equal(1, 1) end)
    assert.matches("expected values to differ", err)
  end)

  it("a custom message leads", function()
    local err = failure(function() assert.is_true(false, "custom words") end)
    assert.matches(":%d+: custom words\nexpected true", err)
  end)

  it("has_error reports what was raised", function()
    local err = failure(function() assert.has_error(function() error("other") end, "wanted") end)
    assert.matches('raised: %(string%) ".-other"', err)
    err = failure(function() assert.has_error(function() end) end)
    assert.matches("nothing was raised", err)
  end)

  it("unknown assertions are an error", function()
    local ok, err = pcall(function() return assert.is_shiny end)
    assert.is_false(ok)
    assert.matches("unknown assertion 'is_shiny'", err)
  end)

  it("same handles cycles and nested tables", function()
    local a, b = { n = { 1, 2 } }, { n = { 1, 2 } }
    a.self, b.self = a, b
    assert.same(a, b)
    assert.is_not.same({ 1, 2 }, { 1, 2, 3 })
  end)
end)

describe("lifecycle", function()
  local events = {}
  setup(function() events[#events + 1] = "setup" end)
  teardown(function() events[#events + 1] = "teardown" end)

  it("runs finally callbacks after the test", function()
    finally(function() events[#events + 1] = "finally" end)
    events[#events + 1] = "body"
  end)

  it("saw them in order", function()
    assert.same({ "setup", "body", "finally" }, events)
  end)

  it("may extend its own time limit", function()
    testing.timeout(5)
    copas.pause(0.3)
  end, { timeout = 0.1 })

  it("cannot declare tests while running", function()
    assert.error_matches(function() it("nested", function() end) end, "only be declared while the file loads")
  end)

  describe("nested", function()
    local inner = {}
    before_each(function() inner[#inner + 1] = "inner-before" end)
    it("outer hooks run too", function()
      assert.same({ "inner-before" }, inner)
    end)
  end)
end)

describe("slow block", function()
  it("inherits the block's timeout", function()
    copas.pause(0.3)
  end)
end, { timeout = 2 })
