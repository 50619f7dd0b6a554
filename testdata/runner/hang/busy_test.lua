it("spins without yielding", function()
  local t0 = os.clock()
  while os.clock() - t0 < 0.6 do end
end, { timeout = 0.1 })

it("never runs", function() end)
