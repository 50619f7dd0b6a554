package gluahttp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
	lua "github.com/yuin/gopher-lua"
)

func server(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Query", r.URL.RawQuery)
		w.Header().Set("X-Type", r.Header.Get("Content-Type"))
		w.Header().Set("X-Custom", r.Header.Get("X-Custom"))
		if c, err := r.Cookie("session"); err == nil {
			w.Header().Set("X-Cookie", c.Value)
		}
		if u, p, ok := r.BasicAuth(); ok {
			w.Header().Set("X-Auth", u+":"+p)
		}
		http.SetCookie(w, &http.Cookie{Name: "got", Value: "it"})
		w.WriteHeader(201)
		w.Write(b)
	})
	mux.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(300 * time.Millisecond):
		case <-r.Context().Done():
		}
		io.WriteString(w, "slept")
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/echo?from=redirect", http.StatusFound)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func run(t *testing.T, base string, src string) {
	t.Helper()
	r := copaslua.New()
	defer r.Close()
	L := r.State()
	L.SetGlobal("BASE", lua.LString(base))
	prelude := `
local copas = require "copas"
copas.seterrorhandler(function(msg) FAILED = tostring(msg) end, true)
function eq(got, want, what)
  if got ~= want then error(string.format("%s: got %s, want %s", what, tostring(got), tostring(want)), 2) end
end
`
	if err := r.DoString(prelude + src); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if f := L.GetGlobal("FAILED"); f != lua.LNil {
		t.Fatalf("Lua thread failed: %s", f)
	}
	if strings.Contains(src, "DONE = true") && L.GetGlobal("DONE") != lua.LTrue {
		t.Fatal("Lua thread did not finish")
	}
}

const checks = `
local http = require "http"
local function check_all()
  local r, err = http.get(BASE .. "/echo", { query = "a=1&b=2", headers = { ["X-Custom"] = "c" },
    cookies = { session = "s1" }, auth = { user = "u", pass = "p" } })
  assert(r, err)
  eq(r.status_code, 201, "status"); eq(r.headers["X-Query"], "a=1&b=2", "query")
  eq(r.headers["X-Custom"], "c", "header"); eq(r.headers["X-Cookie"], "s1", "cookie sent")
  eq(r.headers["X-Auth"], "u:p", "auth"); eq(r.cookies.got, "it", "cookie received")
  eq(r.body, "", "empty body"); eq(r.body_size, 0, "body_size"); eq(r.url, BASE .. "/echo?a=1&b=2", "url")
  r = assert(http.post(BASE .. "/echo", { form = "x=1&y=2" }))
  eq(r.body, "x=1&y=2", "form body"); eq(r.headers["X-Type"], "application/x-www-form-urlencoded", "form type")
  eq(r.headers["X-Method"], "POST", "post")
  for _, m in ipairs{ "put", "patch", "delete" } do
    r = assert(http[m](BASE .. "/echo", { body = "b-" .. m }))
    eq(r.headers["X-Method"], m:upper(), m); eq(r.body, "b-" .. m, m .. " body")
  end
  r = assert(http.head(BASE .. "/echo")); eq(r.headers["X-Method"], "HEAD", "head")
  r = assert(http.request("GET", BASE .. "/redirect")); eq(r.url, BASE .. "/echo?from=redirect", "final url")
  r = assert(http.request("post", BASE .. "/echo", { body = "lower-case method" }))
  eq(r.headers["X-Method"], "POST", "method upper-cased")
  r, err = http.get(BASE .. "/sleep", { timeout = 0.05 })
  eq(r, nil, "timeout"); eq(err, "timeout", "timeout message")
  r, err = http.get(BASE .. "/sleep", { timeout = "50ms" })
  eq(r, nil, "string timeout"); eq(err, "timeout", "string timeout message")
  r, err = http.get("::not a url")
  eq(r, nil, "bad url"); eq(err, "invalid url '::not a url'", "bad url message")
  r, err = http.get("http://127.0.0.1:1/")
  eq(r, nil, "refused"); eq(err, "connection refused", "refused message")
  local rs, errs = http.request_batch{
    { "GET", BASE .. "/echo", { query = "n=1" } },
    { "POST", BASE .. "/echo", { body = "two" } },
    { "GET", "http://127.0.0.1:1/" },
  }
  eq(rs[1].headers["X-Query"], "n=1", "batch 1"); eq(rs[2].body, "two", "batch 2")
  eq(rs[3], nil, "batch failure"); assert(errs[3]:find("connection refused"), errs[3])
  eq(errs[1], nil, "no error for 1")
  -- option tables are mapped with gluamapper: wrong types are errors
  r, err = http.get(BASE .. "/echo", { headers = 5 })
  eq(r, nil, "bad headers type"); assert(err:find("bad option") and err:find("eaders"), err)
  r, err = http.get(BASE .. "/echo", { auth = "u:p" })
  eq(r, nil, "bad auth type"); assert(err:find("bad option"), err)
  rs, errs = http.request_batch{ { "GET", BASE .. "/echo" } }
  eq(errs, nil, "no errors table when all succeed"); eq(rs[1].status_code, 201, "batch ok")
end
`

func TestBlocking(t *testing.T) {
	run(t, server(t).URL, checks+"check_all()")
}

func TestInThread(t *testing.T) {
	run(t, server(t).URL, checks+"copas.addthread(function() check_all(); DONE = true end)")
}

// Ten threads each waiting 300 ms on the server finish together: requests
// run off the loop.
func TestConcurrentThreads(t *testing.T) {
	run(t, server(t).URL, `
local http = require "http"
local socket = require "socket"
local t0, n = socket.gettime(), 0
for i = 1, 10 do
  copas.addthread(function()
    local r = assert(http.get(BASE .. "/sleep"))
    eq(r.body, "slept", "body")
    n = n + 1
    if n == 10 then
      local dt = socket.gettime() - t0
      assert(dt < 2, "requests were serialized: " .. dt)
      DONE = true
    end
  end)
end
copas.addthread(function()
  local rs = http.request_batch{ { "GET", BASE .. "/sleep" }, { "GET", BASE .. "/sleep" } }
  eq(#rs, 2, "batch in thread")
end)
`)
}

// A thread removed while its request runs releases the loop at once.
func TestRemovedThread(t *testing.T) {
	run(t, server(t).URL, `
local http = require "http"
local co = copas.addthread(function() http.get(BASE .. "/sleep"); FAILED = "not removed" end)
copas.addthread(function() copas.pause(0.05); copas.removethread(co); DONE = true end)
`)
}
