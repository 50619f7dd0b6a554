package socket

import (
	"context"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

func init() { setupCore = append(setupCore, setupUDP) }

// datagramSize is LuaSocket's UDP_DATAGRAMSIZE: the default receive size.
const datagramSize = 8192

func setupUDP(L *lua.LState, loop *scheduler.Loop, mod *lua.LTable) {
	e := newEnv(L, loop)
	create := func(family int) lua.LGFunction { return e.creator(clsUnconnected, family) }
	mod.RawSetString("udp", L.NewFunction(create(syscall.AF_UNSPEC)))
	mod.RawSetString("udp4", L.NewFunction(create(syscall.AF_INET)))
	mod.RawSetString("udp6", L.NewFunction(create(syscall.AF_INET6)))
	mod.RawSetString("_DATAGRAMSIZE", lua.LNumber(datagramSize))

	conn, unconn := only(clsConnected), only(clsUnconnected)
	e.addCommonMethods(anyUDP)
	e.addMethod("receive", anyUDP, true, func(c *call, s *sock) int {
		return udpReceive(c, s, false)
	})
	e.addMethod("receivefrom", unconn, true, func(c *call, s *sock) int {
		return udpReceive(c, s, true)
	})
	e.addMethod("send", conn, true, func(c *call, s *sock) int {
		start := time.Now()
		data := c.checkString(2)
		return s.run(c.L, &udpSendOp{data: data}, start)
	})
	e.addMethod("sendto", unconn, true, udpSendTo)
	e.addMethod("getpeername", conn, false, func(c *call, s *sock) int {
		sa, err := syscall.Getpeername(s.fd)
		return pushName(c.L, s, sa, err, false)
	})
	e.addMethod("setsockname", unconn, false, func(c *call, s *sock) int {
		host := c.checkString(2)
		port := c.checkString(3)
		if msg := s.bind(host, port); msg != "" {
			return fail(c.L, msg)
		}
		return ret(c.L, one)
	})
	e.addMethod("setpeername", anyUDP, true, func(c *call, s *sock) int {
		host := c.checkString(2)
		if host == "*" {
			// Dissolve the association; Linux accepts AF_UNSPEC, other
			// systems may fail and LuaSocket ignores that too.
			disconnect(s.fd)
			s.setClass(clsUnconnected)
			return ret(c.L, one)
		}
		port := c.checkString(3)
		return s.connect(c.L, &connectOp{s: s, host: host, port: port})
	})
}

// disconnect connects fd to an AF_UNSPEC address, which dissolves a UDP
// association.
func disconnect(fd int) {
	var sa syscall.RawSockaddrInet6 // large enough for either family
	sa.Family = syscall.AF_UNSPEC
	_, _, _ = syscall.Syscall(syscall.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
}

// udpReceive is receive([size]) and receivefrom([size]).
func udpReceive(c *call, s *sock, from bool) int {
	start := time.Now()
	size := c.optNumber(2, datagramSize)
	if !(size >= 0) {
		// LuaSocket casts to size_t and malloc fails; the datagram stays.
		return fail(c.L, "out of memory")
	}
	// LuaSocket mallocs the size asked for (2^31 "out of memory", 1e300
	// cast to 0 and the datagram lost); no datagram is larger than
	// maxDatagram, so that is all a receive ever needs.
	size = min(size, maxDatagram)
	return s.run(c.L, &udpRecvOp{size: int(size), from: from}, start)
}

// maxDatagram is the largest UDP payload (IPv6 jumbograms aside).
const maxDatagram = 65535

var datagramPool = sync.Pool{New: func() any { b := make([]byte, maxDatagram); return &b }}

type udpRecvOp struct {
	size int
	from bool
	data string
	sa   syscall.Sockaddr
	err  string
}

func (o *udpRecvOp) try(s *sock) (bool, int) {
	if s.fd < 0 {
		// LuaSocket treats its "closed" as an empty datagram, and then
		// fails to name the sender of receivefrom.
		if o.from {
			o.err = gaiRawString(gaiFamily)
		}
		return true, 0
	}
	// A datagram is read whole into the buffer; whatever does not fit is
	// discarded by the kernel, so each receive consumes one datagram.
	pool := &chunkPool
	if o.size > chunkSize {
		pool = &datagramPool
	}
	pooled := pool.Get().(*[]byte)
	defer pool.Put(pooled)
	buf := (*pooled)[:o.size]
	for {
		var n int
		var err error
		if o.from {
			n, o.sa, err = syscall.Recvfrom(s.fd, buf, 0)
		} else {
			n, err = recvPlain(s.fd, buf)
		}
		switch err {
		case nil:
			o.data = string(buf[:n])
			if o.from && o.sa == nil {
				o.err = gaiRawString(gaiFamily)
			}
			return true, 0
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false, dirRead
		default:
			o.err = ioErrorString(err)
			return true, 0
		}
	}
}

// recvPlain is recv(2) without a source address (no allocation).
func recvPlain(fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	n, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, uintptr(fd), uintptr(ptr), uintptr(len(p)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func (o *udpRecvOp) fail(msg string) { o.err = msg }

func (o *udpRecvOp) results() []lua.LValue {
	if o.err != "" {
		return []lua.LValue{lua.LNil, lua.LString(o.err)}
	}
	if !o.from {
		return []lua.LValue{lua.LString(o.data)}
	}
	host, port, _ := formatSockaddr(o.sa)
	return []lua.LValue{lua.LString(o.data), lua.LString(host), lua.LNumber(port)}
}

// udpSendTo is sendto(data, ip, port): numeric addresses only, as
// LuaSocket asks getaddrinfo for AI_NUMERICHOST|AI_NUMERICSERV. An object
// made by socket.udp() gets its descriptor here.
func udpSendTo(c *call, s *sock) int {
	data := c.checkString(2)
	host := c.checkString(3)
	port := c.checkString(4)
	req := resolveReq{host: host, port: port, family: s.family, numeric: true}
	addrs, code := req.resolve(context.Background())
	if code != gaiOK {
		return fail(c.L, gaiRawString(code))
	}
	if s.family == syscall.AF_UNSPEC && s.fd < 0 {
		if msg := s.create(familyOfSockaddr(addrs[0])); msg != "" {
			return fail(c.L, msg)
		}
	}
	return s.run(c.L, &udpSendOp{data: data, to: addrs[0]}, time.Now())
}

// udpSendOp sends one datagram (to a given address unless connected).
type udpSendOp struct {
	data string
	to   syscall.Sockaddr
	n    int
	err  string
}

func (o *udpSendOp) try(s *sock) (bool, int) {
	if s.fd < 0 {
		o.err = errRefused
		return true, 0
	}
	for {
		var err error
		if o.to != nil {
			err = syscall.Sendto(s.fd, unsafe.Slice(unsafe.StringData(o.data), len(o.data)), msgNoSignal, o.to)
			if err == nil {
				o.n = len(o.data)
			}
		} else {
			o.n, err = sendNoSignal(s.fd, o.data)
		}
		switch err {
		case nil:
			return true, 0
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false, dirWrite
		case syscall.EPIPE:
			o.err = errRefused
			return true, 0
		default:
			o.err = ioErrorString(err)
			return true, 0
		}
	}
}

func (o *udpSendOp) fail(msg string) { o.err = msg }

func (o *udpSendOp) results() []lua.LValue {
	if o.err != "" {
		return []lua.LValue{lua.LNil, lua.LString(o.err)}
	}
	return []lua.LValue{lua.LNumber(o.n)}
}
