-- copas.ftp for copas-lua: socket.ftp with copas-wrapped sockets (Copas
-- 4.11 API). Setting PORT, TIMEOUT, USER or PASSWORD here sets them on
-- socket.ftp, which does the work.
local copas = require "copas"
local socket = require "socket"
local ftp = require "socket.ftp"
local ltn12 = require "ltn12"
local type, rawset, setmetatable, concat = type, rawset, setmetatable, table.concat

local function create() return copas.wrap(socket.tcp()) end

local shared = { PORT = true, TIMEOUT = true, USER = true, PASSWORD = true }

local M = setmetatable({}, {
  __index = ftp,
  __newindex = function(t, k, v)
    if shared[k] then ftp[k] = v else rawset(t, k, v) end
  end,
})
copas.ftp = M

-- parseRequest(url[, body]) builds a request table: a put with a string
-- source when body is given, else a get into a table sink (t.target).
function M.parseRequest(u, body)
  local t = ftp.genericform(u)
  if body then
    t.source = ltn12.source.string(body)
  else
    t.target = {}
    t.sink = ltn12.sink.table(t.target)
  end
  return t
end

M.put = socket.protect(function(putt, body)
  if type(putt) == "string" then
    return M.put(M.parseRequest(putt, body))
  end
  putt.create = putt.create or create
  return ftp.put(putt)
end)

M.get = socket.protect(function(gett)
  if type(gett) == "string" then
    local t = M.parseRequest(gett)
    local ok, err = M.get(t)
    if not ok then return nil, err end
    return concat(t.target)
  end
  gett.create = gett.create or create
  return ftp.get(gett)
end)

function M.command(cmdt)
  cmdt.create = cmdt.create or create
  return ftp.command(cmdt)
end

return M
