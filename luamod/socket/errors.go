package socket

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// This file is the one place where Go and system errors become the strings
// LuaSocket 3 returns. LuaSocket normalises a handful of errno values
// (pierror.h) and passes everything else through strerror(3); resolver
// failures use its own wording for some getaddrinfo codes and glibc's
// gai_strerror for the rest.

// Strings LuaSocket scripts compare against.
const (
	errClosed  = "closed"
	errTimeout = "timeout"
	errRefused = "refused" // an unconnected UDP send that hit a closed socket
)

// errnoString is LuaSocket's socket_strerror for a non-zero errno.
func errnoString(e syscall.Errno) string {
	switch e {
	case syscall.EADDRINUSE:
		return "address already in use"
	case syscall.EISCONN:
		return "already connected"
	case syscall.EACCES:
		return "permission denied"
	case syscall.ECONNREFUSED:
		return "connection refused"
	case syscall.ECONNABORTED, syscall.ECONNRESET:
		return errClosed
	case syscall.ETIMEDOUT:
		return errTimeout
	}
	return strerror(e)
}

// strerror returns glibc's strerror text: Go's errno table is glibc's with
// the first letter lowered.
func strerror(e syscall.Errno) string {
	s := e.Error()
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || (len(s) > 6 && s[:6] == "errno ") {
		return "Unknown error " + s[min(6, len(s)):]
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// ioErrorString maps an error from a socket operation (a syscall, a
// netpoller wait, a closed os.File) to LuaSocket's message.
func ioErrorString(err error) string {
	if err == nil {
		return ""
	}
	var en syscall.Errno
	switch {
	case errors.As(err, &en):
		if en == syscall.EAGAIN {
			return errTimeout
		}
		if en == syscall.EPIPE {
			return errClosed
		}
		return errnoString(en)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return errTimeout
	case errors.Is(err, os.ErrClosed), errors.Is(err, net.ErrClosed), errors.Is(err, io.EOF):
		return errClosed
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return gaiString(dnsGai(dnsErr))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errTimeout
	}
	return err.Error()
}

// gaiCode is a getaddrinfo(3) failure.
type gaiCode int

const (
	gaiOK gaiCode = iota
	gaiAgain
	gaiBadFlags
	gaiFail
	gaiFamily
	gaiMemory
	gaiNoName
	gaiService
	gaiSockType
	gaiAddrFamily
	gaiNoData
)

// gaiString is LuaSocket's socket_gaistrerror: its own wording where it has
// one, glibc's otherwise. Used by bind, connect and setpeername.
func gaiString(c gaiCode) string {
	switch c {
	case gaiOK:
		return ""
	case gaiAgain:
		return "temporary failure in name resolution"
	case gaiBadFlags:
		return "invalid value for ai_flags"
	case gaiFail:
		return "non-recoverable failure in name resolution"
	case gaiFamily:
		return "ai_family not supported"
	case gaiMemory:
		return "memory allocation failure"
	case gaiNoName:
		return "host or service not provided, or not known"
	case gaiService:
		return "service not supported for socket type"
	case gaiSockType:
		return "ai_socktype not supported"
	}
	return gaiRawString(c)
}

// gaiRawString is glibc's gai_strerror, which LuaSocket uses unchanged in
// udp sendto/receivefrom and getpeername/getsockname.
func gaiRawString(c gaiCode) string {
	switch c {
	case gaiOK:
		return "Success"
	case gaiAgain:
		return "Temporary failure in name resolution"
	case gaiBadFlags:
		return "Bad value for ai_flags"
	case gaiFail:
		return "Non-recoverable failure in name resolution"
	case gaiFamily:
		return "ai_family not supported"
	case gaiMemory:
		return "Memory allocation failure"
	case gaiNoName:
		return "Name or service not known"
	case gaiService:
		return "Servname not supported for ai_socktype"
	case gaiSockType:
		return "ai_socktype not supported"
	case gaiAddrFamily:
		return "Address family for hostname not supported"
	case gaiNoData:
		return "No address associated with hostname"
	}
	return "Unknown error"
}

// dnsGai classifies a Go resolver error as the getaddrinfo code glibc
// would have returned.
func dnsGai(err *net.DNSError) gaiCode {
	switch {
	case err.IsNotFound:
		return gaiNoName
	case err.IsTimeout, err.IsTemporary:
		return gaiAgain
	}
	return gaiFail
}
