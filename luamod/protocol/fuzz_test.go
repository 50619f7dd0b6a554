package protocol_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
	"github.com/copas-lua/copas-lua/luamod/socket"
	lua "github.com/yuin/gopher-lua"
)

// The fuzz targets of this package run the protocol modules' Lua code
// against a fake socket that serves the fuzz input as the server's bytes.
// Each fuzz worker process builds one runtime (its loop on a goroutine of
// its own) on the first input and runs every input as a thread of it
// through Runtime.Call, with a time bound per input: a Lua error that
// escapes a socket.protect'ed function, a Go panic or an input that does
// not finish within fuzzCallLimit fails the target.
//
// Seeds: testdata/fuzz/FuzzXxx (go test runs them). Run longer with
//
//	go test -run '^$' -fuzz '^FuzzHTTPResponse$' -parallel 1 -fuzztime 10m ./luamod/protocol/

// fuzzMax bounds the input: anything longer is skipped.
const fuzzMax = 1 << 14

// fuzzCallLimit is the time one input may take (generous: the machine may
// be shared; the inputs take microseconds to milliseconds).
const fuzzCallLimit = 20 * time.Second

// fuzzRuntime is the runtime of this worker process, started on first use
// and stopped when the fuzz target ends.
type fuzzRuntime struct {
	r    *copaslua.Runtime
	stop func()
}

var (
	fuzzMu sync.Mutex
	fuzzRT *fuzzRuntime
)

// fuzzWorker returns the process's fuzz runtime, starting it if needed;
// f.Cleanup stops it.
func fuzzWorker(f *testing.F) func(t *testing.T) *copaslua.Runtime {
	f.Cleanup(func() {
		fuzzMu.Lock()
		defer fuzzMu.Unlock()
		if fuzzRT != nil {
			fuzzRT.stop()
			fuzzRT = nil
		}
	})
	return func(t *testing.T) *copaslua.Runtime {
		fuzzMu.Lock()
		defer fuzzMu.Unlock()
		if fuzzRT == nil {
			fuzzRT = startFuzzRuntime(t)
		}
		return fuzzRT.r
	}
}

func startFuzzRuntime(t *testing.T) *fuzzRuntime {
	ready := make(chan error, 1)
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	var r *copaslua.Runtime
	var release func()
	go func() {
		defer close(done)
		r = copaslua.New()
		defer r.Close()
		installFakeSocket(r.State())
		if err := r.DoString(fuzzHarness); err != nil {
			ready <- err
			return
		}
		release = r.KeepAlive()
		ready <- nil
		r.Run(ctx)
	}()
	if err := <-ready; err != nil {
		cancel()
		<-done
		t.Fatalf("fuzz harness: %v", err)
	}
	// Releasing the loop ends Run once no input is running; the context
	// is the fallback.
	return &fuzzRuntime{r: r, stop: func() { release(); <-done; cancel() }}
}

// fuzzCall runs the harness function fn with args and returns its single
// string result.
func fuzzCall(t *testing.T, r *copaslua.Runtime, fn string, args ...any) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fuzzCallLimit)
	defer cancel()
	res, err := r.Call(ctx, fn, args...)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%s did not finish within %v (hang)", fn, fuzzCallLimit)
	}
	if err != nil {
		t.Fatalf("%s raised: %v", fn, err)
	}
	if len(res) != 1 {
		t.Fatalf("%s returned %v", fn, res)
	}
	s, _ := res[0].(string)
	return s
}

// fakeSock is a socket whose peer sends data, in pieces of the sizes in
// cuts (then the rest at once), and then closes. It receives with the
// patterns of TCP objects (socket.NewReceive) and swallows what is sent.
type fakeSock struct {
	data   []byte
	cuts   []byte
	buf    []byte
	closed bool
	sent   int
}

// fill moves the next piece of data into buf; false at the end.
func (s *fakeSock) fill() bool {
	if len(s.data) == 0 {
		return false
	}
	n := len(s.data)
	if len(s.cuts) > 0 {
		if c := int(s.cuts[0]); c > 0 && c < n {
			n = c
		}
		s.cuts = s.cuts[1:]
	}
	s.buf, s.data = s.data[:n], s.data[n:]
	return true
}

func checkFake(L *lua.LState) *fakeSock {
	ud := L.CheckUserData(1)
	s, ok := ud.Value.(*fakeSock)
	if !ok {
		L.ArgError(1, "fake socket expected")
	}
	return s
}

