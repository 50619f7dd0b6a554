package socket

import (
	"fmt"
	"net/netip"
	"syscall"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// setoption/getoption with LuaSocket 3's option names per object kind.
// Failures of the system call give LuaSocket's generic "setsockopt
// failed"/"getsockopt failed"; bad Lua values raise its argument errors.

type optFunc func(c *call, s *sock) int

// Linux values missing from package syscall.
const (
	soReusePort    = 0xf
	tcpKeepIdle    = 0x4
	tcpKeepIntvl   = 0x5
	tcpKeepCnt     = 0x6
	tcpDeferAccept = 0x9
	tcpFastOpen    = 0x17
	tcpFastOpenCon = 0x1e
	soBindToDevice = 0x19
)

var tcpSet = map[string]optFunc{
	"bindtodevice":         setBindToDevice,
	"keepalive":            setBool(syscall.SOL_SOCKET, syscall.SO_KEEPALIVE),
	"reuseaddr":            setBool(syscall.SOL_SOCKET, syscall.SO_REUSEADDR),
	"reuseport":            setBool(syscall.SOL_SOCKET, soReusePort),
	"tcp-nodelay":          setBool(syscall.IPPROTO_TCP, syscall.TCP_NODELAY),
	"tcp-keepidle":         setInt(syscall.IPPROTO_TCP, tcpKeepIdle),
	"tcp-keepcnt":          setInt(syscall.IPPROTO_TCP, tcpKeepCnt),
	"tcp-keepintvl":        setInt(syscall.IPPROTO_TCP, tcpKeepIntvl),
	"ipv6-v6only":          setBool(syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY),
	"linger":               setLinger,
	"recv-buffer-size":     setInt(syscall.SOL_SOCKET, syscall.SO_RCVBUF),
	"send-buffer-size":     setInt(syscall.SOL_SOCKET, syscall.SO_SNDBUF),
	"tcp-defer-accept":     setInt(syscall.IPPROTO_TCP, tcpDeferAccept),
	"tcp-fastopen":         setInt(syscall.IPPROTO_TCP, tcpFastOpen),
	"tcp-fastopen-connect": setInt(syscall.IPPROTO_TCP, tcpFastOpenCon),
}

var tcpGet = map[string]optFunc{
	"bindtodevice":     getBindToDevice,
	"keepalive":        getBool(syscall.SOL_SOCKET, syscall.SO_KEEPALIVE),
	"reuseaddr":        getBool(syscall.SOL_SOCKET, syscall.SO_REUSEADDR),
	"reuseport":        getBool(syscall.SOL_SOCKET, soReusePort),
	"tcp-nodelay":      getBool(syscall.IPPROTO_TCP, syscall.TCP_NODELAY),
	"tcp-keepidle":     getInt(syscall.IPPROTO_TCP, tcpKeepIdle),
	"tcp-keepcnt":      getInt(syscall.IPPROTO_TCP, tcpKeepCnt),
	"tcp-keepintvl":    getInt(syscall.IPPROTO_TCP, tcpKeepIntvl),
	"linger":           getLinger,
	"error":            getError,
	"recv-buffer-size": getInt(syscall.SOL_SOCKET, syscall.SO_RCVBUF),
	"send-buffer-size": getInt(syscall.SOL_SOCKET, syscall.SO_SNDBUF),
}

var udpSet = map[string]optFunc{
	"dontroute":            setBool(syscall.SOL_SOCKET, syscall.SO_DONTROUTE),
	"broadcast":            setBool(syscall.SOL_SOCKET, syscall.SO_BROADCAST),
	"reuseaddr":            setBool(syscall.SOL_SOCKET, syscall.SO_REUSEADDR),
	"reuseport":            setBool(syscall.SOL_SOCKET, soReusePort),
	"ip-multicast-if":      setMulticastIf,
	"ip-multicast-ttl":     setInt(syscall.IPPROTO_IP, syscall.IP_MULTICAST_TTL),
	"ip-multicast-loop":    setBool(syscall.IPPROTO_IP, syscall.IP_MULTICAST_LOOP),
	"ip-add-membership":    setMembership(syscall.IP_ADD_MEMBERSHIP),
	"ip-drop-membership":   setMembership(syscall.IP_DROP_MEMBERSHIP),
	"ipv6-unicast-hops":    setInt(syscall.IPPROTO_IPV6, syscall.IPV6_UNICAST_HOPS),
	"ipv6-multicast-hops":  setInt(syscall.IPPROTO_IPV6, syscall.IPV6_UNICAST_HOPS), // sic, as LuaSocket
	"ipv6-multicast-loop":  setBool(syscall.IPPROTO_IPV6, syscall.IPV6_MULTICAST_LOOP),
	"ipv6-add-membership":  setMembership6(syscall.IPV6_JOIN_GROUP),
	"ipv6-drop-membership": setMembership6(syscall.IPV6_LEAVE_GROUP),
	"ipv6-v6only":          setBool(syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY),
	"recv-buffer-size":     setInt(syscall.SOL_SOCKET, syscall.SO_RCVBUF),
	"send-buffer-size":     setInt(syscall.SOL_SOCKET, syscall.SO_SNDBUF),
}

var udpGet = map[string]optFunc{
	"dontroute":           getBool(syscall.SOL_SOCKET, syscall.SO_DONTROUTE),
	"broadcast":           getBool(syscall.SOL_SOCKET, syscall.SO_BROADCAST),
	"reuseaddr":           getBool(syscall.SOL_SOCKET, syscall.SO_REUSEADDR),
	"reuseport":           getBool(syscall.SOL_SOCKET, soReusePort),
	"ip-multicast-if":     getMulticastIf,
	"ip-multicast-loop":   getBool(syscall.IPPROTO_IP, syscall.IP_MULTICAST_LOOP),
	"error":               getError,
	"ipv6-unicast-hops":   getInt(syscall.IPPROTO_IPV6, syscall.IPV6_UNICAST_HOPS),
	"ipv6-multicast-hops": getInt(syscall.IPPROTO_IPV6, syscall.IPV6_UNICAST_HOPS),
	"ipv6-multicast-loop": getBool(syscall.IPPROTO_IPV6, syscall.IPV6_MULTICAST_LOOP),
	"ipv6-v6only":         getBool(syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY),
	"recv-buffer-size":    getInt(syscall.SOL_SOCKET, syscall.SO_RCVBUF),
	"send-buffer-size":    getInt(syscall.SOL_SOCKET, syscall.SO_SNDBUF),
}

func lookupOpt(c *call, s *sock, tcp, udp map[string]optFunc) optFunc {
	name := c.checkString(2)
	table := udp
	if s.stream {
		table = tcp
	}
	f := table[name]
	if f == nil {
		if len(name) > 35 {
			name = name[:35]
		}
		c.argError(2, fmt.Sprintf("unsupported option `%s'", name))
	}
	return f
}

func setOption(c *call, s *sock) int { return lookupOpt(c, s, tcpSet, udpSet)(c, s) }
func getOption(c *call, s *sock) int { return lookupOpt(c, s, tcpGet, udpGet)(c, s) }

func setResult(L *lua.LState, err error) int {
	if err != nil {
		return fail(L, "setsockopt failed")
	}
	return ret(L, one)
}

func getFailed(L *lua.LState) int { return fail(L, "getsockopt failed") }

func setBool(level, name int) optFunc {
	return func(c *call, s *sock) int {
		b, ok := c.L.Get(3).(lua.LBool)
		if !ok || c.L.GetTop() < 3 {
			c.typeError(3, "boolean")
		}
		v := 0
		if b {
			v = 1
		}
		return setResult(c.L, syscall.SetsockoptInt(s.fd, level, name, v))
	}
}

func getBool(level, name int) optFunc {
	return func(c *call, s *sock) int {
		v, err := syscall.GetsockoptInt(s.fd, level, name)
		if err != nil {
			return getFailed(c.L)
		}
		return ret(c.L, lua.LBool(v != 0))
	}
}

// setInt takes lua_tonumber of the value: anything that is not a number
// becomes 0, as in LuaSocket.
func setInt(level, name int) optFunc {
	return func(c *call, s *sock) int {
		f, _ := toNumber(c.L.Get(3))
		return setResult(c.L, syscall.SetsockoptInt(s.fd, level, name, int(int32(f))))
	}
}

func getInt(level, name int) optFunc {
	return func(c *call, s *sock) int {
		v, err := syscall.GetsockoptInt(s.fd, level, name)
		if err != nil {
			return getFailed(c.L)
		}
		return ret(c.L, lua.LNumber(v))
	}
}

func setBindToDevice(c *call, s *sock) int {
	dev := c.checkString(3)
	return setResult(c.L, syscall.SetsockoptString(s.fd, syscall.SOL_SOCKET, soBindToDevice, dev+"\x00"))
}

func getBindToDevice(c *call, s *sock) int {
	var buf [syscall.IFNAMSIZ]byte
	n := uint32(len(buf))
	_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, uintptr(s.fd), syscall.SOL_SOCKET, soBindToDevice,
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 {
		return getFailed(c.L)
	}
	name := buf[:n]
	for i, b := range name {
		if b == 0 {
			name = name[:i]
			break
		}
	}
	return ret(c.L, lua.LString(name))
}

// field reads t[k] the way lua_gettable does for a plain table.
func field(c *call, k string) lua.LValue {
	return c.L.GetField(c.L.Get(3), k)
}

func checkTable(c *call) {
	if _, ok := c.L.Get(3).(*lua.LTable); !ok || c.L.GetTop() < 3 {
		c.typeError(3, "table")
	}
}

func setLinger(c *call, s *sock) int {
	checkTable(c)
	on, ok := field(c, "on").(lua.LBool)
	if !ok {
		c.argError(3, "boolean 'on' field expected")
	}
	secs, ok := toNumber(field(c, "timeout"))
	if !ok {
		c.argError(3, "number 'timeout' field expected")
	}
	l := syscall.Linger{Linger: int32(uint16(int64(secs)))}
	if on {
		l.Onoff = 1
	}
	return setResult(c.L, syscall.SetsockoptLinger(s.fd, syscall.SOL_SOCKET, syscall.SO_LINGER, &l))
}

func getLinger(c *call, s *sock) int {
	l, err := getsockoptLinger(s.fd)
	if err != nil {
		return getFailed(c.L)
	}
	t := c.L.NewTable()
	t.RawSetString("on", lua.LBool(l.Onoff != 0))
	t.RawSetString("timeout", lua.LNumber(l.Linger))
	return ret(c.L, t)
}

func getsockoptLinger(fd int) (syscall.Linger, error) {
	var l syscall.Linger
	n := uint32(unsafe.Sizeof(l))
	_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, uintptr(fd), syscall.SOL_SOCKET, syscall.SO_LINGER,
		uintptr(unsafe.Pointer(&l)), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 {
		return l, e
	}
	return l, nil
}

// getError is getoption("error"): the pending socket error, or nil.
func getError(c *call, s *sock) int {
	v, err := syscall.GetsockoptInt(s.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	if err != nil {
		return getFailed(c.L)
	}
	if v == 0 {
		return ret(c.L, lua.LNil)
	}
	return ret(c.L, lua.LString(errnoString(syscall.Errno(v))))
}

// inetAton parses an IPv4 address as inet_aton(3) does: "*" is handled by
// the callers.
func inetAton(s string) ([4]byte, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		a, ok := atonAddr(s)
		if !ok {
			return [4]byte{}, false
		}
		return a.As4(), true
	}
	if !a.Is4() {
		return [4]byte{}, false
	}
	return a.As4(), true
}

func setMulticastIf(c *call, s *sock) int {
	addr := c.checkString(3)
	var ip [4]byte
	if addr != "*" {
		var ok bool
		if ip, ok = inetAton(addr); !ok {
			c.argError(3, "ip expected")
		}
	}
	return setResult(c.L, syscall.SetsockoptInet4Addr(s.fd, syscall.IPPROTO_IP, syscall.IP_MULTICAST_IF, ip))
}

func getMulticastIf(c *call, s *sock) int {
	ip, err := syscall.GetsockoptInet4Addr(s.fd, syscall.IPPROTO_IP, syscall.IP_MULTICAST_IF)
	if err != nil {
		return getFailed(c.L)
	}
	return ret(c.L, lua.LString(netip.AddrFrom4(ip).String()))
}

func setMembership(name int) optFunc {
	return func(c *call, s *sock) int {
		checkTable(c)
		ma, ok := toLString(field(c, "multiaddr"))
		if !ok {
			c.argError(3, "string 'multiaddr' field expected")
		}
		var mreq syscall.IPMreq
		if mreq.Multiaddr, ok = inetAton(ma); !ok {
			c.argError(3, "invalid 'multiaddr' ip address")
		}
		itf, ok := toLString(field(c, "interface"))
		if !ok {
			c.argError(3, "string 'interface' field expected")
		}
		if itf != "*" {
			if mreq.Interface, ok = inetAton(itf); !ok {
				c.argError(3, "invalid 'interface' ip address")
			}
		}
		return setResult(c.L, syscall.SetsockoptIPMreq(s.fd, syscall.IPPROTO_IP, name, &mreq))
	}
}

func setMembership6(name int) optFunc {
	return func(c *call, s *sock) int {
		checkTable(c)
		ma, ok := toLString(field(c, "multiaddr"))
		if !ok {
			c.argError(3, "string 'multiaddr' field expected")
		}
		var mreq syscall.IPv6Mreq
		a, err := netip.ParseAddr(ma)
		if err != nil || !a.Is6() {
			c.argError(3, "invalid 'multiaddr' ip address")
		}
		mreq.Multiaddr = a.As16()
		if v := field(c, "interface"); v != lua.LNil {
			n, ok := toNumber(v)
			if !ok {
				// LuaSocket passes -1 as the argument index here.
				c.argError(-1, "number 'interface' field expected")
			}
			mreq.Interface = uint32(int64(n))
		}
		return setResult(c.L, syscall.SetsockoptIPv6Mreq(s.fd, syscall.IPPROTO_IPV6, name, &mreq))
	}
}
