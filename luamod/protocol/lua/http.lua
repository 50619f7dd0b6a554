-- socket.http for copas-lua: LuaSocket 3's HTTP/1.1 client on the shared
-- engine copaslua.httpcore. Plain sockets: blocking outside Copas threads,
-- parking inside them.
local socket = require "socket"
local ltn12 = require "ltn12"
local core = require "copaslua.httpcore"
local type, assert, tostring, concat = type, assert, tostring, table.concat

local http = {
  TIMEOUT = 60,
  USERAGENT = socket._VERSION,
}
socket.http = http

http.schemes = {
  http = {
    port = 80,
    create = function() return socket.tcp end,
  },
  https = {
    port = 443,
    create = function(t)
      local https = assert(require("ssl.https"), "LuaSocket: LuaSec not found")
      local tcp = assert(https.tcp, "LuaSocket: Function tcp() not available from LuaSec")
      return tcp(t)
    end,
  },
}

-- open(host, port, create) connects and returns a connection object with
-- the request/response methods (sendrequestline, sendheaders, sendbody,
-- receivestatusline, receiveheaders, receivebody, receive09body, close).
-- Errors are raised with socket.try.
function http.open(host, port, create)
  local c = socket.try((create or socket.tcp)())
  local h = core.wrapconn(c)
  h.try(c:settimeout(http.TIMEOUT))
  h.try(c:connect(host, port))
  return h
end

local function hostheader(nreqt)
  local host = nreqt.host
  if host:find(":", 1, true) then host = "[" .. host .. "]" end
  local port = tostring(nreqt.port)
  local defs = http.schemes[nreqt.scheme]
  if port ~= tostring(defs and defs.port) then host = host .. ":" .. port end
  return host
end

local engine = core.install(http, {
  maxredirects = 5,
  port = function(M, scheme) return M.schemes[scheme].port end,
  hostheader = hostheader,
  create = function(M, nreqt)
    local scheme = nreqt.via_proxy and nreqt.proxy_scheme or nreqt.scheme
    local defs = M.schemes[scheme]
    if not defs then socket.try(nil, "unknown scheme '" .. tostring(scheme) .. "'") end
    return defs.create(nreqt)
  end,
  open = function(M, nreqt)
    local c, err = nreqt.create()
    if not c then return nil, err end
    local t = nreqt.timeout
    c:settimeout(type(t) == "number" and t or M.TIMEOUT)
    local ok, cerr = c:connect(nreqt.host, nreqt.port)
    if not ok then c:close(); return nil, cerr end
    return c
  end,
  -- LuaSocket never follows a redirect from https to another scheme.
  redirect_to = function(nreqt, scheme)
    return not (nreqt.scheme == "https" and scheme ~= "https")
  end,
})

http.genericform = engine.form
http.closeidle = engine.closeidle

http.request = socket.protect(function(reqt, body)
  if type(reqt) == "string" then
    local t = engine.form(reqt, body)
    local _, code, headers, status = engine.trequest(t)
    return concat(t.target), code, headers, status
  end
  return engine.trequest(reqt)
end)

return http