func pushAll(L *lua.LState, vals ...lua.LValue) int {
	for _, v := range vals {
		L.Push(v)
	}
	return len(vals)
}

var fakeMethods = map[string]lua.LGFunction{
	"receive": func(L *lua.LState) int {
		s := checkFake(L)
		if s.closed {
			return pushAll(L, lua.LNil, lua.LString("closed"))
		}
		prefix := L.OptString(3, "")
		r, done, ok := socket.NewReceive(L.Get(2), prefix, false)
		if !ok {
			L.ArgError(2, "invalid receive pattern")
		}
		if done {
			return pushAll(L, lua.LString(prefix), lua.LNil, lua.LNil)
		}
		msg := ""
		for {
			if len(s.buf) == 0 && !s.fill() {
				if !r.EndedWell("closed") {
					msg = "closed"
				}
				break
			}
			used, d := r.Take(s.buf)
			s.buf = s.buf[used:]
			if d {
				break
			}
		}
		return pushAll(L, r.Results(msg)...)
	},
	"send": func(L *lua.LState) int {
		s := checkFake(L)
		data := L.CheckString(2)
		if s.closed {
			return pushAll(L, lua.LNil, lua.LString("closed"), lua.LNumber(0))
		}
		s.sent += len(data)
		return pushAll(L, lua.LNumber(len(data)))
	},
	"connect": func(L *lua.LState) int {
		checkFake(L)
		L.CheckString(2) // as LuaSocket: host and port are strings or numbers
		L.CheckString(3)
		return pushAll(L, lua.LNumber(1))
	},
	"close": func(L *lua.LState) int {
		checkFake(L).closed = true
		return pushAll(L, lua.LNumber(1))
	},
	"getstats": func(L *lua.LState) int {
		s := checkFake(L)
		return pushAll(L, lua.LNumber(0), lua.LNumber(s.sent), lua.LNumber(0))
	},
	"getpeername": func(L *lua.LState) int {
		checkFake(L)
		return pushAll(L, lua.LString("127.0.0.1"), lua.LNumber(21), lua.LString("inet"))
	},
	"getfd":  func(L *lua.LState) int { checkFake(L); return pushAll(L, lua.LNumber(-1)) },
	"dirty":  func(L *lua.LState) int { s := checkFake(L); return pushAll(L, lua.LBool(len(s.buf) > 0)) },
	"ok":     func(L *lua.LState) int { checkFake(L); return pushAll(L, lua.LNumber(1)) },
	"unread": func(L *lua.LState) int { s := checkFake(L); return pushAll(L, lua.LNumber(len(s.buf)+len(s.data))) },
}

// installFakeSocket defines fakesocket(data, cuts) in L.
func installFakeSocket(L *lua.LState) {
	methods := L.NewTable()
	for name, fn := range fakeMethods {
		methods.RawSetString(name, L.NewFunction(fn))
	}
	for _, name := range []string{"settimeout", "settimeouts", "setoption", "shutdown"} {
		methods.RawSetString(name, methods.RawGetString("ok"))
	}
	methods.RawSetString("getsockname", methods.RawGetString("getpeername"))
	mt := L.NewTable()
	mt.RawSetString("__index", methods)
	L.SetGlobal("fakesocket", L.NewFunction(func(L *lua.LState) int {
		ud := L.NewUserData()
		ud.Value = &fakeSock{data: []byte(L.CheckString(1)), cuts: []byte(L.OptString(2, ""))}
		L.SetMetatable(ud, mt)
		L.Push(ud)
		return 1
	}))
}

