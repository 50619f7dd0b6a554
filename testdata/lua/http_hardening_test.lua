-- The HTTP engine behind socket.http and copas.http against a hostile
-- server written with Copas in this loop: request splitting refused,
-- limits on status and header lines, header count and bytes (LIMITS),
-- repeated headers joined, chunked bodies read in blocks, credentials
-- dropped on cross-origin redirects; and receive("*l<n>"), the opt-in
-- line limit of the socket layer.
local copas = require "copas"
local socket = require "socket"
local ltn12 = require "ltn12"

local function eq(got, want, what)
  if got ~= want then
    error(string.format("%s: got %s, want %s", what, tostring(got), tostring(want)), 2)
  end
end

local requests = 0 -- requests that reached a server
local seen = {}    -- path -> headers of the last request

local function read_request(skt)
  local line = skt:receive()
  if not line then return nil end
  local path = line:match("^%S+ (%S+)")
  local h = {}
  while true do
    local l = skt:receive()
    if not l or l == "" then break end
    local k, v = l:match("^(.-):%s*(.*)$")
    if k then h[k:lower()] = v end
  end
  return path, h
end

local function headers_of(n, size)
  local t = {}
  for i = 1, n do t[i] = "X-H" .. i .. ": " .. string.rep("v", size) .. "\r\n" end
  return table.concat(t)
end

local routes = {}
local function ok(body) return "HTTP/1.1 200 OK\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body end
routes["/hello"] = function() return ok("hello") end
routes["/longstatus"] = function() return "HTTP/1.1 200 " .. string.rep("x", 9000) .. "\r\n\r\n" end
routes["/longheader"] = function() return "HTTP/1.1 200 OK\r\nX-Big: " .. string.rep("x", 9000) .. "\r\n\r\n" end
routes["/manyheaders"] = function() return "HTTP/1.1 200 OK\r\n" .. headers_of(101, 1) .. "Content-Length: 0\r\n\r\n" end
routes["/bigheaders"] = function() return "HTTP/1.1 200 OK\r\n" .. headers_of(140, 8000) .. "Content-Length: 0\r\n\r\n" end
routes["/repeated"] = function()
  return "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Long: one\r\n two\r\nSet-Cookie: b=2\r\nSet-Cookie: c=3\r\nContent-Length: 0\r\n\r\n"
