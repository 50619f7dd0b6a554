package socket

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

// dns.go: socket.dns. LuaSocket's toip/tohostname are gethostbyname /
// gethostbyaddr (IPv4 only, a dotted address is looked up in reverse);
// getaddrinfo/getnameinfo follow the C functions of the same name. Lookups
// use Go's resolver; inside a task they run on a helper goroutine and the
// task is parked, outside any task they block the caller like LuaSocket.

func init() { setupCore = append(setupCore, setupDNS) }

// dnsResolver is the resolver every lookup uses.
var dnsResolver = net.DefaultResolver

// Messages of LuaSocket's pierror.h (getaddrinfo) and of hstrerror
// (gethostbyname), for the resolver failures Go can report.
const (
	dnsHostNotFound = "host not found"
	dnsHostTryAgain = "Host name lookup failure"
	dnsHostFail     = "Unknown server error"
	dnsGaiNoName    = "host or service not provided, or not known"
	dnsGaiAgain     = "temporary failure in name resolution"
	dnsGaiFail      = "non-recoverable failure in name resolution"
	dnsGaiService   = "service not supported for socket type"
)

func setupDNS(L *lua.LState, loop *scheduler.Loop, mod *lua.LTable) {
	dns := L.NewTable()
	reg := func(name string, fn func(L *lua.LState, loop *scheduler.Loop) int) {
		dns.RawSetString(name, loop.WrapGo(func(L *lua.LState) int { return fn(L, loop) }))
	}
	reg("toip", dnsHostLookup(func(h *dnsHost) string { return h.addrs[0] }))
	reg("tohostname", dnsHostLookup(func(h *dnsHost) string { return h.name }))
	reg("getaddrinfo", dnsGetAddrInfo)
	reg("getnameinfo", dnsGetNameInfo)
	dns.RawSetString("gethostname", L.NewFunction(dnsGetHostname))
	mod.RawSetString("dns", dns)
}

// dnsResult turns a finished lookup into Lua values; it runs on the loop
// goroutine.
type dnsResult func(L *lua.LState) []lua.LValue

// dnsRun performs work, a lookup that must not touch Lua values, and
// returns its results to Lua. Outside a task (or where the task cannot
// park) it blocks the calling goroutine; inside a task it parks the task
// and runs work on a helper goroutine, cancelled if the task is woken or
// killed. Loop goroutine only.
func dnsRun(L *lua.LState, loop *scheduler.Loop, work func(ctx context.Context) dnsResult) int {
	if !loop.CanPark(L) {
		vals := work(context.Background())(L)
		for _, v := range vals {
			L.Push(v)
		}
		return len(vals)
	}
	return loop.Yield(L, scheduler.OpFunc(func(w scheduler.Waiter) {
		ctx, cancel := context.WithCancel(context.Background())
		w.OnCancel(cancel)
		loop.Go(func() func() {
			// Go's resolver notices cancellation only between attempts, so
			// the lookup gets its own goroutine: a woken or killed task
			// releases the loop at once and the lookup ends by itself.
			done := make(chan dnsResult, 1)
			go func() { done <- work(ctx) }()
			select {
			case res := <-done:
				return func() {
					cancel()
					if w.Valid() {
						w.Resume(res(loop.L)...)
					}
				}
			case <-ctx.Done():
				return nil
			}
		})
	}))
}

// dnsHost is a struct hostent.
type dnsHost struct {
	name    string
	aliases []string
	addrs   []string
}

func dnsFail(msg string) dnsResult {
	return func(*lua.LState) []lua.LValue { return []lua.LValue{lua.LNil, lua.LString(msg)} }
}

func (h *dnsHost) table(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("name", lua.LString(h.name))
	alias := L.CreateTable(len(h.aliases), 0)
	for _, a := range h.aliases {
		alias.Append(lua.LString(a))
	}
	t.RawSetString("alias", alias)
	ip := L.CreateTable(len(h.addrs), 0)
	for _, a := range h.addrs {
		ip.Append(lua.LString(a))
	}
	t.RawSetString("ip", ip)
	return t
}

