-- socket.http and copas.http against an HTTP server written with Copas,
-- both running in this one loop: GET/POST with sources and sinks,
-- chunked bodies both ways, redirects, large bodies, timeouts and
-- malformed responses. (describe/it from the test runner: each test runs
-- as a Copas thread.)
local copas = require "copas"
local socket = require "socket"
local ltn12 = require "ltn12"

local function eq(got, want, what)
  if got ~= want then
    error(string.format("%s: got %s, want %s", what, tostring(got), tostring(want)), 2)
  end
end

local function read_request(skt)
  local line, err = skt:receive()
  if not line then return nil, err end
  local method, path = line:match("^(%S+) (%S+)")
  local h = {}
  while true do
    local l = assert(skt:receive())
    if l == "" then break end
    local k, v = l:match("^(.-):%s*(.*)$")
    h[k:lower()] = v
  end
  local body = ""
  if h["content-length"] then
    body = assert(skt:receive(tonumber(h["content-length"])))
  elseif h["transfer-encoding"] == "chunked" then
    local parts = {}
    while true do
      local size = tonumber(assert(skt:receive()), 16)
      if size == 0 then assert(skt:receive()); break end
      parts[#parts + 1] = assert(skt:receive(size))
      assert(skt:receive())
    end
    body = table.concat(parts)
  end
  return method, path, h, body
end

local function respond(skt, code, headers, body)
  local out = { "HTTP/1.1 " .. code .. " X\r\n" }
  for k, v in pairs(headers) do out[#out + 1] = k .. ": " .. v .. "\r\n" end
  out[#out + 1] = "\r\n"
  out[#out + 1] = body or ""
  skt:send(table.concat(out))
end

local routes = {}
routes["/hello"] = function(skt) respond(skt, 200, { ["Content-Length"] = 5 }, "hello") end
routes["/echo"] = function(skt, method, h, body)
  -- echo back as a chunked response, in pieces of 1000 bytes
  skt:send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Method: " .. method ..
    "\r\nX-Length: " .. #body .. "\r\n\r\n")
  for i = 1, #body, 1000 do
    local piece = body:sub(i, i + 999)
    skt:send(string.format("%x\r\n%s\r\n", #piece, piece))
  end
  skt:send("0\r\nX-Trailer: yes\r\n\r\n")
end
routes["/redirect"] = function(skt) respond(skt, 302, { Location = "/hello", ["Content-Length"] = 0 }) end
routes["/slow"] = function(skt) copas.pause(1); respond(skt, 200, { ["Content-Length"] = 4 }, "slow") end
routes["/garbage"] = function(skt) skt:send("HTTP/1.1 200 OK\r\nno colon\r\n\r\n") end
routes["/close"] = function(skt) skt:send("HTTP/1.1 200 OK\r\n\r\nuntil closed") end

local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
local base = "http://127.0.0.1:" .. port
copas.addserver(server, copas.handler(function(skt)
  local method, path, h, body = read_request(skt)
  if not method then return end
  routes[path:match("^[^?]*")](skt, method, h, body)
end))

local function suite(http, name)
  local body, code, h, status = http.request(base .. "/hello")
  eq(body, "hello", name .. " simple get"); eq(code, 200, name .. " code"); eq(status, "HTTP/1.1 200 X", name .. " status")
  -- POST with a chunked request body from a source; sink gets the chunked echo
  local big = ("0123456789abcdef"):rep(40000) -- 640 KB
  local out = {}
  local r
  r, code, h = http.request{ url = base .. "/echo", method = "POST",
    source = ltn12.source.string(big), sink = ltn12.sink.table(out) }
  eq(r, 1, name .. " post result"); eq(h["x-method"], "POST", name .. " method")
  eq(h["x-length"], tostring(#big), name .. " server got all"); eq(table.concat(out), big, name .. " echo")
  -- simple POST form
  body = http.request(base .. "/echo", "k=v")
  eq(body, "k=v", name .. " simple post")
  body, code, h = http.request(base .. "/redirect")
  eq(body, "hello", name .. " redirect body"); eq(h.location, "/hello", name .. " location of the redirect (LuaSocket adds it)")
  body, code = http.request(base .. "/garbage")
  eq(body, nil, name .. " malformed"); eq(code, "malformed response headers", name .. " malformed message")
  body, code = http.request(base .. "/close")
  eq(body, "until closed", name .. " body until close")
  body, code = http.request("http://127.0.0.1:" .. port .. "x/")
  eq(body, nil, name .. " bad port")
end

describe("HTTP clients against a Copas server", function()
  teardown(function() copas.removeserver(server) end)

  it("socket.http inside a thread", function()
    suite(require("socket.http"), "socket.http")
  end)

  it("copas.http", function()
    suite(copas.http, "copas.http")
  end)

  it("copas.http per-request timeout", function()
    local t0 = socket.gettime()
    local r, err = copas.http.request{ url = base .. "/slow", timeout = 0.2 }
    eq(r, nil, "timeout result"); eq(err, "timeout", "timeout message")
    assert(socket.gettime() - t0 < 3, "timeout too late")
  end)

  it("many concurrent copas.http requests", function()
    local n = 0
    for i = 1, 20 do
      copas.addthread(function()
        local body = copas.http.request(base .. "/echo", ("x"):rep(i * 1000))
        eq(#body, i * 1000, "concurrent echo")
        n = n + 1
      end)
    end
    while n < 20 do copas.pause(0.01) end
  end)
end)
