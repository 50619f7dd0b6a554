-- socket.ftp for copas-lua: LuaSocket 3's FTP client (get, put, command)
-- on socket.tp. Transfers use passive mode (EPSV, falling back to PASV);
-- PORT/EPRT active mode is available on the session object.
local socket = require "socket"
local url = require "socket.url"
local tp = require "socket.tp"
local ltn12 = require "ltn12"
local type, pairs, ipairs, setmetatable, tonumber, tostring =
      type, pairs, ipairs, setmetatable, tonumber, tostring
local format, gsub, match, find = string.format, string.gsub, string.match, string.find
local concat = table.concat

-- Passive-mode replies are parsed from their first 256 bytes: legitimate
-- ones are short, and a hostile server's long reply would make a pattern
-- backtrack until the matcher gives up ("pattern too complex").
local function head(s)
  if #s > 256 then return s:sub(1, 256) end
  return s
end

-- epsv_port reads RFC 2428's "(<d><a><d><b><d><port><d>)" with plain
-- searches (the pattern "%((.)(.-)%1(.-)%1(.-)%1%)" backtracks in time
-- growing as the fourth power of the reply's length).
local function epsv_port(reply)
  local i = find(reply, "(", 1, true)
  while i do
    local d = reply:sub(i + 1, i + 1)
    if d ~= "" then
      local p1 = find(reply, d, i + 2, true)
      local p2 = p1 and find(reply, d, p1 + 1, true)
      local p3 = p2 and find(reply, d, p2 + 1, true)
      if p3 and reply:sub(p3 + 1, p3 + 1) == ")" then
        return reply:sub(p2 + 1, p3 - 1)
      end
    end
    i = find(reply, "(", i + 1, true)
  end
end

local ftp = {
  TIMEOUT = 60,
  USER = "ftp",
  PASSWORD = "anonymous@anonymous.org",
}
socket.ftp = ftp
local PORT = 21

local session = {}
local session_mt = { __index = session }

function ftp.open(server, port, create)
  local t = socket.try(tp.connect(server, port or PORT, ftp.TIMEOUT, create))
  local f = setmetatable({ tp = t, create = create }, session_mt)
  f.try = socket.newtry(function() f:close() end)
  return f
end

local function check(self, pattern, cmd, arg)
  if cmd then self.try(self.tp:command(cmd, arg)) end
  return self.try(self.tp:check(pattern))
end

function session:portconnect()
  self.try(self.server:settimeout(ftp.TIMEOUT))
  self.data = self.try(self.server:accept())
  self.try(self.data:settimeout(ftp.TIMEOUT))
end

function session:pasvconnect()
  self.data = self.try((self.create or socket.tcp)())
  self.try(self.data:settimeout(ftp.TIMEOUT))
  self.try(self.data:connect(self.pasvt.address, self.pasvt.port))
end

function session:login(user, password)
  local code = check(self, { "2..", 331 }, "user", user or ftp.USER)
  if code == 331 then check(self, "2..", "pass", password or ftp.PASSWORD) end
  return 1
end

local function passive(self, address, port)
  self.pasvt = { address = address, port = port }
  if self.server then
    self.server:close()
    self.server = nil
  end
  return address, port
end

function session:pasv()
  local _, reply = check(self, "2..", "pasv")
  local a, b, c, d, p1, p2 = match(head(reply), "(%d+)%D(%d+)%D(%d+)%D(%d+)%D(%d+)%D(%d+)")
  self.try(a and b and c and d and p1 and p2, reply)
  return passive(self, format("%d.%d.%d.%d", a, b, c, d), p1 * 256 + p2)
end

function session:epsv()
  local _, reply = check(self, "229", "epsv")
  local port = epsv_port(reply)
  port = tonumber(port)
  self.try(port, "invalid epsv response")
  return passive(self, self.tp:getpeername(), port)
end

-- Listens on the control connection's local address for the server's
-- data connection when no address is given.
local function listen(self)
  local address = self.try(self.tp:getcontrol():getsockname())
  self.server = self.try(socket.bind(address, 0))
  local a, p = self.try(self.server:getsockname())
  self.try(self.server:settimeout(ftp.TIMEOUT))
  return a, p
end

function session:port(address, port)
  self.pasvt = nil
  if not address then address, port = listen(self) end
  port = tonumber(port)
  local arg = gsub(format("%s,%d,%d", address, math.floor(port / 256), port % 256), "%.", ",")
  check(self, "2..", "port", arg)
  return 1
end

function session:eprt(family, address, port)
  self.pasvt = nil
  if not address then address, port = listen(self) end
  check(self, "2..", "eprt", format("|%s|%s|%d|", family, address, port))
  return 1
end

local function argument_of(t)
  local arg = t.argument or url.unescape((gsub(t.path or "", "^[/\\]", "")))
  if arg == "" then return nil end
  return arg
end

function session:send(sendt)
  self.try(self.pasvt or self.server, "need port or pasv first")
  if self.pasvt then self:pasvconnect() end
  local code = check(self, { "2..", "1.." }, sendt.command or "stor", argument_of(sendt))
  if not self.pasvt then self:portconnect() end
  self.try(ltn12.pump.all(sendt.source, socket.sink("close-when-done", self.data),
    sendt.step or ltn12.pump.step))
  if code < 200 then check(self, "2..") end
  self.data:close()
  local _, sent = self.data:getstats()
  self.data = nil
  return sent
end

function session:receive(recvt)
  self.try(self.pasvt or self.server, "need port or pasv first")
  if self.pasvt then self:pasvconnect() end
  local code, reply = check(self, { "1..", "2.." }, recvt.command or "retr", argument_of(recvt))
  if code >= 200 and code <= 299 then
    recvt.sink(reply)
    return 1
  end
  if not self.pasvt then self:portconnect() end
  self.try(ltn12.pump.all(socket.source("until-closed", self.data), recvt.sink,
    recvt.step or ltn12.pump.step))
  if code < 200 then check(self, "2..") end
  self.data:close()
  self.data = nil
  return 1
end

function session:cwd(dir) check(self, 250, "cwd", dir); return 1 end
function session:type(t) check(self, 200, "type", t); return 1 end

function session:greet()
  local code = check(self, { "1..", "2.." })
  if code < 200 then check(self, "2..") end
  return 1
end

function session:quit() check(self, "2..", "quit"); return 1 end

function session:close()
  if self.data then self.data:close() end
  if self.server then self.server:close() end
  return self.tp:close()
end

-- Passive mode: EPSV, or PASV where the server rejects EPSV (a reply
-- code); a broken connection is an error.
local function enter_passive(f)
  f.try(f.tp:command("epsv"))
  local code, reply = f.tp:check("229")
  if code then
    local port = epsv_port(reply)
    -- a port that is not a number is no answer either (connect would
    -- raise on the nil)
    port = tonumber(port)
    f.try(port, "invalid epsv response")
    passive(f, f.tp:getpeername(), port)
    return
  end
  f.try(match(reply or "", "^%d%d%d"), reply)
  f:pasv()
end

-- A url field is parsed and the other fields override its parts.
local function override(t)
  if not t.url then return t end
  local u = url.parse(t.url) or {}
  for k, v in pairs(t) do u[k] = v end
  return u
end

local function session_for(t)
  socket.try(t.host, "missing hostname")
  local f = ftp.open(t.host, t.port, t.create)
  f:greet()
  f:login(t.user, t.password)
  return f
end

local function tput(putt)
  putt = override(putt)
  local f = session_for(putt)
  if putt.type then f:type(putt.type) end
  enter_passive(f)
  local sent = f:send(putt)
  f:quit()
  f:close()
  return sent
end

local function tget(gett)
  gett = override(gett)
  local f = session_for(gett)
  if gett.type then f:type(gett.type) end
  enter_passive(f)
  f:receive(gett)
  f:quit()
  return f:close()
end

local parse_defaults = { path = "/", scheme = "ftp" }

function ftp.genericform(u)
  local t = socket.try(url.parse(u, parse_defaults))
  socket.try(t.scheme == "ftp", "wrong scheme '" .. t.scheme .. "'")
  socket.try(t.host, "missing hostname")
  if t.params then
    t.type = match(t.params, "^type=(.)$")
    socket.try(t.type == "a" or t.type == "i", "invalid type '" .. tostring(t.type) .. "'")
  end
  return t
end

ftp.put = socket.protect(function(putt, body)
  if type(putt) == "string" then
    local t = ftp.genericform(putt)
    t.source = ltn12.source.string(body)
    return tput(t)
  end
  return tput(putt)
end)

ftp.get = socket.protect(function(gett)
  if type(gett) == "string" then
    local t = ftp.genericform(gett)
    local parts = {}
    t.sink = ltn12.sink.table(parts)
    tget(t)
    return concat(parts)
  end
  return tget(gett)
end)

ftp.command = socket.protect(function(cmdt)
  cmdt = override(cmdt)
  socket.try(cmdt.host, "missing hostname")
  socket.try(cmdt.command, "missing command")
  local f = session_for(cmdt)
  if type(cmdt.command) == "table" then
    local args, checks = cmdt.argument or {}, cmdt.check or {}
    for i, cmd in ipairs(cmdt.command) do
      f.try(f.tp:command(cmd, args[i]))
      if checks[i] then f.try(f.tp:check(checks[i])) end
    end
  else
    f.try(f.tp:command(cmdt.command, cmdt.argument))
    if cmdt.check then f.try(f.tp:check(cmdt.check)) end
  end
  f:quit()
  return f:close()
end)

return ftp
