-- copaslua.httpcore: the HTTP/1.1 client engine behind socket.http and
-- copas.http (written for copas-lua). It speaks through the plain socket
-- API, so inside a Copas thread every operation parks the thread.
--
-- core.install(M, flavour) fills the module table M with request, open and
-- the form helpers. The flavour says how the two modules differ:
--   flavour.open(M, reqt)         -> connected socket (or nil, err)
--   flavour.create(M, nreqt)      -> default create function for nreqt
--   flavour.port(M, scheme)       -> default port of a scheme
--   flavour.hostheader(nreqt)     -> value of the Host header
--   flavour.redirect_to(nreqt, newscheme) -> may a redirect go there?
--   flavour.maxredirects          -> default redirect limit
-- Opt-in extras, for both modules: reqt.keepalive (or M.KEEPALIVE) reuses
-- idle connections; reqt.tunnel (or M.TUNNEL) sends https requests through
-- the proxy with CONNECT (copas.http only: it needs copas.wrap).
local socket = require "socket"
local url = require "socket.url"
local ltn12 = require "ltn12"
local mime = require "mime"
local canonic = require("socket.headers").canonic

local type, pairs, tostring, tonumber, setmetatable, pcall, error =
      type, pairs, tostring, tonumber, setmetatable, pcall, error
local find, lower, format, gsub, match, sub =
      string.find, string.lower, string.format, string.gsub, string.match, string.sub
local concat = table.concat

local core = {}

-- Limits on what a server may send (shared by socket.http and copas.http,
-- which expose this table as LIMITS): the longest status or header line
-- in bytes, the number of header fields and the bytes of a header block;
-- chunk is the largest block a chunked body is read in.
local LIMITS = { line = 8192, headers = 100, header_bytes = 1048576, chunk = 65536 }
core.LIMITS = LIMITS

local function limit(name, default)
  local v = tonumber(LIMITS[name])
  if not v or v <= 0 then return default end
  return v
end

-- The receive pattern of a line within the limit ("*l" on LuaSocket).
local function linepattern()
  return "*l" .. format("%d", limit("line", 8192))
end
core.linepattern = linepattern

