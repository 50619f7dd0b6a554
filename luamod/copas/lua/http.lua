-- copas.http for copas-lua: Copas 4.11's asynchronous HTTP(S) client on
-- the shared engine copaslua.httpcore (the one socket.http uses), with
-- Copas' additions: per-request timeout (a number or {connect, send,
-- receive}), https through copas.wrap with sslparams, redirects across
-- http/https (https -> http only with redirect = "all"), getcreatefunc.
--
-- Opt-in extras that Copas lacks:
--   keepalive = true (or copas.http.KEEPALIVE = true): idle connections
--     are kept (at most KEEPALIVE_MAX, for KEEPALIVE_TIMEOUT seconds) and
--     reused by later keep-alive requests to the same scheme/host/port;
--     a reused connection that turns out closed is replaced once.
--     copas.http.closeidle() closes the idle ones.
--   tunnel = true (or copas.http.TUNNEL = true): an https request with a
--     proxy opens a CONNECT tunnel through the proxy and runs TLS to the
--     origin inside it (without it, the request goes to the proxy as
--     Copas does).
local socket = require "socket"
local url = require "socket.url"
local ltn12 = require "ltn12"
local copas = require "copas"
local core = require "copaslua.httpcore"
local tls = require "copaslua.tls"
local type, pairs, tostring, assert = type, pairs, tostring, assert
local gsub, format, concat = string.gsub, string.format, table.concat

local http = {
  TIMEOUT = 60,
  PORT = 80,
  USERAGENT = socket._VERSION,
  SSLPORT = 443,
  SSLPROTOCOL = "tlsv1_2",
  SSLOPTIONS = "all",
  -- nil: copas-lua's policy (verify the server and its name unless
  -- COPAS_LUA_TLS_VERIFY=none); "none" is Copas' default.
  SSLVERIFY = nil,
  SSLSNISTRICT = false,
  KEEPALIVE = false,
  KEEPALIVE_TIMEOUT = 30,
  KEEPALIVE_MAX = 64,
  TUNNEL = false,
}
copas.http = http

-- create functions are called as reqt:create(); both schemes go through
-- getcreatefunc, which decides per request.
http.schemes = {
  http = { port = 80, create = function() return function() return copas.wrap(socket.tcp()) end end },
  https = { port = 443, create = function() return function() return copas.wrap(socket.tcp()) end end },
}

local function settimeouts(c, to)
  if type(to) == "table" then
    local T = http.TIMEOUT
    if c.settimeouts then
      return c:settimeouts(to.connect or T, to.send or T, to.receive or T)
    end
    return c:settimeout(to.receive or T)
  end
  return c:settimeout(to or http.TIMEOUT)
end

-- open(reqt) creates the socket with reqt:create(), applies reqt.timeout
-- and connects to reqt.host/reqt.port; it returns a connection object (see
-- socket.http.open). Errors are raised with socket.try.
function http.open(reqt)
  local c = socket.try(reqt:create())
  local h = core.wrapconn(c)
  h.try(settimeouts(c, reqt.timeout))
  h.try(c:connect(reqt.host, reqt.port or http.PORT))
  return h
end

local function connected(reqt)
  local c, err = reqt:create()
  if not c then return nil, err end
  local ok, terr = settimeouts(c, reqt.timeout)
  if not ok then c:close(); return nil, terr end
  ok, err = c:connect(reqt.host, reqt.port or http.PORT)
  if not ok then c:close(); return nil, err end
  return c
end