// fuzzHarness defines the Lua side of the targets. Each function returns
// one string describing what happened: "ok ..." / "fail <message>" for a
// protected call that returned, "bad <what>" for a broken invariant.
const fuzzHarness = `
local socket = require "socket"
local url = require "socket.url"
local http = require "socket.http"
local chttp = require "copas.http"
local tp = require "socket.tp"
local smtp = require "socket.smtp"
local ftp = require "socket.ftp"
local ltn12 = require "ltn12"

-- A canonical text of a value: tables with sorted keys.
local function show(v, depth)
  depth = depth or 0
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) ~= "table" then return tostring(v) end
  if depth > 4 then return "{...}" end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = show(k, depth + 1) .. "=" .. show(v[k], depth + 1) end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- creator(list) returns a create function handing out fake sockets over
-- list[1], list[2], ... (then empty peers) and the list of sockets made.
local function creator(list, cuts)
  local made = {}
  return function()
    local n = #made + 1
    local s = fakesocket(list[n] or "", cuts)
    made[n] = s
    return s
  end, made
end

-- socket.http picks a scheme's create on redirects to another scheme:
-- every scheme creates fakes of the current input too.
local current
for _, scheme in pairs(http.schemes) do
  scheme.create = function() return function() return current() end end
end

function fuzz_http(data, cuts, flags)
  local create = creator({ data }, cuts)
  current = create
  local mod = flags % 2 == 0 and http or chttp
  local body = {}
  local reqt = {
    url = "http://fuzz.invalid/a/b?q",
    method = math.floor(flags / 2) % 2 == 1 and "HEAD" or "GET",
    redirect = math.floor(flags / 4) % 2 == 0,
    sink = ltn12.sink.table(body),
    create = create,
  }
  if math.floor(flags / 8) % 2 == 1 then
    reqt.method = "POST"
    reqt.source = ltn12.source.string("payload")
    if math.floor(flags / 16) % 2 == 1 then reqt.headers = { ["content-length"] = 7 } end
  end
  local r, code, headers, status = mod.request(reqt)
  current = nil
  if not r then
    if type(code) ~= "string" then return "bad error value " .. show(code) end
    return "fail " .. code
  end
  body = table.concat(body)
  if #body > #data then return "bad body of " .. #body .. " bytes from " .. #data end
  if type(code) ~= "number" or code ~= math.floor(code) or code < 0 or code > 999 then
    return "bad code " .. show(code)
  end
  if headers ~= nil then
    if type(headers) ~= "table" then return "bad headers " .. show(headers) end
    for k, v in pairs(headers) do
      if type(k) ~= "string" or k ~= k:lower() or type(v) ~= "string" then
        return "bad header " .. show(k) .. "=" .. show(v)
      end
    end
  end
  if status ~= nil and (type(status) ~= "string" or not status:find("^HTTP/")) then
    return "bad status " .. show(status)
  end
  return "ok " .. code .. " " .. show(status) .. " " .. show(headers) .. " " .. show(body)
end

-- tp: read replies until one fails; every reply starts with its code.
function fuzz_tp(data, cuts)
  local create = creator({ data }, cuts)
  local t = assert(tp.connect("fuzz.invalid", 21, 1, create))
  local out = {}
  for i = 1, 200 do
    local code, reply = t:check(i % 2 == 0 and "%d%d%d" or { "1..", "2..", "3..", "4..", "5.." })
    if not code then
      if type(reply) ~= "string" then return "bad error value " .. show(reply) end
      out[#out + 1] = "fail " .. reply
      break
    end
    if type(code) ~= "number" or code < 0 or code > 999 or type(reply) ~= "string"
        or reply:sub(1, 3) ~= string.format("%03d", code) then
      return "bad reply " .. show(code) .. " " .. show(reply)
    end
    out[#out + 1] = code .. " " .. show(reply)
  end
  t:close()
  return table.concat(out, "\n")
end

-- smtp.send and ftp.get/put/command against a fuzzed server: they return
-- a result or nil and a message, never raise.
function fuzz_mail(control, datapeer, cuts, flags)
  local create, made = creator({ control, datapeer }, cuts)
  local mode = flags % 4
  local r, err
  if mode == 0 then
    r, err = smtp.send {
      from = "<a@fuzz.invalid>",
      rcpt = { "<b@fuzz.invalid>", "<c@fuzz.invalid>" },
      source = smtp.message { headers = { subject = "s" }, body = "hello\r\n.\r\nbye" },
      user = math.floor(flags / 4) % 2 == 1 and "u" or nil,
      password = "p",
      create = create,
    }
  elseif mode == 1 then
    local parts = {}
    r, err = ftp.get {
      host = "fuzz.invalid", path = "/d/f", sink = ltn12.sink.table(parts), create = create,
      type = math.floor(flags / 4) % 2 == 1 and "i" or nil,
    }
    if r then r = table.concat(parts) end
    if r and #r > #control + #datapeer then return "bad body of " .. #r .. " bytes" end
  elseif mode == 2 then
    r, err = ftp.put {
      host = "fuzz.invalid", path = "/d/f", source = ltn12.source.string("payload"), create = create,
    }
  else
    r, err = ftp.command { host = "fuzz.invalid", command = "stat", check = "2..", create = create }
  end
  if r == nil then
    if type(err) ~= "string" then return "bad error value " .. show(err) end
    return "fail " .. err
  end
  return "ok " .. show(r)
end

-- url: parse/build is stable from the second round; absolute always
-- gives a string; escape/unescape and parse_path/build_path round-trip.
function fuzz_url(s, base)
  local t = url.parse(s)
  if t then
    local s1 = url.build(t)
    local t2 = url.parse(s1)
    if not t2 then return "bad: parse(build(parse(s))) failed: " .. show(s1) end
    local s2 = url.build(t2)
    if s1 ~= s2 then return "bad: build unstable: " .. show(s1) .. " then " .. show(s2) end
    for _, k in ipairs { "scheme", "path", "params", "query", "fragment", "host", "port", "userinfo", "user", "password" } do
      if t2[k] ~= t[k] then return "bad: field " .. k .. ": " .. show(t[k]) .. " then " .. show(t2[k]) end
    end
  elseif s ~= "" then
    return "bad: parse failed on " .. show(s)
  end
  local a = url.absolute(base, s)
  if type(a) ~= "string" then return "bad: absolute gave " .. show(a) end
  local a2 = url.absolute(url.parse(base) or {}, s)
  if type(a2) ~= "string" then return "bad: absolute(table) gave " .. show(a2) end
  if url.unescape(url.escape(s)) ~= s then return "bad: unescape(escape(s)) ~= s" end
  local segs = url.parse_path(s)
  local p = url.build_path(segs)
  local segs2 = url.parse_path(p)
  if show(segs2) ~= show(segs) then
    return "bad: parse_path(build_path(parse_path(s))): " .. show(segs) .. " then " .. show(segs2)
  end
  url.build_path(segs, true)
  return "ok " .. show(t) .. " " .. a
end
`

