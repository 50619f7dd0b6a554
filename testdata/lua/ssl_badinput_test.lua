-- ssl.newcontext and ssl.wrap with bad input: each parameter given a value
-- of each wrong type, in client and server mode, must raise where LuaSec
-- raises (same message) and return nil, message where LuaSec does. The
-- table below is LuaSec 1.2.0's behaviour on PUC Lua 5.1 (Debian
-- lua-sec), recorded by running the same calls there; this script also
-- runs there unchanged (luamod/ssl/reference_test.go). Messages that carry
-- an OpenSSL reason in parentheses are compared without it: OpenSSL
-- reports a stale reason from its error queue after an earlier failure.
local ssl = require "ssl"
local socket = require "socket"

local function msg(err)
  local s = tostring(err):match("^[^\n]*")
  return (s:gsub("^[^:]*:%d+: ", ""))
end

local function openssl_free(m)
  if type(m) ~= "string" then return m end
  if m:find("^error loading ") or m:find("^error setting cipher list") then
    return (m:gsub(" %(.*%)$", ""))
  end
  return m
end

local function outcome(p)
  local ok, a, b = pcall(ssl.newcontext, p)
  if not ok then return "raise", msg(a) end
  if a then return "ctx", nil end
  return "nil", b
end

local f = function() end

