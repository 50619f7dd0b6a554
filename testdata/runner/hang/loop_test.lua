-- A plain script whose copas.loop() never ends: the timeout cancels every
-- thread, so the loop returns and the file fails as timed out.
local copas = require "copas"
require("testing").timeout(0.2)
copas.addnamedthread("sleeper", function() copas.pause(1000) end)
copas.loop()
