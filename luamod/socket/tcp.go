package socket

import (
	"context"
	"fmt"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

func init() { setupCore = append(setupCore, setupTCP) }

func setupTCP(L *lua.LState, loop *scheduler.Loop, mod *lua.LTable) {
	e := newEnv(L, loop)
	create := func(family int) lua.LGFunction { return e.creator(clsMaster, family) }
	mod.RawSetString("tcp", L.NewFunction(create(syscall.AF_UNSPEC)))
	mod.RawSetString("tcp4", L.NewFunction(create(syscall.AF_INET)))
	mod.RawSetString("tcp6", L.NewFunction(create(syscall.AF_INET6)))
	mod.RawSetString("connect", loop.WrapGo(e.globalConnect))

	client, server, master := only(clsClient), only(clsServer), only(clsMaster)
	e.addCommonMethods(anyTCP)
	e.addMethod("receive", client, true, tcpReceive)
	e.addMethod("send", client, true, tcpSend)
	e.addMethod("accept", server, true, tcpAccept)
	e.addMethod("connect", anyTCP, true, tcpConnect)
	e.addMethod("setpeername", anyTCP, true, tcpConnect)
	e.addMethod("bind", master, false, tcpBind)
	e.addMethod("setsockname", master, false, tcpBind)
	e.addMethod("listen", master, false, func(c *call, s *sock) int {
		backlog := int(c.optNumber(2, 32))
		if err := syscall.Listen(s.fd, backlog); err != nil {
			return fail(c.L, ioErrorString(err))
		}
		s.setClass(clsServer)
		return ret(c.L, one)
	})
	e.addMethod("shutdown", client, false, func(c *call, s *sock) int {
		how := c.checkOption(2, "both", []string{"receive", "send", "both"})
		_ = syscall.Shutdown(s.fd, how) // SHUT_RD, SHUT_WR, SHUT_RDWR are 0, 1, 2
		return ret(c.L, one)
	})
	e.addMethod("getpeername", anyTCP, false, func(c *call, s *sock) int {
		sa, err := syscall.Getpeername(s.fd)
		return pushName(c.L, s, sa, err, false)
	})
	e.addMethod("getstats", client, false, func(c *call, s *sock) int {
		age := time.Since(s.birthday).Seconds()
		return ret(c.L, lua.LNumber(s.received), lua.LNumber(s.sent), lua.LNumber(age))
	})
	e.addMethod("setstats", client, false, func(c *call, s *sock) int {
		s.received = float64(int64(c.optNumber(2, s.received)))
		s.sent = float64(int64(c.optNumber(3, s.sent)))
		if c.L.GetTop() >= 4 {
			if age, ok := toNumber(c.L.Get(4)); ok {
				s.birthday = time.Now().Add(-time.Duration(age * float64(time.Second)))
			}
		}
		return ret(c.L, one)
	})
}

// tcpReceive is receive(pattern, prefix): '*l' (any string starting so),
// '*a', or a byte count. Errors return nil, err, partial.
func tcpReceive(c *call, s *sock) int {
	start := time.Now()
	L := c.L
	var prefix string
	if !c.isNone(3) {
		prefix = c.checkString(3)
	}
	if _, isNum := toNumber(L.Get(2)); !isNum {
		c.optString(2, "*l") // LuaSocket's error for a pattern of another type
	}
	r, done, ok := NewReceive(L.Get(2), prefix, false)
	if !ok {
		c.argError(2, "invalid receive pattern")
	}
	if done {
		return ret(L, lua.LString(prefix), lua.LNil, lua.LNil)
	}
	op := &recvOp{r: r}
	return s.run(L, op, start)
}

// recvOp is a TCP receive in progress.
type recvOp struct {
	r   *Receive
	err string
}

func (o *recvOp) try(s *sock) (bool, int) {
	for {
		if s.bufEmpty() {
			msg, wouldBlock := s.fill()
			if wouldBlock {
				return false, dirRead
			}
			if msg != "" {
				if !o.r.EndedWell(msg) {
					o.err = msg
				}
				return true, 0
			}
		}
		used, done := o.r.Take(s.buf)
		s.skip(used)
		if done {
			return true, 0
		}
	}
}

func (o *recvOp) fail(msg string) { o.err = msg }

func (o *recvOp) results() []lua.LValue { return o.r.Results(o.err) }

// tcpSend is send(data, i, j): returns the index of the last byte sent,
// or nil, err, last index sent.
func tcpSend(c *call, s *sock) int {
	start := time.Now()
	data := c.checkString(2)
	from, to := SendRange(int64(len(data)), int64(c.optNumber(3, 1)), int64(c.optNumber(4, -1)))
	return s.run(c.L, &sendOp{data: data, pos: from, end: to}, start)
}

type sendOp struct {
	data     string
	pos, end int // next byte to send, end of range (0-based)
	err      string
}

func (o *sendOp) try(s *sock) (bool, int) {
	for o.pos < o.end {
		if s.fd < 0 {
			o.err = errClosed
			return true, 0
		}
		n, err := sendNoSignal(s.fd, o.data[o.pos:o.end])
		switch err {
		case nil:
			o.pos += n
			s.sent += float64(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false, dirWrite
		default:
			o.err = ioErrorString(err)
			return true, 0
		}
	}
	return true, 0
}

func (o *sendOp) fail(msg string) { o.err = msg }

func (o *sendOp) results() []lua.LValue {
	if o.err != "" {
		return []lua.LValue{lua.LNil, lua.LString(o.err), lua.LNumber(o.pos)}
	}
	return []lua.LValue{lua.LNumber(o.pos), lua.LNil, lua.LNil}
}

// sendNoSignal writes with MSG_NOSIGNAL, so a closed peer gives EPIPE
// rather than SIGPIPE even when copas-lua is embedded in a C program.
func sendNoSignal(fd int, s string) (int, error) {
	p := unsafe.StringData(s)
	for {
		n, _, e := syscall.Syscall6(syscall.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(p)),
			uintptr(len(s)), msgNoSignal, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(n), nil
	}
}

// tcpAccept waits for a connection and returns it as a tcp{client}.
func tcpAccept(c *call, s *sock) int {
	wait := !s.tm.isZero() && s.env.loop.CanPark(c.L)
	return s.run(c.L, &acceptOp{e: s.env, wait: wait}, time.Now())
}

// Back-off of an accept that ran out of descriptors.
const (
	acceptBackoffMin = 10 * time.Millisecond
	acceptBackoffMax = time.Second
)

type acceptOp struct {
	e   *env
	fam int
	nfd int
	err string
	// wait: a parked task may wait out a lack of descriptors (with
	// back-off) instead of failing; lack is that failure's message.
	wait bool
	lack string
}

// outOfDescriptors reports whether accept failed for want of descriptors
// or kernel memory, which closing connections elsewhere can cure.
func outOfDescriptors(err error) bool {
	switch err {
	case syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM:
		return true
	}
	return false
}

func (o *acceptOp) try(s *sock) (bool, int) {
	if s.fd < 0 {
		o.err = errClosed
		return true, 0
	}
	for {
		nfd, _, err := acceptNonblock(s.fd)
		switch {
		case err == nil:
			o.nfd, o.fam = nfd, s.family
			s.acceptRecovered()
			return true, 0
		case err == syscall.EINTR, err == syscall.ECONNABORTED:
		case err == syscall.EAGAIN:
			return false, dirRead
		case o.wait && outOfDescriptors(err):
			// Inside a task LuaSocket's immediate error would make a
			// server loop spin; wait instead, a little longer each time.
			// The pending connection stays in the backlog meanwhile.
			o.lack = ioErrorString(err)
			s.acceptBackoff(o.lack)
			return false, dirBackoff
		default:
			o.err = ioErrorString(err)
			return true, 0
		}
	}
}

// acceptBackoff advances the back-off of a server out of descriptors,
// reporting the start of each burst once.
func (s *sock) acceptBackoff(msg string) {
	s.acceptFails++
	if s.acceptDelay == 0 {
		s.acceptDelay = acceptBackoffMin
		host, port := s.localName()
		s.env.loop.Notify(fmt.Sprintf("accept on %s:%s: %s; retrying with back-off up to %v", host, port, msg, acceptBackoffMax))
		return
	}
	s.acceptDelay = min(2*s.acceptDelay, acceptBackoffMax)
}

// acceptRecovered ends a burst of failures for want of descriptors.
func (s *sock) acceptRecovered() {
	if s.acceptDelay == 0 {
		return
	}
	host, port := s.localName()
	s.env.loop.Notify(fmt.Sprintf("accept on %s:%s: serving again after %d failed attempts", host, port, s.acceptFails))
	s.acceptDelay, s.acceptFails = 0, 0
}

// localName is the numeric address the socket is bound to, for notices.
func (s *sock) localName() (string, string) {
	sa, err := syscall.Getsockname(s.fd)
	if err != nil {
		return "?", "?"
	}
	host, port, _ := formatSockaddr(sa)
	return host, strconv.Itoa(port)
}

func (o *acceptOp) fail(msg string) {
	if msg == errTimeout && o.lack != "" {
		// The time ran out while descriptors were lacking: say so.
		msg = o.lack
	}
	o.err = msg
}

func (o *acceptOp) results() []lua.LValue {
	if o.err != "" {
		return []lua.LValue{lua.LNil, lua.LString(o.err)}
	}
	cl := o.e.newSock(o.e.L, clsClient, o.fam)
	cl.attach(o.nfd)
	return []lua.LValue{cl.ud}
}

// tcpBind is bind(address, port) (also setsockname).
func tcpBind(c *call, s *sock) int {
	host := c.checkString(2)
	port := c.checkString(3)
	if msg := s.bind(host, port); msg != "" {
		return fail(c.L, msg)
	}
	return ret(c.L, one)
}

// bind is LuaSocket's inet_trybind: resolve, then bind to the first
// address that works, (re)creating the descriptor when the family changes.
// Resolution of a host name blocks (LuaSocket's does too).
func (s *sock) bind(host, port string) string {
	req := resolveReq{host: host, port: port, family: s.family, stream: s.stream, passive: true, nilHost: host == "*"}
	addrs, code := req.resolve(context.Background())
	if code != gaiOK {
		return gaiString(code)
	}
	msg := ""
	for _, sa := range addrs {
		if fam := familyOfSockaddr(sa); s.fd < 0 || fam != s.family {
			if msg = s.create(fam); msg != "" {
				continue
			}
		}
		if err := syscall.Bind(s.fd, sa); err != nil {
			msg = ioErrorString(err)
			continue
		}
		return ""
	}
	return msg
}

// tcpConnect is connect(address, port) (also setpeername). The class
// becomes tcp{client} even when the attempt fails, as in LuaSocket, so a
// non-blocking connect can be completed later.
func tcpConnect(c *call, s *sock) int {
	host := c.checkString(2)
	port := c.checkString(3)
	s.setClass(clsClient)
	return s.connect(c.L, &connectOp{host: host, port: port})
}

// globalConnect is socket.connect(address, port [, locaddr [, locport
// [, family]]]).
func (e *env) globalConnect(L *lua.LState) int {
	c := &call{L: L, name: "connect", lvl: 2}
	host := c.checkString(1)
	port := c.checkString(2)
	var laddr string
	hasLocal := !c.isNone(3)
	if hasLocal {
		laddr = c.checkString(3)
	}
	lport := c.optString(4, "0")
	fam := []int{syscall.AF_UNSPEC, syscall.AF_INET, syscall.AF_INET6}[c.checkOption(5, "unspec", []string{"unspec", "inet", "inet6"})]
	s := e.newSock(L, clsMaster, syscall.AF_UNSPEC)
	if hasLocal {
		s.family = fam
		if msg := s.bind(laddr, lport); msg != "" {
			s.destroy()
			return fail(L, msg)
		}
	}
	return s.connect(L, &connectOp{host: host, port: port, global: true})
}

// connect resolves (off the loop when a task may park and a name lookup
// is needed) and then runs the connect operation.
func (s *sock) connect(L *lua.LState, op *connectOp) int {
	start := time.Now()
	op.s = s
	req := resolveReq{host: op.host, port: op.port, family: s.family, stream: s.stream}
	loop := s.env.loop
	if req.needsLookup() && loop.CanPark(L) {
		gen := s.epoch
		return loop.Yield(L, scheduler.OpFunc(func(w scheduler.Waiter) {
			loop.Go(func() func() {
				addrs, code := req.resolve(context.Background())
				return func() {
					if !w.Valid() {
						return
					}
					dl, has := s.tm.deadline(start)
					p := &pending{op: op, w: w, dl: dl, has: has, gen: gen}
					if s.epoch != gen {
						// Closed while the name was being looked up.
						op.fail(errClosed)
						p.resume()
						return
					}
					op.addrs, op.code = addrs, code
					if done, d := op.try(s); !done {
						s.park(p, d)
						return
					}
					p.resume()
				}
			})
		}))
	}
	op.addrs, op.code = req.resolve(context.Background())
	return s.run(L, op, start)
}

// connectOp is LuaSocket's inet_tryconnect: try each resolved address in
// turn, creating a descriptor of the right family, until one connects.
// With a zero timeout it stops after the first attempt ("timeout" while
// the connection is in progress).
type connectOp struct {
	s          *sock
	host, port string
	global     bool // socket.connect: the object is returned on success only
	addrs      []syscall.Sockaddr
	code       gaiCode
	idx        int
	inProgress bool
	err        string
}

func (o *connectOp) try(s *sock) (bool, int) {
	o.s = s
	if o.code != gaiOK {
		o.err = gaiString(o.code)
		return true, 0
	}
	for o.idx < len(o.addrs) {
		sa := o.addrs[o.idx]
		if o.inProgress {
			if s.fd < 0 {
				o.err = errClosed
				return true, 0
			}
			v, err := syscall.GetsockoptInt(s.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
			if err == nil && v == 0 {
				if _, err := syscall.Getpeername(s.fd); err == syscall.ENOTCONN {
					return false, dirWrite
				}
				o.err = ""
				return true, 0
			}
			if err == nil {
				err = syscall.Errno(v)
			}
			o.inProgress = false
			o.err = ioErrorString(err)
		} else {
			if fam := familyOfSockaddr(sa); s.fd < 0 || fam != s.family {
				if msg := s.create(fam); msg != "" {
					o.err = msg
					o.idx++
					continue
				}
			}
			err := syscall.Connect(s.fd, sa)
			for err == syscall.EINTR {
				err = syscall.Connect(s.fd, sa)
			}
			switch err {
			case nil:
				o.err = ""
				return true, 0
			case syscall.EINPROGRESS, syscall.EAGAIN:
				o.err = errTimeout
				if !s.tm.isZero() {
					o.inProgress = true
					return false, dirWrite
				}
			default:
				o.err = ioErrorString(err)
			}
		}
		if s.tm.isZero() {
			return true, 0
		}
		o.idx++
	}
	return true, 0
}

func (o *connectOp) fail(msg string) { o.err = msg }

func (o *connectOp) results() []lua.LValue {
	s := o.s
	if o.err != "" {
		if o.global && s != nil {
			s.destroy()
		}
		return []lua.LValue{lua.LNil, lua.LString(o.err)}
	}
	switch {
	case o.global:
		s.setClass(clsClient)
		return []lua.LValue{s.ud}
	case !s.stream:
		s.setClass(clsConnected)
	}
	return []lua.LValue{one}
}
