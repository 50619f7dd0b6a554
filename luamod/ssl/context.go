package ssl

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// sslctx is an <ssl context>: LuaSec's parameters turned into what a
// tls.Config needs. Built and read on the loop goroutine; after creation
// it is never modified except by setverifyext, and handshake goroutines
// only read it.
type sslctx struct {
	server bool
	mode   string

	minV, maxV uint16
	certs      []tls.Certificate
	roots      *x509.CertPool // cafile/capath; nil: system roots
	hasCA      bool
	verifyPeer bool
	requireCrt bool // fail_if_no_peer_cert
	continueOn bool // verifyext lsec_continue
	anyPurpose bool // verifyext lsec_ignore_purpose
	checkHost  bool // copas-lua extension: also verify the SNI name
	// defaultVerify: verification is on by copas-lua's default (ssl.https
	// parameters without verify), so a failure says how to opt out.
	defaultVerify bool
	depth         int // -1: no limit
	ciphers       []uint16
	curves        []tls.CurveID
	noTickets     bool
	alpn          []string // client offer, or server list
	alpnCB        bool     // server ALPN is a Lua function (kept in ctxBox)
}

// ctxBox is the Value of a context userdata: the Go parameters, which
// handshake goroutines may read, and the Lua values, which they must not
// reach (a goroutine holding Lua values would keep a dropped connection
// alive).
type ctxBox struct {
	x      *sslctx
	alpnFn lua.LValue
}

// reader reads a LuaSec parameter table the way LuaSec 1.2's newcontext
// does: field by field in its order, a field that is nil or false
// skipped, and each value handed to the C function that takes it — so a
// value of the wrong type raises that function's "bad argument" error,
// while a value of the right type that does not work gives nil, message.
type reader struct {
	L   *lua.LState
	cfg lua.LValue
}

// get is cfg[k], with Lua 5.1's error for a cfg that cannot be indexed
// (a string indexes its string methods: every parameter is nil).
func (r reader) get(k string) lua.LValue {
	return index(r.L, r.cfg, "cfg", k)
}

func index(L *lua.LState, v lua.LValue, local, k string) lua.LValue {
	switch v.(type) {
	case *lua.LTable:
		return L.GetField(v, k)
	case lua.LString:
		return lua.LNil
	}
	L.RaiseError("attempt to index local '%s' (a %s value)", local, typeName(v))
	return nil
}

// typeName is Lua's type() of v.
func typeName(v lua.LValue) string { return v.Type().String() }

// truthy is Lua's truth: neither nil nor false.
func truthy(v lua.LValue) bool { return v != lua.LNil && v != lua.LFalse }

// checkString is luaL_checkstring for argument n of the C function fn:
// strings, and numbers as Lua 5.1 prints them.
func checkString(L *lua.LState, v lua.LValue, n int, fn string) string {
	switch x := v.(type) {
	case lua.LString:
		return string(x)
	case lua.LNumber:
		return numberString(float64(x))
	}
	L.RaiseError("bad argument #%d to '%s' (string expected, got %s)", n, fn, typeName(v))
	return ""
}

// optString is luaL_optstring: nil is absent.
func optString(L *lua.LState, v lua.LValue, n int, fn string) (string, bool) {
	if v == lua.LNil {
		return "", false
	}
	return checkString(L, v, n, fn), true
}

// checkInteger is luaL_checkinteger: numbers (truncated) and strings Lua
// converts to a number.
func checkInteger(L *lua.LState, v lua.LValue, n int, fn string) int {
	switch x := v.(type) {
	case lua.LNumber:
		return clampInt(float64(x))
	case lua.LString:
		if f, err := parseLuaNumber(string(x)); err == nil {
			return clampInt(f)
		}
	}
	L.RaiseError("bad argument #%d to '%s' (number expected, got %s)", n, fn, typeName(v))
	return 0
}

