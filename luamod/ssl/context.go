package ssl

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"github.com/copas-lua/copas-lua/internal/luaopts"
	"os"
	"path/filepath"
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
	checkHost  bool // copas-lua extension: also verify the SNI name
	depth      int  // -1: no limit
	ciphers    []uint16
	curves     []tls.CurveID
	noTickets  bool
	alpn       []string // client offer, or server list
	alpnCB     bool     // server ALPN is a Lua function (kept in ctxBox)
}

// ctxBox is the Value of a context userdata: the Go parameters, which
// handshake goroutines may read, and the Lua values, which they must not
// reach (a goroutine holding Lua values would keep a dropped connection
// alive).
type ctxBox struct {
	x      *sslctx
	alpnFn lua.LValue
}

// params are the fixed-type fields of a LuaSec parameter table, read
// with gluamapper (internal/luaopts); the fields that take several types
// (password, verify, options, alpn, …) are read from the table directly.
type params struct {
	Mode, Protocol        string
	Cafile, Capath        *string
	Ciphers, Ciphersuites *string
	Curve, Curveslist     *string
	Depth                 *int
	Checkhostname         bool
}

// newContext implements ssl.newcontext(params): nil, message on a bad
// parameter, with LuaSec's messages.
func (e *env) newContext(L *lua.LState, cfg *lua.LTable) (*ctxBox, string) {
	get := func(k string) lua.LValue { return L.GetField(cfg, k) }
	var p params
	if err := luaopts.Decode(cfg, &p); err != nil {
		return nil, err.Error()
	}
	c := &sslctx{depth: -1}
	proto := p.Protocol
	var ok bool
	if c.minV, c.maxV, ok = protocolRange(proto); !ok {
		return nil, fmt.Sprintf("invalid protocol (%s)", proto)
	}
	switch m := p.Mode; m {
	case "server":
		c.server = true
		c.mode = m
	case "client":
		c.mode = m
	default:
		return nil, "invalid mode"
	}

	// Certificates and keys: the certificates list, or the top-level
	// certificate/key/password.
	type entry struct{ cert, key, password lua.LValue }
	var entries []entry
	if list, ok := get("certificates").(*lua.LTable); ok {
		for i := 1; ; i++ {
			t, ok := list.RawGetInt(i).(*lua.LTable)
			if !ok {
				break
			}
			entries = append(entries, entry{L.GetField(t, "certificate"), L.GetField(t, "key"), L.GetField(t, "password")})
		}
	} else {
		entries = []entry{{get("certificate"), get("key"), get("password")}}
	}
	for _, en := range entries {
		var keyPEM []byte
		if en.key != lua.LNil {
			pw := en.password
			if pw != lua.LNil && pw.Type() != lua.LTFunction && pw.Type() != lua.LTString {
				return nil, "invalid password type"
			}
			var msg string
			if keyPEM, msg = e.loadKey(L, lua.LVAsString(en.key), pw); msg != "" {
				return nil, msg
			}
		}
		if en.cert == lua.LNil {
			continue
		}
		certPEM, err := os.ReadFile(lua.LVAsString(en.cert))
		if err != nil {
			return nil, fmt.Sprintf("error loading certificate (%s)", fileErr(err))
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
			return nil, "error loading certificate (no start line)"
		}
		if keyPEM != nil {
			pair, err := tls.X509KeyPair(certPEM, keyPEM)
			if err != nil {
				return nil, "private key does not match public key"
			}
			crt = pair
		}
		c.certs = append(c.certs, crt)
	}

	if p.Cafile != nil || p.Capath != nil {
		pool := x509.NewCertPool()
		if p.Cafile != nil {
			data, err := os.ReadFile(*p.Cafile)
			if err != nil {
				return nil, fmt.Sprintf("error loading CA locations (%s)", fileErr(err))
			}
			if !pool.AppendCertsFromPEM(data) {
				return nil, "error loading CA locations (no certificate or crl found)"
			}
		}
		if p.Capath != nil {
			dir := *p.Capath
			ents, err := os.ReadDir(dir)
			if err != nil {
				return nil, fmt.Sprintf("error loading CA locations (%s)", fileErr(err))
			}
			for _, de := range ents {
				if data, err := os.ReadFile(filepath.Join(dir, de.Name())); err == nil {
					pool.AppendCertsFromPEM(data)
				}
			}
		}
		c.roots, c.hasCA = pool, true
	}

	if p.Ciphers != nil {
		ids, ok := parseCipherList(*p.Ciphers)
		if !ok {
			return nil, "error setting cipher list (no cipher match)"
		}
		c.ciphers = ids
	}
	if p.Ciphersuites != nil {
		if !checkCipherSuites(*p.Ciphersuites) {
			return nil, "error setting cipher list (no cipher match)"
		}
	}
	for _, name := range optList(get("verify")) {
		switch name {
		case "none":
		case "peer", "client_once":
			c.verifyPeer = true
		case "fail_if_no_peer_cert":
			c.verifyPeer, c.requireCrt = true, true
		default:
			return nil, fmt.Sprintf("invalid verify option (%s)", name)
		}
	}
	for _, name := range optList(get("options")) {
		known := false
		for _, o := range optionNames {
			known = known || o == name
		}
		if !known {
			return nil, fmt.Sprintf("invalid option (%s)", name)
		}
		c.applyOption(name)
	}
	if p.Depth != nil {
		c.depth = *p.Depth
	}
	if v := get("dhparam"); v != lua.LNil && v.Type() != lua.LTFunction {
		return nil, "invalid DH parameter type"
	}
	if p.Curveslist != nil {
		for _, n := range strings.Split(*p.Curveslist, ":") {
			id, ok := curveIDs[n]
			if !ok {
				return nil, fmt.Sprintf("unknown elliptic curve in \"%s\"", *p.Curveslist)
			}
			c.curves = append(c.curves, id)
		}
	} else if p.Curve != nil {
		id, ok := curveIDs[*p.Curve]
		if !ok {
			return nil, fmt.Sprintf("elliptic curve '%s' not supported", *p.Curve)
		}
		c.curves = []tls.CurveID{id}
	}
	if v := get("verifyext"); v != lua.LNil {
		if msg := c.setVerifyExt(optList(v)); msg != "" {
			return nil, msg
		}
	}
	c.checkHost = p.Checkhostname
	box := &ctxBox{x: c}
	if msg := c.setALPN(get("alpn"), box); msg != "" {
		return nil, msg
	}
	return box, ""
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
		case "lsec_ignore_purpose", "crl_check", "crl_check_chain":
			// Go checks no CRLs and ignores key purposes with ExtKeyUsageAny.
		default:
			return fmt.Sprintf("invalid verify option (%s)", f)
		}
	}
	return ""
}

