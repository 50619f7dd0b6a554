-- The Lua half of module "testing" for copas-lua test files: the
-- describe/it vocabulary (its bookkeeping lives in Go, passed in as
-- `core`), assertions in the style busted users know, and the function
-- that runs one test inside its Copas thread. Written for this project.
local core = ...

local type, tostring, select, error, pcall, setmetatable, getmetatable, rawequal, unpack =
      type, tostring, select, error, pcall, setmetatable, getmetatable, rawequal, unpack
local getinfo = debug.getinfo
local sfind, smatch, lower = string.find, string.match, string.lower
local format, same, diff = core.format, core.same, core.diff

local SOURCE = "=[testing]" -- this chunk's name: frames to skip for positions

local M = {}

-------------------------------------------------------------------------------
-- Failure positions. gopher-lua's error(msg, level) does not count levels
-- as Lua 5.1 does, so the position of the failing line is found here: the
-- first Lua frame outside this module.
-------------------------------------------------------------------------------
local function where()
  for level = 2, 50 do
    local info = getinfo(level, "Sl")
    if not info then break end
    local src = info.source
    if src ~= SOURCE and info.currentline and info.currentline > 0
       and type(src) == "string" and src:sub(1, 1) ~= "=" then
      if src:sub(1, 1) == "@" then src = src:sub(2) end
      return src .. ":" .. info.currentline
    end
  end
  return nil
end

-- The last failure raised here, so the runner can report its position,
-- headline and details separately (the error value itself is one string,
-- as code that pcalls an assertion expects).
local last

local function raise(message, details, user_msg)
  if user_msg ~= nil then
    details = details and (message .. "\n" .. details) or message
    message = tostring(user_msg)
  end
  local pos = where()
  local text = message
  if details and details ~= "" then text = text .. "\n" .. details end
  if pos then text = pos .. ": " .. text end
  last = { err = text, where = pos, message = message, details = details }
  error(text, 0)
end

-------------------------------------------------------------------------------
-- Assertions. Each has its number of arguments (an optional message may
-- follow them), a predicate, and a function describing a failure: it
-- returns the headline and the details, worded for the asserted direction
-- (neg is true under is_not/no).
-------------------------------------------------------------------------------
local function expected_actual(e, a)
  return "expected: " .. format(e) .. "\n  actual: " .. format(a)
end

-- strip_pos removes the "file:line: " that error() put before a message.
local function strip_pos(msg)
  if type(msg) ~= "string" then return msg end
  return smatch(msg, "^[^\n]-:%d+: (.*)$") or msg
end

-- raised(fn) calls fn and returns whether it raised, the error value and
-- a description of what happened for failure messages.
local function raised(fn)
  local mt = getmetatable(fn)
  if type(fn) ~= "function" and not (type(mt) == "table" and mt.__call) then
    error("expected a function to call, got " .. type(fn), 0)
  end
  local ok, err = pcall(fn)
  if ok then return false, nil, "nothing was raised" end
  return true, err, "raised: " .. format(err)
end

local assertions = {}

local function is_type(name)
  return {
    n = 1,
    test = function(v) return type(v) == name end,
    fail = function(neg, v)
      if neg then return "expected a value that is not a " .. name, "value: " .. format(v) end
      return "expected a " .. name, "value: " .. format(v)
    end,
  }
end
for _, t in ipairs({ "string", "number", "table", "function", "boolean", "userdata", "thread" }) do
  assertions[t] = is_type(t)
end

assertions["equal"] = {
  n = 2,
  test = function(e, a) return e == a end,
  fail = function(neg, e, a)
    if neg then return "expected values to differ", "value: " .. format(a) end
    return "expected values to be equal", expected_actual(e, a)
  end,
}
assertions["equals"] = assertions["equal"]

