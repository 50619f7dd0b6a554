package ssl

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// cert is an <x509 certificate>. Immutable apart from the encoding flag;
// loop goroutine only.
type cert struct {
	c    *x509.Certificate
	utf8 bool
}

var oidNames = map[string]string{
	"2.5.4.3": "commonName", "2.5.4.4": "surname", "2.5.4.5": "serialNumber", "2.5.4.6": "countryName",
	"2.5.4.7": "localityName", "2.5.4.8": "stateOrProvinceName", "2.5.4.9": "streetAddress",
	"2.5.4.10": "organizationName", "2.5.4.11": "organizationalUnitName", "2.5.4.12": "title",
	"2.5.4.17": "postalCode", "2.5.4.42": "givenName", "2.5.4.43": "initials", "2.5.4.46": "dnQualifier",
	"2.5.4.65": "pseudonym", "1.2.840.113549.1.9.1": "emailAddress",
	"0.9.2342.19200300.100.1.25": "domainComponent", "0.9.2342.19200300.100.1.1": "userId",
}

var sigNames = map[x509.SignatureAlgorithm]string{
	x509.MD5WithRSA: "RSA-MD5", x509.SHA1WithRSA: "RSA-SHA1", x509.SHA256WithRSA: "RSA-SHA256",
	x509.SHA384WithRSA: "RSA-SHA384", x509.SHA512WithRSA: "RSA-SHA512",
	x509.SHA256WithRSAPSS: "RSASSA-PSS", x509.SHA384WithRSAPSS: "RSASSA-PSS", x509.SHA512WithRSAPSS: "RSASSA-PSS",
	x509.ECDSAWithSHA1: "ecdsa-with-SHA1", x509.ECDSAWithSHA256: "ecdsa-with-SHA256",
	x509.ECDSAWithSHA384: "ecdsa-with-SHA384", x509.ECDSAWithSHA512: "ecdsa-with-SHA512",
	x509.PureEd25519: "ED25519", x509.DSAWithSHA1: "DSA-SHA1", x509.DSAWithSHA256: "dsa_with_SHA256",
}

func (e *env) pushCert(c *x509.Certificate) lua.LValue {
	if c == nil {
		return lua.LNil
	}
	ud := e.L.NewUserData()
	ud.Value = &cert{c: c}
	ud.Metatable = e.certMT
	return ud
}

func checkCert(L *lua.LState, n int) *cert {
	if ud, ok := L.Get(n).(*lua.LUserData); ok {
		if c, ok := ud.Value.(*cert); ok {
			return c
		}
	}
	L.ArgError(n, "SSL:Certificate expected, got "+L.Get(n).Type().String())
	return nil
}

// opensslTime is ASN1_TIME_print's format.
func opensslTime(t time.Time) string { return t.UTC().Format("Jan _2 15:04:05 2006 GMT") }

func nameTable(L *lua.LState, n pkix.Name) *lua.LTable {
	t := L.NewTable()
	for _, a := range n.Names {
		oid := a.Type.String()
		name, ok := oidNames[oid]
		if !ok {
			name = oid
		}
		e := L.NewTable()
		e.RawSetString("oid", lua.LString(oid))
		e.RawSetString("name", lua.LString(name))
		e.RawSetString("value", lua.LString(fmt.Sprint(a.Value)))
		t.Append(e)
	}
	return t
}

func pemCert(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// loadCertificate is ssl.loadcertificate(pem): the first certificate of
// the string, or nil.
func (e *env) loadCertificate(L *lua.LState) int {
	data := []byte(L.CheckString(1))
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			L.Push(lua.LNil)
			return 1
		}
		if b.Type != "CERTIFICATE" && b.Type != "TRUSTED CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(e.pushCert(c))
		return 1
	}
}