// fuzzCheck fails on a "bad ..." result of the harness.
func fuzzCheck(t *testing.T, what, got string) {
	t.Helper()
	if strings.HasPrefix(got, "bad") {
		t.Fatalf("%s: %s", what, got)
	}
}

// FuzzHTTPResponse serves arbitrary bytes as the response to a GET, HEAD
// or POST of socket.http.request and copas.http.request (status line,
// headers, chunked, by-length and until-closed bodies, trailers,
// redirects to empty peers, HTTP/0.9). Properties: the request returns 1,
// a code, lower-case string headers, an HTTP status and a body no longer
// than the input, or nil and a message; it never raises, panics or hangs;
// the result does not depend on how the bytes are cut into reads.
func FuzzHTTPResponse(f *testing.F) {
	worker := fuzzWorker(f)
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), []byte{3, 7}, byte(0))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX: a\r\n b\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: t\r\n\r\n"), []byte{20, 1, 1}, byte(1))
	f.Add([]byte("HTTP/1.0 301 Moved\r\nLocation: /c?d\r\n\r\n"), []byte{}, byte(0))
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No\r\n\r\n"), []byte{30}, byte(8))
	f.Add([]byte("hello, 0.9"), []byte{2}, byte(2))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nab"), []byte{}, byte(0))
	for _, n := range []string{"-5", "0x10", " 5 ", "1e309", "nan", "5, 5"} {
		f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: "+n+"\r\n\r\nhello world"), []byte{}, byte(0))
		f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"+n+"\r\nhello world\r\n0\r\n\r\n"), []byte{}, byte(1))
	}
	f.Fuzz(func(t *testing.T, data, cuts []byte, flags byte) {
		if len(data) > fuzzMax {
			return
		}
		r := worker(t)
		got := fuzzCall(t, r, "fuzz_http", string(data), string(cuts), int(flags))
		fuzzCheck(t, "fuzz_http", got)
		whole := fuzzCall(t, r, "fuzz_http", string(data), "", int(flags))
		if whole != got {
			t.Fatalf("result depends on the reads:\n  in pieces %v: %s\n  whole: %s", cuts, got, whole)
		}
	})
}

