-- copas.smtp for copas-lua: socket.smtp with copas-wrapped sockets (Copas
-- 4.11 API). Setting PORT, SERVER, TIMEOUT, DOMAIN or ZONE here sets them
-- on socket.smtp, which does the work.
local copas = require "copas"
local socket = require "socket"
local smtp = require "socket.smtp"
local rawset, setmetatable = rawset, setmetatable

local function create() return copas.wrap(socket.tcp()) end

local shared = { PORT = true, SERVER = true, TIMEOUT = true, DOMAIN = true, ZONE = true, TIMEZONE = true }

local M = setmetatable({}, {
  __index = smtp,
  __newindex = function(t, k, v)
    if shared[k] then smtp[k] = v else rawset(t, k, v) end
  end,
})
copas.smtp = M

function M.send(mailt)
  mailt.create = mailt.create or create
  return smtp.send(mailt)
end

return M
