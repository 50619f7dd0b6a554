//go:build linux

package ssl_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
	"github.com/copas-lua/copas-lua/luamod/ssl"
	lua "github.com/yuin/gopher-lua"
	"go.uber.org/goleak"
)

// pki writes a throw-away CA, leaf certificates and keys to a temp dir.
type pki struct {
	dir    string
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	serial int64
}

func newPKI(t *testing.T, name string) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p.caCert, _ = x509.ParseCertificate(der)
	p.caKey = key
	p.serial = 1
	p.write(t, name+".pem", "CERTIFICATE", der)
	return p
}

func (p *pki) write(t *testing.T, file, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, file)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// leaf issues a certificate for cn (also its DNS SAN) valid from nb to na
// and writes name.pem / name.key.
func (p *pki) leaf(t *testing.T, name, cn string, nb, na time.Time) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"copas-lua"}},
		NotBefore: nb, NotAfter: na, DNSNames: []string{cn}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	p.write(t, name+".pem", "CERTIFICATE", der)
	kder, _ := x509.MarshalECPrivateKey(key)
	p.write(t, name+".key", "EC PRIVATE KEY", kder)
}

// run executes src in a fresh runtime (DIR and DIR2 set to the PKI
// directories), then the loop, with a deadline so a stuck loop fails.
func run(t *testing.T, src string, dirs ...string) {
	t.Helper()
	runInspect(t, src, nil, dirs...)
}

// runResults is run, returning the script's global table RESULTS.
func runResults(t *testing.T, src string, dirs ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	runInspect(t, src, func(L *lua.LState) {
		if tb, ok := L.GetGlobal("RESULTS").(*lua.LTable); ok {
			tb.ForEach(func(k, v lua.LValue) { out[k.String()] = v.String() })
		}
	}, dirs...)
	return out
}

// runInspect is run; inspect (if not nil) sees the state after the loop.
func runInspect(t *testing.T, src string, inspect func(*lua.LState), dirs ...string) {
	t.Helper()
	r := copaslua.New()
	defer func() {
		// Connections a script dropped are closed by their GC cleanup.
		r.Close()
		r = nil
		for i := 0; i < 3; i++ {
			runtime.GC()
			time.Sleep(20 * time.Millisecond)
		}
	}()
	ssl.Preload(r.State())
	for i, d := range dirs {
		name := "DIR"
		if i > 0 {
			name = "DIR2"
		}
		r.State().SetGlobal(name, lua.LString(d))
	}
	if err := r.DoString(src); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.Run(ctx); err != nil {
		t.Fatalf("loop: %v", err)
	}
	if r.State().GetGlobal("DONE") != lua.LTrue {
		t.Fatal("script did not finish (DONE not set)")
	}
	if inspect != nil {
		inspect(r.State())
	}
}

const prelude = `
local copas = require "copas"
local socket = require "socket"
local ssl = require "ssl"
local function server_params(name, extra)
  local p = { mode = "server", protocol = "any", certificate = DIR .. "/" .. name .. ".pem", key = DIR .. "/" .. name .. ".key" }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end
local function client_params(extra)
  local p = { mode = "client", protocol = "any" }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end
local function listen(handler, params)
  local srv = assert(socket.bind("127.0.0.1", 0))
  local _, port = srv:getsockname()
  copas.addserver(srv, copas.handler(handler, params))
  return srv, tonumber(port)
end
local function echo(skt)
  while true do
    local l, err = skt:receive()
    if not l then return end
    skt:send(l .. "\n")
  end
end
copas.setErrorHandler(function() end, true)
`

