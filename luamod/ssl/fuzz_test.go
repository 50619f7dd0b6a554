//go:build linux

package ssl_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
	lua "github.com/yuin/gopher-lua"
)

// paramKeys are the fields ssl.newcontext reads (and one it does not).
var paramKeys = []string{
	"protocol", "mode", "key", "certificate", "password", "certificates", "cafile", "capath",
	"ciphers", "ciphersuites", "verify", "options", "depth", "dhparam", "curve", "curveslist",
	"verifyext", "alpn", "checkhostname", "unknown",
}

// paramWords are strings that mean something to ssl.newcontext; the
// "@name" entries are replaced by paths of fuzzFiles.
var paramWords = []string{
	"any", "tlsv1", "tlsv1_1", "tlsv1_2", "tlsv1_3", "sslv23", "sslv3", "server", "client",
	"none", "peer", "client_once", "fail_if_no_peer_cert", "all", "no_tlsv1", "no_tlsv1_3",
	"no_sslv3", "single_ecdh_use", "cipher_server_preference", "DEFAULT", "HIGH:!aNULL:!MD5",
	"ECDHE-ECDSA-AES128-GCM-SHA256", "ALL:@STRENGTH", "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256",
	"P-256", "prime256v1", "secp384r1", "X25519:P-384", "lsec_continue", "lsec_ignore_purpose",
	"crl_check", "h2", "http/1.1", "pw", "", "0x10", " 3 ", "1e308",
	"@cert", "@key", "@enckey", "@ca", "@dir", "@empty", "@missing", "@garbage",
}

// fuzzFiles writes the files the parameters may name: a certificate and
// its key (also encrypted with password "pw"), a directory, an empty file
// and a file of garbage.
func fuzzFiles(f *testing.F) map[string]string {
	dir := f.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fuzz.invalid"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, DNSNames: []string{"fuzz.invalid"},
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		f.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	//lint:ignore SA1019 the legacy encrypted PEM that OpenSSL reads
	enc, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", kder, []byte("pw"), x509.PEMCipherAES128)
	if err != nil {
		f.Fatal(err)
	}
	files := map[string]string{
		"@cert":    string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		"@key":     string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})),
		"@enckey":  string(pem.EncodeToMemory(enc)),
		"@empty":   "",
		"@garbage": "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
	}
	paths := map[string]string{"@dir": dir, "@missing": filepath.Join(dir, "missing")}
	for name, content := range files {
		p := filepath.Join(dir, name[1:]+".pem")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			f.Fatal(err)
		}
		paths[name] = p
	}
	paths["@ca"] = paths["@cert"]
	return paths
}

// paramFuncs are the functions a parameter may be: a password callback
// giving the right password, nothing, a table, or raising.
const paramFuncs = `
return {
  function() return "pw" end,
  function() end,
  function() return {} end,
  function() error("callback failed") end,
  function() error({}) end,
}
`

// tableDecoder builds a Lua value from fuzz bytes.
type tableDecoder struct {
	L     *lua.LState
	b     []byte
	paths map[string]string
	funcs *lua.LTable
}

