//go:build linux

package ssl

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"github.com/copas-lua/copas-lua/luamod/socket"
	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

const (
	stNew = iota
	stConnected
	stFailed
	stClosed
)

// conn is an <ssl connection>. Loop goroutine only, except hsState (written
// by the handshake goroutine before its final report) and fdConn.
type conn struct {
	e     *env
	ud    *lua.LUserData
	ctx   *sslctx
	ctxUD *lua.LUserData // keeps the Lua context alive, as LuaSec's registry does
	fc    *fdConn
	fd    int
	tc    *tls.Conn
	state int
	hs    *handshaker
	hsErr string
	busy  bool // a task waits for a handshake report
	hst   *hsState
	box   *closer

	alpnFns map[*sslctx]lua.LValue // server ALPN functions of ctx and the sni contexts

	sniName   string
	sniMap    map[string]*sslctx
	sniUDs    []lua.LValue
	sniStrict bool
	sniSet    bool

	tm       socket.Timeout
	rbuf     []byte
	rerr     string
	want     string
	received float64
	sent     float64
	birthday time.Time

	waiting [2]bool
	queue   [2][]func()

	hsBegan   time.Time // first server handshake attempt under copas-lua's bound
	hsBounded bool      // the handshake runs under that bound
	logFails  bool      // report a failed server handshake (copas.handler)
}

// hsState is what the handshake goroutine learns. It must not reference
// the conn, so that a dropped connection can be collected (and its cleanup
// end the goroutine).
type hsState struct {
	mu        sync.Mutex
	peerName  string // server: the name the client asked for
	active    *sslctx
	verified  bool // a verification ran
	verifyErr string
}

// closer closes what a collected connection leaves open.
type closer struct {
	once sync.Once
	fc   *fdConn
	quit chan struct{}
}

func (b *closer) close() {
	b.once.Do(func() {
		close(b.quit)
		if b.fc != nil {
			b.fc.Close()
		}
	})
}

func wantString(d int) string {
	if d == dirWrite {
		return "wantwrite"
	}
	return "wantread"
}

var systemRoots = sync.OnceValue(func() *x509.CertPool {
	p, err := x509.SystemCertPool()
	if err != nil {
		return x509.NewCertPool()
	}
	return p
})

// baseConfig is the tls.Config of context x.
func baseConfig(x *sslctx) *tls.Config {
	cfg := &tls.Config{
		MinVersion:             x.minV,
		MaxVersion:             x.maxV,
		CipherSuites:           x.ciphers,
		CurvePreferences:       x.curves,
		Certificates:           x.certs,
		SessionTicketsDisabled: x.noTickets,
		InsecureSkipVerify:     true, // verification is ours: LuaSec semantics
	}
	if x.server {
		switch {
		case x.requireCrt:
			cfg.ClientAuth = tls.RequireAnyClientCert
		case x.verifyPeer:
			cfg.ClientAuth = tls.RequestClientCert
		}
	}
	return cfg
}

// verify checks the peer chain against x's roots, records the result for
// getpeerverification and fails the handshake when x demands it. Runs on
// the handshake goroutine.
func (st *hsState) verify(x *sslctx, certs []*x509.Certificate, host string) error {
	if len(certs) == 0 {
		return nil
	}
	roots := x.roots
	if roots == nil {
		roots = systemRoots()
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x.purpose()}})
	if err == nil && !x.anyPurpose && !keyUsageOK(certs[0]) {
		err = x509.CertificateInvalidError{Cert: certs[0], Reason: x509.IncompatibleUsage}
	}
	if err == nil && x.depth >= 0 && len(certs)-1 > x.depth+1 {
		err = x509.CertificateInvalidError{Cert: certs[0], Reason: x509.TooManyIntermediates}
	}
	if err == nil && x.checkHost {
		err = certs[0].VerifyHostname(host)
	}
	msg := ""
	if err != nil {
		leaf := certs[0]
		msg = verifyErrorString(err, bytes.Equal(leaf.RawIssuer, leaf.RawSubject) && leaf.CheckSignatureFrom(leaf) == nil)
	}
	st.mu.Lock()
	st.verified, st.verifyErr = true, msg
	st.mu.Unlock()
	if err != nil && (x.verifyPeer || x.checkHost) && !x.continueOn {
		return errVerify
	}
	return nil
}

