describe("broken setup", function()
  setup(function() error("cannot start the server") end)
  it("first", function() end)
  it("second", function() end)
end)

describe("broken teardown", function()
  teardown(function() error("cannot stop the server") end)
  it("passes", function() end)
end)

local after_ran = false

describe("before_each fails", function()
  before_each(function() error("no fixture") end)
  after_each(function() after_ran = true end)
  it("skips the body", function() error("body ran") end)
end)

it("after_each ran anyway", function() assert.is_true(after_ran) end)
