package ssl

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

// Static tables: OpenSSL names of protocols, options, ciphers and curves,
// and the one place where Go TLS errors become LuaSec's strings.

var protocolNames = []string{"tlsv1", "tlsv1_1", "tlsv1_2", "tlsv1_3"}

// protocolRange maps LuaSec's protocol parameter to Go versions. "any"
// (and the legacy "sslv23") is TLS 1.2 and 1.3, as LuaSec on OpenSSL 3
// at its default security level negotiates; TLS 1.0 and 1.1 only when
// named ("tlsv1", "tlsv1_1"), which warns once (legacyWarning).
func protocolRange(p string) (lo, hi uint16, ok bool) {
	switch p {
	case "any", "sslv23":
		return tls.VersionTLS12, tls.VersionTLS13, true
	case "tlsv1":
		return tls.VersionTLS10, tls.VersionTLS10, true
	case "tlsv1_1":
		return tls.VersionTLS11, tls.VersionTLS11, true
	case "tlsv1_2":
		return tls.VersionTLS12, tls.VersionTLS12, true
	case "tlsv1_3":
		return tls.VersionTLS13, tls.VersionTLS13, true
	}
	return 0, 0, false
}

func versionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLSv1"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return "unknown"
}

// optionNames are OpenSSL's SSL_OP_* names as LuaSec spells them. Only the
// no_tlsv1* family and no_ticket change anything in Go; the others are
// accepted without effect (most are bug workarounds Go never needed).
var optionNames = []string{
	"all", "allow_client_renegotiation", "allow_no_dhe_kex", "allow_unsafe_legacy_renegotiation",
	"cipher_server_preference", "cisco_anyconnect", "cleanse_plaintext", "cookie_exchange",
	"cryptopro_tlsext_bug", "disable_tlsext_ca_names", "dont_insert_empty_fragments", "enable_ktls",
	"enable_middlebox_compat", "ephemeral_rsa", "ignore_unexpected_eof", "legacy_server_connect",
	"microsoft_big_sslv3_buffer", "microsoft_sess_id_bug", "msie_sslv2_rsa_padding", "netscape_ca_dn_bug",
	"netscape_challenge_bug", "netscape_demo_cipher_change_bug", "netscape_reuse_cipher_change_bug",
	"no_anti_replay", "no_compression", "no_dtls_mask", "no_dtlsv1", "no_dtlsv1_2", "no_encrypt_then_mac",
	"no_extended_master_secret", "no_query_mtu", "no_renegotiation", "no_session_resumption_on_renegotiation",
	"no_ssl_mask", "no_sslv2", "no_sslv3", "no_ticket", "no_tlsv1", "no_tlsv1_1", "no_tlsv1_2",
	"no_tlsv1_3", "pkcs1_check_1", "pkcs1_check_2", "prioritize_chacha", "safari_ecdhe_ecdsa_bug",
	"single_dh_use", "single_ecdh_use", "ssleay_080_client_dh_bug", "sslref2_reuse_cert_type_bug",
	"tls_block_padding_bug", "tls_d5_bug", "tls_rollback_bug", "tlsext_padding",
}

// curveIDs maps OpenSSL curve names to Go's (only the ones Go implements).
var curveIDs = map[string]tls.CurveID{
	"P-256": tls.CurveP256, "prime256v1": tls.CurveP256, "secp256r1": tls.CurveP256,
	"P-384": tls.CurveP384, "secp384r1": tls.CurveP384,
	"P-521": tls.CurveP521, "secp521r1": tls.CurveP521,
	"X25519": tls.X25519, "x25519": tls.X25519,
}

// suite describes a cipher suite the way SSL_CIPHER_description does.
type suite struct {
	id                     uint16
	name, kx, au, enc, mac string
	bits                   int
	tls13                  bool
}

