//go:build linux

package ssl

import (
	"crypto/x509"
	"fmt"
	"github.com/copas-lua/copas-lua/luamod/socket"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// connMethods are the methods of <ssl connection>.
func (e *env) connMethods() map[string]method {
	plain := func(fn func(L *lua.LState, c *conn) int) method {
		return method{fn: func(L *lua.LState) int { return fn(L, checkConn(L)) }}
	}
	yielding := func(fn func(L *lua.LState, c *conn) int) method {
		return method{fn: func(L *lua.LState) int { return fn(L, checkConn(L)) }, yields: true}
	}
	return map[string]method{
		"dohandshake": yielding(func(L *lua.LState, c *conn) int { return c.dohandshake(L) }),
		"receive":     yielding(receive),
		"send":        yielding(send),
		"close": plain(func(L *lua.LState, c *conn) int {
			// A socket.select parked on the descriptor (copas'
			// receivepartial) would not notice the close itself.
			if c.fd >= 0 && c.state != stClosed {
				socket.ClosingFD(L, c.fd)
			}
			c.close()
			return 0
		}),
		"getfd": plain(func(L *lua.LState, c *conn) int { return pushAll(L, lua.LNumber(c.fd)) }),
		"dirty": plain(func(L *lua.LState, c *conn) int {
			return pushAll(L, lua.LBool(c.state != stClosed && len(c.rbuf) > 0))
		}),
		"want": plain(func(L *lua.LState, c *conn) int {
			w := c.want
			if c.state == stClosed || w == "" {
				w = "nothing"
			}
			return pushAll(L, lua.LString(w))
		}),
		"settimeout": plain(func(L *lua.LState, c *conn) int {
			t := float64(L.OptNumber(2, -1))
			if !c.tm.Set(t, L.OptString(3, "b")) {
				L.ArgError(3, "invalid timeout mode")
			}
			return pushAll(L, lua.LNumber(1))
		}),
		"getstats": plain(func(L *lua.LState, c *conn) int {
			return pushAll(L, lua.LNumber(c.received), lua.LNumber(c.sent), lua.LNumber(time.Since(c.birthday).Seconds()))
		}),
		"setstats": plain(func(L *lua.LState, c *conn) int {
			c.received = float64(int64(L.OptNumber(2, lua.LNumber(c.received))))
			c.sent = float64(int64(L.OptNumber(3, lua.LNumber(c.sent))))
			if L.GetTop() >= 4 {
				c.birthday = time.Now().Add(-time.Duration(float64(L.CheckNumber(4)) * float64(time.Second)))
			}
			return pushAll(L, lua.LNumber(1))
		}),
		"sni":        plain(sni),
		"getsniname": plain(getsniname),
		"getalpn": plain(func(L *lua.LState, c *conn) int {
			if c.state != stConnected {
				return pushAll(L, lua.LNil)
			}
			p := c.tc.ConnectionState().NegotiatedProtocol
			if p == "" {
				return pushAll(L, lua.LNil)
			}
			return pushAll(L, lua.LString(p))
		}),
		"getpeercertificate": plain(func(L *lua.LState, c *conn) int {
			if c.state != stConnected {
				return pushAll(L, lua.LNil, lua.LString("closed"))
			}
			n := L.OptInt(2, 1)
			if n < 1 {
				return pushAll(L, lua.LNil, lua.LString("invalid certificate index"))
			}
			certs := c.tc.ConnectionState().PeerCertificates
			if n > len(certs) {
				return pushAll(L, lua.LNil)
			}
			return pushAll(L, e.pushCert(certs[n-1]))
		}),
		"getpeerchain": plain(func(L *lua.LState, c *conn) int {
			if c.state != stConnected {
				return pushAll(L, lua.LNil, lua.LString("closed"))
			}
			return pushAll(L, e.certList(c.tc.ConnectionState().PeerCertificates))
		}),
		"getlocalcertificate": plain(func(L *lua.LState, c *conn) int {
			if c.state != stConnected {
				return pushAll(L, lua.LNil, lua.LString("closed"))
			}
			n := L.OptInt(2, 1)
			if n < 1 {
				return pushAll(L, lua.LNil, lua.LString("invalid certificate index"))
			}
			certs := c.localChain()
			if n > len(certs) {
				return pushAll(L, lua.LNil)
			}
			return pushAll(L, e.pushCert(certs[n-1]))
		}),
		"getlocalchain": plain(func(L *lua.LState, c *conn) int {
			if c.state != stConnected {
				return pushAll(L, lua.LNil, lua.LString("closed"))
			}
			return pushAll(L, e.certList(c.localChain()))
		}),
		"getpeerverification": plain(getpeerverification),
		"info":                plain(info),
		"getfinished": plain(func(L *lua.LState, c *conn) int {
			return finished(L, c, true)
		}),
		"getpeerfinished": plain(func(L *lua.LState, c *conn) int {
			return finished(L, c, false)
		}),
		"exportkeyingmaterial": plain(func(L *lua.LState, c *conn) int {
			if c.state != stConnected {
				return pushAll(L, lua.LNil, lua.LString("closed"))
			}
			label := L.CheckString(2)
			n := L.CheckInt(3)
			var ctx []byte
			if L.GetTop() >= 4 && L.Get(4) != lua.LNil {
				ctx = []byte(L.CheckString(4))
			}
			cs := c.tc.ConnectionState()
			out, err := cs.ExportKeyingMaterial(label, ctx, n)
			if err != nil {
				return pushAll(L, lua.LNil, lua.LString("error exporting keying material"))
			}
			return pushAll(L, lua.LString(out))
		}),
		"setdane": plain(func(L *lua.LState, c *conn) int {
			return pushAll(L, lua.LNil, lua.LString("DANE not supported"))
		}),
		"settlsa": plain(func(L *lua.LState, c *conn) int {
			return pushAll(L, lua.LNil, lua.LString("DANE not supported"))
		}),
	}
}

func (e *env) certList(certs []*x509.Certificate) *lua.LTable {
	t := e.L.NewTable()
	for _, c := range certs {
		t.Append(e.pushCert(c))
	}
	return t
}

// localChain is the chain this side presented (parsed on demand).
func (c *conn) localChain() []*x509.Certificate {
	c.hst.mu.Lock()
	x := c.hst.active
	c.hst.mu.Unlock()
	if x == nil || len(x.certs) == 0 {
		return nil
	}
	var out []*x509.Certificate
	for _, der := range x.certs[0].Certificate {
		if p, err := x509.ParseCertificate(der); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// receive(pattern, prefix): LuaSocket's patterns on the decrypted stream.
func receive(L *lua.LState, c *conn) int {
	start := time.Now()
	var prefix string
	if L.GetTop() >= 3 && L.Get(3) != lua.LNil {
		prefix = L.CheckString(3)
	}
	r, done, ok := socket.NewReceive(L.Get(2), prefix, true)
	if !ok {
		L.ArgError(2, "invalid receive pattern")
	}
	if done {
		return pushAll(L, lua.LString(prefix), lua.LNil, lua.LNil)
	}
	return c.run(L, &recvOp{r: r}, start)
}

// send(data, i, j) returns the index of the last byte sent, or nil, err,
// last index sent.
func send(L *lua.LState, c *conn) int {
	start := time.Now()
	data := L.CheckString(2)
	from, to := socket.SendRange(int64(len(data)), int64(L.OptNumber(3, 1)), int64(L.OptNumber(4, -1)))
	op := &sendOp{data: data, pos: from, end: to}
	return c.run(L, op, start)
}

// sni: a client sets the name it asks for; a server gets a map of names
// to contexts and whether unknown names are refused.
func sni(L *lua.LState, c *conn) int {
	if !c.ctx.server {
		c.sniName = L.CheckString(2)
		return 0
	}
	t := L.CheckTable(2)
	m := map[string]*sslctx{}
	var uds []lua.LValue
	t.ForEach(func(k, v lua.LValue) {
		name, ok := k.(lua.LString)
		b := toCtx(v)
		if !ok || b == nil {
			L.ArgError(2, "SSL:Context expected")
		}
		m[string(name)] = b.x
		c.alpnFns[b.x] = b.alpnFn
		uds = append(uds, v)
	})
	c.sniMap, c.sniUDs, c.sniStrict, c.sniSet = m, uds, lua.LVAsBool(L.Get(3)), true
	return 0
}

func getsniname(L *lua.LState, c *conn) int {
	if !c.ctx.server {
		if c.sniName == "" {
			return pushAll(L, lua.LNil)
		}
		return pushAll(L, lua.LString(c.sniName))
	}
	c.hst.mu.Lock()
	name := c.hst.peerName
	c.hst.mu.Unlock()
	if name == "" {
		return pushAll(L, lua.LNil)
	}
	return pushAll(L, lua.LString(name))
}

func getpeerverification(L *lua.LState, c *conn) int {
	if c.state != stConnected {
		return pushAll(L, lua.LFalse, lua.LString("closed"))
	}
	c.hst.mu.Lock()
	verified, msg, x := c.hst.verified, c.hst.verifyErr, c.hst.active
	c.hst.mu.Unlock()
	if !verified {
		if len(c.tc.ConnectionState().PeerCertificates) == 0 && c.ctx.server {
			// OpenSSL reports X509_V_OK when no client certificate was asked for.
			return pushAll(L, lua.LTrue)
		}
		msg = "unable to get local issuer certificate"
	}
	if msg == "" {
		return pushAll(L, lua.LTrue)
	}
	if x != nil && x.verifyPeer {
		// LuaSec's table of errors per depth, recorded when verification
		// continued (lsec_continue).
		t := L.NewTable()
		l := L.NewTable()
		l.Append(lua.LString(msg))
		t.RawSetInt(1, l)
		return pushAll(L, lua.LFalse, t)
	}
	return pushAll(L, lua.LFalse, lua.LString(msg))
}

// info returns LuaSec's connection information table, or one field.
func info(L *lua.LState, c *conn) int {
	if c.state == stClosed {
		return pushAll(L, lua.LNil, lua.LString("closed"))
	}
	if c.state != stConnected {
		return pushAll(L, lua.LNil)
	}
	cs := c.tc.ConnectionState()
	t := L.NewTable()
	if su := suiteByID(cs.CipherSuite); su != nil {
		t.RawSetString("cipher", lua.LString(su.name))
		t.RawSetString("key", lua.LString(su.kx))
		t.RawSetString("authentication", lua.LString(su.au))
		t.RawSetString("encryption", lua.LString(su.enc))
		t.RawSetString("mac", lua.LString(su.mac))
		t.RawSetString("bits", lua.LNumber(su.bits))
		t.RawSetString("algbits", lua.LNumber(su.bits))
	} else {
		t.RawSetString("cipher", lua.LString(fmt.Sprintf("0x%04X", cs.CipherSuite)))
	}
	t.RawSetString("export", lua.LFalse)
	t.RawSetString("protocol", lua.LString(versionName(cs.Version)))
	if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
		return pushAll(L, L.GetField(t, L.CheckString(2)))
	}
	return pushAll(L, t)
}

// finished: crypto/tls exposes only the first Finished message of a
// TLS 1.2 handshake (tls-unique); TLS 1.3 gives nothing.
func finished(L *lua.LState, c *conn, own bool) int {
	if c.state != stConnected {
		return pushAll(L, lua.LNil, lua.LString("closed"))
	}
	cs := c.tc.ConnectionState()
	if len(cs.TLSUnique) == 0 {
		return 0
	}
	// The client's Finished comes first in a full handshake.
	if own == !c.ctx.server {
		return pushAll(L, lua.LString(cs.TLSUnique))
	}
	return 0
}
