package socket

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"syscall"
)

// Address resolution with getaddrinfo(3)'s outcomes, as LuaSocket sees
// them: numeric hosts and ports never touch the resolver, "*"/nil binds to
// the wildcard, a numeric port outside 0..65535 is refused (glibc wraps it
// modulo 65536; see parsePort), and a family mismatch is EAI_ADDRFAMILY.

// resolveReq describes one getaddrinfo call.
type resolveReq struct {
	host    string // "" with passive means the wildcard
	port    string
	family  int // AF_UNSPEC, AF_INET or AF_INET6
	stream  bool
	passive bool // AI_PASSIVE (bind)
	numeric bool // AI_NUMERICHOST|AI_NUMERICSERV (udp sendto)
	nilHost bool // host was "*": passive wildcard
}

// parsePort resolves a service string to a port number. A number is read
// the way glibc's getaddrinfo reads it (strtoul: leading blanks and a sign
// allowed, nothing after the digits). glibc then truncates the value to 16
// bits, so 70000 silently means 4464; we deliberately refuse every number
// outside 0..65535 with the error glibc gives for the values it does
// refuse (a negative one): EAI_SERVICE.
func parsePort(s string, stream, numeric bool) (int, gaiCode) {
	if n, ok := portNumber(s); ok {
		if n < 0 {
			return 0, gaiService
		}
		return n, gaiOK
	}
	if numeric {
		return 0, gaiNoName
	}
	proto := "udp"
	if stream {
		proto = "tcp"
	}
	if s == "" {
		// glibc reads an empty service as none: port 0, as LuaSocket's
		// bind(host, "") and connect(host, "") show.
		return 0, gaiOK
	}
	p, err := net.LookupPort(proto, s)
	if err != nil {
		return 0, gaiService
	}
	return p, gaiOK
}

// portNumber parses s as strtoul(s, &end, 10) with *end == '\0' would:
// ok is false if s is not a number in that sense. The port is -1 when the
// number is outside 0..65535 (a minus sign before anything but zeros
// makes it huge, as strtoul does). Pure.
func portNumber(s string) (port int, ok bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i == len(s) {
		return 0, false
	}
	n := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n <= 65535 {
			n = n*10 + int(c-'0')
		}
	}
	if n > 65535 || (neg && n != 0) {
		return -1, true
	}
	return n, true
}

// numericHost parses a literal address, or reports false: IPv6 and
// dotted quads, and the shorter IPv4 forms glibc's getaddrinfo reads with
// inet_aton ("0", "127.1", "0x7f.0.0.1", "2130706433").
func numericHost(h string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(h)
	if err != nil {
		return atonAddr(h)
	}
	return a, true
}

