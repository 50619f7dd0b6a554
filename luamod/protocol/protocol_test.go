package protocol_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
	lua "github.com/yuin/gopher-lua"
)

// runLua runs src in a fresh runtime with the given globals, then the
// loop. Code in Copas threads reports failures through the default error
// handler installed by the prelude (FAILED) and must set DONE.
func runLua(t *testing.T, globals map[string]any, src string, wantDone bool) {
	t.Helper()
	r := copaslua.New()
	defer r.Close()
	L := r.State()
	for k, v := range globals {
		switch v := v.(type) {
		case string:
			L.SetGlobal(k, lua.LString(v))
		case int:
			L.SetGlobal(k, lua.LNumber(v))
		}
	}
	prelude := `
local copas = require "copas"
local socket = require "socket"
copas.seterrorhandler(function(msg, co, skt) FAILED = tostring(msg) end, true)
function eq(got, want, what)
  if got ~= want then error(string.format("%s: got %s, want %s", what or "value", tostring(got), tostring(want)), 2) end
end
`
	if err := r.DoString(prelude + src); err != nil {
		t.Fatalf("%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := r.Run(ctx); err != nil {
		t.Fatalf("loop: %v", err)
	}
	if f := L.GetGlobal("FAILED"); f != lua.LNil {
		t.Fatalf("Lua thread failed: %s", f)
	}
	if wantDone && L.GetGlobal("DONE") != lua.LTrue {
		t.Fatalf("Lua thread did not finish (DONE not set)")
	}
}

func testServer(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Host", r.Host)
		w.Header().Set("X-UA", r.UserAgent())
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		io.WriteString(w, "hello world")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-TE", strings.Join(r.TransferEncoding, ","))
		w.Header().Set("X-CT", r.Header.Get("Content-Type"))
		w.Header().Set("X-Auth", r.Header.Get("Authorization"))
		w.Header().Set("X-Custom", r.Header.Get("X-Custom"))
		w.Header().Set("X-URI", r.RequestURI)
		w.Write(b)
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 5; i++ {
			fmt.Fprintf(w, "part%d;", i)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/large", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		chunked := r.URL.Query().Get("chunked") != ""
		if !chunked {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		buf := make([]byte, 64*1024)
		for i := range buf {
			buf[i] = byte('a' + i%26)
		}
		for n > 0 {
			k := min(n, len(buf))
			w.Write(buf[:k])
			n -= k
			if chunked {
				w.(http.Flusher).Flush()
			}
		}
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if n <= 0 {
			http.Redirect(w, r, "/hello", http.StatusFound)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/redirect?n=%d", n-1), http.StatusMovedPermanently)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
		io.WriteString(w, "late")
	})
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		w.WriteHeader(code)
	})
	mux.HandleFunc("/absredirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	mux.HandleFunc("/conn", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.RemoteAddr)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// rawServer answers every connection with the fixed bytes of reply.
func rawServer(t *testing.T, reply string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				c.SetReadDeadline(time.Now().Add(time.Second))
				c.Read(buf)
				io.WriteString(c, reply)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return "http://" + ln.Addr().String()
}

const httpChecks = `
local ltn12 = require "ltn12"
local function check_all(http)
  -- simple form
  local body, code, h, status = http.request(BASE .. "/hello")
  eq(body, "hello world", "simple body"); eq(code, 200, "code")
  eq(status, "HTTP/1.1 200 OK", "status line")
  eq(h["x-method"], "GET", "method"); eq(h["x-multi"], "a, b", "repeated header joined")
  eq(h["x-host"], HOSTPORT, "host header has the port")
  eq(h["content-length"], "11", "content-length")
  -- POST through the simple form
  body, code, h = http.request(BASE .. "/echo", "a=1&b=2")
  eq(body, "a=1&b=2", "post body"); eq(h["x-method"], "POST", "post method")
  eq(h["x-ct"], "application/x-www-form-urlencoded", "form content type")
  -- generic form: source without length goes chunked; sink; headers
  local t = {}
  local r
  r, code, h = http.request{ url = BASE .. "/echo?q=1", method = "PUT",
    source = ltn12.source.string(("x"):rep(10000)), sink = ltn12.sink.table(t),
    headers = { ["X-Custom"] = "yes" } }
  eq(r, 1, "generic result"); eq(code, 200, "generic code")
  eq(table.concat(t), ("x"):rep(10000), "echoed chunked body")
  eq(h["x-te"], "chunked", "request was chunked"); eq(h["x-custom"], "yes", "custom header")
  eq(h["x-uri"], "/echo?q=1", "request uri")
  -- basic auth from the url
  t = {}
  r, code, h = http.request{ url = "http://us%40r:p%3Aw@" .. HOSTPORT .. "/echo", sink = ltn12.sink.table(t) }
  eq(h["x-auth"], "Basic " .. require("mime").b64("us%40r:p:w"), "basic auth")
  -- chunked response
  body, code = http.request(BASE .. "/chunked")
  eq(body, "part0;part1;part2;part3;part4;", "chunked response")
  -- large bodies, by length and chunked
  for _, q in ipairs{ "", "&chunked=1" } do
    local n, size = 0, 3 * 1024 * 1024 + 17
    r, code = http.request{ url = BASE .. "/large?n=" .. size .. q,
      sink = function(chunk) if chunk then n = n + #chunk end return 1 end }
    eq(code, 200, "large code"); eq(n, size, "large size" .. q)
  end
  -- redirects
  body, code, h = http.request(BASE .. "/redirect?n=2")
  eq(body, "hello world", "redirected body"); eq(code, 200, "redirected code")
  body, code, h = http.request{ url = BASE .. "/redirect?n=0", redirect = false }
  eq(code, 302, "redirect=false"); eq(h.location, "/hello", "location kept")
  r, code, h = http.request{ url = BASE .. "/redirect?n=9", maxredirects = 2 }
  eq(code, 301, "maxredirects stops")
  r, code, h = http.request{ url = BASE .. "/redirect?n=9", sink = ltn12.sink.null() }
  eq(code, 301, "default limit is 5")
  -- HEAD and bodiless codes
  r, code, h = http.request{ url = BASE .. "/hello", method = "HEAD" }
  eq(code, 200, "head"); eq(h["content-length"], "11", "head length")
  body, code = http.request(BASE .. "/status?code=204")
  eq(code, 204, "204"); eq(body, "", "204 body")
  body, code = http.request(BASE .. "/status?code=404")
  eq(code, 404, "404 is not an error")
  -- errors
  body, code = http.request("http:///nohost")
  eq(body, nil, "no host"); eq(code, "invalid host 'nil'", "no host message")
  body, code = http.request("noscheme")
  eq(code, "invalid host 'nil'", "no url host message")
  body, code = http.request("http://127.0.0.1:" .. CLOSEDPORT .. "/")
  eq(body, nil, "refused"); eq(code, "connection refused", "refused message")
  body, code = http.request(BADSTATUS .. "/")
  eq(code, "HTTP/1.1 abc", "bad status line")
  body, code = http.request(BADHEADER .. "/")
  eq(code, "malformed response headers", "bad header")
  body, code = http.request(BADCHUNK .. "/")
  eq(code, "invalid chunk size", "bad chunk")
  body, code = http.request(HTTP09 .. "/")
  eq(body, "just some bytes", "HTTP/0.9 body"); eq(code, 200, "HTTP/0.9 code")
  body, code = http.request(TRUNCATED .. "/")
  eq(code, "closed", "truncated body")
end
`

func httpGlobals(t *testing.T) map[string]any {
	s := testServer(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return map[string]any{
		"BASE":       s.URL,
		"HOSTPORT":   strings.TrimPrefix(s.URL, "http://"),
		"CLOSEDPORT": closed,
		"BADSTATUS":  rawServer(t, "HTTP/1.1 abc\r\n\r\n"),
		"BADHEADER":  rawServer(t, "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"),
		"BADCHUNK":   rawServer(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
		"HTTP09":     rawServer(t, "just some bytes"),
		"TRUNCATED":  rawServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"),
	}
}

// socket.http from the main script blocks, as in LuaSocket.
func TestSocketHTTPBlocking(t *testing.T) {
	runLua(t, httpGlobals(t), httpChecks+`check_all(require "socket.http")`, false)
}

// socket.http inside a Copas thread parks the thread.
func TestSocketHTTPInThread(t *testing.T) {
	runLua(t, httpGlobals(t), httpChecks+`
copas.addthread(function() check_all(require "socket.http"); DONE = true end)`, true)
}

func TestCopasHTTP(t *testing.T) {
	runLua(t, httpGlobals(t), httpChecks+`
copas.addthread(function() check_all(copas.http); DONE = true end)`, true)
}

// Many requests at once from threads, interleaved with a ticking thread
// (the loop is never blocked).
func TestCopasHTTPConcurrent(t *testing.T) {
	runLua(t, httpGlobals(t), `
local n, ticks, running = 0, 0, true
for i = 1, 50 do
  copas.addthread(function()
    local body, code = copas.http.request(BASE .. "/large?n=200000&chunked=1")
    eq(code, 200, "code"); eq(#body, 200000, "size")
    n = n + 1
    if n == 50 then running = false end
  end)
end
copas.addthread(function() while running do ticks = ticks + 1; copas.pause(0) end DONE = true end)
`, true)
}

func TestHTTPTimeouts(t *testing.T) {
	g := httpGlobals(t)
	runLua(t, g, `
local http = require "socket.http"
http.TIMEOUT = 0.3
local t0 = socket.gettime()
local body, err = http.request(BASE .. "/slow")
eq(body, nil, "socket.http timeout"); eq(err, "timeout", "socket.http timeout message")
assert(socket.gettime() - t0 < 2, "timeout took too long")
http.TIMEOUT = 60
copas.addthread(function()
  local t1 = socket.gettime()
  local r, e = copas.http.request{ url = BASE .. "/slow", timeout = 0.3 }
  eq(r, nil, "copas timeout"); eq(e, "timeout", "copas timeout message")
  r, e = copas.http.request{ url = BASE .. "/slow", timeout = { connect = 1, send = 1, receive = 0.3 } }
  eq(e, "timeout", "copas table timeout")
  local ok, msg = pcall(copas.http.request, { url = BASE .. "/hello", timeout = { bogus = 1 } })
  assert(not ok and tostring(msg):find("'bogus' is not a valid timeout option"), tostring(msg))
  assert(socket.gettime() - t1 < 3, "copas timeouts took too long")
  DONE = true
end)
`, true)
}

// keep-alive is opt-in: connections are reused only when asked for.
func TestCopasHTTPKeepAlive(t *testing.T) {
	runLua(t, httpGlobals(t), `
copas.addthread(function()
  local a = copas.http.request(BASE .. "/conn")
  local b = copas.http.request(BASE .. "/conn")
  assert(a ~= b, "without keepalive every request has its own connection")
  local seen = {}
  for i = 1, 5 do
    local t = {}
    local r, code, h = copas.http.request{ url = BASE .. "/conn", keepalive = true, sink = ltn12.sink.table(t) }
    eq(code, 200, "keepalive code")
    seen[table.concat(t)] = true
  end
  local n = 0
  for _ in pairs(seen) do n = n + 1 end
  eq(n, 1, "keepalive reuses one connection")
  -- a stale pooled connection is replaced
  copas.http.KEEPALIVE = true
  local r1 = copas.http.request(BASE .. "/hello")
  eq(r1, "hello world", "pooled")
  copas.http.closeidle()
  eq(copas.http.request(BASE .. "/hello"), "hello world", "after closeidle")
  copas.http.KEEPALIVE = false
  copas.http.closeidle()
  DONE = true
end)
`, true)
}

func TestSMTP(t *testing.T) {
	s := startSMTP(t)
	runLua(t, map[string]any{"PORT": s.port()}, `
local smtp = require "socket.smtp"
local ltn12 = require "ltn12"
local mime = require "mime"
local function msg()
  return smtp.message{
    headers = { to = "<b@example.com>", subject = "hi" },
    body = {
      preamble = "preamble text",
      [1] = { body = "plain part\r\n.dot line" },
      [2] = { headers = { ["content-type"] = "text/html" }, body = ltn12.source.string("<b>html</b>") },
      [3] = {
        headers = { ["content-transfer-encoding"] = "BASE64" },
        body = ltn12.source.chain(ltn12.source.string(("z"):rep(100)),
          ltn12.filter.chain(mime.encode("base64"), mime.wrap("base64"))),
      },
      epilogue = "epilogue text",
    },
  }
end
local r, e = smtp.send{ from = "<a@example.com>", rcpt = { "<b@example.com>", "<c@example.com>" },
  source = msg(), server = "127.0.0.1", port = PORT, user = "u", password = "p" }
eq(r, 1, "smtp.send: " .. tostring(e))
r, e = smtp.send{ from = "<a@example.com>", rcpt = "<b@example.com>", source = msg(),
  server = "127.0.0.1", port = PORT, user = "u", password = "wrong" }
eq(r, nil, "bad auth fails"); assert(tostring(e):find("^535"), e)
copas.addthread(function()
  local r2, e2 = copas.smtp.send{ from = "<x@example.com>", rcpt = "<y@example.com>",
    source = smtp.message{ body = "from copas" }, server = "127.0.0.1", port = PORT }
  eq(r2, 1, "copas.smtp.send: " .. tostring(e2))
  DONE = true
end)
`, true)
	msgs := s.messages()
	if len(msgs) != 2 {
		t.Fatalf("got %d messages, want 2", len(msgs))
	}
	m := msgs[0]
	if m.from != "<a@example.com>" || len(m.rcpt) != 2 || m.user != "u" {
		t.Fatalf("envelope: %+v", m)
	}
	for _, want := range []string{"Subject: hi\r\n", "MIME-Version: 1.0\r\n", "multipart/mixed; boundary=",
		"preamble text\r\n", "plain part\r\n..dot line", "Content-Type: text/html", "<b>html</b>",
		"enp6", "epilogue text\r\n"} {
		if !strings.Contains(m.data, want) {
			t.Errorf("message lacks %q:\n%s", want, m.data)
		}
	}
	if !strings.Contains(msgs[1].data, "from copas") {
		t.Errorf("copas message: %q", msgs[1].data)
	}
}

func TestFTP(t *testing.T) {
	for _, noEPSV := range []bool{false, true} {
		t.Run(fmt.Sprintf("noEPSV=%v", noEPSV), func(t *testing.T) {
			big := strings.Repeat("0123456789", 50000)
			s := startFTP(t, map[string]string{"file.txt": "file contents\n", "big.bin": big}, noEPSV)
			runLua(t, map[string]any{"PORT": s.port(), "BIGSIZE": len(big)}, `
local ftp = require "socket.ftp"
local ltn12 = require "ltn12"
local base = "ftp://user:pw@127.0.0.1:" .. PORT
eq(ftp.get(base .. "/file.txt"), "file contents\n", "ftp.get simple")
eq(#ftp.get(base .. "/big.bin;type=i"), BIGSIZE, "ftp.get big")
local sent, e = ftp.put(base .. "/up.txt", "uploaded data")
eq(sent, 13, "ftp.put: " .. tostring(e))
local r, e2 = ftp.get(base .. "/missing")
eq(r, nil, "missing file"); assert(tostring(e2):find("^550"), e2)
r, e2 = ftp.command{ url = base, command = "site", argument = "chmod 644 up.txt", check = "2.." }
eq(r, 1, "ftp.command: " .. tostring(e2))
r, e2 = ftp.get("http://x/y")
eq(e2, "wrong scheme 'http'", "wrong scheme")
copas.addthread(function()
  eq(copas.ftp.get(base .. "/file.txt"), "file contents\n", "copas.ftp.get")
  local t = {}
  local ok, err = copas.ftp.get{ host = "127.0.0.1", port = PORT, path = "big.bin", sink = ltn12.sink.table(t), type = "i" }
  eq(ok, 1, "copas generic get: " .. tostring(err)); eq(#table.concat(t), BIGSIZE, "copas big")
  eq(copas.ftp.put{ host = "127.0.0.1", port = PORT, path = "c.txt", source = ltn12.source.string("from copas") }, 10, "copas.ftp.put")
  DONE = true
end)
`, true)
			if v, _ := s.file("up.txt"); v != "uploaded data" {
				t.Errorf("up.txt = %q", v)
			}
			if v, _ := s.file("c.txt"); v != "from copas" {
				t.Errorf("c.txt = %q", v)
			}
			if !noEPSV {
				for _, c := range s.commands() {
					if c == "PASV" {
						t.Errorf("PASV used although EPSV works")
					}
				}
			}
		})
	}
}

// connectProxy is an HTTP proxy that only does CONNECT, counting tunnels.
func connectProxy(t *testing.T) (string, *int32) {
	var tunnels int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		atomic.AddInt32(&tunnels, 1)
		w.WriteHeader(http.StatusOK)
		c, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		go func() { io.Copy(up, buf); up.Close() }()
		io.Copy(c, up)
		c.Close()
	}))
	t.Cleanup(func() { ln.Close() })
	return "http://" + ln.Addr().String(), &tunnels
}

func TestHTTPS(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(testServer(t).Config.Handler)
	t.Cleanup(tlsSrv.Close)
	plain := testServer(t)
	proxy, tunnels := connectProxy(t)
	runLua(t, map[string]any{"TLS": tlsSrv.URL, "PLAIN": plain.URL, "PROXY": proxy}, `
local ltn12 = require "ltn12"
-- socket.http goes through ssl.https for https URLs (which verifies
-- unless told not to: the test server's certificate is self-signed)
local st = {}
local one, code = require("socket.http").request{ url = TLS .. "/hello", verify = "none", sink = ltn12.sink.table(st) }
eq(table.concat(st), "hello world", "socket.http https: " .. tostring(code)); eq(code, 200, "code")
copas.addthread(function()
  -- copas.http verifies by default (Copas does not): the test server's
  -- certificate is self-signed
  local vok, verr = pcall(copas.http.request, TLS .. "/hello")
  eq(vok, false, "copas.http verifies by default")
  assert(tostring(verr):find("certificate verify failed", 1, true), tostring(verr))
  copas.http.SSLVERIFY = "none"
  local b, c = copas.http.request(TLS .. "/hello")
  eq(b, "hello world", "copas.http https: " .. tostring(c))
  local t = {}
  local r, c2, h2 = copas.http.request{ url = TLS .. "/echo", method = "POST",
    source = ltn12.source.string(("s"):rep(100000)), sink = ltn12.sink.table(t) }
  eq(c2, 200, "https post"); eq(#table.concat(t), 100000, "https echo size")
  -- http -> https redirect is followed; https -> http only with redirect = "all"
  r, c2 = copas.http.request{ url = TLS .. "/redirect?n=0" }
  eq(c2, 200, "https -> https redirect")
  local ok, err = copas.http.request{ url = TLS .. "/absredirect?to=" .. PLAIN .. "/hello" }
  eq(ok, nil, "https -> http refused"); eq(err, "Unallowed insecure redirect https to http", "refusal message")
  t = {}
  ok, c2 = copas.http.request{ url = TLS .. "/absredirect?to=" .. PLAIN .. "/hello", redirect = "all", sink = ltn12.sink.table(t) }
  eq(c2, 200, "redirect = all"); eq(table.concat(t), "hello world", "redirected to http")
  t = {}
  ok, c2 = copas.http.request{ url = PLAIN .. "/absredirect?to=" .. TLS .. "/hello", sink = ltn12.sink.table(t) }
  eq(c2, 200, "http -> https"); eq(table.concat(t), "hello world", "redirected to https")
  -- keep-alive over TLS
  local seen = {}
  for i = 1, 3 do
    t = {}
    copas.http.request{ url = TLS .. "/conn", keepalive = true, sink = ltn12.sink.table(t) }
    seen[table.concat(t)] = true
  end
  local n = 0 for _ in pairs(seen) do n = n + 1 end
  eq(n, 1, "keepalive over https")
  copas.http.closeidle()
  -- https through a CONNECT proxy (opt-in)
  t = {}
  ok, c2 = copas.http.request{ url = TLS .. "/hello", proxy = PROXY, tunnel = true, sink = ltn12.sink.table(t) }
  eq(c2, 200, "tunnel: " .. tostring(c2)); eq(table.concat(t), "hello world", "tunnel body")
  DONE = true
end)
`, true)
	if atomic.LoadInt32(tunnels) != 1 {
		t.Errorf("tunnels = %d, want 1", atomic.LoadInt32(tunnels))
	}
}