-- mode, parameter, value, outcome, message. For "password" the
-- parameters also have key = "/nonexistent/key.pem".
local cases = {
  { "client", "mode", {}, "raise", "bad argument #2 to 'setmode' (string expected, got table)" },
  { "client", "mode", 1, "ctx", nil },
  { "client", "mode", true, "raise", "bad argument #2 to 'setmode' (string expected, got boolean)" },
  { "client", "mode", false, "raise", "bad argument #2 to 'setmode' (string expected, got boolean)" },
  { "client", "mode", f, "raise", "bad argument #2 to 'setmode' (string expected, got function)" },
  { "client", "mode", "", "ctx", nil },
  { "client", "mode", "x", "ctx", nil },
  { "client", "protocol", {}, "raise", "bad argument #1 to 'create' (string expected, got table)" },
  { "client", "protocol", 1, "nil", "invalid protocol (1)" },
  { "client", "protocol", true, "raise", "bad argument #1 to 'create' (string expected, got boolean)" },
  { "client", "protocol", false, "raise", "bad argument #1 to 'create' (string expected, got boolean)" },
  { "client", "protocol", f, "raise", "bad argument #1 to 'create' (string expected, got function)" },
  { "client", "protocol", "", "nil", "invalid protocol ()" },
  { "client", "protocol", "x", "nil", "invalid protocol (x)" },
  { "client", "key", {}, "raise", "bad argument #2 to 'loadkey' (string expected, got table)" },
  { "client", "key", 1, "nil", "error loading private key ((null))" },
  { "client", "key", true, "raise", "bad argument #2 to 'loadkey' (string expected, got boolean)" },
  { "client", "key", false, "ctx", nil },
  { "client", "key", f, "raise", "bad argument #2 to 'loadkey' (string expected, got function)" },
  { "client", "key", "", "nil", "error loading private key (system lib)" },
  { "client", "key", "x", "nil", "error loading private key (system lib)" },
  { "client", "certificate", {}, "raise", "bad argument #2 to 'loadcert' (string expected, got table)" },
  { "client", "certificate", 1, "nil", "error loading certificate ((null))" },
  { "client", "certificate", true, "raise", "bad argument #2 to 'loadcert' (string expected, got boolean)" },
  { "client", "certificate", false, "ctx", nil },
  { "client", "certificate", f, "raise", "bad argument #2 to 'loadcert' (string expected, got function)" },
  { "client", "certificate", "", "nil", "error loading certificate ((null))" },
  { "client", "certificate", "x", "nil", "error loading certificate ((null))" },
  { "client", "password", {}, "nil", "invalid password type" },
  { "client", "password", 1, "nil", "invalid password type" },
  { "client", "password", true, "nil", "invalid password type" },
  { "client", "password", false, "raise", "invalid callback value" },
  { "client", "password", f, "nil", "error loading private key (system lib)" },
  { "client", "password", "", "nil", "error loading private key (system lib)" },
  { "client", "password", "x", "nil", "error loading private key ((null))" },
  { "client", "cafile", {}, "raise", "bad argument #2 to 'locations' (string expected, got table)" },
  { "client", "cafile", 1, "nil", "error loading CA locations (system lib)" },
  { "client", "cafile", true, "raise", "bad argument #2 to 'locations' (string expected, got boolean)" },
  { "client", "cafile", false, "ctx", nil },
  { "client", "cafile", f, "raise", "bad argument #2 to 'locations' (string expected, got function)" },
  { "client", "cafile", "", "nil", "error loading CA locations (system lib)" },
  { "client", "cafile", "x", "nil", "error loading CA locations ((null))" },
  { "client", "capath", {}, "raise", "bad argument #3 to 'locations' (string expected, got table)" },
  { "client", "capath", 1, "ctx", nil },
  { "client", "capath", true, "raise", "bad argument #3 to 'locations' (string expected, got boolean)" },
  { "client", "capath", false, "ctx", nil },
  { "client", "capath", f, "raise", "bad argument #3 to 'locations' (string expected, got function)" },
  { "client", "capath", "", "nil", "error loading CA locations (system lib)" },
  { "client", "capath", "x", "ctx", nil },
  { "client", "ciphers", {}, "raise", "bad argument #2 to 'setcipher' (string expected, got table)" },
  { "client", "ciphers", 1, "nil", "error setting cipher list (system lib)" },
  { "client", "ciphers", true, "raise", "bad argument #2 to 'setcipher' (string expected, got boolean)" },
  { "client", "ciphers", false, "ctx", nil },
  { "client", "ciphers", f, "raise", "bad argument #2 to 'setcipher' (string expected, got function)" },
  { "client", "ciphers", "", "nil", "error setting cipher list ((null))" },
  { "client", "ciphers", "x", "nil", "error setting cipher list (system lib)" },
  { "client", "ciphersuites", {}, "raise", "bad argument #2 to 'setciphersuites' (string expected, got table)" },
  { "client", "ciphersuites", 1, "nil", "error setting cipher list (system lib)" },
  { "client", "ciphersuites", true, "raise", "bad argument #2 to 'setciphersuites' (string expected, got boolean)" },
  { "client", "ciphersuites", false, "ctx", nil },
  { "client", "ciphersuites", f, "raise", "bad argument #2 to 'setciphersuites' (string expected, got function)" },
  { "client", "ciphersuites", "", "ctx", nil },
  { "client", "ciphersuites", "x", "nil", "error setting cipher list ((null))" },
  { "client", "verify", {}, "ctx", nil },
  { "client", "verify", 1, "nil", "invalid verify option (1)" },
  { "client", "verify", true, "raise", "bad argument #2 to 'func' (string expected, got boolean)" },
  { "client", "verify", false, "ctx", nil },
  { "client", "verify", f, "raise", "bad argument #2 to 'func' (string expected, got function)" },
  { "client", "verify", "", "nil", "invalid verify option ()" },
  { "client", "verify", "x", "nil", "invalid verify option (x)" },
  { "client", "options", {}, "ctx", nil },
  { "client", "options", 1, "nil", "invalid option (1)" },
  { "client", "options", true, "raise", "bad argument #2 to 'func' (string expected, got boolean)" },
  { "client", "options", false, "ctx", nil },
  { "client", "options", f, "raise", "bad argument #2 to 'func' (string expected, got function)" },
  { "client", "options", "", "nil", "invalid option ()" },
  { "client", "options", "x", "nil", "invalid option (x)" },
  { "client", "depth", {}, "raise", "bad argument #2 to 'setdepth' (number expected, got table)" },
  { "client", "depth", 1, "ctx", nil },
  { "client", "depth", true, "raise", "bad argument #2 to 'setdepth' (number expected, got boolean)" },
  { "client", "depth", false, "ctx", nil },
  { "client", "depth", f, "raise", "bad argument #2 to 'setdepth' (number expected, got function)" },
  { "client", "depth", "", "raise", "bad argument #2 to 'setdepth' (number expected, got string)" },
  { "client", "depth", "x", "raise", "bad argument #2 to 'setdepth' (number expected, got string)" },
  { "client", "dhparam", {}, "nil", "invalid DH parameter type" },
  { "client", "dhparam", 1, "nil", "invalid DH parameter type" },
  { "client", "dhparam", true, "nil", "invalid DH parameter type" },
  { "client", "dhparam", false, "ctx", nil },
  { "client", "dhparam", f, "ctx", nil },
  { "client", "dhparam", "", "nil", "invalid DH parameter type" },
  { "client", "dhparam", "x", "nil", "invalid DH parameter type" },
  { "client", "curve", {}, "raise", "bad argument #2 to 'setcurve' (string expected, got table)" },
  { "client", "curve", 1, "nil", "elliptic curve '1' not supported" },
  { "client", "curve", true, "raise", "bad argument #2 to 'setcurve' (string expected, got boolean)" },
  { "client", "curve", false, "ctx", nil },
  { "client", "curve", f, "raise", "bad argument #2 to 'setcurve' (string expected, got function)" },
  { "client", "curve", "", "nil", "elliptic curve '' not supported" },
  { "client", "curve", "x", "nil", "elliptic curve 'x' not supported" },
  { "client", "curveslist", {}, "raise", "bad argument #2 to 'setcurveslist' (string expected, got table)" },
  { "client", "curveslist", 1, "nil", "unknown elliptic curve in \"1\"" },
  { "client", "curveslist", true, "raise", "bad argument #2 to 'setcurveslist' (string expected, got boolean)" },
  { "client", "curveslist", false, "ctx", nil },
  { "client", "curveslist", f, "raise", "bad argument #2 to 'setcurveslist' (string expected, got function)" },
  { "client", "curveslist", "", "nil", "unknown elliptic curve in \"\"" },
  { "client", "curveslist", "x", "nil", "unknown elliptic curve in \"x\"" },
  { "client", "verifyext", {}, "ctx", nil },
  { "client", "verifyext", 1, "nil", "invalid verify option (1)" },
  { "client", "verifyext", true, "raise", "bad argument #2 to 'func' (string expected, got boolean)" },
  { "client", "verifyext", false, "ctx", nil },
  { "client", "verifyext", f, "raise", "bad argument #2 to 'func' (string expected, got function)" },
  { "client", "verifyext", "", "nil", "invalid verify option ()" },
  { "client", "verifyext", "x", "nil", "invalid verify option (x)" },
  { "client", "alpn", {}, "nil", "invalid ALPN list (empty)" },
  { "client", "alpn", 1, "nil", "invalid ALPN parameter" },
  { "client", "alpn", true, "nil", "invalid ALPN parameter" },
  { "client", "alpn", false, "ctx", nil },
  { "client", "alpn", f, "nil", "invalid ALPN parameter" },
  { "client", "alpn", "", "nil", "invalid ALPN name (empty string)" },
  { "client", "alpn", "x", "ctx", nil },
  { "client", "certificates", {}, "ctx", nil },
  { "client", "certificates", 1, "raise", "bad argument #1 to 'ipairs' (table expected, got number)" },
  { "client", "certificates", true, "raise", "bad argument #1 to 'ipairs' (table expected, got boolean)" },
  { "client", "certificates", false, "ctx", nil },
  { "client", "certificates", f, "raise", "bad argument #1 to 'ipairs' (table expected, got function)" },
  { "client", "certificates", "", "raise", "bad argument #1 to 'ipairs' (table expected, got string)" },
  { "client", "certificates", "x", "raise", "bad argument #1 to 'ipairs' (table expected, got string)" },
  { "server", "protocol", {}, "raise", "bad argument #1 to 'create' (string expected, got table)" },
  { "server", "protocol", 1, "nil", "invalid protocol (1)" },
  { "server", "protocol", true, "raise", "bad argument #1 to 'create' (string expected, got boolean)" },
  { "server", "protocol", false, "raise", "bad argument #1 to 'create' (string expected, got boolean)" },
  { "server", "protocol", f, "raise", "bad argument #1 to 'create' (string expected, got function)" },
  { "server", "protocol", "", "nil", "invalid protocol ()" },
  { "server", "protocol", "x", "nil", "invalid protocol (x)" },
  { "server", "key", {}, "raise", "bad argument #2 to 'loadkey' (string expected, got table)" },
  { "server", "key", 1, "nil", "error loading private key (system lib)" },
  { "server", "key", true, "raise", "bad argument #2 to 'loadkey' (string expected, got boolean)" },
  { "server", "key", false, "ctx", nil },
  { "server", "key", f, "raise", "bad argument #2 to 'loadkey' (string expected, got function)" },
  { "server", "key", "", "nil", "error loading private key (system lib)" },
  { "server", "key", "x", "nil", "error loading private key (no cipher match)" },
  { "server", "certificate", {}, "raise", "bad argument #2 to 'loadcert' (string expected, got table)" },
  { "server", "certificate", 1, "nil", "error loading certificate ((null))" },
  { "server", "certificate", true, "raise", "bad argument #2 to 'loadcert' (string expected, got boolean)" },
  { "server", "certificate", false, "ctx", nil },
  { "server", "certificate", f, "raise", "bad argument #2 to 'loadcert' (string expected, got function)" },
  { "server", "certificate", "", "nil", "error loading certificate ((null))" },
  { "server", "certificate", "x", "nil", "error loading certificate ((null))" },
  { "server", "password", {}, "nil", "invalid password type" },
  { "server", "password", 1, "nil", "invalid password type" },
  { "server", "password", true, "nil", "invalid password type" },
  { "server", "password", false, "raise", "invalid callback value" },
  { "server", "password", f, "nil", "error loading private key (system lib)" },
  { "server", "password", "", "nil", "error loading private key (system lib)" },
  { "server", "password", "x", "nil", "error loading private key ((null))" },
  { "server", "cafile", {}, "raise", "bad argument #2 to 'locations' (string expected, got table)" },
  { "server", "cafile", 1, "nil", "error loading CA locations (system lib)" },
  { "server", "cafile", true, "raise", "bad argument #2 to 'locations' (string expected, got boolean)" },
  { "server", "cafile", false, "ctx", nil },
  { "server", "cafile", f, "raise", "bad argument #2 to 'locations' (string expected, got function)" },
  { "server", "cafile", "", "nil", "error loading CA locations (system lib)" },
  { "server", "cafile", "x", "nil", "error loading CA locations ((null))" },
  { "server", "capath", {}, "raise", "bad argument #3 to 'locations' (string expected, got table)" },
  { "server", "capath", 1, "ctx", nil },
  { "server", "capath", true, "raise", "bad argument #3 to 'locations' (string expected, got boolean)" },
  { "server", "capath", false, "ctx", nil },
  { "server", "capath", f, "raise", "bad argument #3 to 'locations' (string expected, got function)" },
  { "server", "capath", "", "nil", "error loading CA locations (system lib)" },
  { "server", "capath", "x", "ctx", nil },
  { "server", "ciphers", {}, "raise", "bad argument #2 to 'setcipher' (string expected, got table)" },
  { "server", "ciphers", 1, "nil", "error setting cipher list (system lib)" },
  { "server", "ciphers", true, "raise", "bad argument #2 to 'setcipher' (string expected, got boolean)" },
  { "server", "ciphers", false, "ctx", nil },
  { "server", "ciphers", f, "raise", "bad argument #2 to 'setcipher' (string expected, got function)" },
  { "server", "ciphers", "", "nil", "error setting cipher list ((null))" },
  { "server", "ciphers", "x", "nil", "error setting cipher list (system lib)" },
  { "server", "ciphersuites", {}, "raise", "bad argument #2 to 'setciphersuites' (string expected, got table)" },
  { "server", "ciphersuites", 1, "nil", "error setting cipher list (system lib)" },
  { "server", "ciphersuites", true, "raise", "bad argument #2 to 'setciphersuites' (string expected, got boolean)" },
  { "server", "ciphersuites", false, "ctx", nil },
  { "server", "ciphersuites", f, "raise", "bad argument #2 to 'setciphersuites' (string expected, got function)" },
  { "server", "ciphersuites", "", "ctx", nil },
  { "server", "ciphersuites", "x", "nil", "error setting cipher list ((null))" },
  { "server", "verify", {}, "ctx", nil },
  { "server", "verify", 1, "nil", "invalid verify option (1)" },
  { "server", "verify", true, "raise", "bad argument #2 to 'func' (string expected, got boolean)" },
  { "server", "verify", false, "ctx", nil },
  { "server", "verify", f, "raise", "bad argument #2 to 'func' (string expected, got function)" },
  { "server", "verify", "", "nil", "invalid verify option ()" },
  { "server", "verify", "x", "nil", "invalid verify option (x)" },
  { "server", "options", {}, "ctx", nil },
  { "server", "options", 1, "nil", "invalid option (1)" },
  { "server", "options", true, "raise", "bad argument #2 to 'func' (string expected, got boolean)" },
  { "server", "options", false, "ctx", nil },
  { "server", "options", f, "raise", "bad argument #2 to 'func' (string expected, got function)" },
  { "server", "options", "", "nil", "invalid option ()" },
  { "server", "options", "x", "nil", "invalid option (x)" },
  { "server", "depth", {}, "raise", "bad argument #2 to 'setdepth' (number expected, got table)" },
  { "server", "depth", 1, "ctx", nil },
  { "server", "depth", true, "raise", "bad argument #2 to 'setdepth' (number expected, got boolean)" },
  { "server", "depth", false, "ctx", nil },
  { "server", "depth", f, "raise", "bad argument #2 to 'setdepth' (number expected, got function)" },
  { "server", "depth", "", "raise", "bad argument #2 to 'setdepth' (number expected, got string)" },
  { "server", "depth", "x", "raise", "bad argument #2 to 'setdepth' (number expected, got string)" },
  { "server", "dhparam", {}, "nil", "invalid DH parameter type" },
  { "server", "dhparam", 1, "nil", "invalid DH parameter type" },
  { "server", "dhparam", true, "nil", "invalid DH parameter type" },
  { "server", "dhparam", false, "ctx", nil },
  { "server", "dhparam", f, "ctx", nil },
  { "server", "dhparam", "", "nil", "invalid DH parameter type" },
  { "server", "dhparam", "x", "nil", "invalid DH parameter type" },
  { "server", "curve", {}, "raise", "bad argument #2 to 'setcurve' (string expected, got table)" },
  { "server", "curve", 1, "nil", "elliptic curve '1' not supported" },
  { "server", "curve", true, "raise", "bad argument #2 to 'setcurve' (string expected, got boolean)" },
  { "server", "curve", false, "ctx", nil },
  { "server", "curve", f, "raise", "bad argument #2 to 'setcurve' (string expected, got function)" },
  { "server", "curve", "", "nil", "elliptic curve '' not supported" },
  { "server", "curve", "x", "nil", "elliptic curve 'x' not supported" },
  { "server", "curveslist", {}, "raise", "bad argument #2 to 'setcurveslist' (string expected, got table)" },
  { "server", "curveslist", 1, "nil", "unknown elliptic curve in \"1\"" },
  { "server", "curveslist", true, "raise", "bad argument #2 to 'setcurveslist' (string expected, got boolean)" },
  { "server", "curveslist", false, "ctx", nil },
  { "server", "curveslist", f, "raise", "bad argument #2 to 'setcurveslist' (string expected, got function)" },
  { "server", "curveslist", "", "nil", "unknown elliptic curve in \"\"" },
  { "server", "curveslist", "x", "nil", "unknown elliptic curve in \"x\"" },
  { "server", "verifyext", {}, "ctx", nil },
  { "server", "verifyext", 1, "nil", "invalid verify option (1)" },
  { "server", "verifyext", true, "raise", "bad argument #2 to 'func' (string expected, got boolean)" },
  { "server", "verifyext", false, "ctx", nil },
  { "server", "verifyext", f, "raise", "bad argument #2 to 'func' (string expected, got function)" },
  { "server", "verifyext", "", "nil", "invalid verify option ()" },
  { "server", "verifyext", "x", "nil", "invalid verify option (x)" },
  { "server", "alpn", {}, "nil", "invalid ALPN list (empty)" },
  { "server", "alpn", 1, "nil", "invalid ALPN parameter" },
  { "server", "alpn", true, "nil", "invalid ALPN parameter" },
  { "server", "alpn", false, "ctx", nil },
  { "server", "alpn", f, "ctx", nil },
  { "server", "alpn", "", "nil", "invalid ALPN parameter" },
  { "server", "alpn", "x", "nil", "invalid ALPN parameter" },
  { "server", "certificates", {}, "ctx", nil },
  { "server", "certificates", 1, "raise", "bad argument #1 to 'ipairs' (table expected, got number)" },
  { "server", "certificates", true, "raise", "bad argument #1 to 'ipairs' (table expected, got boolean)" },
  { "server", "certificates", false, "ctx", nil },
  { "server", "certificates", f, "raise", "bad argument #1 to 'ipairs' (table expected, got function)" },
  { "server", "certificates", "", "raise", "bad argument #1 to 'ipairs' (table expected, got string)" },
  { "server", "certificates", "x", "raise", "bad argument #1 to 'ipairs' (table expected, got string)" },
}