end
routes["/chunked"] = function()
  local piece = string.rep("c", 200000)
  return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" ..
    string.format("%x\r\n", #piece) .. piece .. "\r\n0\r\n\r\n"
end
routes["/hugechunk"] = function()
  -- claims 2^44 bytes, sends 100 and closes
  return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100000000000\r\n" .. string.rep("z", 100)
end

local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
local base = "http://127.0.0.1:" .. port
copas.addserver(server, copas.handler(function(skt)
  local path, h = read_request(skt)
  if not path then return end
  requests = requests + 1
  seen[path:match("^[^?]*")] = h
  local target = path:match("^/redirect%?to=(.*)")
  if target then
    skt:send("HTTP/1.1 302 Found\r\nLocation: " .. target .. "\r\nContent-Length: 0\r\n\r\n")
    return
  end
  skt:send(routes[path]())
end))

-- a second server: another origin (other port)
local server2 = assert(socket.bind("127.0.0.1", 0))
local _, port2 = server2:getsockname()
copas.addserver(server2, copas.handler(function(skt)
  local path, h = read_request(skt)
  if not path then return end
  seen["other" .. path] = h
  skt:send(ok("other"))
end))

local function limits(http, t)
  local saved = {}
  for k, v in pairs(t) do saved[k] = http.LIMITS[k]; http.LIMITS[k] = v end
  return function() for k, v in pairs(saved) do http.LIMITS[k] = v end end
end

local function suite(http, name)
  local function fails(reqt, want, what)
    local before = requests
    local r, err = http.request(reqt)
    eq(r, nil, name .. " " .. what)
    eq(err, want, name .. " " .. what .. " message")
    eq(requests, before, name .. " " .. what .. ": nothing reached the server")
  end
  -- request splitting
  fails({ url = base .. "/hello", method = "GET /x HTTP/1.1\r\nX:" }, "invalid method (contains CR, LF, NUL or a space)", "method with CRLF")
  fails({ url = base .. "/hello\r\nX-Injected: 1" }, "invalid url (contains CR, LF or NUL)", "url with CRLF")
  fails({ url = base .. "/he\0llo" }, "invalid url (contains CR, LF or NUL)", "url with NUL")
  fails({ url = base .. "/hello", headers = { ["x-a"] = "1\r\nX-Injected: 1" } },
    "invalid value of header 'x-a' (contains CR, LF or NUL)", "header value with CRLF")
  fails({ url = base .. "/hello", headers = { ["x-a"] = "1\0" } },
    "invalid value of header 'x-a' (contains CR, LF or NUL)", "header value with NUL")
  fails({ url = base .. "/hello", headers = { ["x-a\r\nx-b"] = "1" } }, "invalid header name 'x-a\\13\\10x-b'", "header name with CRLF")
  fails({ url = base .. "/hello", headers = { ["x a"] = "1" } }, "invalid header name 'x a'", "header name with a space")
  local body = http.request(base .. "/hello")
  eq(body, "hello", name .. " plain request still works")

  -- limits
  local r, err = http.request(base .. "/longstatus")
  eq(r, nil, name .. " long status"); eq(err, "status line too long", name .. " long status message")
  r, err = http.request(base .. "/longheader")
  eq(r, nil, name .. " long header"); eq(err, "header line too long", name .. " long header message")
  r, err = http.request(base .. "/manyheaders")
  eq(r, nil, name .. " 101 headers"); eq(err, "too many headers", name .. " too many headers message")
  local restore = limits(http, { headers = 1000 })
  r, err = http.request(base .. "/bigheaders")
  restore()
  eq(r, nil, name .. " 1.1 MB of headers"); eq(err, "headers too large", name .. " headers too large message")
  restore = limits(http, { headers = 200, header_bytes = 2 * 1048576 })
  local _, code = http.request(base .. "/bigheaders")
  restore()
  eq(code, 200, name .. " raised limits")
  restore = limits(http, { line = 16 }) -- the status line fits, "Content-Length: 0" does not
  r, err = http.request(base .. "/repeated")
  restore()
  eq(r, nil, name .. " configured line limit"); eq(err, "header line too long", name .. " configured line limit message")

  -- repeated headers and continuation lines
  local h
  _, code, h = http.request(base .. "/repeated")
  eq(h["set-cookie"], "a=1, b=2, c=3", name .. " repeated headers joined")
  eq(h["x-long"], "one two", name .. " continuation line")

  -- chunked bodies in blocks
  local pieces, biggest = {}, 0
  local sink = function(chunk)
    if chunk then pieces[#pieces + 1] = chunk; biggest = math.max(biggest, #chunk) end
    return 1
  end
  _, code = http.request{ url = base .. "/chunked", sink = sink }
  eq(code, 200, name .. " chunked")
  eq(#table.concat(pieces), 200000, name .. " chunked body")
  assert(biggest <= http.LIMITS.chunk, name .. " chunk read in one block of " .. biggest)
  pieces = {}
  r, err = http.request{ url = base .. "/hugechunk", sink = sink }
  eq(r, nil, name .. " huge chunk"); eq(err, "closed", name .. " huge chunk message")
  eq(table.concat(pieces), string.rep("z", 100), name .. " what came of the huge chunk")

  -- credentials and cross-origin redirects
  local creds = { authorization = "Basic dTpw", cookie = "s=1", ["x-other"] = "kept" }
  _, code = http.request{ url = base .. "/redirect?to=http://127.0.0.1:" .. port2 .. "/landing", headers = creds }
  eq(code, 200, name .. " cross-origin redirect")
  local got = seen["other/landing"]
  eq(got.authorization, nil, name .. " Authorization dropped")
  eq(got.cookie, nil, name .. " Cookie dropped")
  eq(got["x-other"], "kept", name .. " other headers kept")
  _, code = http.request{ url = base .. "/redirect?to=/hello", headers = creds }
  eq(code, 200, name .. " same-origin redirect")
  eq(seen["/hello"].authorization, "Basic dTpw", name .. " Authorization kept on the same origin")
  eq(seen["/hello"].cookie, "s=1", name .. " Cookie kept on the same origin")
end

describe("HTTP hardening", function()
  teardown(function() copas.removeserver(server); copas.removeserver(server2) end)

  it("socket.http", function() suite(require("socket.http"), "socket.http") end)
  it("copas.http", function() suite(copas.http, "copas.http") end)
  it("one LIMITS table", function()
    assert(require("socket.http").LIMITS == copas.http.LIMITS)
    local L = copas.http.LIMITS
    eq(L.line, 8192, "line"); eq(L.headers, 100, "headers"); eq(L.header_bytes, 1048576, "header_bytes")
  end)

  it("receive('*l<n>') limits a line", function()
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, p = srv:getsockname()
    local c = assert(socket.connect("127.0.0.1", p))
    local s = assert(srv:accept())
    srv:close()
    c:send("short\r\n" .. string.rep("x", 20) .. "\nab\r\ncd\n")
    s:settimeout(5)
    local l, e, part = s:receive("*l10")
    eq(l, "short", "a line within the limit")
    l, e, part = s:receive("*l10")
    eq(l, nil, "too long"); eq(e, "line too long", "message"); eq(part, string.rep("x", 10), "partial")
    eq(s:receive("*l10"), string.rep("x", 10), "the rest stays")
    eq(s:receive("*l2"), "ab", "CRs do not count")
    eq(s:receive("*l"), "cd", "no limit")
    c:close(); s:close()
  end)
end)