// atonAddr parses h as glibc's inet_aton does with nothing after the
// address: one to four parts, each decimal, octal (leading 0) or hex
// (0x); the last part fills the remaining bytes. Pure.
func atonAddr(h string) (netip.Addr, bool) {
	var parts []uint64
	for i := 0; i <= len(h); {
		j := i
		for j < len(h) && h[j] != '.' {
			j++
		}
		p := h[i:j]
		if p == "" || len(parts) == 4 {
			return netip.Addr{}, false
		}
		base := 10
		switch {
		case len(p) > 1 && (p[:2] == "0x" || p[:2] == "0X"):
			base, p = 16, p[2:]
			if p == "" {
				p = "0" // glibc reads "0x" as 0
			}
		case len(p) > 1 && p[0] == '0':
			base, p = 8, p[1:]
		}
		for _, c := range p {
			if c == '+' || c == '-' {
				return netip.Addr{}, false
			}
		}
		n, err := strconv.ParseUint(p, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		parts = append(parts, n)
		i = j + 1
	}
	last := parts[len(parts)-1]
	var v uint64
	for i, p := range parts[:len(parts)-1] {
		if p > 0xff {
			return netip.Addr{}, false
		}
		v |= p << (24 - 8*uint(i))
	}
	if last >= 1<<(8*uint(5-len(parts))) {
		return netip.Addr{}, false
	}
	v |= last
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// needsLookup reports whether resolving r may block on the resolver.
func (r *resolveReq) needsLookup() bool {
	if r.nilHost || r.host == "" {
		return false
	}
	_, ok := numericHost(r.host)
	return !ok && !r.numeric
}

// resolve runs the request; ctx bounds a resolver lookup. Safe from any
// goroutine (touches no Lua state).
func (r *resolveReq) resolve(ctx context.Context) ([]syscall.Sockaddr, gaiCode) {
	if r.family != syscall.AF_UNSPEC && r.family != syscall.AF_INET && r.family != syscall.AF_INET6 {
		return nil, gaiFamily
	}
	port, code := parsePort(r.port, r.stream, r.numeric)
	if code != gaiOK {
		return nil, code
	}
	var addrs []netip.Addr
	switch {
	case r.nilHost && r.passive:
		if r.family != syscall.AF_INET6 {
			addrs = append(addrs, netip.IPv4Unspecified())
		}
		if r.family != syscall.AF_INET {
			addrs = append(addrs, netip.IPv6Unspecified())
		}
	case r.host == "":
		return nil, gaiNoName
	default:
		if a, ok := numericHost(r.host); ok {
			if !familyMatches(a, r.family) {
				return nil, gaiAddrFamily
			}
			addrs = append(addrs, a)
			break
		}
		if r.numeric {
			return nil, gaiNoName
		}
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", r.host)
		if err != nil {
			if de, ok := err.(*net.DNSError); ok {
				return nil, dnsGai(de)
			}
			return nil, gaiFail
		}
		// glibc puts IPv4 first for names like localhost on this kind of
		// host; keep that order so connect tries what LuaSocket tries.
		var v4, v6 []netip.Addr
		for _, a := range ips {
			a = a.Unmap()
			if a.Is4() {
				v4 = append(v4, a)
			} else {
				v6 = append(v6, a)
			}
		}
		for _, a := range append(v4, v6...) {
			if familyMatches(a, r.family) {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) == 0 {
			return nil, gaiAddrFamily
		}
	}
	out := make([]syscall.Sockaddr, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, sockaddrOf(a, port))
	}
	return out, gaiOK
}

func familyMatches(a netip.Addr, family int) bool {
	switch family {
	case syscall.AF_INET:
		return a.Is4()
	case syscall.AF_INET6:
		return !a.Is4()
	}
	return true
}

// sockaddrOf builds the kernel address for a and port.
func sockaddrOf(a netip.Addr, port int) syscall.Sockaddr {
	if a.Is4() {
		return &syscall.SockaddrInet4{Port: port, Addr: a.As4()}
	}
	sa := &syscall.SockaddrInet6{Port: port, Addr: a.As16()}
	if z := a.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			sa.ZoneId = uint32(ifi.Index)
		} else if n, err := strconv.Atoi(z); err == nil {
			sa.ZoneId = uint32(n)
		}
	}
	return sa
}

// familyOfSockaddr is the address family of sa.
func familyOfSockaddr(sa syscall.Sockaddr) int {
	if _, ok := sa.(*syscall.SockaddrInet6); ok {
		return syscall.AF_INET6
	}
	return syscall.AF_INET
}

// formatSockaddr gives the numeric host and port of sa, as getnameinfo
// with NI_NUMERICHOST|NI_NUMERICSERV does.
func formatSockaddr(sa syscall.Sockaddr) (string, int, bool) {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrFrom4(a.Addr).String(), a.Port, true
	case *syscall.SockaddrInet6:
		ip := netip.AddrFrom16(a.Addr)
		if a.ZoneId != 0 {
			zone := strconv.Itoa(int(a.ZoneId))
			if ifi, err := net.InterfaceByIndex(int(a.ZoneId)); err == nil {
				zone = ifi.Name
			}
			ip = ip.WithZone(zone)
		}
		return ip.String(), a.Port, true
	}
	return "", 0, false
}

// familyName is the third value of getsockname/getpeername.
func familyName(family int) string {
	switch family {
	case syscall.AF_INET:
		return "inet"
	case syscall.AF_INET6:
		return "inet6"
	case syscall.AF_UNSPEC:
		return "unspec"
	}
	return "unknown"
}