// unrecognizedName is a plaintext fatal alert unrecognized_name(112),
// which crypto/tls cannot send from GetConfigForClient; OpenSSL sends it
// for a strict SNI mismatch.
var unrecognizedName = []byte{21, 3, 1, 0, 2, 2, 112}

// newTLS builds the tls.Conn for the handshake, from the context and the
// sni settings as they are now.
func (c *conn) newTLS() {
	x := c.ctx
	st := c.hst
	fc := c.fc
	cfg := baseConfig(x)
	if !x.server {
		cfg.ServerName = c.sniName
		cfg.NextProtos = x.alpn
		host := c.sniName
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			return st.verify(x, cs.PeerCertificates, host)
		}
		c.tc = tls.Client(fc, cfg)
		return
	}
	sniMap, strict, sniSet := c.sniMap, c.sniStrict, c.sniSet
	hsRef := c.hs
	cfg.GetConfigForClient = func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
		chosen := x
		if sniSet && chi.ServerName != "" {
			if m, ok := sniMap[chi.ServerName]; ok {
				chosen = m
			} else if strict {
				fc.sendRaw(unrecognizedName)
				return nil, errCallback
			}
		}
		st.mu.Lock()
		st.peerName, st.active = chi.ServerName, chosen
		st.mu.Unlock()
		out := baseConfig(chosen)
		out.VerifyConnection = func(cs tls.ConnectionState) error {
			if !chosen.verifyPeer {
				return nil
			}
			return st.verify(chosen, cs.PeerCertificates, "")
		}
		offered := chi.SupportedProtos
		server := chosen.alpn
		if chosen.alpnCB && len(offered) > 0 {
			server = hsRef.ask(chosen, offered)
		}
		out.NextProtos = nil
		for _, p := range server {
			if containsString(offered, p) {
				out.NextProtos = []string{p}
				break
			}
		}
		return out, nil
	}
	c.tc = tls.Server(fc, cfg)
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// callALPN runs the server's alpn function (loop goroutine) with the
// client's list; it may return a string or a list.
func callALPN(loop *scheduler.Loop, fn lua.LValue, offered []string) []string {
	if fn == nil || fn == lua.LNil {
		return nil
	}
	L := loop.L
	t := L.NewTable()
	for _, p := range offered {
		t.Append(lua.LString(p))
	}
	rets, _, ok := loop.ProtectedCall(fn, t)
	if !ok || len(rets) == 0 {
		return nil
	}
	switch v := rets[0].(type) {
	case lua.LString:
		return []string{string(v)}
	case *lua.LTable:
		var out []string
		for i := 1; ; i++ {
			s, ok := v.RawGetInt(i).(lua.LString)
			if !ok {
				return out
			}
			out = append(out, string(s))
		}
	}
	return nil
}

// startHandshake sends the next command to the handshake goroutine,
// starting it on the first call.
func (c *conn) startHandshake(step bool) {
	if c.hs != nil {
		c.hs.cmd <- hsCmd{step: step}
		return
	}
	h := newHandshaker(c.fc)
	h.quit = c.box.quit
	h.step = step
	c.hs = h
	c.newTLS()
	c.fc.pace.Store(h)
	tc := c.tc
	go func() {
		err := tc.HandshakeContext(context.Background())
		h.fc.pace.Store(nil)
		select {
		case h.rep <- hsReport{done: true, err: err}:
		case <-h.quit:
		}
	}()
}

