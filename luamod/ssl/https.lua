-- ssl.https for copas-lua: LuaSec's HTTPS API on top of socket.http.
--
-- Difference from LuaSec: when the caller does not choose `verify`, the
-- server certificate is verified against the system roots and the host
-- name (LuaSec verifies nothing by default). `verify = "none"` restores
-- LuaSec's behaviour, as does COPAS_LUA_TLS_VERIFY=none (or Go's
-- ssl.SetDefaultVerify("none")) for parameters without `verify`. The Go
-- side passes `internal.wrap`: ssl.wrap with that default.
local internal = ...
local socket = require("socket")
local ssl = require("ssl")
local ltn12 = require("ltn12")
local http = require("socket.http")
local url = require("socket.url")

local try = socket.try

local M = {
  _VERSION = ssl._VERSION,
  _COPYRIGHT = "LuaSec HTTPS API (copas-lua)",
  PORT = 443,
  TIMEOUT = 60,
}

local defaults = {
  protocol = "any",
  options = { "all", "no_sslv2", "no_sslv3", "no_tlsv1" },
}

local function with_port(u)
  return url.build(url.parse(u, { port = M.PORT }))
end

-- Copies every method of the TLS connection onto the LuaSocket-facing
-- object, so socket.http can use it like a TCP socket.
local function forward(obj)
  local idx = getmetatable(obj.sock).__index
  for name, fn in pairs(idx) do
    if type(fn) == "function" then
      obj[name] = function(self, ...) return fn(self.sock, ...) end
    end
  end
end

local function tcp(params)
  params = params or {}
  for k, v in pairs(defaults) do
    if params[k] == nil then params[k] = v end
  end
  params.mode = "client"
  return function()
    local obj = { sock = try(socket.tcp()) }
    local tcp_settimeout = getmetatable(obj.sock).__index.settimeout
    function obj:settimeout()
      return tcp_settimeout(self.sock, M.TIMEOUT)
    end
    function obj:connect(host, port)
      try(self.sock:connect(host, port))
      self.sock = try(internal.wrap(self.sock, params))
      self.sock:sni(host)
      self.sock:settimeout(M.TIMEOUT)
      try(self.sock:dohandshake())
      forward(self)
      return 1
    end
    return obj
  end
end

local function request(u, body)
  local sink_t = {}
  local simple = type(u) == "string"
  if simple then
    local t = { url = with_port(u), method = body and "POST" or "GET", sink = ltn12.sink.table(sink_t) }
    if body then
      t.source = ltn12.source.string(body)
      t.headers = {
        ["content-length"] = #body,
        ["content-type"] = "application/x-www-form-urlencoded",
      }
    end
    u = t
  else
    u.url = with_port(u.url)
  end
  if http.PROXY or u.proxy then
    return nil, "proxy not supported"
  elseif u.redirect then
    return nil, "redirect not supported"
  elseif u.create then
    return nil, "create function not permitted"
  end
  u.create = tcp(u)
  local res, code, headers, status = http.request(u)
  if res and simple then
    return table.concat(sink_t), code, headers, status
  end
  return res, code, headers, status
end

M.request = request
M.tcp = tcp
return M