func (e *env) certMethods(L *lua.LState) map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"subject": func(L *lua.LState) int { L.Push(nameTable(L, checkCert(L, 1).c.Subject)); return 1 },
		"issuer":  func(L *lua.LState) int { L.Push(nameTable(L, checkCert(L, 1).c.Issuer)); return 1 },
		"serial": func(L *lua.LState) int {
			L.Push(lua.LString(strings.ToUpper(checkCert(L, 1).c.SerialNumber.Text(16))))
			return 1
		},
		"notbefore": func(L *lua.LState) int {
			L.Push(lua.LString(opensslTime(checkCert(L, 1).c.NotBefore)))
			return 1
		},
		"notafter": func(L *lua.LState) int {
			L.Push(lua.LString(opensslTime(checkCert(L, 1).c.NotAfter)))
			return 1
		},
		"validat": func(L *lua.LState) int {
			c := checkCert(L, 1).c
			t := time.Unix(int64(L.CheckNumber(2)), 0)
			L.Push(lua.LBool(t.After(c.NotBefore) && t.Before(c.NotAfter)))
			return 1
		},
		"digest": func(L *lua.LState) int {
			c := checkCert(L, 1).c
			alg, ok := optString(L, L.Get(2), 2, "digest")
			if !ok {
				alg = "sha1"
			}
			var sum []byte
			switch alg {
			case "sha1":
				s := sha1.Sum(c.Raw)
				sum = s[:]
			case "sha256":
				s := sha256.Sum256(c.Raw)
				sum = s[:]
			case "sha512":
				s := sha512.Sum512(c.Raw)
				sum = s[:]
			default:
				L.Push(lua.LNil)
				L.Push(lua.LString(fmt.Sprintf("digest algorithm not supported (%s)", alg)))
				return 2
			}
			L.Push(lua.LString(hex.EncodeToString(sum)))
			return 1
		},
		"pem": func(L *lua.LState) int { L.Push(lua.LString(pemCert(checkCert(L, 1).c.Raw))); return 1 },
		"pubkey": func(L *lua.LState) int {
			c := checkCert(L, 1).c
			der, err := x509.MarshalPKIXPublicKey(c.PublicKey)
			if err != nil {
				L.Push(lua.LNil)
				return 1
			}
			typ, bits := "Unknown", 0
			switch k := c.PublicKey.(type) {
			case *rsa.PublicKey:
				typ, bits = "RSA", k.N.BitLen()
			case *ecdsa.PublicKey:
				typ, bits = "EC", k.Curve.Params().BitSize
			case ed25519.PublicKey:
				bits = 253
			}
			L.Push(lua.LString(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
			L.Push(lua.LString(typ))
			L.Push(lua.LNumber(bits))
			return 3
		},
		"extensions": func(L *lua.LState) int {
			c := checkCert(L, 1).c
			t := L.NewTable()
			if len(c.DNSNames)+len(c.EmailAddresses)+len(c.IPAddresses)+len(c.URIs) > 0 {
				san := L.NewTable()
				san.RawSetString("name", lua.LString("X509v3 Subject Alternative Name"))
				add := func(key string, vals []string) {
					if len(vals) == 0 {
						return
					}
					l := L.NewTable()
					for _, v := range vals {
						l.Append(lua.LString(v))
					}
					san.RawSetString(key, l)
				}
				add("dNSName", c.DNSNames)
				add("rfc822Name", c.EmailAddresses)
				var ips, uris []string
				for _, ip := range c.IPAddresses {
					ips = append(ips, ip.String())
				}
				for _, u := range c.URIs {
					uris = append(uris, u.String())
				}
				add("iPAddress", ips)
				add("uniformResourceIdentifier", uris)
				t.RawSetString("2.5.29.17", san)
			}
			L.Push(t)
			return 1
		},
		"issued": func(L *lua.LState) int {
			issuer := checkCert(L, 1).c
			subject := checkCert(L, 2).c
			roots, inter := x509.NewCertPool(), x509.NewCertPool()
			roots.AddCert(issuer)
			for i := 3; i <= L.GetTop(); i++ {
				inter.AddCert(checkCert(L, i).c)
			}
			_, err := subject.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
			if err != nil {
				L.Push(lua.LNil)
				L.Push(lua.LString(verifyErrorString(err, false)))
				return 2
			}
			L.Push(lua.LTrue)
			return 1
		},
		"getsignaturename": func(L *lua.LState) int {
			c := checkCert(L, 1).c
			name, ok := sigNames[c.SignatureAlgorithm]
			if !ok {
				name = c.SignatureAlgorithm.String()
			}
			L.Push(lua.LString(name))
			return 1
		},
		"setencode": func(L *lua.LState) int {
			c := checkCert(L, 1)
			switch L.CheckString(2) {
			case "ai5":
				c.utf8 = false
			case "utf8":
				c.utf8 = true
			default:
				L.Push(lua.LFalse)
				return 1
			}
			L.Push(lua.LTrue)
			return 1
		},
	}
}
