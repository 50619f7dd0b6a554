package ssl

import (
	"crypto/x509"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// TLS policy shared by every client path and by servers: see the README's
// TLS section. Version floors are in protocolRange, the client defaults
// in newContext; this file has the parts that are not parameters.

// DefaultHandshakeTimeout bounds a server-side handshake whose socket has
// no timeout (copas.handler without an addserver timeout, or a blocking
// ssl server with settimeout(nil)): a client that sends nothing, or half
// a ClientHello, is dropped with "timeout" after this long.
const DefaultHandshakeTimeout = 10 * time.Second

var handshakeTimeout atomic.Int64

func init() { handshakeTimeout.Store(int64(DefaultHandshakeTimeout)) }

// SetHandshakeTimeout changes the server handshake bound for sockets
// without a timeout (d <= 0: no bound, LuaSec's behaviour), for every Lua
// state of the process, from the next handshake on. Safe to call from any
// goroutine.
func SetHandshakeTimeout(d time.Duration) { handshakeTimeout.Store(int64(d)) }

// serverHandshakeTimeout is the bound in force (0: none).
func serverHandshakeTimeout() time.Duration {
	d := time.Duration(handshakeTimeout.Load())
	if d < 0 {
		return 0
	}
	return d
}

// legacyWarned records the legacy protocol names already warned about
// (once per process each).
var legacyWarned sync.Map

// legacyWarning reports, once per process and protocol name, that a
// context allows TLS 1.0 or 1.1. Loop goroutine.
func (e *env) legacyWarning(proto string) {
	if _, loaded := legacyWarned.LoadOrStore(proto, true); loaded {
		return
	}
	v := "TLS 1.0"
	if proto == "tlsv1_1" {
		v = "TLS 1.1"
	}
	msg := fmt.Sprintf("warning: ssl protocol %q enables %s, which is deprecated and insecure (RFC 8996); use \"any\" or \"tlsv1_2\"", proto, v)
	if e != nil && e.loop != nil {
		e.loop.Notify(msg)
	}
}

// purpose is the extended key usage a peer certificate must allow, as
// OpenSSL's default purpose check in LuaSec: a client checks for a TLS
// server certificate, a server for a TLS client certificate;
// lsec_ignore_purpose accepts any.
func (x *sslctx) purpose() x509.ExtKeyUsage {
	switch {
	case x.anyPurpose:
		return x509.ExtKeyUsageAny
	case x.server:
		return x509.ExtKeyUsageClientAuth
	}
	return x509.ExtKeyUsageServerAuth
}

// keyUsageOK is OpenSSL's key-usage half of the TLS purposes: a leaf
// that lists key usages must allow a TLS key exchange or signature.
func keyUsageOK(c *x509.Certificate) bool {
	const tlsUses = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement
	return c.KeyUsage == 0 || c.KeyUsage&tlsUses != 0
}

// failLog rate-limits reports of failed server handshakes: at most one
// line per peer address per interval.
type failLog struct {
	mu    sync.Mutex
	last  map[string]time.Time
	every time.Duration
}

// handshakeLogInterval is how often one peer address may be reported.
const handshakeLogInterval = time.Minute

var serverFailures = &failLog{last: map[string]time.Time{}, every: handshakeLogInterval}

// allow reports whether a failure from peer (an IP address) may be logged
// now, and remembers it. Old entries are dropped as the map grows.
func (f *failLog) allow(peer string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.last[peer]; ok && now.Sub(t) < f.every {
		return false
	}
	if len(f.last) >= 4096 {
		for k, t := range f.last {
			if now.Sub(t) >= f.every {
				delete(f.last, k)
			}
		}
	}
	if len(f.last) >= 4096 {
		return false // a flood of distinct peers: stay quiet until they age out
	}
	f.last[peer] = now
	return true
}