func (d *tableDecoder) byte() byte {
	if len(d.b) == 0 {
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// value decodes one value: nil, booleans, numbers (small, special or
// eight raw bytes), words, raw strings, functions and nested tables.
func (d *tableDecoder) value(depth int) lua.LValue {
	switch k := d.byte(); k % 11 {
	case 0:
		return lua.LNil
	case 1:
		return lua.LBool(k&16 != 0)
	case 2:
		return lua.LNumber(int(d.byte()) - 64)
	case 3:
		return lua.LNumber([]float64{math.NaN(), math.Inf(1), math.Inf(-1), 1 << 53, 1e300, -0.5, 2147483648}[int(d.byte())%7])
	case 4:
		var raw [8]byte
		for i := range raw {
			raw[i] = d.byte()
		}
		return lua.LNumber(math.Float64frombits(binary.LittleEndian.Uint64(raw[:])))
	case 5, 6, 7:
		w := paramWords[int(d.byte())%len(paramWords)]
		if p, ok := d.paths[w]; ok {
			w = p
		}
		return lua.LString(w)
	case 8:
		n := min(int(d.byte()), len(d.b))
		s := string(d.b[:n])
		d.b = d.b[n:]
		return lua.LString(s)
	case 9:
		return d.funcs.RawGetInt(1 + int(d.byte())%d.funcs.Len())
	default:
		if depth >= 3 {
			return lua.LString("deep")
		}
		return d.table(depth + 1)
	}
}

// table decodes a table: list elements and then fields keyed by the
// parameter names, a count byte each.
func (d *tableDecoder) table(depth int) *lua.LTable {
	t := d.L.NewTable()
	for n := int(d.byte() % 8); n > 0; n-- {
		t.Append(d.value(depth))
	}
	for n := int(d.byte() % 16); n > 0; n-- {
		t.RawSetString(paramKeys[int(d.byte())%len(paramKeys)], d.value(depth))
	}
	return t
}

// FuzzNewContext calls ssl.newcontext with parameter tables decoded from
// the input (right and wrong types for every field, nested certificate
// lists, files that exist, are empty, garbage, encrypted or missing,
// password callbacks that return or raise). Properties: it returns a
// context, or nil and a message (or nil: LuaSec's silent ALPN failure),
// or raises a Lua error with a string message; never a Go panic or a
// hang; the runtime still makes a context afterwards. One runtime per
// fuzz worker; inputs beyond 4 KiB are skipped.
//
// Run longer with
//
//	go test -run '^$' -fuzz '^FuzzNewContext$' -parallel 1 -fuzztime 10m ./luamod/ssl/
func FuzzNewContext(f *testing.F) {
	paths := fuzzFiles(f)
	var r *copaslua.Runtime
	var check *lua.LFunction
	var funcTable *lua.LTable
	f.Cleanup(func() {
		if r != nil {
			r.Close()
		}
	})
	f.Add([]byte{})
	f.Add(seedParams("protocol", "any", "mode", "server", "key", "@key", "certificate", "@cert"))
	f.Add(seedParams("protocol", "tlsv1_2", "mode", "server", "key", "@enckey", "password", "pw",
		"certificate", "@cert", "cafile", "@ca", "verify", "peer", "options", "all"))
	f.Add(seedParams("protocol", "any", "mode", "client", "capath", "@dir", "cafile", "@garbage",
		"ciphers", "DEFAULT", "curveslist", "X25519:P-384", "alpn", "h2", "verifyext", "lsec_continue"))
	f.Add(seedParams("protocol", "sslv23", "mode", "client", "key", "@missing", "depth", " 3 "))
	withCallback := seedParams("protocol", "any", "mode", "server", "key", "@enckey", "certificate", "@cert")
	withCallback[1]++ // one more field: password = the first callback
	f.Add(append(withCallback, byte(indexOf(paramKeys, "password")), 9, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		if r == nil {
			r = copaslua.New()
			L := r.State()
			if err := L.DoString(`
local ssl = require "ssl"
return function(params)
  local ok, ctx, msg = pcall(ssl.newcontext, params)
  if not ok then
    if type(ctx) ~= "string" then return "bad: raised a " .. type(ctx) end
    return "raised " .. ctx
  end
  if ctx == nil then
    if msg ~= nil and type(msg) ~= "string" then return "bad: message " .. tostring(msg) end
    return "fail " .. tostring(msg)
  end
  if type(ctx) ~= "userdata" then return "bad: context " .. tostring(ctx) end
  return "ok"
end`); err != nil {
				t.Fatal(err)
			}
			check = L.Get(-1).(*lua.LFunction)
			L.Pop(1)
			if err := L.DoString(paramFuncs); err != nil {
				t.Fatal(err)
			}
			funcTable = L.Get(-1).(*lua.LTable)
			L.Pop(1)
		}
		L := r.State()
		d := &tableDecoder{L: L, b: data, paths: paths, funcs: funcTable}
		params := d.table(0)
		res := call1(t, L, check, params)
		if strings.HasPrefix(res, "bad") {
			t.Fatalf("newcontext: %s", res)
		}
		good := L.NewTable()
		good.RawSetString("mode", lua.LString("client"))
		good.RawSetString("protocol", lua.LString("any"))
		if res := call1(t, L, check, good); res != "ok" {
			t.Fatalf("newcontext of a good table after %q: %s", data, res)
		}
	})
}

// seedParams encodes a parameter table of word fields for tableDecoder:
// seedParams("protocol", "any", ...) sets paramKeys to paramWords.
func seedParams(kv ...string) []byte {
	b := []byte{0, byte(len(kv) / 2)}
	for i := 0; i+1 < len(kv); i += 2 {
		b = append(b, byte(indexOf(paramKeys, kv[i])), 5, byte(indexOf(paramWords, kv[i+1])))
	}
	return b
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	panic("no " + s)
}

// call1 calls fn(arg) with a time bound and returns its string result.
func call1(t *testing.T, L *lua.LState, fn *lua.LFunction, arg lua.LValue) string {
	t.Helper()
	timer := time.AfterFunc(20*time.Second, func() { panic("ssl.newcontext did not return within 20 s") })
	defer timer.Stop()
	if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, arg); err != nil {
		t.Fatalf("harness: %v", err)
	}
	res := L.Get(-1).String()
	L.Pop(1)
	return res
}