// dnsHostLookup makes toip (first result: the address) and tohostname
// (first result: the name); both return the hostent table second.
func dnsHostLookup(first func(h *dnsHost) string) func(L *lua.LState, loop *scheduler.Loop) int {
	return func(L *lua.LState, loop *scheduler.Loop) int {
		addr := dnsCheckString(L, 1)
		return dnsRun(L, loop, func(ctx context.Context) dnsResult {
			h, msg := dnsGetHost(ctx, addr)
			if h == nil {
				return dnsFail(msg)
			}
			return func(L *lua.LState) []lua.LValue {
				return []lua.LValue{lua.LString(first(h)), h.table(L)}
			}
		})
	}
}

// dnsGetHost behaves as LuaSocket's inet_gethost: an address inet_aton
// accepts is looked up in reverse (gethostbyaddr), anything else by name,
// IPv4 only (gethostbyname). Safe on any goroutine.
func dnsGetHost(ctx context.Context, address string) (*dnsHost, string) {
	if ip, ok := dnsParseAton(address); ok {
		names, err := dnsResolver.LookupAddr(ctx, ip.String())
		if err != nil || len(names) == 0 {
			return nil, dnsHostError(err)
		}
		for i := range names {
			names[i] = strings.TrimSuffix(names[i], ".")
		}
		return &dnsHost{name: names[0], aliases: names[1:], addrs: []string{ip.String()}}, ""
	}
	ips, err := dnsResolver.LookupIP(ctx, "ip4", address)
	if err != nil || len(ips) == 0 {
		return nil, dnsHostError(err)
	}
	h := &dnsHost{name: address, aliases: []string{}}
	seen := map[string]bool{}
	for _, ip := range ips {
		if s := ip.String(); !seen[s] {
			seen[s] = true
			h.addrs = append(h.addrs, s)
		}
	}
	return h, ""
}

// dnsHostError maps a resolver error to what LuaSocket's
// socket_hoststrerror says for the h_errno gethostbyname would set.
func dnsHostError(err error) string {
	return dnsErrorText(err, dnsHostNotFound, dnsHostTryAgain, dnsHostFail)
}

// dnsGaiError maps a resolver error to socket_gaistrerror's message.
func dnsGaiError(err error) string {
	return dnsErrorText(err, dnsGaiNoName, dnsGaiAgain, dnsGaiFail)
}

// dnsErrorText classifies err: a temporary failure, another resolver
// failure, or (anything else, e.g. no address of the wanted family) an
// unknown name.
func dnsErrorText(err error, notFound, again, fail string) string {
	var de *net.DNSError
	if !errors.As(err, &de) || de.IsNotFound {
		return notFound
	}
	if de.IsTimeout || de.IsTemporary {
		return again
	}
	return fail
}

// dnsResolve is getaddrinfo's host part: numeric addresses (including
// inet_aton's short forms) need no lookup. Safe on any goroutine.
func dnsResolve(ctx context.Context, host string) ([]net.IPAddr, string) {
	if host == "" {
		return nil, dnsGaiNoName
	}
	if ip, ok := dnsParseAton(host); ok {
		return []net.IPAddr{{IP: ip}}, ""
	}
	addrs, err := dnsResolver.LookupIPAddr(ctx, host)
	if err != nil || len(addrs) == 0 {
		return nil, dnsGaiError(err)
	}
	return addrs, ""
}

func dnsGetAddrInfo(L *lua.LState, loop *scheduler.Loop) int {
	host := dnsCheckString(L, 1)
	return dnsRun(L, loop, func(ctx context.Context) dnsResult {
		addrs, msg := dnsResolve(ctx, host)
		if msg != "" {
			return dnsFail(msg)
		}
		return func(L *lua.LState) []lua.LValue {
			list := L.CreateTable(len(addrs), 0)
			for _, a := range addrs {
				e := L.CreateTable(0, 2)
				if a.IP.To4() != nil {
					e.RawSetString("family", lua.LString("inet"))
				} else {
					e.RawSetString("family", lua.LString("inet6"))
				}
				e.RawSetString("addr", lua.LString(a.String()))
				list.Append(e)
			}
			return []lua.LValue{list}
		}
	})
}