assertions["same"] = {
  n = 2,
  test = function(e, a) return same(e, a) end,
  fail = function(neg, e, a)
    if neg then return "expected values not to be the same", "value: " .. format(a) end
    if type(e) == "table" and type(a) == "table" then
      return "expected values to be the same (deep comparison)", diff(e, a)
    end
    return "expected values to be the same (deep comparison)", expected_actual(e, a)
  end,
}

assertions["truthy"] = {
  n = 1,
  test = function(v) return not not v end,
  fail = function(neg, v)
    if neg then return "expected a falsy value (nil or false)", "value: " .. format(v) end
    return "expected a truthy value (not nil or false)", "value: " .. format(v)
  end,
}
assertions["falsy"] = {
  n = 1,
  test = function(v) return not v end,
  fail = function(neg, v) return assertions.truthy.fail(not neg, v) end,
}

local function exactly(want)
  return {
    n = 1,
    test = function(v) return rawequal(v, want) end,
    fail = function(neg, v)
      if neg then return "expected a value other than " .. tostring(want), "value: " .. format(v) end
      return "expected " .. tostring(want), "value: " .. format(v)
    end,
  }
end
assertions["true"] = exactly(true)
assertions["false"] = exactly(false)
assertions["nil"] = exactly(nil)

assertions["near"] = {
  n = 3,
  test = function(e, a, tol)
    return type(e) == "number" and type(a) == "number" and type(tol) == "number"
       and a >= e - tol and a <= e + tol
  end,
  fail = function(neg, e, a, tol)
    local head = neg and "expected values not to be within " or "expected values to be within "
    return head .. tostring(tol) .. " of each other", expected_actual(e, a)
  end,
}

assertions["matches"] = {
  n = 2, -- (pattern, string [, init [, plain]] [, message]) as in string.find
  extra = 2,
  test = function(pat, s, init, plain)
    return type(s) == "string" and type(pat) == "string" and sfind(s, pat, init, plain) ~= nil
  end,
  fail = function(neg, pat, s)
    local head = neg and "expected the string not to match the pattern" or "expected the string to match the pattern"
    return head, "pattern: " .. format(pat) .. "\n string: " .. format(s)
  end,
}
assertions["match"] = assertions["matches"]

-- error(fn [, expected]): fn raises; if expected is given the error value
-- equals it, or (for strings) equals it once the position is removed.
assertions["error"] = {
  n = 1,
  extra = 1,
  extra_any = true, -- the expected error may be a string
  test = function(fn, want)
    local did, err, seen = raised(fn)
    if not did or want == nil then return did, seen end
    return err == want or strip_pos(err) == want or same(err, want), seen
  end,
  fail = function(neg, fn, want)
    if neg then return "expected the function not to raise an error" end
    return "expected the function to raise an error" ..
           (want ~= nil and (" equal to " .. format(want)) or "")
  end,
}
assertions["errors"] = assertions["error"]

assertions["error_matches"] = {
  n = 2, -- (fn, pattern [, init [, plain]] [, message])
  extra = 2,
  test = function(fn, pat, init, plain)
    local did, err, seen = raised(fn)
    return did and type(err) == "string" and sfind(err, pat, init, plain) ~= nil, seen
  end,
  fail = function(neg, _, pat)
    if neg then return "expected the function not to raise an error matching " .. format(pat) end
    return "expected the function to raise an error matching " .. format(pat)
  end,
}
assertions["error_match"] = assertions["error_matches"]

assertions["unique"] = {
  n = 1,
  extra = 1, -- deep
  test = function(t, deep)
    local seen = {}
    for _, v in pairs(t) do
      for _, w in ipairs(seen) do
        if (deep and same(v, w)) or v == w then return false end
      end
      seen[#seen + 1] = v
    end
    return true
  end,
  fail = function(neg, t)
    return neg and "expected a table with a repeated value" or "expected a table without repeated values",
           "value: " .. format(t)
  end,
}

-- run_assertion checks a with the arguments; a message may follow the
-- assertion's n arguments and its optional extra ones (a string where an
-- optional number or boolean is expected is taken as the message).
local function run_assertion(a, neg, ...)
  local nargs = select("#", ...)
  local used = a.n
  for k = a.n + 1, a.n + (a.extra or 0) do
    if k > nargs then break end
    local v = select(k, ...)
    if type(v) == "string" and not a.extra_any then break end
    used = k
  end
  local msg
  if nargs > used then msg = select(used + 1, ...) end
  local passed, seen = a.test(unpack({ ... }, 1, used))
  if (passed and true or false) == neg then
    local head, details = a.fail(neg, ...)
    raise(head, seen or details, msg)
  end
  return ...
