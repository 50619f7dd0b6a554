-- No describe/it: the file is one test, as the project's script tests.
local copas = require "copas"
local n = 0
copas.addthread(function()
  copas.pause(0.01)
  n = n + 1
end)
assert(n == 0)
print("plain script ran")
