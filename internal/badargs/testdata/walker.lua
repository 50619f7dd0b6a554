-- walker.lua: calls every function and method of the Lua modules with a
-- matrix of wrong arguments and prints one line per call. The same file
-- runs under copas-lua and under PUC lua5.1 with the real LuaSocket, LuaSec
-- and Copas (the reference); internal/badargs compares the two.
--
--   walker.lua list                      every covered name and its family
--   walker.lua uncovered CERT KEY        "U name" for functions and methods
--                                        found here that SPEC does not cover,
--                                        "S name" for SPEC names not found
--   walker.lua run FAMILY CERT KEY       call the family's names, then an
--                                        echo round trip; prints
--   C <name> <case>                        before each call (a hang names it)
--   R <name> <case> <class> <message>      after it; class is raise, fail
--                                          (nil, message), value or blocked
--   ECHO ok                                after the round trip
--
-- A case is "<position>=<value label>": position 0 is self for a method
-- (called as method(value)), 1.. an argument; the other arguments are the
-- name's good ones (spec.args), and "none" ends the argument list there.
--
-- Every name that surface.lua reports for copas-lua must have an entry in
-- SPEC below; the Go test fails for one that has none.

local mode = arg[1]

local copas = require "copas"
local socket = require "socket"
local modules = {}
for _, name in ipairs({ "socket", "socket.core", "socket.http", "socket.url", "socket.headers",
  "socket.smtp", "socket.ftp", "socket.tp", "ltn12", "mime", "ssl", "ssl.https", "coxpcall" }) do
  modules[name] = require(name)
end
for _, sub in ipairs({ "http", "ftp", "smtp", "lock", "semaphore", "queue", "timer", "future" }) do
  local _ = copas[sub]
