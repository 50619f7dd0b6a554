-- ssl.newcontext parameter tables: LuaSec's messages for bad values, and
-- LuaSec's errors for values of the wrong type (more in
-- ssl_badinput_test.lua).
local ssl = require "ssl"
local socket = require "socket"
local ctx, err = ssl.newcontext({ mode = "client", protocol = "any" })
assert(ctx, err)
-- LuaSec makes the context and ssl.wrap refuses it
ctx, err = ssl.newcontext({ mode = "sideways", protocol = "any" })
assert(ctx, err)
local s, werr = ssl.wrap(socket.tcp(), ctx)
assert(s == nil and werr == "invalid mode", tostring(werr))
ctx, err = ssl.newcontext({ mode = "client", protocol = "sslv1" })
assert(ctx == nil and err == "invalid protocol (sslv1)", tostring(err))
local ok, perr = pcall(ssl.newcontext, { mode = "client", protocol = "any", cafile = { "not", "a", "path" } })
assert(not ok and perr:find("bad argument #2 to 'locations' (string expected, got table)", 1, true), tostring(perr))
ok, perr = pcall(ssl.newcontext, { mode = "client", protocol = "any", depth = "deep" })
assert(not ok and perr:find("bad argument #2 to 'setdepth' (number expected, got string)", 1, true), tostring(perr))
ctx, err = ssl.newcontext({ mode = "client", protocol = "any", depth = "3", curve = "P-256" })
assert(ctx, err) -- numbers given as strings convert, as in Lua
ctx, err = ssl.newcontext({ mode = "client", protocol = "any", curve = "nonsense" })
assert(ctx == nil and err == "elliptic curve 'nonsense' not supported", tostring(err))
