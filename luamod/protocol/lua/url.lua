-- socket.url for copas-lua: URL parsing, building and relative reference
-- resolution with LuaSocket 3's results (RFC 2396 names, RFC 3986 style
-- dot-segment removal).
local socket = require "socket"
local string, table = string, table
local type, pairs, tostring, tonumber = type, pairs, tostring, tonumber
local gsub, sub, find, match, format, byte, char =
      string.gsub, string.sub, string.find, string.match, string.format, string.byte, string.char
local concat = table.concat

local url = { _VERSION = "URL 1.0.3" }
socket.url = url

-- escape: every byte but [A-Za-z0-9_] as %xx (lower-case hex).
function url.escape(s)
  return (gsub(s, "[^%w_]", function(c) return format("%%%02x", byte(c)) end))
end

function url.unescape(s)
  return (gsub(s, "%%(%x%x)", function(h) return char(tonumber(h, 16)) end))
end

-- Characters a path segment may keep literally besides [A-Za-z0-9_].
local segment_safe = {}
for c in ("-_.!~*'():@&=+$,"):gmatch(".") do segment_safe[c] = true end

local function protect_segment(s)
  return (gsub(s, "[^%w_]", function(c)
    if segment_safe[c] then return c end
    return format("%%%02X", byte(c))
  end))
end

-- Removes "." and ".." segments. The string is split on "/", a leading
-- empty segment (absolute path) stays; ".." drops the segment before it
-- (empty segments of "//" count as segments) and never climbs above the
-- start; a final "." or ".." leaves a trailing "/".
local function remove_dots(path)
  local out, n = {}, 0
  local segs = {}
  for seg in (path .. "/"):gmatch("([^/]*)/") do segs[#segs + 1] = seg end
  local absolute = segs[1] == "" and #segs > 1
  local first = absolute and 2 or 1
  if absolute then n = 1; out[1] = "" end
  local last = #segs
  for i = first, last do
    local seg = segs[i]
    if seg == "." then
      if i == last then n = n + 1; out[n] = "" end
    elseif seg == ".." then
      if n >= first then out[n] = nil; n = n - 1 end
      if i == last then n = n + 1; out[n] = "" end
    else
      n = n + 1
      out[n] = seg
    end
  end
  if absolute and n == 1 then return "/" end
  return concat(out, "/", 1, n)
end

local function merge_paths(base_path, rel_path)
  if sub(rel_path, 1, 1) == "/" then return remove_dots(rel_path) end
  local dir = match(base_path, "^(.*/)") or "/"
  return remove_dots(dir .. rel_path)
end

function url.parse(s, default)
  local t = {}
  for k, v in pairs(default or {}) do t[k] = v end
  if not s or s == "" then return nil, "invalid url" end
  local rest = s
  local scheme, after = match(rest, "^(%w[%w%+%-%.]*):(.*)$")
  if scheme then t.scheme, rest = scheme, after end
  -- The authority runs to the first "/" (as in LuaSocket 3.0/3.1 and its
  -- urltest.lua; "?" and "#" before it belong to the userinfo).
  local auth, after2 = match(rest, "^//([^/]*)(.*)$")
  if auth then t.authority, rest = auth, after2 end
  local before, frag = match(rest, "^(.-)#(.*)$")
  if before then rest, t.fragment = before, frag end
  local b2, query = match(rest, "^(.-)%?(.*)$")
  if b2 then rest, t.query = b2, query end
  local b3, params = match(rest, "^(.-);(.*)$")
  if b3 then rest, t.params = b3, params end
  if rest ~= "" then t.path = rest end
  local authority = t.authority
  if not authority then return t end
  local ui, hostport = match(authority, "^([^@]*)@(.*)$")
  if ui then t.userinfo, authority = ui, hostport end
  local hp, port = match(authority, "^(.*):([^:%]]*)$")
  if hp then authority, t.port = hp, port end
  if authority ~= "" then
    t.host = match(authority, "^%[(.+)%]$") or authority
  end
  local userinfo = t.userinfo
  if not userinfo then return t end
  local user, password = match(userinfo, "^(.*):([^:]*)$")
  if user then
    t.user, t.password = user, password
  else
    t.user = userinfo
  end
  return t
end

function url.build(t)
  local s = t.path or ""
  if t.params then s = s .. ";" .. t.params end
  if t.query then s = s .. "?" .. t.query end
  local authority = t.authority
  if t.host then
    authority = t.host
    if find(authority, ":", 1, true) then authority = "[" .. authority .. "]" end
    if t.port then authority = authority .. ":" .. tostring(t.port) end
    local userinfo = t.userinfo
    if t.user then
      userinfo = t.user
      if t.password then userinfo = userinfo .. ":" .. t.password end
    end
    if userinfo then authority = userinfo .. "@" .. authority end
  end
  if authority then s = "//" .. authority .. s end
  if t.scheme then s = t.scheme .. ":" .. s end
  if t.fragment then s = s .. "#" .. t.fragment end
  return s
end

-- Dot segments are removed from everything after the authority (LuaSocket
-- also rewrites them inside the query and fragment).
local function clean(s)
  local head, tail = match(s, "^(%w[%w%+%-%.]*://[^/]*)(.*)$")
  if not head then head, tail = match(s, "^(//[^/]*)(.*)$") end
  if not head then head, tail = "", s end
  if sub(tail, 1, 1) ~= "/" or not find(tail, "%.") then return s end
  return head .. remove_dots(tail)
end

function url.absolute(base_url, relative_url)
  local base
  if type(base_url) == "table" then
    base = base_url
    base_url = url.build(base)
  else
    base = url.parse(base_url)
  end
  local rel = url.parse(relative_url)
  local result
  if not base then
    result = relative_url
  elseif not rel then
    result = base_url
  elseif rel.scheme then
    result = relative_url
  else
    rel.scheme = base.scheme
    if not rel.authority then
      rel.authority = base.authority
      if rel.path then
        rel.path = merge_paths(base.path or "", rel.path)
      else
        rel.path = base.path
        if not rel.params then
          rel.params = base.params
          if not rel.query then rel.query = base.query end
        end
      end
    end
    result = url.build(rel)
  end
  return clean(result)
end

function url.parse_path(path)
  path = path or ""
  local segs = {}
  for seg in string.gmatch(path, "[^/]+") do segs[#segs + 1] = url.unescape(seg) end
  if sub(path, 1, 1) == "/" then segs.is_absolute = 1 end
  if sub(path, -1) == "/" then segs.is_directory = 1 end
  return segs
end

function url.build_path(segs, unsafe)
  local n = #segs
  local parts = {}
  for i = 1, n do
    parts[i] = unsafe and segs[i] or protect_segment(segs[i])
  end
  local path = concat(parts, "/")
  if n > 0 and segs.is_directory then path = path .. "/" end
  if segs.is_absolute then path = "/" .. path end
  return path
end

return url