func clampInt(f float64) int {
	switch {
	case f != f:
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int(f)
}

// parseLuaNumber converts a string as Lua 5.1's lua_tonumber does
// (decimal, or hexadecimal with 0x; surrounding spaces allowed).
func parseLuaNumber(s string) (float64, error) {
	t := strings.TrimSpace(s)
	neg := false
	u := t
	if strings.HasPrefix(u, "-") {
		neg, u = true, u[1:]
	} else if strings.HasPrefix(u, "+") {
		u = u[1:]
	}
	if len(u) > 2 && (u[:2] == "0x" || u[:2] == "0X") {
		n, err := strconv.ParseUint(u[2:], 16, 64)
		if err != nil {
			return 0, err
		}
		f := float64(n)
		if neg {
			f = -f
		}
		return f, nil
	}
	if t == "" || strings.ContainsAny(t, "xXpP_") || strings.EqualFold(u, "inf") || strings.EqualFold(u, "infinity") || strings.EqualFold(u, "nan") {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(t, 64)
}

// numberString is Lua 5.1's tostring of a number ("%.14g").
func numberString(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case f != f:
		return "nan"
	}
	s := strconv.FormatFloat(f, 'g', 14, 64)
	if i := strings.IndexByte(s, 'e'); i >= 0 {
		// C prints at least two exponent digits: 1e+20, 1e-05
		mant, exp := s[:i], s[i+1:]
		sign := exp[:1]
		digits := exp[1:]
		if len(digits) < 2 {
			digits = "0" + digits
		}
		s = mant + "e" + sign + digits
	}
	return s
}

// options is LuaSec's optexec: a string is one argument, a table its
// elements 1..#t, argument 2, 3, … of the C function (which LuaSec calls
// through its local 'func'). The C function checks them in turn: each is
// checked as a string and given to apply, and the first message apply
// returns ends it.
func options(L *lua.LState, v lua.LValue, apply func(string) string) string {
	if !truthy(v) {
		return ""
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		return apply(checkString(L, v, 2, "func"))
	}
	for i, n := 1, t.Len(); i <= n; i++ {
		if msg := apply(checkString(L, t.RawGetInt(i), i+1, "func")); msg != "" {
			return msg
		}
	}
	return ""
}

// newContext implements ssl.newcontext(params): it raises where LuaSec
// raises and returns nil, message where LuaSec does, with LuaSec's
// messages. httpsDefault marks the contexts of copas-lua's HTTPS clients
// (ssl.https, socket.http and copas.http over https): they verify the
// server when the parameters do not say verify (unless SetDefaultVerify
// or COPAS_LUA_TLS_VERIFY chose "none"), and whenever they verify a
// server they also check its name.
func (e *env) newContext(L *lua.LState, cfg lua.LValue, httpsDefault bool) (*ctxBox, lua.LValue) {
	r := reader{L: L, cfg: cfg}
	get := r.get
	c := &sslctx{depth: -1}
	proto := checkString(L, get("protocol"), 1, "create")
	var ok bool
	if c.minV, c.maxV, ok = protocolRange(proto); !ok {
		return nil, lua.LString(fmt.Sprintf("invalid protocol (%s)", proto))
	}
	if c.minV < tls.VersionTLS12 {
		e.legacyWarning(proto)
	}
	// LuaSec's setmode reports a bad mode in a way newcontext does not
	// see: the context is made, and ssl.wrap refuses it ("invalid mode").
	switch m := checkString(L, get("mode"), 2, "setmode"); m {
	case "server":
		c.server = true
		c.mode = m
	case "client":
		c.mode = m
	}

	// Certificates and keys: each entry of the certificates list (read as
	// ipairs does), or the top-level certificate/key/password.
	list := get("certificates")
	var entries *lua.LTable
	if truthy(list) {
		var ok bool
		if entries, ok = list.(*lua.LTable); !ok {
			L.RaiseError("bad argument #1 to 'ipairs' (table expected, got %s)", typeName(list))
		}
	}
	for i := 1; ; i++ {
		var key, pw, cert lua.LValue
		if entries == nil {
			if i > 1 {
				break
			}
			key, pw, cert = get("key"), get("password"), get("certificate")
		} else {
			v := entries.RawGetInt(i)
			if v == lua.LNil {
				break
			}
			key = index(L, v, "certificate", "key")
			if truthy(key) {
				pw = index(L, v, "certificate", "password")
			}
		}
		var keyPEM []byte
		if truthy(key) {
			if truthy(pw) && pw.Type() != lua.LTFunction && pw.Type() != lua.LTString {
				return nil, lua.LString("invalid password type")
			}
			path := checkString(L, key, 2, "loadkey")
			if pw == lua.LFalse {
				L.Error(lua.LString("invalid callback value"), 0) // lua_error: no position
			}
			var msg string
			if keyPEM, msg = e.loadKey(L, path, pw); msg != "" {
				return nil, lua.LString(msg)
			}
		}
		if entries != nil {
			cert = index(L, entries.RawGetInt(i), "certificate", "certificate")
		}
		if !truthy(cert) {
			continue
		}
		certPEM, err := readParamFile(checkString(L, cert, 2, "loadcert"))
		if err != nil {
			return nil, lua.LString("error loading certificate ((null))")
		}
		var crt tls.Certificate
		for rest := certPEM; ; {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type == "CERTIFICATE" || b.Type == "TRUSTED CERTIFICATE" {
				crt.Certificate = append(crt.Certificate, b.Bytes)
			}
		}
		if len(crt.Certificate) == 0 {
			return nil, lua.LString("error loading certificate (no start line)")
		}
		if keyPEM != nil {
			pair, err := tls.X509KeyPair(certPEM, keyPEM)
			if err != nil {
				return nil, lua.LString("private key does not match public key")
			}
			crt = pair
		}
		c.certs = append(c.certs, crt)
	}

	if cafileV, capathV := get("cafile"), get("capath"); truthy(cafileV) || truthy(capathV) {
		cafile, hasFile := optString(L, cafileV, 2, "locations")
		capath, hasPath := optString(L, capathV, 3, "locations")
		pool := x509.NewCertPool()
		if hasFile {
			data, err := readParamFile(cafile)
			if err != nil {
				return nil, lua.LString("error loading CA locations ((null))")
			}
			if !pool.AppendCertsFromPEM(data) {
				return nil, lua.LString("error loading CA locations (no certificate or crl found)")
			}
		}
		if hasPath {
			// OpenSSL looks certificates up in the directory during
			// verification; a directory that is missing finds nothing.
			if capath == "" {
				return nil, lua.LString("error loading CA locations (invalid directory)")
			}
			if ents, err := os.ReadDir(capath); err == nil {
				for _, de := range ents {
					if data, err := os.ReadFile(filepath.Join(capath, de.Name())); err == nil {
						pool.AppendCertsFromPEM(data)
					}
				}
			}
		}
		c.roots, c.hasCA = pool, true
	}

	if v := get("ciphers"); truthy(v) {
		list := checkString(L, v, 2, "setcipher")
		ids, ok := parseCipherList(list)
		if !ok {
			return nil, lua.LString("error setting cipher list (no cipher match)")
		}
		c.ciphers = ids
	}
	if v := get("ciphersuites"); truthy(v) {
		if suites := checkString(L, v, 2, "setciphersuites"); suites != "" && !checkCipherSuites(suites) {
			return nil, lua.LString("error setting cipher list (no cipher match)")
		}
	}
	verify := get("verify")
	if msg := options(L, verify, func(name string) string {
		switch name {
		case "none":
		case "peer", "client_once":
			c.verifyPeer = true
		case "fail_if_no_peer_cert":
			c.verifyPeer, c.requireCrt = true, true
		default:
			return fmt.Sprintf("invalid verify option (%s)", name)
		}
		return ""
	}); msg != "" {
		return nil, lua.LString(msg)
	}
	if msg := options(L, get("options"), func(name string) string {
		for _, o := range optionNames {
			if o == name {
				c.applyOption(name)
				return ""
			}
		}
		return fmt.Sprintf("invalid option (%s)", name)
	}); msg != "" {
		return nil, lua.LString(msg)
	}
	if v := get("depth"); truthy(v) {
		c.depth = checkInteger(L, v, 2, "setdepth")
	}
	if v := get("dhparam"); truthy(v) && v.Type() != lua.LTFunction {
		return nil, lua.LString("invalid DH parameter type")
	}
	if v := get("curveslist"); truthy(v) {
		list := checkString(L, v, 2, "setcurveslist")
		for _, n := range strings.Split(list, ":") {
			id, ok := curveIDs[n]
			if !ok {
				return nil, lua.LString(fmt.Sprintf("unknown elliptic curve in \"%s\"", list))
			}
			c.curves = append(c.curves, id)
		}
	} else if v := get("curve"); truthy(v) {
		name := checkString(L, v, 2, "setcurve")
		id, ok := curveIDs[name]
		if !ok {
			return nil, lua.LString(fmt.Sprintf("elliptic curve '%s' not supported", name))
		}
		c.curves = []tls.CurveID{id}
	}
	if msg := options(L, get("verifyext"), func(name string) string {
		return c.setVerifyExt([]string{name})
	}); msg != "" {
		return nil, lua.LString(msg)
	}
	box := &ctxBox{x: c}
	if msg, fail := c.setALPN(get("mode"), get("alpn"), box); fail {
		return nil, msg
	}
	c.checkHost = truthy(get("checkhostname"))
	if httpsDefault && verify == lua.LNil && DefaultVerify() {
		// copas-lua's default for ssl.https: verify the server
		c.verifyPeer, c.checkHost, c.defaultVerify = true, true, true
	}
	if httpsDefault && c.verifyPeer && !c.server {
		c.checkHost = true
	}
	return box, lua.LNil
}

// readParamFile reads a file named in the parameters. A file that cannot
// be opened is an error (OpenSSL then reports no reason: "(null)"); a
// directory reads as empty, as for OpenSSL's BIO.
func readParamFile(path string) ([]byte, error) {
	if path == "" {
		return nil, os.ErrNotExist
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, nil
	}
	return os.ReadFile(path)
}

func (c *sslctx) applyOption(name string) {
	switch name {
	case "no_tlsv1":
		c.raiseMin(tls.VersionTLS11)
	case "no_tlsv1_1":
		if c.minV == tls.VersionTLS11 {
			c.minV = tls.VersionTLS12
		} else if c.maxV == tls.VersionTLS11 {
			c.maxV = tls.VersionTLS10
		}
	case "no_tlsv1_2":
		if c.minV == tls.VersionTLS12 {
			c.minV = tls.VersionTLS13
		} else if c.maxV == tls.VersionTLS12 {
			c.maxV = tls.VersionTLS11
		}
	case "no_tlsv1_3":
		if c.maxV == tls.VersionTLS13 {
			c.maxV = tls.VersionTLS12
		}
	case "no_ticket":
		c.noTickets = true
	}
}

func (c *sslctx) raiseMin(v uint16) {
	if c.minV < v {
		c.minV = v
	}
}

func (c *sslctx) setVerifyExt(flags []string) string {
	for _, f := range flags {
		switch f {
		case "lsec_continue":
			c.continueOn = true
		case "lsec_ignore_purpose":
			c.anyPurpose = true
		case "crl_check", "crl_check_chain":
			// Go checks no CRLs.
		default:
			return fmt.Sprintf("invalid verify option (%s)", f)
		}
	}
	return ""
}

// setALPN checks the alpn parameter like LuaSec: only for mode "server"
// (a function or a list) or "client" (a string or a list). fail is true
// when newcontext must return nil, msg (msg may be nil: a list element
// that is no string, which LuaSec reports with no message).
func (c *sslctx) setALPN(mode, v lua.LValue, box *ctxBox) (msg lua.LValue, fail bool) {
	if !truthy(v) {
		return lua.LNil, false
	}
	switch {
	case mode == lua.LString("server"):
		switch x := v.(type) {
		case *lua.LFunction:
			c.alpnCB, box.alpnFn = true, x
			return lua.LNil, false
		case *lua.LTable:
			return c.alpnList(x)
		}
		return lua.LString("invalid ALPN parameter"), true
	case mode == lua.LString("client"):
		switch x := v.(type) {
		case lua.LString:
			t := &lua.LTable{}
			t.Append(x)
			return c.alpnList(t)
		case *lua.LTable:
			return c.alpnList(x)
		}
		return lua.LString("invalid ALPN parameter"), true
	}
	return lua.LNil, false
}

// alpnList is LuaSec's array2wireformat check of a protocol list.
func (c *sslctx) alpnList(t *lua.LTable) (lua.LValue, bool) {
	var list []string
	for i := 1; ; i++ {
		v := t.RawGetInt(i)
		if v == lua.LNil {
			break
		}
		s, ok := v.(lua.LString)
		if !ok {
			return lua.LNil, true
		}
		if len(s) == 0 {
			return lua.LString("invalid ALPN name (empty string)"), true
		}
		if len(s) > 255 {
			return lua.LString("invalid ALPN name (length > 255)"), true
		}
		list = append(list, string(s))
	}
	if len(list) == 0 {
		return lua.LString("invalid ALPN list (empty)"), true
	}
	c.alpn = list
	return lua.LNil, false
}

// loadKey reads a PEM private key, decrypting a legacy encrypted PEM block
// with the password (a string, or a function called on the loop that
// returns it). It returns the unencrypted PEM.
func (e *env) loadKey(L *lua.LState, path string, pw lua.LValue) ([]byte, string) {
	data, err := readParamFile(path)
	if err != nil {
		return nil, "error loading private key ((null))"
	}
	var out []byte
	found := false
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if !strings.Contains(b.Type, "PRIVATE KEY") {
			continue
		}
		found = true
		//lint:ignore SA1019 legacy encrypted PEM is what OpenSSL's PEM_read reads
		if x509.IsEncryptedPEMBlock(b) {
			pass := ""
			switch p := pw.(type) {
			case lua.LString:
				pass = string(p)
			case *lua.LFunction:
				rets, _, ok := e.loop.ProtectedCall(p)
				if ok && len(rets) > 0 {
					pass = lua.LVAsString(rets[0])
				}
			}
			//lint:ignore SA1019 as above
			der, err := x509.DecryptPEMBlock(b, []byte(pass))
			if err != nil {
				return nil, "error loading private key (bad decrypt)"
			}
			b = &pem.Block{Type: b.Type, Bytes: der}
		} else if b.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, "error loading private key (unsupported encryption)"
		}
		out = pem.EncodeToMemory(b)
		break
	}
	if !found {
		return nil, "error loading private key (unsupported)"
	}
	return out, ""
}