var suites = []suite{
	{tls.TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256", "any", "any", "AESGCM(128)", "AEAD", 128, true},
	{tls.TLS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384", "any", "any", "AESGCM(256)", "AEAD", 256, true},
	{tls.TLS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256", "any", "any", "CHACHA20/POLY1305(256)", "AEAD", 256, true},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDH", "ECDSA", "AESGCM(128)", "AEAD", 128, false},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256", "ECDH", "RSA", "AESGCM(128)", "AEAD", 128, false},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDH", "ECDSA", "AESGCM(256)", "AEAD", 256, false},
	{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384", "ECDH", "RSA", "AESGCM(256)", "AEAD", 256, false},
	{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDH", "ECDSA", "CHACHA20/POLY1305(256)", "AEAD", 256, false},
	{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-RSA-CHACHA20-POLY1305", "ECDH", "RSA", "CHACHA20/POLY1305(256)", "AEAD", 256, false},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "ECDHE-ECDSA-AES128-SHA", "ECDH", "ECDSA", "AES(128)", "SHA1", 128, false},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "ECDHE-RSA-AES128-SHA", "ECDH", "RSA", "AES(128)", "SHA1", 128, false},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, "ECDHE-ECDSA-AES256-SHA", "ECDH", "ECDSA", "AES(256)", "SHA1", 256, false},
	{tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "ECDHE-RSA-AES256-SHA", "ECDH", "RSA", "AES(256)", "SHA1", 256, false},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, "ECDHE-ECDSA-AES128-SHA256", "ECDH", "ECDSA", "AES(128)", "SHA256", 128, false},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, "ECDHE-RSA-AES128-SHA256", "ECDH", "RSA", "AES(128)", "SHA256", 128, false},
	{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256", "RSA", "RSA", "AESGCM(128)", "AEAD", 128, false},
	{tls.TLS_RSA_WITH_AES_256_GCM_SHA384, "AES256-GCM-SHA384", "RSA", "RSA", "AESGCM(256)", "AEAD", 256, false},
	{tls.TLS_RSA_WITH_AES_128_CBC_SHA, "AES128-SHA", "RSA", "RSA", "AES(128)", "SHA1", 128, false},
	{tls.TLS_RSA_WITH_AES_256_CBC_SHA, "AES256-SHA", "RSA", "RSA", "AES(256)", "SHA1", 256, false},
	{tls.TLS_RSA_WITH_AES_128_CBC_SHA256, "AES128-SHA256", "RSA", "RSA", "AES(128)", "SHA256", 128, false},
	{tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, "DES-CBC3-SHA", "RSA", "RSA", "3DES(168)", "SHA1", 112, false},
	{tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, "ECDHE-RSA-DES-CBC3-SHA", "ECDH", "RSA", "3DES(168)", "SHA1", 112, false},
	{tls.TLS_RSA_WITH_RC4_128_SHA, "RC4-SHA", "RSA", "RSA", "RC4(128)", "SHA1", 128, false},
	{tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA, "ECDHE-RSA-RC4-SHA", "ECDH", "RSA", "RC4(128)", "SHA1", 128, false},
	{tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA, "ECDHE-ECDSA-RC4-SHA", "ECDH", "ECDSA", "RC4(128)", "SHA1", 128, false},
}

func suiteByID(id uint16) *suite {
	for i := range suites {
		if suites[i].id == id {
			return &suites[i]
		}
	}
	return nil
}

func suiteByName(name string) *suite {
	for i := range suites {
		if suites[i].name == name {
			return &suites[i]
		}
	}
	return nil
}

// cipherKeywords are OpenSSL cipher-string words that select groups; Go
// picks its own secure defaults for them.
var cipherKeywords = map[string]bool{
	"ALL": true, "DEFAULT": true, "HIGH": true, "MEDIUM": true, "LOW": true, "COMPLEMENTOFDEFAULT": true,
	"COMPLEMENTOFALL": true, "SECURE128": true, "SECURE192": true, "aNULL": true, "eNULL": true, "NULL": true,
	"EXPORT": true, "EXP": true, "RC4": true, "MD5": true, "DES": true, "3DES": true, "PSK": true, "SRP": true,
	"DSS": true, "aDSS": true, "CAMELLIA": true, "SEED": true, "IDEA": true, "ADH": true, "AECDH": true,
	"kRSA": true, "aRSA": true, "RSA": true, "kEDH": true, "EDH": true, "DHE": true, "kDHE": true,
	"kEECDH": true, "EECDH": true, "ECDHE": true, "kECDHE": true, "ECDH": true, "aECDSA": true, "ECDSA": true,
	"AES": true, "AES128": true, "AES256": true, "AESGCM": true, "CHACHA20": true, "SHA": true, "SHA1": true,
	"SHA256": true, "SHA384": true, "TLSv1.2": true, "TLSv1": true, "SSLv3": true, "@STRENGTH": true,
	"@SECLEVEL=0": true, "@SECLEVEL=1": true, "@SECLEVEL=2": true, "@SECLEVEL=3": true,
}

// parseCipherList maps an OpenSSL cipher string to Go suite IDs. Group
// keywords keep Go's defaults (nil); explicit names restrict the TLS 1.2
// suites to those named. ok is false if nothing in the string matches,
// which is OpenSSL's "no cipher match".
func parseCipherList(s string) (ids []uint16, ok bool) {
	keyword := false
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		if tok[0] == '!' || tok[0] == '-' {
			ok = ok || true
			continue
		}
		tok = strings.TrimPrefix(tok, "+")
		if strings.HasPrefix(tok, "@") || cipherKeywords[tok] || strings.Contains(tok, "+") {
			keyword = true
			continue
		}
		if su := suiteByName(tok); su != nil && !su.tls13 {
			ids = append(ids, su.id)
		}
	}
	if keyword {
		return nil, true
	}
	return ids, len(ids) > 0
}

// checkCipherSuites validates a TLS 1.3 ciphersuites string. Go does not
// let TLS 1.3 suites be chosen, so valid names are accepted without effect.
func checkCipherSuites(s string) bool {
	n := 0
	for _, tok := range strings.Split(s, ":") {
		if tok == "" {
			continue
		}
		su := suiteByName(tok)
		if su == nil || !su.tls13 {
			return false
		}
		n++
	}
	return n > 0
}

// alertText maps Go's wording of received TLS alerts to OpenSSL's.
var alertText = map[string]string{
	"close notify":                    "closed",
	"unexpected message":              "sslv3 alert unexpected message",
	"bad record MAC":                  "sslv3 alert bad record mac",
	"handshake failure":               "sslv3 alert handshake failure",
	"bad certificate":                 "sslv3 alert bad certificate",
	"unsupported certificate":         "sslv3 alert unsupported certificate",
	"revoked certificate":             "sslv3 alert certificate revoked",
	"expired certificate":             "sslv3 alert certificate expired",
	"unknown certificate":             "sslv3 alert certificate unknown",
	"illegal parameter":               "sslv3 alert illegal parameter",
	"unknown certificate authority":   "tlsv1 alert unknown ca",
	"access denied":                   "tlsv1 alert access denied",
	"error decoding message":          "tlsv1 alert decode error",
	"error decrypting message":        "tlsv1 alert decrypt error",
	"protocol version not supported":  "tlsv1 alert protocol version",
	"insufficient security level":     "tlsv1 alert insufficient security",
	"internal error":                  "tlsv1 alert internal error",
	"inappropriate fallback":          "tlsv1 alert inappropriate fallback",
	"user canceled":                   "tlsv1 alert user cancelled",
	"no renegotiation":                "tlsv1 alert no renegotiation",
	"unsupported extension":           "tlsv1 unsupported extension",
	"unrecognized name":               "tlsv1 unrecognized name",
	"certificate required":            "tlsv13 alert certificate required",
	"no application protocol":         "tlsv1 alert no application protocol",
	"missing extension":               "tlsv13 alert missing extension",
	"decompression failure":           "sslv3 alert decompression failure",
	"record overflow":                 "tlsv1 alert record overflow",
	"bad certificate status response": "tlsv1 bad certificate status response",
}

// errVerify is the handshake error of a peer certificate that did not
// verify (OpenSSL's reason string).
var errVerify = errors.New("certificate verify failed")

// errCallback is the handshake error of a strict SNI mismatch (LuaSec's
// server reports that its callback failed).
var errCallback = errors.New("callback failed")

// errWouldBlock is returned by the descriptor conn in data mode when the
// kernel has nothing to read; crypto/tls treats a temporary net.Error as
// recoverable and keeps any partial record.
var errWouldBlock net.Error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "wantread" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// ErrorString is the LuaSec (or LuaSocket) message for err, an error from
// a TLS handshake, read or write; "" for nil. Safe to call from any
// goroutine; for modules that run TLS through Go's own clients (the
// gluahttp "http" module).
func ErrorString(err error) string { return errorString(err) }

// errorString maps an error from a handshake or a TLS read/write to the
// string LuaSec returns.
func errorString(err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, errVerify) {
		return errVerify.Error()
	}
	if errors.Is(err, errCallback) {
		return errCallback.Error()
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) {
		return "closed"
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		switch en {
		case syscall.EPIPE, syscall.ECONNRESET, syscall.ECONNABORTED:
			return "closed"
		case syscall.ETIMEDOUT:
			return "timeout"
		case syscall.ECONNREFUSED:
			return "connection refused"
		}
		s := en.Error()
		return strings.ToUpper(s[:1]) + s[1:]
	}
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) {
		return errVerify.Error()
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return errVerify.Error()
	}
	msg := err.Error()
	if i := strings.Index(msg, "remote error: tls: "); i >= 0 {
		if s, ok := alertText[msg[i+len("remote error: tls: "):]]; ok {
			return s
		}
		return "tlsv1 alert " + msg[i+len("remote error: tls: "):]
	}
	switch {
	case strings.Contains(msg, "does not look like a TLS handshake"),
		strings.Contains(msg, "unsupported versions"),
		strings.Contains(msg, "unsupported SSLv2"),
		strings.Contains(msg, "oversized record"):
		return "wrong version number"
	case strings.Contains(msg, "client didn't provide a certificate"):
		return "peer did not return a certificate"
	case strings.Contains(msg, "no cipher suite supported"), strings.Contains(msg, "no certificates configured"),
		strings.Contains(msg, "no mutually supported"):
		return "no shared cipher"
	case strings.Contains(msg, "protocol version"):
		return "unsupported protocol"
	case strings.Contains(msg, "bad record MAC"):
		return "bad record mac"
	}
	return strings.TrimPrefix(msg, "tls: ")
}

// verifyErrorString is OpenSSL's X509_verify_cert_error_string for the
// result of a Go chain verification.
func verifyErrorString(err error, leafSelfSigned bool) string {
	var ci x509.CertificateInvalidError
	if errors.As(err, &ci) {
		switch ci.Reason {
		case x509.Expired:
			if strings.Contains(ci.Detail, "before") {
				return "certificate is not yet valid"
			}
			return "certificate has expired"
		case x509.TooManyIntermediates:
			return "certificate chain too long"
		case x509.IncompatibleUsage:
			return "unsuitable certificate purpose" // OpenSSL 3 wording
		case x509.NotAuthorizedToSign:
			return "invalid CA certificate"
		}
		return "certificate signature failure"
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		if leafSelfSigned {
			return "self-signed certificate"
		}
		return "unable to get local issuer certificate"
	}
	var he x509.HostnameError
	if errors.As(err, &he) {
		return "hostname mismatch"
	}
	// anything else (no system roots, a malformed chain): OpenSSL's
	// wording for a chain it could not build, never Go's text
	return "unable to get local issuer certificate"
}