// setALPN checks the alpn parameter like LuaSec's wire-format encoder.
func (c *sslctx) setALPN(v lua.LValue, box *ctxBox) string {
	if v == lua.LNil {
		return ""
	}
	var list []string
	switch x := v.(type) {
	case *lua.LFunction:
		if !c.server {
			return "invalid ALPN parameter"
		}
		c.alpnCB, box.alpnFn = true, x
		return ""
	case lua.LString:
		if c.server {
			return "invalid ALPN parameter"
		}
		list = []string{string(x)}
	case *lua.LTable:
		for i := 1; ; i++ {
			s, ok := x.RawGetInt(i).(lua.LString)
			if !ok {
				break
			}
			list = append(list, string(s))
		}
	default:
		return "invalid ALPN parameter"
	}
	for _, p := range list {
		if p == "" {
			return "invalid ALPN name (empty string)"
		}
		if len(p) > 255 {
			return "invalid ALPN name (length > 255)"
		}
	}
	if len(list) == 0 {
		return "invalid ALPN list (empty)"
	}
	c.alpn = list
	return ""
}

// optList reads a string or a list of strings (LuaSec's optexec).
func optList(v lua.LValue) []string {
	switch x := v.(type) {
	case lua.LString:
		return []string{string(x)}
	case *lua.LTable:
		var out []string
		for i := 1; ; i++ {
			e := x.RawGetInt(i)
			if e == lua.LNil {
				return out
			}
			out = append(out, lua.LVAsString(e))
		}
	}
	return nil
}

func fileErr(err error) string {
	if os.IsNotExist(err) {
		return "No such file or directory"
	}
	if os.IsPermission(err) {
		return "Permission denied"
	}
	return "system lib"
}

// loadKey reads a PEM private key, decrypting a legacy encrypted PEM block
// with the password (a string, or a function called on the loop that
// returns it). It returns the unencrypted PEM.
func (e *env) loadKey(L *lua.LState, path string, pw lua.LValue) ([]byte, string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Sprintf("error loading private key (%s)", fileErr(err))
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
		//nolint:staticcheck // legacy encrypted PEM is what OpenSSL's PEM_read reads
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
			der, err := x509.DecryptPEMBlock(b, []byte(pass)) //nolint:staticcheck
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
		return nil, "error loading private key (no start line)"
	}
	return out, ""
}
