-- ssl.newcontext parameter tables: LuaSec's messages for bad values, and a
-- clear error (through gluamapper) for values of the wrong type.
local ssl = require "ssl"
local ctx, err = ssl.newcontext({ mode = "client", protocol = "any" })
assert(ctx, err)
ctx, err = ssl.newcontext({ mode = "sideways", protocol = "any" })
assert(ctx == nil and err == "invalid mode", tostring(err))
ctx, err = ssl.newcontext({ mode = "client", protocol = "sslv1" })
assert(ctx == nil and err == "invalid protocol (sslv1)", tostring(err))
ctx, err = ssl.newcontext({ mode = "client", protocol = "any", cafile = { "not", "a", "path" } })
assert(ctx == nil and err:find("bad option") and err:find("afile"), tostring(err))
ctx, err = ssl.newcontext({ mode = "client", protocol = "any", depth = "deep" })
assert(ctx == nil and err:find("bad option"), tostring(err))
ctx, err = ssl.newcontext({ mode = "client", protocol = "any", depth = "3", curve = "P-256" })
assert(ctx, err) -- numbers given as strings convert, as in Lua
ctx, err = ssl.newcontext({ mode = "client", protocol = "any", curve = "nonsense" })
assert(ctx == nil and err == "elliptic curve 'nonsense' not supported", tostring(err))
