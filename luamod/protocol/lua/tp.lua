-- socket.tp for copas-lua: the line-oriented request/reply transport that
-- SMTP and FTP share (LuaSocket 3 API).
local socket = require "socket"
local ltn12 = require "ltn12"
local type, ipairs, tonumber, setmetatable = type, ipairs, tonumber, setmetatable
local find, match, upper = string.find, string.match, string.upper

local tp = { TIMEOUT = 60 }
socket.tp = tp

-- Reads one reply: "ddd text" or a multi-line "ddd-..." block that ends
-- with "ddd text". Returns the code (a string) and the whole reply.
local function readreply(c)
  local line, err = c:receive()
  if err then return nil, err end
  local code, sep = match(line, "^(%d%d%d)(.?)")
  if not code then return nil, "invalid server reply" end
  if sep ~= "-" then return code, line end
  local lines = { line }
  repeat
    line, err = c:receive()
    if err then return nil, err end
    lines[#lines + 1] = line
    local cur, s = match(line, "^(%d%d%d)(.?)")
  until cur == code and s == " "
  return code, table.concat(lines, "\n")
end

local methods = {}
local mt = { __index = methods }

function methods:getpeername() return self.c:getpeername() end
-- (LuaSocket 3 answers getsockname with the peer's name too; kept.)
function methods:getsockname() return self.c:getpeername() end
function methods:getfd() return self.c:getfd() end
function methods:dirty() return self.c:dirty() end
function methods:getcontrol() return self.c end
function methods:send(data) return self.c:send(data) end
function methods:receive(pat) return self.c:receive(pat) end

-- check(ok): reads a reply and accepts it if its code matches the pattern
-- ok (or one of a list of patterns); a function ok decides itself.
function methods:check(ok)
  local code, reply = readreply(self.c)
  if not code then return nil, reply end
  local kind = type(ok)
  if kind == "function" then return ok(tonumber(code), reply) end
  local pats = kind == "table" and ok or { ok }
  for _, p in ipairs(pats) do
    if find(code, p) then return tonumber(code), reply end
  end
  return nil, reply
end

function methods:command(cmd, arg)
  local line = upper(cmd)
  if arg then line = line .. " " .. arg end
  return self.c:send(line .. "\r\n")
end

function methods:sink(snk, pat)
  local chunk, err = self.c:receive(pat)
  return snk(chunk, err)
end

function methods:source(src, step)
  return ltn12.pump.all(src, socket.sink("keep-open", self.c), step or ltn12.pump.step)
end

function methods:close()
  self.c:close()
  return 1
end

function tp.connect(host, port, timeout, create)
  local c, err = (create or socket.tcp)()
  if not c then return nil, err end
  c:settimeout(timeout or tp.TIMEOUT)
  local ok, cerr = c:connect(host, port)
  if not ok then
    c:close()
    return nil, cerr
  end
  return setmetatable({ c = c }, mt)
end

return tp