end
modules.copas = copas
-- module "http" (gluahttp's API) is copas-lua's own; the reference has none
do
  local ok, m = pcall(require, "http")
  if ok and type(m) == "table" then modules.http = m end
end
local ssl = modules.ssl
local copcall = modules.coxpcall.pcall
local unpack = unpack or table.unpack

-- Names as surface.lua builds them: "module.key()" for a function found at
-- depth 0 or 1, "<label>:method" for methods. FUNCS maps a name to the
-- table holding the function and its key.
local FUNCS = {}
local function walk(prefix, t, depth, seen)
  if seen[t] then return end
  seen[t] = true
  for k, v in pairs(t) do
    if type(k) == "string" and not k:match("^_") then
      local name = prefix .. "." .. k
      if type(v) == "function" then
        FUNCS[name .. "()"] = { t = t, k = k }
      elseif type(v) == "table" and depth > 0 then
        walk(name, v, depth - 1, seen)
      end
    end
  end
end
for _, name in ipairs({ "socket", "socket.core", "socket.http", "socket.url", "socket.headers",
  "socket.smtp", "socket.ftp", "socket.tp", "ltn12", "mime", "ssl", "ssl.https", "coxpcall", "copas", "http" }) do
  if modules[name] then walk(name, modules[name], 1, {}) end
end
FUNCS["copas()"] = { t = { ["copas"] = function(...) return copas(...) end }, k = "copas" }

---------------------------------------------------------------------------
-- objects
---------------------------------------------------------------------------

local certfile, keyfile = arg[3], arg[4]
local pem
if certfile then
  local f = assert(io.open(certfile))
  pem = f:read("*a")
  f:close()
end

local CLEANUP = {}
local function keep(o) CLEANUP[#CLEANUP + 1] = o return o end
local function cleanup()
  for i = #CLEANUP, 1, -1 do
    local o = CLEANUP[i]
    CLEANUP[i] = nil
    local ok, close = pcall(function() return o.close end)
    if ok and type(close) == "function" then pcall(close, o) end
  end
end

local listener
local function getlistener()
  if not listener then
    listener = assert(socket.bind("127.0.0.1", 0))
    listener:settimeout(0)
  end
  return listener
end
local udpsink
local function getudpsink()
  if not udpsink then
    udpsink = assert(socket.udp())
    assert(udpsink:setsockname("127.0.0.1", 0))
    udpsink:settimeout(0)
  end
  return udpsink
end

-- connected returns a client with a 0 timeout and its accepted peer.
local function connected()
  local l = getlistener()
  local c = keep(assert(socket.tcp()))
  c:settimeout(1)
  assert(c:connect(l:getsockname()))
  l:settimeout(1)
  local a = assert(l:accept())
  l:settimeout(0)
  c:settimeout(0)
  return c, a
end

local function tcpclient()
  local c, a = connected()
  keep(a)
  return c
end

-- fedclient: a client whose peer sent a line and closed, so no receive
-- on it waits.
local function fedclient()
  local c, a = connected()
  assert(a:send("abc\n"))
  a:close()
  return c
end

local servercontext = { mode = "server", protocol = "any", certificate = certfile, key = keyfile }

local FACTORY = {
  ["tcp master"] = function() local s = keep(assert(socket.tcp())) s:settimeout(0) return s end,
  ["tcp server"] = function() local s = keep(assert(socket.bind("127.0.0.1", 0))) s:settimeout(0) return s end,
  ["tcp client"] = tcpclient,
  ["udp unconnected"] = function() local s = keep(assert(socket.udp())) s:settimeout(0) return s end,
  ["udp connected"] = function()
    local s = keep(assert(socket.udp()))
    assert(s:setpeername(getudpsink():getsockname()))
    s:settimeout(0)
    return s
  end,
  ["copas wrapped tcp"] = function() local w = copas.wrap(tcpclient()) w:settimeout(0.01) return w end,
  ["copas wrapped udp"] = function()
    local w = copas.wrap(keep(assert(socket.udp())))
    w:settimeout(0.01)
    return w
  end,
  ["copas lock"] = function() return copas.lock.new(0.01) end,
  ["copas semaphore"] = function() return copas.semaphore.new(10, 1, 0.01) end,
  ["copas queue"] = function() return copas.queue.new({ name = "walker" }) end,
  ["ssl context"] = function() return assert(ssl.newcontext(servercontext)) end,
  ["x509 certificate"] = function() return assert(ssl.loadcertificate(pem)) end,
  ["ssl connection"] = function()
    local c = keep(assert(ssl.wrap(tcpclient(), { mode = "client", protocol = "any", verify = "none" })))
    c:settimeout(0)
    return c
  end,
}

-- OTHER is the object of another type passed as self.
local OTHER = {
  ["tcp master"] = "udp unconnected", ["tcp server"] = "udp unconnected", ["tcp client"] = "udp connected",
  ["udp unconnected"] = "tcp master", ["udp connected"] = "tcp client",
  ["copas wrapped tcp"] = "copas lock", ["copas wrapped udp"] = "tcp client",
  ["copas lock"] = "copas semaphore", ["copas semaphore"] = "copas queue", ["copas queue"] = "copas lock",
  ["ssl context"] = "x509 certificate", ["x509 certificate"] = "ssl context", ["ssl connection"] = "tcp client",
}

local function methodtable(obj)
  local mt = getmetatable(obj)
  local idx = mt and mt.__index
  if type(idx) == "table" then return idx end
  return obj
end

-- METHODS maps "<label>:name" to the label and the method name.
local METHODS = {}
local function addmethods(label, obj)
  for k, v in pairs(methodtable(obj)) do
    if type(k) == "string" and type(v) == "function" and not k:match("^_") then
      METHODS["<" .. label .. ">:" .. k] = { label = label, k = k }
    end
  end
end

---------------------------------------------------------------------------
-- the matrix
---------------------------------------------------------------------------

local MB = string.rep("x", 2 ^ 20)
local closedtcp = socket.tcp()
closedtcp:close()
local co = coroutine.create(function() end)
local NONE = {}
local BAD = {
  { "none", NONE }, { "nil", nil }, { "false", false }, { "0", 0 }, { "-1", -1 }, { "nan", 0 / 0 },
  { "inf", 1 / 0 }, { "-inf", -1 / 0 }, { "2^53", 2 ^ 53 }, { "1e300", 1e300 }, { '""', "" },
  { "1MB", MB }, { "{}", function() return {} end }, { "function", function() return function() end end },
  { "coroutine", co }, { "closed", closedtcp },
}
local SELFBAD = {
  { "none", NONE }, { "nil", nil }, { "false", false }, { "0", 0 }, { '""', "" },
  { "{}", function() return {} end }, { "function", function() return function() end end },
  { "coroutine", co }, { "closed", closedtcp }, { "other", "other" },
}
-- values built fresh for each call
local FRESH = { ["{}"] = true, ["function"] = true }

-- Sets of value labels, for skip lists.
local NUMS = { "-1", "nan", "inf", "-inf", "2^53", "1e300" }
local BLOCKERS = { "none", "nil", "-1", "nan", "inf", "-inf", "2^53", "1e300" }
local function set(...)
  local s = {}
  for _, list in ipairs({ ... }) do
    if type(list) == "table" then
      for _, v in ipairs(list) do s[v] = true end
    else
      s[list] = true
    end
  end
  return s
end

-- HOST marks a host-name position: numbers would become names such as
-- "-1" or "inf" that the resolver sends to DNS, and the tests stay on
-- 127.0.0.1, so they are skipped there.
local HOST = { why = "a number there becomes a host name looked up in DNS", labels = set(NUMS) }

local function G(f) return setmetatable({}, { __call = f, __index = { gen = true } }) end
local function value(v)
  if type(v) == "table" and getmetatable(v) and v.gen then return v() end
  return v
end

local function port() return select(2, getlistener():getsockname()) end
local function udpport() return select(2, getudpsink():getsockname()) end

---------------------------------------------------------------------------
-- SPEC: every covered name. Fields:
--   args   good arguments (G(f) builds one per call); their count is the
--          number of positions tried (at least 1)
--   skip   { [position] = { why = ..., labels = set } } values not tried
--   top    called outside any Copas thread (before the loop runs)
--   alone  a family of its own (changes global state)
--   after  run after each call (restores state)
---------------------------------------------------------------------------

local SPEC = {}
local function spec(names, s)
  for name in names:gmatch("%S+") do SPEC[name] = s or {} end
end

-- socket and socket.core
for _, m in ipairs({ "socket", "socket.core" }) do
  spec(m .. ".bind() " .. m .. ".connect() " .. m .. ".connect4() " .. m .. ".connect6()", {
    args = { "127.0.0.1", G(port) }, skip = { [1] = HOST },
  })
  SPEC[m .. ".bind()"] = { args = { "127.0.0.1", 0, 1 }, skip = { [1] = HOST } }
  SPEC[m .. ".connect6()"] = { args = { "::1", 0 }, skip = { [1] = HOST } }
  spec(m .. ".choose() " .. m .. ".newtry() " .. m .. ".protect() " .. m .. ".try()")
  spec(m .. ".gettime() " .. m .. ".tcp() " .. m .. ".tcp4() " .. m .. ".tcp6() " .. m .. ".udp() " ..
    m .. ".udp4() " .. m .. ".udp6() " .. m .. ".skip()")
  spec(m .. ".select()", {
    args = { {}, {}, 0 },
    skip = {
      [1] = { why = "no sockets and a nil timeout wait for ever, as asked", labels = set("none") },
      [2] = { why = "no sockets and a nil timeout wait for ever, as asked", labels = set("none") },
      [3] = { why = "no sockets and no or a negative or huge timeout wait for ever, as asked", labels = set(BLOCKERS) },
    },
  })
  spec(m .. ".sink()", { args = { "close-when-done", G(tcpclient) } })
  spec(m .. ".source()", { args = { "by-length", G(tcpclient), 1 } })
  spec(m .. ".sleep()", { skip = { [1] = { why = "sleeps as long as asked (for ever for nan)", labels = set("nan", "inf", "2^53", "1e300") } } })
  for _, k in ipairs({ "close-when-done", "default", "keep-open", "http-chunked" }) do spec(m .. ".sinkt." .. k .. "()", { args = { G(tcpclient) } }) end
  for _, k in ipairs({ "by-length", "default", "until-closed", "http-chunked" }) do spec(m .. ".sourcet." .. k .. "()", { args = { G(tcpclient), 1 } }) end
  for _, d in ipairs({ m .. ".dns", "socket.dns" }) do
    spec(d .. ".getaddrinfo() " .. d .. ".tohostname() " .. d .. ".toip()", { args = { "127.0.0.1" }, skip = { [1] = HOST } })
    spec(d .. ".getnameinfo()", { args = { "127.0.0.1", 0 }, skip = { [1] = HOST } })
    spec(d .. ".gethostname()")
  end
end

-- protocols: every one refuses or fails before reaching a real server
spec("socket.ftp.command() socket.ftp.genericform() socket.ftp.get() socket.ftp.put()")
spec("socket.ftp.open()", { args = { "127.0.0.1", G(port) }, skip = { [1] = HOST } })
spec("socket.http.genericform() socket.http.request()")
spec("socket.http.open()", { args = { "127.0.0.1", G(port) }, skip = { [1] = HOST } })
spec("socket.smtp.message()")
spec("socket.smtp.send()", { args = { { server = "127.0.0.1", port = G(port), from = "<a@b>", rcpt = "<c@d>" } } })
spec("socket.smtp.open()", { args = { "127.0.0.1", G(port) }, skip = { [1] = HOST } })
spec("socket.tp.connect()", { args = { "127.0.0.1", G(port) }, skip = { [1] = HOST } })
spec("socket.url.absolute()", { args = { "http://a/b", "c" },
  skip = { [2] = { why = "the reference takes minutes for a 1 MB relative path (quadratic dot-segment removal)", labels = set("1MB") } } })
spec("socket.url.build() socket.url.build_path() socket.url.escape() socket.url.parse() socket.url.parse_path() socket.url.unescape()")
spec("socket.http.closeidle()")

-- ltn12
spec("ltn12.filter.chain() ltn12.filter.cycle() ltn12.pump.all() ltn12.pump.step()")
spec("ltn12.sink.chain() ltn12.sink.error() ltn12.sink.file() ltn12.sink.null() ltn12.sink.simplify() ltn12.sink.table()")
spec("ltn12.source.cat() ltn12.source.chain() ltn12.source.empty() ltn12.source.error() ltn12.source.file()")
spec("ltn12.source.rewind() ltn12.source.simplify() ltn12.source.string() ltn12.source.table()")

-- mime
spec("mime.b64() mime.unb64() mime.qp() mime.unqp() mime.dot() mime.eol() mime.wrp() mime.qpwrp()", { args = { "abc", "" } })
spec("mime.decode() mime.encode() mime.normalize() mime.stuff() mime.wrap()")
spec("mime.decodet.base64() mime.decodet.quoted-printable() mime.encodet.base64() mime.encodet.quoted-printable()")
spec("mime.wrapt.base64() mime.wrapt.default() mime.wrapt.quoted-printable() mime.wrapt.text()")

-- ssl
spec("ssl.loadcertificate()")
spec("ssl.newcontext()", { args = { G(function() return { mode = "client", protocol = "any" } end) } })
spec("ssl.wrap()", { args = { G(tcpclient), G(function() return { mode = "client", protocol = "any" } end) } })
spec("ssl.https.request() ssl.https.tcp()")

-- http (copas-lua's gluahttp API): URLs without a scheme fail before
-- any connection
spec("http.get() http.post() http.put() http.patch() http.delete() http.head() http.request_batch()")
spec("http.request()", { args = { "GET", "x" } })

-- coxpcall
spec("coxpcall.pcall() coxpcall.xpcall() coxpcall.running()")

-- copas: in a Copas thread unless top
spec("copas.addnamedthread() copas.addthread()")
spec("copas.addserver()", {
  args = { G(function() local s = keep(assert(socket.bind("127.0.0.1", 0))) return s end), function() end },
  skip = { [1] = { why = "the reference accepts it and its loop then dies of accept on a closed socket", labels = set("closed") } },
  after = function() end,
})
spec("copas.removeserver() copas.removethread() copas.wakeup()")
spec("copas.close() copas.flush() copas.finished() copas.status()")
spec("copas.connect()", { args = { G(FACTORY["tcp master"]), "127.0.0.1", G(port) }, skip = { [2] = HOST } })
spec("copas.dohandshake()", { args = { G(tcpclient), G(function() return { mode = "client", protocol = "any" } end) } })
spec("copas.receive() copas.receivepartial() copas.receivePartial()", { args = { G(fedclient), "*l" } })
spec("copas.receivefrom()", { args = { G(FACTORY["udp unconnected"]), 10 } })
spec("copas.send()", { args = { G(tcpclient), "abc" } })
spec("copas.sendto()", { args = { G(FACTORY["udp unconnected"]), "abc", "127.0.0.1", G(udpport) }, skip = { [3] = HOST } })
spec("copas.settimeout()", { args = { G(tcpclient), 1 } })
spec("copas.settimeouts()", { args = { G(tcpclient), 1, 1, 1 } })
spec("copas.wrap()", { args = { G(tcpclient) } })
spec("copas.handler()", { args = { function() end } })
spec("copas.gettime() copas.gettimeouts() copas.gettraceback() copas.getthreadname() copas.getsocketname()")
spec("copas.setthreadname() copas.setsocketname()", { args = { "name" } })
spec("copas.geterrorhandler()")
spec("copas.seterrorhandler() copas.setErrorHandler()", { after = function() copas.seterrorhandler() end })
spec("copas.useSocketTimeoutErrors()", { after = function() copas.useSocketTimeoutErrors(false) end })
spec("copas.pause() copas.pauseforever()")
spec("copas.sleep()", { skip = { [1] = { why = "the reference's loop dies comparing a sleep time that is not a number",
  labels = set('""', "1MB", "{}", "function", "coroutine", "closed") } } })
spec("copas.timeout()", { args = { 1, function() end } })
spec("copas.exiting() copas.waitforexit()")
spec("copas.debug.socket()")
spec("copas.debug.start()", { alone = true, after = function() copas.debug.stop() end,
  skip = { [1] = { why = "the reference keeps any value as its logger and its loop dies calling it", labels = set(NUMS, "0", '""', "1MB", "{}", "coroutine", "closed") } } })
spec("copas.debug.stop()")
local LOOPSKIP = { [1] = { why = "with nothing to do the loop waits as long as asked", labels = set(BLOCKERS, "0") } }
spec("copas() copas.loop()", { top = true, skip = LOOPSKIP })
spec("copas.step()", { top = true, skip = LOOPSKIP })
spec("copas.exit()", { top = true, alone = true })
spec("copas.cancelall()", { top = true, alone = true })
spec("copas.ftp.command() copas.ftp.get() copas.ftp.parseRequest() copas.ftp.put() copas.smtp.send()")
spec("copas.http.getcreatefunc() copas.http.open() copas.http.parseRequest() copas.http.request() copas.http.closeidle()")
spec("copas.future.addthread() copas.future.addnamedthread()")
spec("copas.lock.new() copas.lock.destroy() copas.lock.get() copas.lock.release()")
spec("copas.semaphore.new() copas.semaphore.destroy() copas.semaphore.get_count() copas.semaphore.get_wait()")
spec("copas.semaphore.give() copas.semaphore.take()")
spec("copas.queue.new() copas.queue.add_worker() copas.queue.destroy() copas.queue.finish() copas.queue.get_size()")
spec("copas.queue.get_workers() copas.queue.pop() copas.queue.push() copas.queue.stop()")
spec("copas.timer.new() copas.timer.arm() copas.timer.cancel()")

-- methods
local function methods(label, names, s)
  for name in names:gmatch("%S+") do SPEC["<" .. label .. ">:" .. name] = s or {} end
end
local SOCKM = "accept bind close connect dirty getfamily getfd getoption getpeername getsockname getstats " ..
  "gettimeout listen receive send setfd setoption setpeername setsockname setstats settimeout shutdown"
for _, label in ipairs({ "tcp master", "tcp server", "tcp client" }) do
  methods(label, SOCKM)
  methods(label, "bind connect", { args = { "127.0.0.1", 0 }, skip = { [1] = HOST } })
  methods(label, "setpeername setsockname", { args = { "127.0.0.1", 0 }, skip = { [1] = HOST } })
  methods(label, "receive", { args = { "*l", "" } })
  methods(label, "send", { args = { "abc", 1, 2 } })
  methods(label, "setoption", { args = { "tcp-nodelay", true } })
  methods(label, "setstats", { args = { 1, 2, 3 } })
  methods(label, "settimeout", { args = { 1, "t" } })
  methods(label, "setfd", { skip = { [1] = { why = "takes over any descriptor number, as LuaSocket does", labels = set("0", "-1", "nan", "inf", "-inf", "2^53", "1e300") } } })
end
local UDPM = "close dirty getfamily getfd getoption getpeername getsockname gettimeout receive receivefrom " ..
  "send sendto setfd setoption setpeername setsockname settimeout"
for _, label in ipairs({ "udp unconnected", "udp connected" }) do
  methods(label, UDPM)
  methods(label, "setpeername setsockname", { args = { "127.0.0.1", 0 }, skip = { [1] = HOST } })
  methods(label, "sendto", { args = { "abc", "127.0.0.1", G(udpport) }, skip = { [2] = HOST } })
  methods(label, "setoption", { args = { "broadcast", true } })
  methods(label, "settimeout", { args = { 1, "t" } })
  methods(label, "setfd", { skip = { [1] = { why = "takes over any descriptor number, as LuaSocket does", labels = set("0", "-1", "nan", "inf", "-inf", "2^53", "1e300") } } })
end
local WRAPM = "accept bind close connect dohandshake flush getalpn getoption getpeername getsniname getsockname " ..
  "getstats listen receive receivepartial send setoption setstats settimeout settimeouts shutdown sni"
methods("copas wrapped tcp", WRAPM)
methods("copas wrapped udp", WRAPM .. " receivefrom sendto setpeername setsockname")
methods("copas wrapped udp", "setpeername setsockname", { args = { "127.0.0.1", 0 }, skip = { [1] = HOST } })
for _, label in ipairs({ "copas wrapped tcp", "copas wrapped udp" }) do
  methods(label, "bind connect", { args = { "127.0.0.1", 0 }, skip = { [1] = HOST } })
  methods(label, "receive receivepartial", { args = { "*l", "" } })
  methods(label, "send", { args = { "abc", 1, 2 } })
  methods(label, "settimeouts", { args = { 1, 1, 1 } })
end
methods("copas wrapped udp", "sendto", { args = { "abc", "127.0.0.1", G(udpport) }, skip = { [2] = HOST } })
methods("copas lock", "destroy get new release")
methods("copas semaphore", "destroy get_count get_wait give new take")
methods("copas queue", "add_worker destroy finish get_size get_workers new pop push stop")
methods("ssl context", "setverifyext")
methods("x509 certificate", "digest extensions getsignaturename issued issuer notafter notbefore pem pubkey " ..
  "serial setencode subject validat")
methods("ssl connection", "close dirty dohandshake exportkeyingmaterial getalpn getfd getfinished " ..
  "getpeercertificate getpeerchain getpeerfinished getpeerverification getsniname getstats info receive " ..
  "send setdane setstats settimeout settlsa sni want getlocalcertificate getlocalchain")
methods("ssl connection", "exportkeyingmaterial", { args = { "label", 16 } })

-- family of a name: its module path, or its object label
local function family(name)
  local s = SPEC[name]
  if s and s.alone then return name end
  local label = name:match("^<(.-)>:")
  if label then return label end
  if s and s.top then return "copas top" end
  return (name:gsub("%.[^.]*%(%)$", ""):gsub("%(%)$", ""))
end

if mode == "list" then
  local names = {}
  for name in pairs(SPEC) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do print(name .. "\t" .. family(name)) end
  os.exit(0)
end

---------------------------------------------------------------------------
-- running a family
---------------------------------------------------------------------------

for label, make in pairs(FACTORY) do
  local ok, obj = pcall(make)
  if ok and obj then addmethods(label, obj) end
end
cleanup()

-- uncovered: the functions and methods this interpreter has that SPEC
-- does not cover (surface.lua does not list module http, nor functions
-- deeper than it walks)
-- (a function also reachable under a covered name, as socket.core.url
-- is socket.url, counts as covered).
if mode == "uncovered" then
  local seen = {}
  for name, f in pairs(FUNCS) do
    if SPEC[name] then seen[f.t[f.k]] = true end
  end
  for name, f in pairs(FUNCS) do
    if not SPEC[name] and not seen[f.t[f.k]] then print("U\t" .. name) end
  end
  for name in pairs(METHODS) do
    if not SPEC[name] then print("U\t" .. name) end
  end
  -- and the covered names this interpreter lacks
  for name in pairs(SPEC) do
    if not FUNCS[name] and not METHODS[name] then print("S\t" .. name) end
  end
  os.exit(0)
end

local fam = assert(arg[2], "usage: walker.lua run FAMILY CERT KEY")

local function oneline(s)
  if type(s) == "table" then
    -- a try error {message}: the reference's Copas gives it a __tostring
    s = "try error: " .. tostring(rawget(s, 1))
  end
  s = tostring(s)
  s = s:gsub("\nstack traceback:.*", "")
  s = s:gsub("^%[string [^\n]-%]:%d+: ", ""):gsub("^[^ \n]*:%d+: ", "")
  s = s:gsub("0x%x+", "0x"):gsub("[\r\n\t]", " ")
  if #s > 200 then s = s:sub(1, 200) .. "..." end
  return s
end

local function classify(ok, ...)
  if not ok then return "raise", oneline((...)) end
  local n = select("#", ...)
  local first, second = ...
  if n >= 2 and first == nil and second ~= nil then return "fail", oneline(second) end
  local types = {}
  for i = 1, math.min(n, 3) do types[i] = type((select(i, ...))) end
  return "value", table.concat(types, ",")
end

-- caller returns a function calling the named function by its name, so
-- that errors can name it as Lua does for a field or method call. The
-- call is not a tail call: Lua 5.1 names a C function called in a tail
-- call, copas-lua does not yet (a separate difference).
P = function(...) return { n = select("#", ...), ... } end
U = unpack
local function caller(name)
  local m = METHODS[name]
  if m then
    local key = string.format("%q", m.k)
    return assert(loadstring("local M = ... return function(self, ...) local r = P(M[" .. key .. "](self, ...)) return unpack(r, 1, r.n) end"))(nil), m
  end
  local f = FUNCS[name]
  if not f then return nil end
  local key = string.format("%q", f.k)
  return assert(loadstring("local T = ... return function(...) local r = P(T[" .. key .. "](...)) return U(r, 1, r.n) end"))(f.t)
end

-- methodcaller binds M (the method table of a fresh object) per call.
local function methodcall(m, self, ...)
  local fn = methodtable(self)[m.k]
  local key = string.format("%q", m.k)
  local c = assert(loadstring("local M = ... return function(self, ...) local r = P(M[" .. key .. "](self, ...)) return U(r, 1, r.n) end"))(
    { [m.k] = fn })
  return c(self, ...)
end

-- A call runs in a Copas thread of its own (unless top). One that has not
-- ended after a few passes of the loop is pending: its objects stay open
-- and the family's end waits for it (PENDING_WAIT seconds for all of them);
-- one still pending then is blocked, which is what the reference does for
-- a pause without end, a lock never released and a receive without data.
local PENDING_WAIT = 3
local PENDING = {}

local function safeclassify(...)
  local ok, class, msg = pcall(classify, ...)
  if not ok then return "raise", "walker: cannot classify: " .. tostring(class) end
  return class, msg
end

local function emit(name, case, class, msg)
  io.stdout:write("R\t", name, "\t", case, "\t", class, "\t", msg, "\n")
  io.stdout:flush()
end

local function callcase(name, s, case, build)
  io.stdout:write("C\t", name, "\t", case, "\n")
  io.stdout:flush()
  CLEANUP = {}
  local fn, args, n = build()
  local objs = CLEANUP
  CLEANUP = {}
  if s.top then
    local class, msg = safeclassify(copcall(fn, unpack(args, 1, n)))
    if s.after then pcall(s.after) end
    CLEANUP = objs
    cleanup()
    return emit(name, case, class, msg)
  end
  local res
  copas.addthread(function()
    res = { safeclassify(copcall(fn, unpack(args, 1, n))) }
  end)
  for i = 1, 13 do
    if res then break end
    copas.pause(i <= 10 and 0 or 0.01)
  end
  if s.after then pcall(s.after) end
  if res then
    CLEANUP = objs
    cleanup()
    return emit(name, case, res[1], res[2])
  end
  PENDING[#PENDING + 1] = { name = name, case = case, objs = objs, res = function() return res end }
end

local function settle()
  local deadline = socket.gettime() + PENDING_WAIT
  while socket.gettime() < deadline do
    local all = true
    for _, p in ipairs(PENDING) do
      if not p.res() then all = false break end
    end
    if all then break end
    copas.pause(0.02)
  end
  for _, p in ipairs(PENDING) do
    local r = p.res()
    if r then emit(p.name, p.case, r[1], r[2]) else emit(p.name, p.case, "blocked", "") end
    CLEANUP = p.objs
    cleanup()
  end
  PENDING = {}
end

local function goodargs(s)
  local args = {}
  for i, v in ipairs(s.args or {}) do args[i] = value(v) end
  return args, #(s.args or {})
end

local function skipped(s, pos, label)
  local sk = s.skip and s.skip[pos]
  return sk and sk.labels[label]
end

local function runname(name)
  local s = SPEC[name]
  local m = METHODS[name]
  local positions = math.max(1, #(s.args or {}))
  if m then
    -- self
    for _, bad in ipairs(SELFBAD) do
      local label = bad[1]
      callcase(name, s, "0=" .. label, function()
        local good = FACTORY[m.label]()
        local fn = function(...) return methodcall(m, good, ...) end
        -- call the method of good's type with a wrong self
        local method = methodtable(good)[m.k]
        local self = bad[2]
        if label == "other" then self = FACTORY[OTHER[m.label]]() end
        if FRESH[label] then self = self() end
        local args, n = goodargs(s)
        local c = assert(loadstring("local M = ... return function(...) local r = P(M[" .. string.format("%q", m.k) .. "](...)) return U(r, 1, r.n) end"))(
          { [m.k] = method })
        if label == "none" then return c, {}, 0 end
        return c, { self, unpack(args, 1, n) }, n + 1
      end)
    end
  end
  for pos = 1, positions do
    for _, bad in ipairs(BAD) do
      local label = bad[1]
      if not skipped(s, pos, label) then
        callcase(name, s, pos .. "=" .. label, function()
          local args, n = goodargs(s)
          local v = bad[2]
          if FRESH[label] then v = v() end
          if label == "none" then
            n = pos - 1
          else
            args[pos] = v
            n = math.max(n, pos)
          end
          if m then
            local obj = FACTORY[m.label]()
            return function(...) return methodcall(m, obj, ...) end, args, n
          end
          return caller(name), args, n
        end)
      end
    end
  end
end

local function echo()
  local server = assert(socket.bind("127.0.0.1", 0))
  local _, p = server:getsockname()
  copas.addserver(server, function(raw)
    local c = copas.wrap(raw)
    local line = c:receive("*l")
    if line then c:send(line .. "\n") end
  end)
  local got
  copas.addthread(function()
    local c = copas.wrap(socket.tcp())
    c:settimeout(5)
    assert(c:connect("127.0.0.1", p))
    assert(c:send("ping\n"))
    got = c:receive("*l")
    c:close()
    copas.removeserver(server)
  end)
  return function() return got end
end

local names = {}
for name in pairs(SPEC) do
  if family(name) == fam and (FUNCS[name] or METHODS[name]) then names[#names + 1] = name end
end
table.sort(names)
for name in pairs(SPEC) do
  if family(name) == fam and not (FUNCS[name] or METHODS[name]) then
    io.stdout:write("M\t", name, "\n")
  end
end

local function finish(ok)
  if ok then
    io.stdout:write("ECHO ok\n")
  else
    io.stdout:write("ECHO failed\n")
  end
  io.stdout:flush()
  os.exit(0)
end

local toplevel, inthread = {}, {}
for _, name in ipairs(names) do
  if SPEC[name].top then toplevel[#toplevel + 1] = name else inthread[#inthread + 1] = name end
end
for _, name in ipairs(toplevel) do runname(name) end

copas.addthread(function()
  for _, name in ipairs(inthread) do runname(name) end
  settle()
  local got = echo()
  for _ = 1, 500 do
    if got() then break end
    copas.pause(0.01)
  end
  finish(got() == "ping")
end)
copas.loop()
-- the loop ended without the walker thread finishing
io.stdout:write("LOOP ended\n")
finish(false)