func dnsGetNameInfo(L *lua.LState, loop *scheduler.Loop) int {
	host, hasHost := dnsOptString(L, 1)
	serv, hasServ := dnsOptString(L, 2)
	if !hasHost && !hasServ {
		L.RaiseError("host and serv cannot be both nil")
	}
	return dnsRun(L, loop, func(ctx context.Context) dnsResult {
		// getaddrinfo checks the service before it resolves the host.
		servName := ""
		if hasServ {
			port, err := dnsPort(ctx, serv)
			if err != nil {
				return dnsFail(dnsGaiService)
			}
			servName = dnsServiceName(port)
		}
		var names []string
		if hasHost {
			addrs, msg := dnsResolve(ctx, host)
			if msg != "" {
				return dnsFail(msg)
			}
			for _, a := range addrs {
				// getnameinfo without NI_NAMEREQD falls back to the
				// numeric form when there is no name.
				name := a.String()
				if rev, err := dnsResolver.LookupAddr(ctx, a.IP.String()); err == nil && len(rev) > 0 {
					name = strings.TrimSuffix(rev[0], ".")
				}
				names = append(names, name)
			}
		}
		return func(L *lua.LState) []lua.LValue {
			t := L.CreateTable(len(names), 0)
			for _, n := range names {
				t.Append(lua.LString(n))
			}
			if !hasServ {
				return []lua.LValue{t}
			}
			return []lua.LValue{t, lua.LString(servName)}
		}
	})
}

// dnsPort resolves a service as getaddrinfo does for SOCK_STREAM: a number
// (truncated to 16 bits, as C's htons does) or a tcp name from the
// services database.
func dnsPort(ctx context.Context, serv string) (int, error) {
	if n, err := strconv.ParseUint(serv, 10, 64); err == nil {
		return int(n & 0xffff), nil
	}
	return dnsResolver.LookupPort(ctx, "tcp", serv)
}

var dnsServices struct {
	once   sync.Once
	byPort map[int]string
}

// dnsServiceName is getnameinfo's service part: the first tcp name for the
// port in /etc/services, or the number. Safe on any goroutine.
func dnsServiceName(port int) string {
	dnsServices.once.Do(func() {
		dnsServices.byPort = map[int]string{}
		f, err := os.Open("/etc/services")
		if err != nil {
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line, _, _ := strings.Cut(sc.Text(), "#")
			fields := strings.Fields(line)
			if len(fields) < 2 {
				continue
			}
			num, proto, ok := strings.Cut(fields[1], "/")
			if !ok || proto != "tcp" {
				continue
			}
			p, err := strconv.Atoi(num)
			if err != nil {
				continue
			}
			if _, dup := dnsServices.byPort[p]; !dup {
				dnsServices.byPort[p] = fields[0]
			}
		}
	})
	if name, ok := dnsServices.byPort[port]; ok {
		return name
	}
	return strconv.Itoa(port)
}

// dnsGetHostname returns the host name, or nil and an error message.
func dnsGetHostname(L *lua.LState) int {
	name, err := os.Hostname()
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(lua.LString(name))
	return 1
}

// dnsParseAton accepts what C's inet_aton accepts: one to four parts,
// each decimal, octal (leading 0) or hex (0x), the last part filling the
// remaining bytes ("127.1" is 127.0.0.1).
func dnsParseAton(s string) (net.IP, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return nil, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		base := 10
		switch {
		case len(p) > 1 && (p[:2] == "0x" || p[:2] == "0X"):
			base, p = 16, p[2:]
		case len(p) > 1 && p[0] == '0':
			base, p = 8, p[1:]
		}
		if p == "" && base != 16 {
			return nil, false
		}
		if p == "" {
			vals[i] = 0 // "0x" alone is 0 for inet_aton
			continue
		}
		v, err := strconv.ParseUint(p, base, 32)
		if err != nil || strings.ContainsAny(p, "+-_") {
			return nil, false
		}
		vals[i] = v
	}
	last := len(vals) - 1
	for _, v := range vals[:last] {
		if v > 0xff {
			return nil, false
		}
	}
	if vals[last] >= 1<<(8*(4-last)) {
		return nil, false
	}
	var n uint64
	for i, v := range vals[:last] {
		n |= v << (8 * (3 - i))
	}
	n |= vals[last]
	return net.IPv4(byte(n>>24), byte(n>>16), byte(n>>8), byte(n)).To4(), true
}

// dnsCheckString is luaL_checkstring: strings and numbers.
func dnsCheckString(L *lua.LState, n int) string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	}
	L.TypeError(n, lua.LTString)
	return ""
}

// dnsOptString is luaL_optstring with no default: ok is false for nil.
func dnsOptString(L *lua.LState, n int) (string, bool) {
	if L.Get(n) == lua.LNil {
		return "", false
	}
	return dnsCheckString(L, n), true
}
