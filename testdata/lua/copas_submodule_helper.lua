-- Shared by the copas_{lock,semaphore,queue,timer,future}_test.lua scripts,
-- which also run on the reference Copas 4.11 (LuaJIT, from this folder).
--
-- Errors in Copas threads go to the error handler, not to the script, so the
-- helper collects them; steps record which parts of a script ran to the end.
local copas = require "copas"

local H = {}

-- copas-lua fixes some reference bugs; the checks for those run only on
-- copas-lua (or when the reference core runs our submodules: COPAS_LUA_OURS=1).
H.OURS = (tostring(copas._DESCRIPTION):find("copas-lua", 1, true) or os.getenv("COPAS_LUA_OURS")) and true or false

H.failures = {}
H.steps = {}

copas.seterrorhandler(function(msg, co, skt)
  local ok, trace = pcall(copas.gettraceback, msg, co, skt)
  H.failures[#H.failures + 1] = ok and trace or tostring(msg)
end, true)

function H.step(name)
  H.steps[#H.steps + 1] = name
end

-- Raises unless no thread failed and exactly the steps `want` (a
-- comma-separated list) ran, in that order.
function H.check(want)
  assert(#H.failures == 0, table.concat(H.failures, "\n"))
  local got = table.concat(H.steps, ",")
  assert(got == want, "steps run: " .. got .. "\nexpected:  " .. want)
end

return H