func TestEchoSNIAndCertificates(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := newPKI(t, "ca")
	p.leaf(t, "a", "a.test", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	p.leaf(t, "b", "b.test", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	run(t, prelude+`
local srv, port = listen(echo, { wrap = server_params("a"), sni = { strict = true, names = {
  ["a.test"] = ssl.newcontext(server_params("a")), ["b.test"] = ssl.newcontext(server_params("b")) } } })
copas.addthread(function()
  for _, host in ipairs({ "a.test", "b.test" }) do
    local skt = copas.wrap(socket.tcp(), { wrap = client_params({ verify = "peer", cafile = DIR .. "/ca.pem" }), sni = { names = host } })
    assert(skt:connect("127.0.0.1", port))
    local raw = skt.socket
    assert(tostring(raw):match("^SSL connection: "))
    local cert = assert(raw:getpeercertificate())
    local cn
    for _, e in ipairs(cert:subject()) do if e.name == "commonName" then cn = e.value end end
    assert(cn == host, "certificate for " .. tostring(cn))
    assert(cert:extensions()["2.5.29.17"].dNSName[1] == host)
    assert(raw:getpeerverification() == true)
    assert(raw:getsniname() == host)
    assert(raw:info("protocol") == "TLSv1.3", raw:info("protocol"))
    assert(#raw:getpeerchain() == 1)
    local big = string.rep("x", 100000)
    assert(skt:send(big .. "\n") == #big + 1)
    assert(skt:receive() == big)
    assert(skt:send("hello\n"))
    assert(skt:receive() == "hello")
    skt:close()
  end
  -- strict SNI: an unknown name is refused
  local skt = copas.wrap(socket.tcp(), { wrap = client_params(), sni = { names = "c.test" } })
  local ok, err = pcall(skt.connect, skt, "127.0.0.1", port)
  assert(not ok and tostring(err):match("TLS/SSL handshake failed: tlsv1 unrecognized name"), tostring(err))
  copas.removeserver(srv)
  DONE = true
end)
`, p.dir)
}

func TestVerificationFailures(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := newPKI(t, "ca")
	other := newPKI(t, "other")
	p.leaf(t, "good", "localhost", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	p.leaf(t, "expired", "localhost", time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	p.leaf(t, "client", "client", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	run(t, prelude+`
local errors = {}
local function failing(skt) echo(skt) end
local srv, port = listen(echo, server_params("good"))
local srv2, port2 = listen(echo, server_params("expired"))
local mtls = server_params("good", { verify = { "peer", "fail_if_no_peer_cert" }, cafile = DIR .. "/ca.pem", protocol = "tlsv1_2" })
local handshake_errors = {}
local srv3 = assert(socket.bind("127.0.0.1", 0))
local _, port3 = srv3:getsockname()
copas.addserver(srv3, function(skt)
  local s, err = pcall(copas.dohandshake, skt, mtls)
  if s then echo(err) else handshake_errors[#handshake_errors + 1] = tostring(err) end
end)
local function try(port, params)
  local skt = copas.wrap(socket.tcp(), params)
  local ok, err = pcall(skt.connect, skt, "127.0.0.1", port)
  if ok and err then
    local l, rerr = skt:send("ping\n") and skt:receive()
    skt:close()
    return l, rerr
  end
  return nil, tostring(err)
end
copas.addthread(function()
  -- wrong CA
  local _, err = try(port, client_params({ verify = "peer", cafile = DIR2 .. "/other.pem" }))
  assert(err:match("certificate verify failed"), err)
  -- right CA
  assert(try(port, client_params({ verify = "peer", cafile = DIR .. "/ca.pem" })) == "ping")
  -- expired, verified
  local _, err = try(port2, client_params({ verify = "peer", cafile = DIR .. "/ca.pem" }))
  assert(err:match("certificate verify failed"), err)
  -- expired, not verified: getpeerverification tells why
  local skt = copas.wrap(socket.tcp(), client_params({ verify = "none", cafile = DIR .. "/ca.pem" }))
  assert(skt:connect("127.0.0.1", port2))
  local ok, why = skt.socket:getpeerverification()
  assert(ok == false and why == "certificate has expired", tostring(why))
  skt:close()
  -- lsec_continue: verification failure recorded, handshake succeeds
  local skt = copas.wrap(socket.tcp(), client_params({ verify = "peer", verifyext = "lsec_continue", cafile = DIR2 .. "/other.pem" }))
  assert(skt:connect("127.0.0.1", port))
  local ok, t = skt.socket:getpeerverification()
  assert(ok == false and t[1][1] == "unable to get local issuer certificate", tostring(t))
  skt:close()
  -- mTLS accepted
  assert(try(port3, client_params({ certificate = DIR .. "/client.pem", key = DIR .. "/client.key" })) == "ping")
  -- mTLS rejected: no certificate
  local _, err = try(port3, client_params())
  assert(err:match("handshake failed") or err:match("alert"), err)
  copas.pause(0.1)
  assert(handshake_errors[1] and handshake_errors[1]:match("peer did not return a certificate"), tostring(handshake_errors[1]))
  copas.removeserver(srv); copas.removeserver(srv2); copas.removeserver(srv3)
  DONE = true
end)
`, p.dir, other.dir)
}

func TestGarbageAndStall(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := newPKI(t, "ca")
	p.leaf(t, "good", "localhost", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	run(t, prelude+`
-- a plain TCP peer that answers garbage, and one that never answers
local g = assert(socket.bind("127.0.0.1", 0)); local _, gport = g:getsockname()
copas.addserver(g, function(skt) skt = copas.wrap(skt); skt:receive(1); skt:send("HTTP/1.0 400 Bad\r\n\r\n"); copas.pause(0.2) end)
local st = assert(socket.bind("127.0.0.1", 0)); local _, sport = st:getsockname()
copas.addserver(st, function(skt) copas.pause(1.5) end)
-- a TLS server that gets garbage from its client
local errs = {}
local ts = assert(socket.bind("127.0.0.1", 0)); local _, tport = ts:getsockname()
copas.addserver(ts, function(skt)
  local ok, err = pcall(copas.dohandshake, skt, server_params("good"))
  errs[#errs + 1] = tostring(err)
end)
local ticks = 0
copas.addthread(function() for i = 1, 20 do copas.pause(0.05); ticks = ticks + 1 end end)
copas.addthread(function()
  local skt = copas.wrap(socket.tcp(), client_params())
  local ok, err = pcall(skt.connect, skt, "127.0.0.1", gport)
  assert(not ok and tostring(err):match("TLS/SSL handshake failed: wrong version number"), tostring(err))
  -- stalled peer: the handshake times out, the loop goes on
  local skt = copas.wrap(socket.tcp(), client_params())
  copas.settimeouts(skt.socket, 0.3, 0.3, 0.3)
  local t0 = socket.gettime()
  local ok, err = skt:connect("127.0.0.1", sport)
  assert(ok == nil and err == "timeout", tostring(err))
  assert(socket.gettime() - t0 < 1.2)
  assert(ticks >= 3, "loop stalled during handshake: " .. ticks)
  skt:close()
  -- garbage to a TLS server
  local c = copas.wrap(socket.tcp())
  assert(c:connect("127.0.0.1", tport))
  c:send("GET / HTTP/1.0\r\n\r\n")
  copas.pause(0.2)
  assert(errs[1] and errs[1]:match("handshake failed"), tostring(errs[1]))
  c:close()
  copas.removeserver(g); copas.removeserver(st); copas.removeserver(ts)
  DONE = true
end)
`, p.dir)
}

// TestBlockingOutsideTasks drives LuaSec's plain API against a Go TLS
// server: a zero-timeout handshake driven with select, blocking receive
// with a timeout ("wantread"), send, close.
func TestBlockingOutsideTasks(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := newPKI(t, "ca")
	p.leaf(t, "good", "localhost", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	pair, err := tls.LoadX509KeyPair(filepath.Join(p.dir, "good.pem"), filepath.Join(p.dir, "good.key"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, NextProtos: []string{"h2", "x"}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// Answer the ClientHello late, so the client's non-blocking
		// handshake must report wantread at least once (a fast loopback
		// peer could otherwise finish it within one call).
		time.Sleep(200 * time.Millisecond)
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		time.Sleep(300 * time.Millisecond) // the client's receive times out first
		c.Write(buf[:n])
		c.Read(buf) // until the client closes
	}()
	defer func() { ln.Close(); <-done }()
	port := ln.Addr().(*net.TCPAddr).Port
	run(t, `
local socket = require "socket"
local ssl = require "ssl"
local c = assert(socket.connect("127.0.0.1", `+itoa(port)+`))
local s = assert(ssl.wrap(c, { mode = "client", protocol = "tlsv1_2", verify = "peer", cafile = DIR .. "/ca.pem", alpn = { "x", "y" } }))
assert(c:getfd() == -1)
s:sni("localhost")
s:settimeout(0)
local steps = 0
while true do
  local ok, err = s:dohandshake()
  if ok then break end
  assert(err == "wantread" or err == "wantwrite", err)
  steps = steps + 1
  if err == "wantread" then socket.select({ s }, nil, 2) else socket.select(nil, { s }, 2) end
end
assert(steps > 0)
assert(s:getalpn() == "x", tostring(s:getalpn()))
assert(s:info("protocol") == "TLSv1.2")
assert(#s:exportkeyingmaterial("EXPERIMENTAL-test", 32) == 32)
assert(s:getfinished() and not s:getpeerfinished())
assert(s:send("hello\n") == 6)
s:settimeout(0.1)
local d, err, part = s:receive()
assert(d == nil and err == "wantread" and part == "", tostring(err))
s:settimeout(2)
assert(s:receive() == "hello")
assert(s:dirty() == false)
local r, s2, age = s:getstats()
assert(r == 6 and s2 == 6)
s:close()
assert(tostring(s):match("%(closed%)"))
local d, err = s:receive()
assert(d == nil and err == "closed")
assert(s:getfd() == -1)
DONE = true
`, p.dir)
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestContextErrors(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := newPKI(t, "ca")
	p.leaf(t, "good", "localhost", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	other := newPKI(t, "other")
	other.leaf(t, "x", "x", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	run(t, `
local ssl = require "ssl"
local function check(params, want)
  local ctx, err = ssl.newcontext(params)
  assert(ctx == nil and err == want, tostring(err) .. " ~= " .. want)
end
check({ mode = "server", protocol = "bogus" }, "invalid protocol (bogus)")
check({ mode = "client", protocol = "any", verify = "bogus" }, "invalid verify option (bogus)")
check({ mode = "client", protocol = "any", options = { "all", "bogus" } }, "invalid option (bogus)")
check({ mode = "client", protocol = "any", ciphers = "BOGUS" }, "error setting cipher list (no cipher match)")
check({ mode = "client", protocol = "any", curve = "bogus" }, "elliptic curve 'bogus' not supported")
check({ mode = "client", protocol = "any", curveslist = "P-256:bogus" }, 'unknown elliptic curve in "P-256:bogus"')
check({ mode = "client", protocol = "any", alpn = {} }, "invalid ALPN list (empty)")
check({ mode = "server", protocol = "any", certificate = DIR .. "/good.pem", key = DIR2 .. "/x.key" }, "private key does not match public key")
check({ mode = "client", protocol = "any", dhparam = 1 }, "invalid DH parameter type")
assert(ssl.newcontext({ mode = "client", protocol = "any", ciphers = "HIGH:!aNULL", ciphersuites = "TLS_AES_128_GCM_SHA256",
  options = { "all", "no_sslv2", "no_sslv3", "no_tlsv1", "cipher_server_preference" }, dhparam = function() end,
  curveslist = "X25519:P-256", depth = 3, verifyext = { "lsec_continue", "crl_check" } }))
local ctx = assert(ssl.newcontext({ mode = "server", protocol = "tlsv1_3", certificate = DIR .. "/good.pem", key = DIR .. "/good.key" }))
assert(tostring(ctx):match("^SSL context: "))
assert(ctx:setverifyext("lsec_continue") == true)
local x = assert(ssl.loadcertificate(io.open(DIR .. "/good.pem"):read("*a")))
assert(tostring(x):match("^X509 certificate: "))
assert(x:subject()[1].oid == "2.5.4.10" and x:subject()[2].name == "commonName" and x:subject()[2].value == "localhost")
assert(x:issuer()[1].value == "ca")
assert(x:serial() == "2", x:serial())
assert(x:notbefore():match("^%a%a%a [ %d]%d %d%d:%d%d:%d%d %d%d%d%d GMT$"))
assert(x:validat(os.time()) and not x:validat(0))
assert(#x:digest() == 40 and #x:digest("sha256") == 64)
local d, e = x:digest("md5"); assert(d == nil and e == "digest algorithm not supported (md5)")
local pk, typ, bits = x:pubkey(); assert(pk:match("BEGIN PUBLIC KEY") and typ == "EC" and bits == 256)
assert(x:getsignaturename() == "ecdsa-with-SHA256")
assert(x:extensions()["2.5.29.17"].iPAddress[1] == "127.0.0.1")
local ca = ssl.loadcertificate(io.open(DIR .. "/ca.pem"):read("*a"))
local oca = ssl.loadcertificate(io.open(DIR2 .. "/other.pem"):read("*a"))
assert(ca:issued(x) == true)
local ok, err = oca:issued(x); assert(ok == nil and err == "unable to get local issuer certificate")
assert(x:pem() == io.open(DIR .. "/good.pem"):read("*a"))
assert(x:setencode("utf8") == true and x:setencode("bogus") == false)
assert(ssl.loadcertificate("garbage") == nil)
assert(ssl.config.protocols.tlsv1_3 and ssl.config.capabilities.alpn and ssl.config.algorithms.ec and ssl.config.options.no_ticket and ssl.config.curves["P-256"])
local socket = require "socket"
local s = ssl.wrap(socket.tcp(), { mode = "client", protocol = "any" })
assert(s:getfd() == -1 and s:dirty() == false and s:want() == "nothing")
local ok, err = s:dohandshake(); assert(ok == false and err == "Bad file descriptor")
local d, err = s:receive(); assert(d == nil and err == "closed")
local ok, err = s:setdane("x"); assert(ok == nil and type(err) == "string")
local ok, err = s:settlsa(1, 1, 1, "x"); assert(ok == nil and type(err) == "string")
assert(s:getpeercertificate() == nil)
s:close()
local ok, err = s:dohandshake(); assert(ok == false and err == "closed")
DONE = true
`, p.dir, other.dir)
}