// finish applies a final handshake report and returns dohandshake's
// results.
func (c *conn) finish(r hsReport) []lua.LValue {
	if c.state == stClosed {
		return []lua.LValue{lua.LFalse, lua.LString("closed")}
	}
	if !r.done {
		c.want = "read"
		if r.want == dirWrite {
			c.want = "write"
		}
		if c.hsBounded && !time.Now().Before(c.hsBegan.Add(serverHandshakeTimeout())) {
			// copas-lua's bound (not the caller's timeout) ran out: the
			// handshake is over, so a retry loop cannot spin.
			c.state, c.hsErr, c.want = stFailed, "timeout", "nothing"
			c.logServerFailure()
			return []lua.LValue{lua.LFalse, lua.LString(c.hsErr)}
		}
		return []lua.LValue{lua.LFalse, lua.LString(wantString(r.want))}
	}
	c.hs = nil
	c.want = "nothing"
	if r.err != nil {
		c.state, c.hsErr = stFailed, errorString(r.err)
		if c.ctx.defaultVerify && c.hsErr == errVerify.Error() {
			c.hsErr += verifyHint
		}
		c.logServerFailure()
		return []lua.LValue{lua.LFalse, lua.LString(c.hsErr)}
	}
	c.state = stConnected
	c.hst.mu.Lock()
	if c.hst.active == nil {
		c.hst.active = c.ctx
	}
	c.hst.mu.Unlock()
	return []lua.LValue{lua.LTrue}
}

// runCallback answers a handshake callback on the loop goroutine.
func (c *conn) runCallback(cb *callback) []string {
	return callALPN(c.e.loop, c.alpnFns[cb.x], cb.offered)
}

// await reads reports until a final one; callbacks go to run.
func (h *handshaker) await(run func(cb *callback)) hsReport {
	for {
		r := <-h.rep
		if r.cb != nil {
			run(r.cb)
			continue
		}
		return r
	}
}

func (c *conn) setDeadlines(dl time.Time, has bool) {
	if !has {
		dl = time.Time{}
	}
	c.fc.setDeadline(dirRead, dl)
	c.fc.setDeadline(dirWrite, dl)
}

// dohandshake: true, or false and LuaSec's error. With a zero timeout it
// makes one step and says "wantread"/"wantwrite"; in a task it parks; else
// it blocks, honouring the timeout. A timed-out handshake can be resumed.
func (c *conn) dohandshake(L *lua.LState) int {
	switch c.state {
	case stClosed:
		return pushAll(L, lua.LFalse, lua.LString("closed"))
	case stConnected:
		return pushAll(L, lua.LTrue)
	case stFailed:
		return pushAll(L, lua.LFalse, lua.LString(c.hsErr))
	}
	if c.fc == nil {
		return pushAll(L, lua.LFalse, lua.LString("Bad file descriptor"))
	}
	if c.busy {
		return pushAll(L, lua.LFalse, lua.LString("wantread"))
	}
	inline := func(cb *callback) { cb.reply <- c.runCallback(cb) }
	start := time.Now()
	dl, has := c.tm.Deadline(start)
	c.hsBounded = false
	if !has && c.ctx.server && !c.tm.IsZero() {
		// A server socket without a timeout: copas-lua's handshake bound,
		// counted from the first attempt.
		if d := serverHandshakeTimeout(); d > 0 {
			if c.hsBegan.IsZero() {
				c.hsBegan = start
			}
			dl, has, c.hsBounded = c.hsBegan.Add(d), true, true
		}
	}
	loop := c.e.loop
	if c.tm.IsZero() || (has && !start.Before(dl)) {
		c.startHandshake(true)
		return pushAll(L, c.finish(c.hs.await(inline))...)
	}
	if loop.CanPark(L) {
		return loop.Yield(L, scheduler.OpFunc(func(w scheduler.Waiter) {
			if c.state != stNew {
				w.Resume(c.finishedResults()...)
				return
			}
			c.setDeadlines(dl, has)
			c.startHandshake(false)
			h, fc := c.hs, c.fc
			c.busy = true
			w.OnCancel(func() {
				fc.setDeadline(dirRead, pastDeadline)
				fc.setDeadline(dirWrite, pastDeadline)
			})
			loop.Go(func() func() {
				r := h.await(func(cb *callback) {
					loop.Post(func() { cb.reply <- c.runCallback(cb) })
				})
				return func() {
					c.busy = false
					w.Resume(c.finish(r)...)
				}
			})
		}))
	}
	c.setDeadlines(dl, has)
	c.startHandshake(false)
	return pushAll(L, c.finish(c.hs.await(inline))...)
}

func (c *conn) finishedResults() []lua.LValue {
	switch c.state {
	case stConnected:
		return []lua.LValue{lua.LTrue}
	case stFailed:
		return []lua.LValue{lua.LFalse, lua.LString(c.hsErr)}
	}
	return []lua.LValue{lua.LFalse, lua.LString("closed")}
}