end

-------------------------------------------------------------------------------
-- assert: callable as Lua's assert, and the root of chains such as
-- assert.is_not.equal or assert.has_no.errors. Words joined by "_" or "."
-- are read left to right: is/are/was/has/does/… are filler, not/no negate,
-- and the rest names the assertion.
-------------------------------------------------------------------------------
local filler = { is = true, are = true, was = true, has = true, have = true, does = true,
                 ["do"] = true, to = true, be = true }
local negate = { ["not"] = true, no = true }

local chains = {}
local bound = { [false] = {}, [true] = {} }

local function resolve(neg, key)
  if type(key) ~= "string" then return nil end
  local words = {}
  for w in key:lower():gmatch("[^_]+") do words[#words + 1] = w end
  local i = 1
  while i <= #words do
    local name = table.concat(words, "_", i)
    local a = assertions[name]
    if a then
      local cache = bound[neg]
      local f = cache[name]
      if not f then
        f = function(...) return run_assertion(a, neg, ...) end
        cache[name] = f
      end
      return f
    end
    local w = words[i]
    if negate[w] then
      neg = not neg
    elseif not filler[w] then
      error("unknown assertion '" .. key .. "'", 2)
    end
    i = i + 1
  end
  return chains[neg]
end

for _, neg in ipairs({ false, true }) do
  chains[neg] = setmetatable({}, {
    __index = function(_, key) return resolve(neg, key) end,
  })
end

-- Lua's assert(v [, message, ...]): returns all its arguments when v is
-- true; otherwise raises message ("assertion failed!" by default) with the
-- position of the caller, as the runtime's built-in assert does.
local function plain_assert(_, v, ...)
  if v then return v, ... end
  local msg = ...
  if msg == nil then msg = "assertion failed!" end
  if type(msg) ~= "string" and type(msg) ~= "number" then error(msg, 0) end
  local pos = where()
  local text = pos and (pos .. ": " .. msg) or tostring(msg)
  last = { err = text, where = pos, message = tostring(msg) }
  error(text, 0)
end

M.assert = setmetatable({}, {
  __index = function(_, key) return resolve(false, key) end,
  __call = plain_assert,
})

-------------------------------------------------------------------------------
-- The test vocabulary. Options (a table after the function) may set
-- `timeout` in seconds.
-------------------------------------------------------------------------------
local PENDING = {}

local function here() return where() or "?" end

function M.describe(name, fn, opts)
  if type(fn) ~= "function" then error("describe: expected a function after the name", 2) end
  core.describe(tostring(name), fn, opts, here())
end

function M.it(name, fn, opts)
  if fn ~= nil and type(fn) ~= "function" then error("it: expected a function after the name", 2) end
  core.it(tostring(name), fn, opts, here())
end

-- pending(name) declares a test that is not written yet; called inside a
-- running test, pending([reason]) ends it as skipped.
function M.pending(name, fn)
  if core.running() then
    error(setmetatable({ reason = name and tostring(name) or "pending" }, PENDING), 0)
  end
  core.it(tostring(name), nil, nil, here())
end

for _, kind in ipairs({ "setup", "teardown", "before_each", "after_each" }) do
  M[kind] = function(fn)
    if type(fn) ~= "function" then error(kind .. ": expected a function", 2) end
    core.hook(kind, fn)
  end
end

-- timeout(seconds): the current test may run that long (from its start);
-- outside tests it sets the default of the enclosing describe block.
function M.timeout(seconds)
  if type(seconds) ~= "number" or seconds <= 0 then
    error("timeout: expected a positive number of seconds", 2)
  end
  core.timeout(seconds)
end

local finals -- finally() callbacks of the running test

function M.finally(fn)
  if not finals then error("finally: only inside a running test", 2) end
  finals[#finals + 1] = fn
end

M.context, M.spec, M.test = M.describe, M.it, M.it
M.lazy_setup, M.strict_setup = M.setup, M.setup
M.lazy_teardown, M.strict_teardown = M.teardown, M.teardown

-- Names injected as globals into test files.
M._globals = { "describe", "context", "it", "spec", "test", "pending", "setup", "teardown",
               "lazy_setup", "strict_setup", "lazy_teardown", "strict_teardown",
               "before_each", "after_each", "finally", "assert" }

-------------------------------------------------------------------------------
-- Running (called by the Go runner)
-------------------------------------------------------------------------------

-- outcome turns the first error of a test into what the runner reports:
-- "pass"; "skip", reason; or "fail", kind, where, message, details.
local function outcome(err)
  if err == nil then return "pass" end
  if getmetatable(err) == PENDING then return "skip", err.reason end
  if last and rawequal(last.err, err) then
    return "fail", "failure", last.where, last.message, last.details
  end
  local text = type(err) == "string" and err or format(err)
  local pos, rest = smatch(text, "^([^\n]-:%d+): (.*)$")
  if pos then return "fail", "error", pos, rest end
  return "fail", "error", nil, text
end

M._outcome = outcome

-- _begin starts a test: no failure seen yet, no finally callbacks.
function M._begin()
  last = nil
  finals = {}
end

-- _run(fns, all) calls the functions in order and returns the outcome of
-- the first error. It stops at that error unless all is true; with all
-- (the after part of a test) the finally callbacks run last.
function M._run(fns, all)
  local err
  for i = 1, #fns do
    local ok, e = pcall(fns[i])
    if not ok and err == nil then
      err = e
      if not all then break end
    end
  end
  if all and finals then
    local mine = finals
    finals = nil
    for i = #mine, 1, -1 do
      local ok, e = pcall(mine[i])
      if not ok and err == nil then err = e end
    end
  end
  return outcome(err)
end

-- Errors of other Copas threads while a test runs fail that test, unless
-- the program installed its own error handler.
local thread_errors = {}

local function on_thread_error(msg, co)
  local copas = package.loaded.copas
  local name = co and copas and copas.getthreadname(co) or tostring(co)
  thread_errors[#thread_errors + 1] = "error in thread " .. tostring(name) .. ": " .. tostring(msg)
end

function M._watch_threads()
  local copas = package.loaded.copas
  if type(copas) ~= "table" or type(copas.geterrorhandler) ~= "function" then return end
  local h = copas.geterrorhandler()
  if h == on_thread_error then return end
  local info = type(h) == "function" and getinfo(h, "S")
  if info and info.source == "=copas" then -- Copas' own default handler
    copas.seterrorhandler(on_thread_error, true)
  end
end

function M._take_thread_errors()
  local errs = thread_errors
  thread_errors = {}
  return table.concat(errs, "\n")
end

-- _threadinfo(co) -> name, traceback of a waiting thread.
function M._threadinfo(co)
  local copas = package.loaded.copas
  local name = tostring(co)
  if type(copas) == "table" and copas.getthreadname then
    local ok, n = pcall(copas.getthreadname, co)
    if ok and n then name = tostring(n) end
  end
  return name, debug.traceback(co, "", 0)
end

-- _teardown drops every thread, timer and server, as copas.cancelall does.
function M._teardown()
  local copas = package.loaded.copas
  if type(copas) == "table" and copas.cancelall then
    copas.cancelall()
    return true
  end
  return false
end

return M
