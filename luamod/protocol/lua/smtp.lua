-- socket.smtp for copas-lua: LuaSocket 3's SMTP client (send) and MIME
-- message builder (message) on socket.tp.
local socket = require "socket"
local tp = require "socket.tp"
local ltn12 = require "ltn12"
local mime = require "mime"
local canonic = require("socket.headers").canonic
local type, pairs, ipairs, setmetatable = type, pairs, ipairs, setmetatable
local lower, format, find = string.lower, string.format, string.find
local concat = table.concat

local smtp = {
  TIMEOUT = 60,
  SERVER = "localhost",
  PORT = 25,
  DOMAIN = os.getenv("SERVER_NAME") or "localhost",
  ZONE = "-0000",
}
socket.smtp = smtp

-------------------------------------------------------------------------------
-- Session objects (what smtp.open returns); every step raises on failure
-------------------------------------------------------------------------------
local session = {}
local session_mt = { __index = session }

-- Sends a command and checks the reply code against pattern.
local function exchange(self, pattern, cmd, arg)
  if cmd then self.try(self.tp:command(cmd, arg)) end
  return self.try(self.tp:check(pattern))
end

function session:greet(domain)
  exchange(self, "2..")
  local _, ext = exchange(self, "2..", "EHLO", domain or smtp.DOMAIN)
  return ext
end

function session:mail(from) return exchange(self, "2..", "MAIL", "FROM:" .. from) end
function session:rcpt(to) return exchange(self, "2..", "RCPT", "TO:" .. to) end

function session:data(src, step)
  exchange(self, "3..", "DATA")
  self.try(self.tp:source(src, step))
  self.try(self.tp:send("\r\n.\r\n"))
  return exchange(self, "2..")
end

function session:quit() return exchange(self, "2..", "QUIT") end
function session:close() return self.tp:close() end

function session:login(user, password)
  exchange(self, "3..", "AUTH", "LOGIN")
  self.try(self.tp:send(mime.b64(user) .. "\r\n"))
  exchange(self, "3..")
  self.try(self.tp:send(mime.b64(password) .. "\r\n"))
  return exchange(self, "2..")
end

function session:plain(user, password)
  return exchange(self, "2..", "AUTH", "PLAIN " .. mime.b64("\0" .. user .. "\0" .. password))
end

-- Authenticates with the first mechanism the EHLO reply offers of LOGIN
-- and PLAIN; without credentials there is nothing to do.
function session:auth(user, password, ext)
  if not user or not password then return 1 end
  if find(ext, "AUTH[^\n]+LOGIN") then return self:login(user, password) end
  if find(ext, "AUTH[^\n]+PLAIN") then return self:plain(user, password) end
  self.try(nil, "authentication not supported")
end

function session:send(mailt)
  self:mail(mailt.from)
  local rcpt = mailt.rcpt
  if type(rcpt) == "table" then
    for _, to in ipairs(rcpt) do self:rcpt(to) end
  else
    self:rcpt(rcpt)
  end
  self:data(ltn12.source.chain(mailt.source, mime.stuff()), mailt.step)
end

function smtp.open(server, port, create)
  local t = socket.try(tp.connect(server or smtp.SERVER, port or smtp.PORT, smtp.TIMEOUT, create))
  local s = setmetatable({ tp = t }, session_mt)
  s.try = socket.newtry(function() s:close() end)
  return s
end

-------------------------------------------------------------------------------
-- Messages: a source producing headers and body, multipart recursively
-------------------------------------------------------------------------------
local function lowered(h)
  local t = {}
  for k, v in pairs(h or {}) do t[lower(k)] = v end
  return t
end

local function headerblock(h)
  local parts = {}
  for name, value in pairs(h) do
    parts[#parts + 1] = (canonic[name] or name) .. ": " .. value .. "\r\n"
  end
  parts[#parts + 1] = "\r\n"
  return concat(parts)
end

local counter = 0
local function boundary()
  counter = counter + 1
  return format("%s%05d==%05u", os.date("%d%m%Y%H%M%S"), math.random(0, 99999), counter)
end

-- A source that creates the real one on its first call, so that nested
-- parts are only prepared when the message gets that far.
local function deferred(make)
  local src
  return function()
    src = src or make()
    return src()
  end
end

local part_source

local function multipart_source(m)
  local b = boundary()
  local h = lowered(m.headers)
  h["content-type"] = (h["content-type"] or "multipart/mixed") .. '; boundary="' .. b .. '"'
  local body = m.body
  local list = { ltn12.source.string(headerblock(h)) }
  if body.preamble then list[#list + 1] = ltn12.source.string(body.preamble .. "\r\n") end
  for _, part in ipairs(body) do
    list[#list + 1] = ltn12.source.string("\r\n--" .. b .. "\r\n")
    list[#list + 1] = deferred(function() return part_source(part) end)
  end
  list[#list + 1] = ltn12.source.string("\r\n--" .. b .. "--\r\n\r\n")
  if body.epilogue then list[#list + 1] = ltn12.source.string(body.epilogue .. "\r\n") end
  return ltn12.source.cat(unpack(list))
end

local function simple_source(m, body_source)
  local h = lowered(m.headers)
  h["content-type"] = h["content-type"] or 'text/plain; charset="iso-8859-1"'
  return ltn12.source.cat(ltn12.source.string(headerblock(h)), body_source)
end

function part_source(m)
  local body = m.body
  local kind = type(body)
  if kind == "table" then return multipart_source(m) end
  if kind == "function" then return simple_source(m, body) end
  return simple_source(m, ltn12.source.string(body))
end

-- message(mesgt) returns an LTN12 source of the whole message: headers
-- (Date, X-Mailer and MIME-Version added) and a body that is a string, a
-- source, or a table of parts (multipart, with preamble/epilogue).
function smtp.message(mesgt)
  local h = lowered(mesgt.headers)
  h["date"] = h["date"] or (os.date("!%a, %d %b %Y %H:%M:%S ") .. (mesgt.zone or smtp.ZONE))
  h["x-mailer"] = h["x-mailer"] or socket._VERSION
  h["mime-version"] = "1.0"
  mesgt.headers = h
  return part_source(mesgt)
end

smtp.send = socket.protect(function(mailt)
  local s = smtp.open(mailt.server, mailt.port, mailt.create)
  local ext = s:greet(mailt.domain)
  s:auth(mailt.user, mailt.password, ext)
  s:send(mailt)
  s:quit()
  return s:close()
end)

return smtp