-- Reads a header block up to the empty line into t (lower-case names;
-- continuation lines are appended; repeated names are joined with ", ",
-- once at the end). Lines, fields and bytes are bounded by LIMITS.
local function readheaders(sock, t)
  t = t or {}
  local pat = linepattern()
  local maxn, maxbytes = limit("headers", 100), limit("header_bytes", 1048576)
  local n, bytes = 0, 0
  local function nextline()
    local line, err = sock:receive(pat)
    if not line then
      if err == "line too long" then return nil, "header line too long" end
      return nil, err
    end
    bytes = bytes + #line + 2
    if bytes > maxbytes then return nil, "headers too large" end
    return line
  end
  local repeated -- name -> list of values, for names seen more than once
  local line, err = nextline()
  if not line then return nil, err end
  while line ~= "" do
    local name, value = match(line, "^(.-):%s*(.*)")
    if not name then return nil, "malformed response headers" end
    n = n + 1
    if n > maxn then return nil, "too many headers" end
    name = lower(name)
    line, err = nextline()
    if not line then return nil, err end
    local parts
    while find(line, "^%s") do
      parts = parts or { value }
      parts[#parts + 1] = line
      line, err = nextline()
      if not line then return nil, err end
    end
    if parts then value = concat(parts) end
    local prev = t[name]
    if prev == nil then
      t[name] = value
    else
      repeated = repeated or {}
      local list = repeated[name]
      if not list then list = { prev }; repeated[name] = list end
      list[#list + 1] = value
    end
  end
  if repeated then
    for name, list in pairs(repeated) do t[name] = concat(list, ", ") end
  end
  return t
end
core.readheaders = readheaders

local function selectable(sock, call)
  return setmetatable({
    getfd = function() return sock:getfd() end,
    dirty = function() return sock:dirty() end,
  }, { __call = call })
end

-- Chunked transfer coding, registered with socket.source/socket.sink as
-- LuaSocket does. The source reads the trailer into headers at the end.
socket.sourcet["http-chunked"] = function(sock, headers)
  local left = 0 -- bytes of the current chunk not read yet
  local failed    -- an error that follows the partial block delivered
  return selectable(sock, function()
    if failed then return nil, failed end
    if left == 0 then
      local line, err = sock:receive(linepattern())
      if err then
        if err == "line too long" then return nil, "invalid chunk size" end
        return nil, err
      end
      local size = tonumber((gsub(line, ";.*", "")), 16)
      if not size or size < 0 or size ~= size or size == math.huge then
        return nil, "invalid chunk size"
      end
      if size == 0 then
        local h, herr = readheaders(sock, headers)
        if not h then return nil, herr end
        headers = h
        return nil
      end
      left = size
    end
    -- a chunk is read in blocks, whatever size its line claims
    local n = left
    local block = limit("chunk", 65536)
    if n > block then n = block end
    local chunk, rerr, partial = sock:receive(n)
    if not chunk then
      if partial and partial ~= "" then failed = rerr; return partial end
      return nil, rerr
    end
    left = left - n
    if left == 0 then sock:receive() end
    return chunk
  end)
end

socket.sinkt["http-chunked"] = function(sock)
  return selectable(sock, function(_, chunk)
    if not chunk then return sock:send("0\r\n\r\n") end
    if chunk == "" then return 1 end -- an empty chunk would end the body
    return sock:send(format("%X\r\n", #chunk) .. chunk .. "\r\n")
  end)
end

-------------------------------------------------------------------------------
-- Connection objects (what M.open returns)
-------------------------------------------------------------------------------
local conn = {}
local conn_mt = { __index = conn }

function core.wrapconn(c)
  local h = setmetatable({ c = c }, conn_mt)
  h.try = socket.newtry(function() h:close() end)
  return h
end

-- Request fields must not split the request on the wire: no CR, LF or
-- NUL anywhere, header names HTTP tokens. These return the message for a
-- bad field, or nil.
local function badchars(s)
  return type(s) == "string" and find(s, "[\r\n%z]") ~= nil
end

local function checkmethod(method)
  if badchars(method) or (type(method) == "string" and find(method, "[%s%z]")) then
    return "invalid method (contains CR, LF, NUL or a space)"
  end
end

local function checkurl(u, what)
  if badchars(u) then return "invalid " .. (what or "url") .. " (contains CR, LF or NUL)" end
end

local function checkheaders(h)
  for name, value in pairs(h) do
    if type(name) ~= "string" or name == "" or find(name, "[^%w!#%$%%&'%*%+%-%.%^_`|~]") then
      return "invalid header name '" .. gsub(tostring(name), "%c", function(c)
        return format("\\%d", c:byte())
      end) .. "'"
    end
    if badchars(value) then
      return "invalid value of header '" .. name .. "' (contains CR, LF or NUL)"
    end
  end
end
core.checkheaders = checkheaders

function conn:sendrequestline(method, uri)
  local bad = checkmethod(method) or checkurl(uri, "uri")
  if bad then self.try(nil, bad) end
  return self.try(self.c:send(format("%s %s HTTP/1.1\r\n", method or "GET", uri)))
end

function conn:sendheaders(tosend)
  local bad = checkheaders(tosend)
  if bad then self.try(nil, bad) end
  local parts = {}
  for name, value in pairs(tosend) do
    parts[#parts + 1] = (canonic[name] or name) .. ": " .. value .. "\r\n"
  end
  parts[#parts + 1] = "\r\n"
  self.try(self.c:send(concat(parts)))
  return 1
end

function conn:sendbody(headers, source, step)
  local mode = headers["content-length"] and "keep-open" or "http-chunked"
  return self.try(ltn12.pump.all(source or ltn12.source.empty(),
    socket.sink(mode, self.c), step or ltn12.pump.step))
end

-- Returns the code and the status line, or nil and the first bytes read
-- when the reply is not HTTP/1.x (an HTTP/0.9 body follows).
function conn:receivestatusline()
  local first = self.try(self.c:receive(5))
  if first ~= "HTTP/" then return nil, first end
  local status, err = self.c:receive(linepattern(), first)
  if err == "line too long" then err = "status line too long" end
  status = self.try(status, err)
  local code = match(status, "HTTP/%d*%.%d* (%d%d%d)")
  return self.try(tonumber(code), status)
end

function conn:receiveheaders()
  return self.try(readheaders(self.c))
end

-- Picks the body framing: chunked, by length, or until the peer closes.
local function bodymode(headers)
  local te = headers["transfer-encoding"]
  if te and te ~= "identity" then return "http-chunked" end
  if tonumber(headers["content-length"]) then return "by-length" end
  return "default"
end

function conn:receivebody(headers, sink, step)
  local mode = bodymode(headers)
  return self.try(ltn12.pump.all(
    socket.source(mode, self.c, tonumber(headers["content-length"])),
    sink or ltn12.sink.null(), step or ltn12.pump.step))
end

function conn:receive09body(status, sink, step)
  local source = ltn12.source.rewind(socket.source("until-closed", self.c))
  source(status)
  return self.try(ltn12.pump.all(source, sink, step))
end

function conn:close()
  return self.c:close()
end

-------------------------------------------------------------------------------
-- Idle connections for keep-alive (opt-in)
-------------------------------------------------------------------------------
local function newpool()
  return { idle = {}, n = 0 }
end

local function pool_get(pool, key, maxidle)
  local list = pool.idle[key]
  while list and #list > 0 do
    local entry = list[#list]
    list[#list] = nil
    pool.n = pool.n - 1
    if socket.gettime() - entry.t <= maxidle then return entry.h end
    entry.h:close()
  end
end

local function pool_put(pool, key, h, max)
  if pool.n >= max then h:close(); return end
  local list = pool.idle[key]
  if not list then list = {}; pool.idle[key] = list end
  list[#list + 1] = { h = h, t = socket.gettime() }
  pool.n = pool.n + 1
end

local function pool_closeall(pool)
  for _, list in pairs(pool.idle) do
    for i = 1, #list do list[i].h:close() end
  end
  pool.idle, pool.n = {}, 0
end

-------------------------------------------------------------------------------
-- The engine
-------------------------------------------------------------------------------
function core.install(M, flavour)
  local schemes = M.schemes
  local pool = newpool()
  M.LIMITS = LIMITS

  local function opt(reqt, name)
    local v = reqt[lower(name)]
    if v == nil then v = M[name] end
    return v
  end

  local function requesturi(nreqt)
    if nreqt.via_proxy and not nreqt.tunneled then return url.build(nreqt) end
    return url.build {
      path = socket.try(nreqt.path, "invalid path 'nil'"),
      params = nreqt.params,
      query = nreqt.query,
      fragment = nreqt.fragment,
    }
  end

  local function requestheaders(nreqt)
    local h = {
      ["user-agent"] = M.USERAGENT,
      ["host"] = flavour.hostheader(nreqt, M),
      ["connection"] = nreqt.keepalive and "keep-alive" or "close, TE",
      ["te"] = "trailers",
    }
    if nreqt.user and nreqt.password then
      h["authorization"] = "Basic " .. mime.b64(nreqt.user .. ":" .. url.unescape(nreqt.password))
    end
    local proxy = nreqt.proxy
    if proxy and not nreqt.tunneled then
      local p = url.parse(proxy)
      if p and p.user and p.password then
        h["proxy-authorization"] = "Basic " .. mime.b64(p.user .. ":" .. p.password)
      end
    end
    for name, value in pairs(nreqt.headers or {}) do
      h[lower(name)] = value
    end
    return h
  end

  local parse_defaults = { path = "/", scheme = "http" }

  local function adjust(reqt)
    local bad = checkurl(reqt.url) or checkurl(reqt.uri, "uri") or checkurl(reqt.proxy or M.PROXY, "proxy")
      or checkmethod(reqt.method)
    if bad then socket.try(nil, bad) end
    local nreqt = reqt.url and url.parse(reqt.url, parse_defaults) or {}
    for k, v in pairs(reqt) do nreqt[k] = v end
    nreqt.scheme = nreqt.scheme or "http"
    local defs = schemes[nreqt.scheme]
    if not defs then socket.try(nil, "unknown scheme '" .. tostring(nreqt.scheme) .. "'") end
    if not (nreqt.host and nreqt.host ~= "") then
      socket.try(nil, "invalid host '" .. tostring(nreqt.host) .. "'")
    end
    if not (nreqt.port and nreqt.port ~= "") then nreqt.port = flavour.port(M, nreqt.scheme) end
    if not (nreqt.method and nreqt.method ~= "") then nreqt.method = "GET" end
    nreqt.keepalive = opt(reqt, "KEEPALIVE") and true or false
    nreqt.proxy = reqt.proxy or M.PROXY
    nreqt.target_host, nreqt.target_port = nreqt.host, nreqt.port
    if nreqt.proxy then
      local p = url.parse(nreqt.proxy)
      if not p or not p.host then socket.try(nil, "invalid proxy '" .. tostring(nreqt.proxy) .. "'") end
      nreqt.via_proxy = true
      nreqt.tunneled = nreqt.scheme == "https" and opt(reqt, "TUNNEL") and flavour.tunnel ~= nil
      nreqt.proxy_host, nreqt.proxy_port = p.host, tonumber(p.port) or 3128
      nreqt.proxy_scheme = p.scheme or "http"
    end
    nreqt.uri = reqt.uri or requesturi(nreqt)
    nreqt.headers = requestheaders(nreqt)
    bad = checkheaders(nreqt.headers) or checkurl(nreqt.uri, "uri")
    if bad then socket.try(nil, bad) end
    if nreqt.source and not nreqt.headers["content-length"]
        and not nreqt.headers["transfer-encoding"] then
      nreqt.headers["transfer-encoding"] = "chunked"
    end
    if not nreqt.create then nreqt.create = flavour.create(M, nreqt) end
    if nreqt.via_proxy and not nreqt.tunneled then
      nreqt.host, nreqt.port = nreqt.proxy_host, nreqt.proxy_port
    end
    return nreqt
  end

  local function poolkey(nreqt)
    return nreqt.scheme .. "://" .. tostring(nreqt.target_host) .. ":" .. tostring(nreqt.target_port)
      .. "|" .. tostring(nreqt.proxy)
  end

  local function connect(nreqt)
    if nreqt.keepalive then
      local h = pool_get(pool, poolkey(nreqt), M.KEEPALIVE_TIMEOUT or 30)
      if h then return h, true end
    end
    local c
    if nreqt.tunneled then
      c = socket.try(flavour.tunnel(M, nreqt))
    else
      c = socket.try(flavour.open(M, nreqt))
    end
    return core.wrapconn(c), false
  end

  -- Sends the request and reads the status line and headers.
  local function exchange(h, nreqt)
    h:sendrequestline(nreqt.method, nreqt.uri)
    h:sendheaders(nreqt.headers)
    if nreqt.source then h:sendbody(nreqt.headers, nreqt.source, nreqt.step) end
    local code, status = h:receivestatusline()
    if not code then return nil, status end
    local headers
    local interim = 0
    while code == 100 do
      interim = interim + 1
      if interim > limit("headers", 100) then h.try(nil, "too many 100 Continue responses") end
      h:receiveheaders()
      code, status = h:receivestatusline()
    end
    headers = h:receiveheaders()
    return code, status, headers
  end

  local function shouldredirect(nreqt, code, headers)
    local location = headers.location
    if not location then return false end
    location = gsub(location, "%s", "")
    if location == "" then return false end
    if nreqt.redirect == false then return false end
    if not (code == 301 or code == 302 or code == 303 or code == 307 or code == 308) then return false end
    if not (nreqt.method == "GET" or nreqt.method == "HEAD") then return false end
    local newurl = url.absolute(nreqt.url, location)
    local scheme = (url.parse(newurl) or {}).scheme
    if scheme and not schemes[scheme] then return false end
    if not flavour.redirect_to(nreqt, scheme or nreqt.scheme) then return false end
    local max = nreqt.maxredirects
    if max == false then return true end
    return (nreqt.nredirects or 0) < (max or flavour.maxredirects)
  end

  local function hasbody(nreqt, code)
    if nreqt.method == "HEAD" then return false end
    if code == 204 or code == 304 then return false end
    if code >= 100 and code < 200 then return false end
    return true
  end

  -- May the connection serve another request after this response?
  local function reusable(nreqt, status, headers, bodyread)
    if not nreqt.keepalive then return false end
    if not find(status, "^HTTP/1%.1") then return false end
    local c = headers.connection
    if c and find(lower(c), "close", 1, true) then return false end
    if bodyread and bodymode(headers) == "default" then return false end
    return true
  end

  local trequest

  -- Is newurl on the same origin (scheme, host, port) as the request?
  local function sameorigin(nreqt, newurl)
    local u = url.parse(newurl) or {}
    local scheme = u.scheme or nreqt.scheme
    if scheme ~= nreqt.scheme then return false end
    if lower(u.host or "") ~= lower(tostring(nreqt.target_host)) then return false end
    local port = u.port or flavour.port(M, scheme)
    return tostring(port) == tostring(nreqt.target_port)
  end

  -- Credentials are not sent to another origin (as browsers and Go's
  -- net/http do): Authorization and Cookie are dropped.
  local dropped = { authorization = true, cookie = true }
  local function redirectheaders(reqt, nreqt, newurl)
    local h = reqt.headers
    if not h or sameorigin(nreqt, newurl) then return h end
    local out = {}
    for name, value in pairs(h) do
      if not (type(name) == "string" and dropped[lower(name)]) then out[name] = value end
    end
    return out
  end

  local function tredirect(reqt, nreqt, location)
    local newurl = url.absolute(nreqt.url, location)
    local create = reqt.create
    if (url.parse(newurl) or {}).scheme ~= nreqt.scheme then create = flavour.keepcreate and create or nil end
    local r, code, headers, status = trequest {
      url = newurl,
      source = reqt.source,
      sink = reqt.sink,
      step = reqt.step,
      headers = redirectheaders(reqt, nreqt, newurl),
      proxy = reqt.proxy,
      redirect = reqt.redirect,
      maxredirects = reqt.maxredirects,
      nredirects = (reqt.nredirects or 0) + 1,
      create = create,
      timeout = reqt.timeout,
      keepalive = reqt.keepalive,
      tunnel = reqt.tunnel,
      sslparams = reqt.sslparams,
    }
    headers = headers or {}
    headers.location = headers.location or location
    return r, code, headers, status
  end

  trequest = function(reqt)
    local nreqt = adjust(reqt)
    local h, reused = connect(nreqt)
    local code, status, headers
    if reused then
      -- An idle connection may have been closed by the server meanwhile:
      -- retry once on a new connection if nothing came back.
      local ok, a, b, c = pcall(exchange, h, nreqt)
      if ok then
        code, status, headers = a, b, c
      elseif nreqt.source then
        error(a, 0)
      else
        h = core.wrapconn(socket.try(nreqt.tunneled and flavour.tunnel(M, nreqt) or flavour.open(M, nreqt)))
        code, status, headers = exchange(h, nreqt)
      end
    else
      code, status, headers = exchange(h, nreqt)
    end
    if not code then
      h:receive09body(status, nreqt.sink, nreqt.step)
      return 1, 200
    end
    if not nreqt.source and shouldredirect(nreqt, code, headers) then
      h:close()
      return tredirect(reqt, nreqt, headers.location)
    end
    local bodyread = hasbody(nreqt, code)
    if bodyread then h:receivebody(headers, nreqt.sink, nreqt.step) end
    if reusable(nreqt, status, headers, bodyread) then
      pool_put(pool, poolkey(nreqt), h, M.KEEPALIVE_MAX or 64)
    else
      h:close()
    end
    return 1, code, headers, status
  end

  local function form(u, body)
    local target = {}
    local reqt = { url = u, sink = ltn12.sink.table(target), target = target }
    if body then
      reqt.source = ltn12.source.string(body)
      reqt.headers = {
        ["content-length"] = #body,
        ["content-type"] = "application/x-www-form-urlencoded",
      }
      reqt.method = "POST"
    end
    return reqt
  end

  -- closeidle closes every kept-alive idle connection.
  local function closeidle() pool_closeall(pool) end

  return {
    trequest = trequest,
    form = form,
    closeidle = closeidle,
    adjust = adjust,
  }
end

return core