func pushAll(L *lua.LState, vals ...lua.LValue) int {
	for _, v := range vals {
		L.Push(v)
	}
	return len(vals)
}

// close ends the connection: close_notify if connected (best effort,
// never blocking), then the descriptor. Waiting operations end "closed".
func (c *conn) close() {
	if c.state == stClosed {
		return
	}
	wasConnected := c.state == stConnected
	c.state = stClosed
	c.want = "nothing"
	if c.fc == nil {
		c.box.once.Do(func() { close(c.box.quit) })
		return
	}
	if wasConnected {
		_, _ = c.fc.flush()
		c.box.once.Do(func() {
			close(c.box.quit)
			_ = c.tc.Close()
		})
	}
	c.box.close()
	c.fd = -1
}

// ioOp is a data operation (receive/send) after the handshake. Loop
// goroutine only.
type ioOp interface {
	try(c *conn) (done bool, dir int)
	fail(msg string)
	results() []lua.LValue
}

// run performs op at once if it can; otherwise it parks the task or, with
// no task, blocks, both honouring the timeout. Expired timeouts give
// LuaSec's "wantread"/"wantwrite".
func (c *conn) run(L *lua.LState, op ioOp, start time.Time) int {
	done, dir := op.try(c)
	if !done {
		dl, has := c.tm.Deadline(start)
		loop := c.e.loop
		switch {
		case c.tm.IsZero() || (has && !time.Now().Before(dl)):
			op.fail(wantString(dir))
		case loop.CanPark(L):
			return loop.Yield(L, scheduler.OpFunc(func(w scheduler.Waiter) {
				c.park(op, w, dl, has, dir)
			}))
		default:
			c.block(op, dl, has, dir)
		}
	}
	return pushAll(L, op.results()...)
}

func (c *conn) block(op ioOp, dl time.Time, has bool, dir int) {
	for {
		if c.state != stConnected {
			op.fail("closed")
			return
		}
		if !has {
			dl = time.Time{}
		}
		c.fc.setDeadline(dir, dl)
		if err := socket.WaitIO(c.fc.rc, dir == dirWrite); err != nil {
			if errors.Is(err, errDeadline) {
				op.fail(wantString(dir))
			} else {
				op.fail("closed")
			}
			return
		}
		var done bool
		if done, dir = op.try(c); done {
			return
		}
	}
}

// errDeadline ends a wait whose deadline passed.
var errDeadline = os.ErrDeadlineExceeded

// park waits for readiness on a helper goroutine and retries op on the
// loop. One helper per direction; later operations queue.
func (c *conn) park(op ioOp, w scheduler.Waiter, dl time.Time, has bool, d int) {
	if c.waiting[d] {
		c.queue[d] = append(c.queue[d], func() { c.retry(op, w, dl, has) })
		return
	}
	if c.state != stConnected {
		op.fail("closed")
		w.Resume(op.results()...)
		return
	}
	if !has {
		dl = time.Time{}
	}
	fc := c.fc
	fc.setDeadline(d, dl)
	c.waiting[d] = true
	w.OnCancel(func() { fc.setDeadline(d, pastDeadline) })
	rc := fc.rc
	c.e.loop.Go(func() func() {
		err := socket.WaitIO(rc, d == dirWrite)
		return func() {
			c.waiting[d] = false
			switch {
			case !w.Valid():
			case err != nil && errors.Is(err, errDeadline):
				op.fail(wantString(d))
				w.Resume(op.results()...)
			case err != nil:
				op.fail("closed")
				w.Resume(op.results()...)
			default:
				c.retry(op, w, dl, has)
			}
			c.next(d)
		}
	})
}

func (c *conn) retry(op ioOp, w scheduler.Waiter, dl time.Time, has bool) {
	if !w.Valid() {
		return
	}
	done, d := op.try(c)
	if !done && has && !time.Now().Before(dl) {
		op.fail(wantString(d))
		done = true
	}
	if done {
		w.Resume(op.results()...)
		return
	}
	c.park(op, w, dl, has, d)
}

