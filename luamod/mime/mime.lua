-- Module "mime" for copas-lua: the ltn12 filter factories over the Go
-- transforms of mime.core (which is passed in and returned extended).
local mime = ...
local ltn12 = require "ltn12"
local cycle = ltn12.filter.cycle

local encodet, decodet, wrapt = {}, {}, {}
mime.encodet, mime.decodet, mime.wrapt = encodet, decodet, wrapt

encodet["base64"] = function()
  return cycle(mime.b64, "")
end

-- In "binary" mode line breaks of the input are data and get quoted too.
encodet["quoted-printable"] = function(mode)
  local marker = "\r\n"
  if mode == "binary" then marker = "=0D=0A" end
  return cycle(mime.qp, "", marker)
end

decodet["base64"] = function()
  return cycle(mime.unb64, "")
end

decodet["quoted-printable"] = function()
  return cycle(mime.unqp, "")
end

wrapt["text"] = function(length)
  length = length or 76
  return cycle(mime.wrp, length, length)
end
wrapt["base64"] = wrapt["text"]
wrapt["default"] = wrapt["text"]

wrapt["quoted-printable"] = function()
  return cycle(mime.qpwrp, 76, 76)
end

-- A chooser picks a factory by name; a non-string first argument selects
-- "default" (socket.choose has exactly LuaSocket's mime semantics).
local chooser = require("socket").choose

mime.encode = chooser(encodet)
mime.decode = chooser(decodet)
mime.wrap = chooser(wrapt)

function mime.normalize(marker)
  return cycle(mime.eol, 0, marker)
end

function mime.stuff()
  return cycle(mime.dot, 2)
end

return mime
