-- Lua-level part of the socket module (LuaSocket's socket.lua equivalent).
-- Receives socket.core and returns it extended.
local socket = ...
return socket