func (c *conn) next(d int) {
	for !c.waiting[d] && len(c.queue[d]) > 0 {
		f := c.queue[d][0]
		c.queue[d][0] = nil
		c.queue[d] = c.queue[d][1:]
		f()
	}
}

const (
	readChunk = 16 << 10
	maxBuffer = 256 << 10
)

// fill decrypts what can be read now into rbuf: every complete record,
// so that no decrypted data hides inside crypto/tls while the descriptor
// looks idle (select and dirty rely on that). It reports the direction
// to wait for when nothing could be read.
func (c *conn) fill() (dir int, wouldBlock bool) {
	if empty, err := c.fc.flush(); err != nil {
		c.rerr = errorString(err)
		return 0, false
	} else if !empty {
		c.want = "write"
		return dirWrite, true
	}
	var chunk [readChunk]byte
	for len(c.rbuf) < maxBuffer {
		n, err := c.tc.Read(chunk[:])
		c.rbuf = append(c.rbuf, chunk[:n]...)
		if err != nil {
			var ne net.Error
			if !(errors.As(err, &ne) && ne.Timeout()) {
				c.rerr = errorString(err)
			}
			break
		}
	}
	if len(c.rbuf) == 0 && c.rerr == "" {
		c.want = "read"
		return dirRead, true
	}
	c.want = "nothing"
	return 0, false
}

func (c *conn) skip(n int) {
	c.received += float64(n)
	c.rbuf = c.rbuf[n:]
	if len(c.rbuf) == 0 {
		c.rbuf = nil
	}
}

// recvOp is receive(pattern, prefix) with LuaSocket's rules.
type recvOp struct {
	r   *socket.Receive
	err string
}

func (o *recvOp) try(c *conn) (bool, int) {
	for {
		if len(c.rbuf) == 0 {
			if c.state != stConnected {
				o.err = "closed"
				return true, 0
			}
			if c.rerr != "" {
				if !o.r.EndedWell(c.rerr) {
					o.err = c.rerr
				}
				return true, 0
			}
			if d, wb := c.fill(); wb {
				return false, d
			}
			continue
		}
		used, done := o.r.Take(c.rbuf)
		c.skip(used)
		if done {
			return true, 0
		}
	}
}

func (o *recvOp) fail(msg string) { o.err = msg }

func (o *recvOp) results() []lua.LValue { return o.r.Results(o.err) }

// sendOp is send(data, i, j). Data counts as sent once it is encrypted
// and handed to the descriptor's queue; success waits until the queue is
// in the kernel, so a peer that never reads makes send time out.
type sendOp struct {
	data     string
	pos, end int
	err      string
}

func (o *sendOp) try(c *conn) (bool, int) {
	if c.state != stConnected {
		o.err = "closed"
		return true, 0
	}
	for {
		empty, err := c.fc.flush()
		if err != nil {
			o.err = errorString(err)
			return true, 0
		}
		if !empty {
			c.want = "write"
			return false, dirWrite
		}
		if o.pos >= o.end {
			c.want = "nothing"
			return true, 0
		}
		k := min(o.end-o.pos, readChunk)
		n, err := c.tc.Write([]byte(o.data[o.pos : o.pos+k]))
		o.pos += n
		c.sent += float64(n)
		if err != nil {
			o.err = errorString(err)
			return true, 0
		}
	}
}

func (o *sendOp) fail(msg string) { o.err = msg }

func (o *sendOp) results() []lua.LValue {
	if o.err != "" {
		return []lua.LValue{lua.LNil, lua.LString(o.err), lua.LNumber(o.pos)}
	}
	return []lua.LValue{lua.LNumber(o.pos), lua.LNil, lua.LNil}
}

// logServerFailure reports a failed server handshake of a connection
// marked for it (copas.handler does), at most once per peer address per
// minute, as one line through the loop's notices.
func (c *conn) logServerFailure() {
	if !c.logFails || !c.ctx.server || c.fc == nil {
		return
	}
	addr := c.fc.RemoteAddr()
	if addr == nil {
		return
	}
	host := addr.String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if !serverFailures.allow(host, time.Now()) {
		return
	}
	c.e.loop.Notify("TLS handshake from " + addr.String() + " failed: " + c.hsErr +
		" (further failures from " + host + " are not reported for a minute)")
}