local failures = {}
local function check(label, p, want_kind, want_msg)
  local kind, m = outcome(p)
  if kind ~= want_kind or openssl_free(m) ~= openssl_free(want_msg) then
    failures[#failures + 1] = ("%s: got %s %s, want %s %s"):format(label, kind, tostring(m), want_kind, tostring(want_msg))
  end
end

for _, c in ipairs(cases) do
  local mode, key, value, kind, m = c[1], c[2], c[3], c[4], c[5]
  local p = { mode = mode, protocol = "any" }
  p[key] = value
  if key == "password" then p.key = "/nonexistent/key.pem" end
  check(mode .. " " .. key .. "=" .. tostring(value), p, kind, m)
end

-- lists and odd tables
local extra = {
  { "certificates={{key={}}}", { certificates = { { key = {} } } }, "raise", "bad argument #2 to 'loadkey' (string expected, got table)" },
  { "certificates={{certificate=1}}", { certificates = { { certificate = 1 } } }, "nil", "error loading certificate ((null))" },
  { "certificates={1}", { certificates = { 1 } }, "raise", "attempt to index local 'certificate' (a number value)" },
  { "certificates={'x'}", { certificates = { "x" } }, "ctx" },
  { "certificates={{}, 5}", { certificates = { {}, 5 } }, "raise", "attempt to index local 'certificate' (a number value)" },
  { "certificates={{key=k, password={}}}", { certificates = { { key = "/nonexistent/key.pem", password = {} } } }, "nil", "invalid password type" },
  { "verify={'none','peer'}", { verify = { "none", "peer" } }, "ctx" },
  { "verify={'peer',1}", { verify = { "peer", 1 } }, "nil", "invalid verify option (1)" },
  { "verify={'x',{}}", { verify = { "x", {} } }, "nil", "invalid verify option (x)" },
  { "verify={{},'x'}", { verify = { {}, "x" } }, "raise", "bad argument #2 to 'func' (string expected, got table)" },
  { "verify={'peer',{}}", { verify = { "peer", {} } }, "raise", "bad argument #3 to 'func' (string expected, got table)" },
  { "verify={}", { verify = {} }, "ctx" },
  { "options={'all',true}", { options = { "all", true } }, "raise", "bad argument #3 to 'func' (string expected, got boolean)" },
  { "verifyext={'lsec_continue',1}", { verifyext = { "lsec_continue", 1 } }, "nil", "invalid verify option (1)" },
  { "depth=1.5", { depth = 1.5 }, "ctx" },
  { "depth='0x10'", { depth = "0x10" }, "ctx" },
  { "depth='3'", { depth = "3" }, "ctx" },
  { "alpn={'a',1}", { alpn = { "a", 1 } }, "nil", nil },
  { "alpn={''}", { alpn = { "" } }, "nil", "invalid ALPN name (empty string)" },
  { "alpn=''", { alpn = "" }, "nil", "invalid ALPN name (empty string)" },
  { "alpn={long}", { alpn = { string.rep("a", 256) } }, "nil", "invalid ALPN name (length > 255)" },
  { "alpn={}", { alpn = {} }, "nil", "invalid ALPN list (empty)" },
  { "server alpn='h2'", { mode = "server", alpn = "h2" }, "nil", "invalid ALPN parameter" },
  { "server alpn={}", { mode = "server", alpn = {} }, "nil", "invalid ALPN list (empty)" },
  { "mode=1 alpn=1", { mode = 1, alpn = 1 }, "ctx" },
  { "no mode", { mode = "NIL" }, "raise", "bad argument #2 to 'setmode' (string expected, got nil)" },
  { "no protocol", { protocol = "NIL" }, "raise", "bad argument #1 to 'create' (string expected, got nil)" },
  { "protocol=1", { protocol = 1 }, "nil", "invalid protocol (1)" },
  { "protocol=1.5", { protocol = 1.5 }, "nil", "invalid protocol (1.5)" },
  { "cafile=false capath='x'", { cafile = false, capath = "x" }, "raise", "bad argument #2 to 'locations' (string expected, got boolean)" },
  { "dhparam='x'", { dhparam = "x" }, "nil", "invalid DH parameter type" },
  { "curveslist=''", { curveslist = "" }, "nil", 'unknown elliptic curve in ""' },
  { "curve=''", { curve = "" }, "nil", "elliptic curve '' not supported" },
}
for _, c in ipairs(extra) do
  local p = { mode = "client", protocol = "any" }
  for k, v in pairs(c[2]) do
    if v == "NIL" then p[k] = nil else p[k] = v end
  end
  check(c[1], p, c[3], c[4])
end

-- parameters that are no table
local function raises(label, want, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok or msg(err) ~= want then
    failures[#failures + 1] = ("%s: got %s %s, want error %s"):format(label, tostring(ok), msg(err), want)
  end
end
raises("newcontext('x')", "bad argument #1 to 'create' (string expected, got nil)", ssl.newcontext, "x")
raises("newcontext(nil)", "attempt to index local 'cfg' (a nil value)", ssl.newcontext, nil)
raises("newcontext()", "attempt to index local 'cfg' (a nil value)", ssl.newcontext)
raises("newcontext(1)", "attempt to index local 'cfg' (a number value)", ssl.newcontext, 1)
raises("newcontext(f)", "attempt to index local 'cfg' (a function value)", ssl.newcontext, f)

-- ssl.wrap: the parameters first, then the context, then the socket
local good = { mode = "client", protocol = "any" }
raises("wrap(tcp, 'x')", "bad argument #1 to 'create' (invalid context)", ssl.wrap, socket.tcp(), "x")
raises("wrap(tcp, nil)", "bad argument #1 to 'create' (invalid context)", ssl.wrap, socket.tcp(), nil)
raises("wrap(nil, params)", "attempt to index local 'sock' (a nil value)", ssl.wrap, nil, good)
raises("wrap({}, params)", "attempt to call method 'getfd' (a nil value)", ssl.wrap, {}, good)
raises("wrap(tcp, {protocol={}})", "bad argument #1 to 'create' (string expected, got table)", ssl.wrap, socket.tcp(), { mode = "client", protocol = {} })
local s, err = ssl.wrap(socket.tcp(), { mode = "sideways", protocol = "any" })
if s ~= nil or err ~= "invalid mode" then
  failures[#failures + 1] = "wrap with a bad mode: " .. tostring(s) .. " " .. tostring(err)
end
s, err = ssl.wrap(socket.tcp(), { mode = "client", protocol = "bogus" })
if s ~= nil or err ~= "invalid protocol (bogus)" then
  failures[#failures + 1] = "wrap with a bad protocol: " .. tostring(s) .. " " .. tostring(err)
end

-- the normal path
local ctx = assert(ssl.newcontext({ mode = "client", protocol = "any", verify = "none", options = "all", depth = 3 }))
local conn = assert(ssl.wrap(socket.tcp(), ctx))
conn:close()

assert(#failures == 0, #failures .. " differences from LuaSec:\n" .. table.concat(failures, "\n"))
print("ssl_badinput: ok")
