-- ltn12 for copas-lua: sources, sinks, filters and pumps with the
-- semantics of LuaSocket's LTN12 module (see LTN012, "Filters, sources
-- and sinks"). A source returns the next chunk, nil at the end, or nil and
-- an error. A sink takes (chunk, err) and returns a true value or nil and
-- an error; a nil chunk tells it the data ended. A filter maps a chunk to
-- a chunk; it is called with "" to drain what it still holds and with nil
-- at the end.

local assert, error, select, type = assert, error, select, type
local tinsert, tremove, unpack = table.insert, table.remove, unpack or table.unpack
local sub = string.sub

local M = { _VERSION = "LTN12 1.0.3", BLOCKSIZE = 2048 }
local filter, source, sink, pump = {}, {}, {}, {}
M.filter, M.source, M.sink, M.pump = filter, source, sink, pump

-- Lua 5.1's module system also sets the global, as LuaSocket's module does.
if module then ltn12 = M end

------------------------------------------------------------------ filters

-- Turns a low-level filter low(ctx, chunk, extra) -> out, ctx into a
-- plain filter that threads the context between calls.
function filter.cycle(low, ctx, extra)
  assert(low)
  return function(chunk)
    local out
    out, ctx = low(ctx, chunk, extra)
    return out
  end
end

-- Chains filters: the output of each feeds the next. When a filter
-- answers "" (it needs more input) control goes back to the one below it,
-- which is asked to drain with ""; once the input ended, filters finish in
-- order from the first to the last.
function filter.chain(...)
  local fs, n = { ... }, select("#", ...)
  local lowest = 1 -- filters below this one have finished
  local at = 1     -- the filter to run next
  local refill = "" -- what a lower filter gets when a higher one wants more
  return function(chunk)
    if not chunk then refill = nil end
    while true do
      if at == lowest then
        chunk = fs[at](chunk)
        if chunk == "" or at == n then return chunk end
        if chunk then
          at = at + 1
        else
          lowest = lowest + 1
          at = lowest
        end
      else
        chunk = fs[at](chunk or "")
        if chunk == "" then
          at = at - 1
          chunk = refill
        elseif not chunk then
          error("filter returned inappropriate nil")
        elseif at == n then
          return chunk
        else
          at = at + 1
        end
      end
    end
  end
end

------------------------------------------------------------------ sources

local function nothing() return nil end

function source.empty() return nothing end

function source.error(err)
  return function() return nil, err end
end

-- Reads a file handle in BLOCKSIZE pieces and closes it at the end.
function source.file(handle, io_err)
  if not handle then return source.error(io_err or "unable to open file") end
  return function()
    local chunk = handle:read(M.BLOCKSIZE)
    if not chunk then handle:close() end
    return chunk
  end
end

-- A fancy source may return (chunk, replacement source); the simple one
-- hides the switch.
function source.simplify(src)
  assert(src)
  return function()
    local chunk, other = src()
    src = other or src
    if chunk then return chunk end
    return nil, other
  end
end

function source.string(s)
  if not s then return source.empty() end
  local pos = 1
  return function()
    local size = M.BLOCKSIZE
    local chunk = sub(s, pos, pos + size - 1)
    pos = pos + size
    if chunk == "" then return nil end
    return chunk
  end
end

function source.table(t)
  assert(type(t) == "table")
  local i = 0
  return function()
    i = i + 1
    return t[i]
  end
end

-- A source that can be given chunks back: src(chunk) stores one, src()
-- returns the stored chunks (last first) before reading on.
function source.rewind(src)
  assert(src)
  local pushed = {}
  return function(chunk)
    if chunk then
      tinsert(pushed, chunk)
      return
    end
    chunk = tremove(pushed)
    if chunk then return chunk end
    return src()
  end
end

-- Passes a source through one or several filters.
function source.chain(src, f, ...)
  if ... then f = filter.chain(f, ...) end
  assert(src and f)
  local input, output = "", ""
  local draining = false -- the filter may still hold data for `input`
  return function()
    if not output then error("source is empty!", 2) end
    while true do
      if not draining then
        local err
        input, err = src()
        if err then return nil, err end
        output = f(input)
        if not output then
          if input then error("filter returned inappropriate nil") end
          return nil
        end
        if output ~= "" then
          draining = true
          if input then input = "" end
          return output
        end
      else
        output = f(input)
        if output == "" then
          if input ~= "" then error('filter returned ""') end
          draining = false
        elseif not output then
          if input then error("filter returned inappropriate nil") end
          return nil
        else
          return output
        end
      end
    end
  end
end

-- Concatenates sources: each runs to its end before the next starts.
function source.cat(...)
  local srcs, i = { ... }, 1
  return function()
    while srcs[i] do
      local chunk, err = srcs[i]()
      if chunk then return chunk end
      if err then return nil, err end
      i = i + 1
    end
  end
end

-------------------------------------------------------------------- sinks

function sink.table(t)
  t = t or {}
  return function(chunk)
    if chunk then tinsert(t, chunk) end
    return 1
  end, t
end

-- A fancy sink may return (1, replacement sink); the simple one hides it.
function sink.simplify(snk)
  assert(snk)
  return function(chunk, err)
    local ok, other = snk(chunk, err)
    if not ok then return nil, other end
    snk = other or snk
    return 1
  end
end

-- Writes to a file handle and closes it when the data ends.
function sink.file(handle, io_err)
  if not handle then return sink.error(io_err or "unable to open file") end
  return function(chunk)
    if chunk then return handle:write(chunk) end
    handle:close()
    return 1
  end
end

local function discard() return 1 end

function sink.null() return discard end

function sink.error(err)
  return function() return nil, err end
end

-- Passes data through filter(s) before the sink: sink.chain(f1, ..., snk).
function sink.chain(f, snk, ...)
  if ... then
    local all = { f, snk, ... }
    snk = tremove(all)
    f = filter.chain(unpack(all))
  end
  assert(f and snk)
  return function(chunk, err)
    if chunk == "" then return 1 end
    -- After real data the filter is drained until it answers ""; at the
    -- end (nil) until it answers nil.
    local last = chunk and ""
    local out = f(chunk)
    while true do
      local ok, serr = snk(out, err)
      if not ok then return nil, serr end
      if out == last then return 1 end
      out = f(last)
    end
  end
end

-------------------------------------------------------------------- pumps

function pump.step(src, snk)
  local chunk, serr = src()
  local ok, kerr = snk(chunk, serr)
  if chunk and ok then return 1 end
  return nil, serr or kerr
end

function pump.all(src, snk, step)
  assert(src and snk)
  step = step or pump.step
  while true do
    local ok, err = step(src, snk)
    if not ok then
      if err then return nil, err end
      return 1
    end
  end
end

return M
