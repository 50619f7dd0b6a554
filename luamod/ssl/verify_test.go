//go:build linux

package ssl_test

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/copas-lua/copas-lua/luamod/ssl"
	"go.uber.org/goleak"
)

// verifyScript asks a local HTTPS server (certificate from a throw-away
// CA that no system trusts) through ssl.https, with and without verify in
// the parameters, and records the outcomes in RESULTS.
const verifyScript = prelude + `
local https = require "ssl.https"
local ltn12 = require "ltn12"
local srv, port = listen(function(skt)
  while true do
    local l = skt:receive()
    if not l or l == "" then break end
  end
  skt:send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
end, server_params("good"))
local url = "https://127.0.0.1:" .. port .. "/"
RESULTS = {}
copas.addthread(function()
  -- no verify in the parameters: the default
  local body, code = https.request(url)
  RESULTS.default = tostring(body) .. " " .. tostring(code)
  -- verify chosen: LuaSec's message, no hint
  local _, err = https.request({ url = url, verify = "peer", cafile = DIR2 .. "/other.pem" })
  RESULTS.peer = tostring(err)
  -- verify = "none" always works
  body = https.request({ url = url, verify = "none", sink = function() return 1 end })
  RESULTS.none = tostring(body)
  -- the right CA verifies
  local parts = {}
  body, code = https.request({ url = url, verify = "peer", cafile = DIR .. "/ca.pem", sink = ltn12.sink.table(parts) })
  RESULTS.ca = table.concat(parts) .. " " .. tostring(code)
  -- plain ssl.newcontext never verifies by default (as LuaSec)
  local skt = copas.wrap(socket.tcp(), client_params())
  RESULTS.plain = tostring(skt:connect("127.0.0.1", port) ~= nil)
  skt:close()
  copas.removeserver(srv)
  DONE = true
end)
`

const hint = ` (set verify = "none" in the ssl params, or COPAS_LUA_TLS_VERIFY=none in the environment, to skip verification)`

func runVerify(t *testing.T) map[string]string {
	t.Helper()
	p := newPKI(t, "ca")
	other := newPKI(t, "other")
	p.leaf(t, "good", "localhost", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	return runResults(t, verifyScript, p.dir, other.dir)
}

func TestDefaultVerifyHint(t *testing.T) {
	defer goleak.VerifyNone(t)
	if !ssl.DefaultVerify() {
		t.Skip("COPAS_LUA_TLS_VERIFY=none in the environment")
	}
	got := runVerify(t)
	want := map[string]string{
		"default": "nil certificate verify failed" + hint,
		"peer":    "certificate verify failed",
		"none":    "1",
		"ca":      "ok 200",
		"plain":   "true",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
}

func TestSetDefaultVerify(t *testing.T) {
	defer goleak.VerifyNone(t)
	defer ssl.SetDefaultVerify(map[bool]string{true: "peer", false: "none"}[ssl.DefaultVerify()])
	if ssl.SetDefaultVerify("sometimes") {
		t.Error(`SetDefaultVerify("sometimes") accepted`)
	}
	if !ssl.SetDefaultVerify("none") || ssl.DefaultVerify() {
		t.Fatal(`SetDefaultVerify("none") did not take`)
	}
	got := runVerify(t)
	// LuaSec's default: no verification, unless the parameters ask
	if got["default"] != "ok 200" || got["peer"] != "certificate verify failed" || got["ca"] != "ok 200" {
		t.Errorf("with none: %v", got)
	}
	if !ssl.SetDefaultVerify("peer") || !ssl.DefaultVerify() {
		t.Fatal(`SetDefaultVerify("peer") did not take`)
	}
}

// TestVerifyEnv checks that COPAS_LUA_TLS_VERIFY is read when the package
// loads: the test binary runs itself with the variable set.
func TestVerifyEnv(t *testing.T) {
	if os.Getenv("COPAS_LUA_VERIFY_CHILD") == "1" {
		if ssl.DefaultVerify() {
			t.Fatal("COPAS_LUA_TLS_VERIFY=none not honoured")
		}
		return
	}
	for _, v := range []string{"none", "NONE", " none "} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestVerifyEnv$", "-test.count=1")
		cmd.Env = append(os.Environ(), "COPAS_LUA_VERIFY_CHILD=1", ssl.VerifyEnv+"="+v)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s=%q: %v\n%s", ssl.VerifyEnv, v, err, out)
		}
	}
}
