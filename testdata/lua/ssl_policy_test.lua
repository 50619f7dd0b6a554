-- copas-lua's TLS policy seen from Lua (the openssl s_server/s_client
-- tests are in luamod/ssl/policy_test.go): "any" means TLS 1.2 or 1.3,
-- so a server that only speaks TLS 1.0 is refused; the HTTPS client
-- contexts verify by default; copas.http leaves SSLVERIFY to that
-- policy. Uses the shared throw-away pair (read-only); skipped without.
local dir = TESTDIR .. "/../../../shared/api/"
local f = io.open(dir .. "testcert.pem")
if not f then print("ssl_policy: shared test certificate not found, skipped") return end
f:close()

local copas = require "copas"
local socket = require "socket"
local ssl = require "ssl"
local tls = require "copaslua.tls"
require "copas.http"
copas.setErrorHandler(function() end, true) -- refused handshakes raise in the handlers

local function server(protocol)
  return { mode = "server", protocol = protocol, certificate = dir .. "testcert.pem", key = dir .. "testkey.pem" }
end

assert(copas.http.SSLVERIFY == nil, "copas.http leaves verification to the policy")
assert(ssl.config.protocols.tlsv1 and ssl.config.protocols.tlsv1_2, "protocol names as LuaSec")
assert(tls.newcontext({ mode = "client", protocol = "any" }), "a policy context")
local bad, msg = tls.newcontext({ mode = "client", protocol = "sslv3" })
assert(bad == nil and msg == "invalid protocol (sslv3)", tostring(msg))

local results = {}
local function try(srvproto, cliproto)
  local srv = assert(socket.bind("127.0.0.1", 0))
  local _, port = srv:getsockname()
  copas.addserver(srv, copas.handler(function(skt)
    skt:send("hi\n")
  end, server(srvproto)), 2)
  copas.addthread(function()
    local c = copas.wrap(socket.tcp(), { mode = "client", protocol = cliproto, verify = "none" })
    local ok, err = pcall(c.connect, c, "127.0.0.1", port)
    local line = ok and c:receive()
    results[srvproto .. "/" .. cliproto] = line or tostring(err)
    c:close()
    copas.removeserver(srv)
  end)
end
try("tlsv1", "any")     -- a TLS 1.0-only server: refused by "any"
try("any", "tlsv1")     -- a TLS 1.0-only client: refused by an "any" server
try("tlsv1", "tlsv1")   -- named on both sides: allowed (with a warning)
try("any", "tlsv1_2")
copas.loop()

local function refused(k)
  assert(results[k] and results[k]:find("TLS/SSL handshake failed", 1, true), k .. ": " .. tostring(results[k]))
end
refused("tlsv1/any")
refused("any/tlsv1")
assert(results["tlsv1/tlsv1"] == "hi", "tlsv1 named explicitly: " .. tostring(results["tlsv1/tlsv1"]))
assert(results["any/tlsv1_2"] == "hi", "any/tlsv1_2: " .. tostring(results["any/tlsv1_2"]))