// FuzzTPReplies reads SMTP/FTP replies (socket.tp's check) from arbitrary
// bytes until one fails. Properties: every accepted reply starts with its
// three-digit code, failures are nil and a message, nothing raises,
// panics or hangs, and the replies do not depend on how the bytes are cut.
func FuzzTPReplies(f *testing.F) {
	worker := fuzzWorker(f)
	f.Add([]byte("220 hi\r\n250-a\r\n250-b\r\n250 c\r\n354 go\r\n"), []byte{4})
	f.Add([]byte("220-x\r\n220x\r\n220 \r\n999 z\n000 a\r\n12 short\r\n"), []byte{1, 1, 1})
	f.Add([]byte("250-unterminated\r\n"), []byte{})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		if len(data) > fuzzMax {
			return
		}
		r := worker(t)
		got := fuzzCall(t, r, "fuzz_tp", string(data), string(cuts))
		fuzzCheck(t, "fuzz_tp", got)
		if whole := fuzzCall(t, r, "fuzz_tp", string(data), ""); whole != got {
			t.Fatalf("replies depend on the reads:\n  in pieces %v: %s\n  whole: %s", cuts, got, whole)
		}
	})
}

// FuzzMailFTP runs smtp.send, ftp.get, ftp.put and ftp.command against a
// server that answers with arbitrary bytes (control) and, for transfers,
// a data connection with arbitrary bytes. Properties: each returns a
// result or nil and a message and never raises, panics or hangs; a
// download is no longer than the input; the outcome does not depend on
// how the bytes are cut into reads.
func FuzzMailFTP(f *testing.F) {
	worker := fuzzWorker(f)
	smtpOK := "220 hi\r\n250-fuzz\r\n250 AUTH PLAIN LOGIN\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 ok\r\n221 bye\r\n"
	f.Add([]byte(smtpOK), []byte(""), []byte{5}, byte(0))
	f.Add([]byte("220 hi\r\n250 AUTH LOGIN\r\n334 VXNlcg==\r\n334 UGFzcw==\r\n235 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 ok\r\n221 bye\r\n"), []byte(""), []byte{}, byte(4))
	ftpOK := "220 hi\r\n331 pass\r\n230 in\r\n229 ok (|||2121|)\r\n150 here\r\n226 done\r\n221 bye\r\n"
	f.Add([]byte(ftpOK), []byte("file data"), []byte{9}, byte(1))
	f.Add([]byte("220 hi\r\n230 in\r\n200 type\r\n500 no epsv\r\n227 ok (127,0,0,1,8,9)\r\n150 here\r\n226 done\r\n221 bye\r\n"), []byte("x"), []byte{}, byte(5))
	f.Add([]byte("220 hi\r\n230 in\r\n229 ok (|||2121|)\r\n150 here\r\n226 done\r\n221 bye\r\n"), []byte(""), []byte{}, byte(2))
	f.Add([]byte("220 hi\r\n230 in\r\n211 status\r\n221 bye\r\n"), []byte(""), []byte{}, byte(3))
	f.Fuzz(func(t *testing.T, control, datapeer, cuts []byte, flags byte) {
		if len(control)+len(datapeer) > fuzzMax {
			return
		}
		r := worker(t)
		got := fuzzCall(t, r, "fuzz_mail", string(control), string(datapeer), string(cuts), int(flags))
		fuzzCheck(t, "fuzz_mail", got)
		whole := fuzzCall(t, r, "fuzz_mail", string(control), string(datapeer), "", int(flags))
		if whole != got {
			t.Fatalf("outcome depends on the reads:\n  in pieces %v: %s\n  whole: %s", cuts, got, whole)
		}
	})
}

// FuzzURL parses arbitrary strings with socket.url. Properties: parse
// fails only on the empty string; parse(build(parse(s))) has the fields
// of parse(s) and build is a fixed point from the second round; absolute(base, s) is a string
// for a string or table base; unescape(escape(s)) is s; parse_path and
// build_path round-trip; nothing raises, panics or hangs.
func FuzzURL(f *testing.F) {
	worker := fuzzWorker(f)
	for _, s := range []string{
		"http://user:pass@host:8080/a/b;p?q=1#f", "//h", "/a/../b/./c", "?x", "#y", ";p",
		"http://[::1]:80/", "mailto:x@y", "a:b:c", "http://h/%41%zz", "http://u@:1", "", "..",
		"http://[v]:", "s://a@b@c:d:e/",
	} {
		f.Add(s, "http://a/b/c/d;p?q")
	}
	f.Add("../../g", "http://h/../")
	f.Fuzz(func(t *testing.T, s, base string) {
		if len(s)+len(base) > 4096 {
			return
		}
		got := fuzzCall(t, worker(t), "fuzz_url", s, base)
		fuzzCheck(t, "fuzz_url", got)
	})
}