-- The CONNECT exchange on a plain connection to the proxy, then TLS to
-- the origin through it (the socket from getcreatefunc carries the TLS
-- parameters; its connect would shake hands with the proxy instead).
local function tunnel(M, nreqt)
  local c, err = nreqt:create()
  if not c then return nil, err end
  local ok, terr = settimeouts(c, nreqt.timeout)
  if not ok then c:close(); return nil, terr end
  local raw = c.socket
  if not (raw and c.ssl_params) then c:close(); return nil, "tunnel needs a copas-wrapped socket" end
  ok, err = copas.connect(raw, nreqt.proxy_host, nreqt.proxy_port)
  if not ok then c:close(); return nil, err end
  local authority = nreqt.target_host .. ":" .. tostring(nreqt.target_port)
  local lines = { "CONNECT " .. authority .. " HTTP/1.1", "Host: " .. authority }
  local p = url.parse(nreqt.proxy)
  if p.user and p.password then
    lines[#lines + 1] = "Proxy-Authorization: Basic " .. require("mime").b64(p.user .. ":" .. p.password)
  end
  ok, err = c:send(concat(lines, "\r\n") .. "\r\n\r\n")
  if not ok then c:close(); return nil, err end
  local status, serr = c:receive()
  if not status then c:close(); return nil, serr end
  local code = tonumber(status:match("^HTTP/%d*%.%d* (%d%d%d)"))
  local hdrs, herr = core.readheaders(c)
  if not hdrs then c:close(); return nil, herr end
  if code ~= 200 then c:close(); return nil, "proxy refused tunnel: " .. status end
  if c.ssl_params.sni then c:sni() end
  if c.ssl_params.wrap then
    local hok, herr2 = c:dohandshake()
    if not hok then c:close(); return nil, herr2 end
  end
  return c
end

local engine = core.install(http, {
  maxredirects = 5,
  keepcreate = true,
  port = function(M, scheme)
    if scheme == "https" then return M.SSLPORT end
    return M.PORT
  end,
  -- Copas sends the URL's authority without userinfo.
  hostheader = function(nreqt)
    if nreqt.authority then return (gsub(nreqt.authority, "^.-@", "")) end
    return nreqt.host
  end,
  create = function(M, nreqt) return M.getcreatefunc(nreqt) end,
  open = function(M, nreqt) return connected(nreqt) end,
  tunnel = tunnel,
  -- getcreatefunc refuses https -> http itself unless redirect == "all".
  redirect_to = function() return true end,
})

http.closeidle = engine.closeidle
http.parseRequest = engine.form

-- getcreatefunc(params) returns the create function of a request: a
-- copas-wrapped TCP socket, with TLS (params.sslparams, or protocol/
-- options/verify and the SSL* defaults, SNI on the URL's host) for https.
-- After an https request it refuses plain http unless params.redirect is
-- "all".
function http.getcreatefunc(params)
  params = params or {}
  local sslp = params.sslparams or {}
  sslp.wrap = sslp.wrap or { protocol = params.protocol, options = params.options, verify = params.verify }
  sslp.sni = sslp.sni or { strict = http.SSLSNISTRICT }
  local w = sslp.wrap
  w.protocol = w.protocol or http.SSLPROTOCOL
  w.options = w.options or http.SSLOPTIONS
  if w.verify == nil then w.verify = http.SSLVERIFY end
  w.mode = "client"
  if not sslp.sni.names then
    -- the names are filled in per request: use a copy, not the caller's
    local copy = {}
    for k, v in pairs(sslp) do copy[k] = v end
    copy.sni = { strict = sslp.sni.strict }
    sslp = copy
  end
  local washttps, ctx = false, nil
  return function(reqt)
    local u = url.parse(reqt.url) or {}
    if (reqt.scheme or u.scheme) == "https" then
      sslp.sni.names = sslp.sni.names or u.host or reqt.host
      if type(w) == "table" and not ctx then
        -- the client policy: verify by default, with the host name
        ctx = socket.try(tls.newcontext(w))
      end
      local conn = copas.wrap(socket.tcp(), { wrap = ctx or w, sni = sslp.sni })
      if not u.port and reqt.url then
        u.port = http.SSLPORT
        reqt.url = url.build(u)
        if not reqt.via_proxy then reqt.port = http.SSLPORT end
      end
      washttps = true
      return conn
    end
    if washttps and params.redirect ~= "all" then
      socket.try(nil, "Unallowed insecure redirect https to http")
    end
    return copas.wrap(socket.tcp())
  end
end

local valid_timeouts = { connect = true, send = true, receive = true }

http.request = socket.protect(function(reqt, body)
  if type(reqt) == "string" then
    reqt = http.parseRequest(reqt, body)
    local ok, code, headers, status = http.request(reqt)
    if ok then return concat(reqt.target), code, headers, status end
    return nil, code
  end
  if type(reqt.timeout) == "table" then
    for k in pairs(reqt.timeout) do
      assert(valid_timeouts[k], "'" .. tostring(k) .. "' is not a valid timeout option. Valid: 'connect', 'send', 'receive'")
    end
  end
  reqt.create = reqt.create or http.getcreatefunc(reqt)
  return engine.trequest(reqt)
end)

return http
