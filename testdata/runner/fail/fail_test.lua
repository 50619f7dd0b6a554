describe("failing", function()
  it("compares numbers", function()
    assert.equal(3, 1 + 1)
  end)

  it("compares tables", function()
    assert.same({ host = "a", port = 80, tags = { "x" } },
                { host = "a", port = 8080, tags = { "x" } })
  end)

  it("errors", function()
    local t = nil
    return t.field
  end)

  it("uses plain assert", function()
    assert(1 == 2, "one is not two")
  end)

  it("passes", function()
    print("output of a passing test")
  end)

  it("times out", function()
    local copas = require "copas"
    copas.addnamedthread("helper", function() copas.pause(100) end)
    copas.pause(100)
  end, { timeout = 0.2 })

  it("runs after a timeout in a clean runtime", function()
    local copas = require "copas"
    assert.is_true(copas.finished())
  end)

  it("waits forever", function()
    local copas = require "copas"
    copas.pauseforever()
  end)

  it("fails in another thread", function()
    local copas = require "copas"
    copas.addthread(function() error("handler broke") end)
    copas.pause(0.01)
  end)
end)
