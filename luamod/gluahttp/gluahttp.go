// Package gluahttp provides module "http" with the API of
// cjoudrey/gluahttp (get, post, put, patch, delete, head, request,
// request_batch) on Go's net/http, written for copas-lua.
//
// Called from a Copas thread, a request parks the thread and runs on a
// helper goroutine, so other threads go on; called from the main script
// it blocks, like any plain LuaSocket call. Lua values are only built and
// read on the loop goroutine: request tables are turned into Go requests
// before any goroutine starts, and responses into Lua tables after the
// result was posted back (request_batch included, unlike gluahttp).
//
// Goroutine contract: Preload, the loader and every Lua function run on the
// loop goroutine that owns the Lua state.
package gluahttp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/copas-lua/copas-lua/internal/luaopts"
	"github.com/copas-lua/copas-lua/luamod/ssl"
	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

// Preload registers module "http" with copas-lua's TLS client policy:
// server certificate and host name verified against the system roots, TLS
// 1.2 at least, unless ssl.SetDefaultVerify or COPAS_LUA_TLS_VERIFY chose
// "none" (then, as for LuaSec, nothing is verified). Loop goroutine only.
func Preload(L *lua.LState) {
	L.PreloadModule("http", NewLoader(&http.Client{Transport: policyTransport{}}))
}

// policyTransport picks the verifying or the non-verifying transport per
// request, so a later ssl.SetDefaultVerify applies.
type policyTransport struct{}

func newTransport(verify bool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: !verify} // InsecureSkipVerify: the documented opt-out
	return t
}

var (
	verifying    = sync.OnceValue(func() *http.Transport { return newTransport(true) })
	nonVerifying = sync.OnceValue(func() *http.Transport { return newTransport(false) })
)

func (policyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if ssl.DefaultVerify() {
		return verifying().RoundTrip(r)
	}
	return nonVerifying().RoundTrip(r)
}

// NewLoader returns a loader for module "http" that sends requests with
// client. The client is used from helper goroutines and must be safe for
// concurrent use (every *http.Client is).
func NewLoader(client *http.Client) lua.LGFunction {
	return func(L *lua.LState) int {
		loop := scheduler.Of(L)
		if loop == nil {
			L.RaiseError("http: no scheduler in this Lua state")
		}
		m := &module{client: client, loop: loop}
		mod := L.NewTable()
		for _, method := range []string{"get", "post", "put", "patch", "delete", "head"} {
			verb := strings.ToUpper(method)
			mod.RawSetString(method, loop.WrapGo(func(L *lua.LState) int {
				return m.single(L, verb, 1)
			}))
		}
		mod.RawSetString("request", loop.WrapGo(func(L *lua.LState) int {
			return m.single(L, strings.ToUpper(L.CheckString(1)), 2)
		}))
		mod.RawSetString("request_batch", loop.WrapGo(m.batch))
		L.Push(mod)
		return 1
	}
}

type module struct {
	client *http.Client
	loop   *scheduler.Loop
}

// prepared is a request built from Lua values, ready to run off the loop.
type prepared struct {
	req     *http.Request
	timeout time.Duration
}

// result is what a finished request carries back to the loop.
type result struct {
	status  int
	headers http.Header
	cookies []*http.Cookie
	body    []byte
	url     string
	err     error
}

// options are gluahttp's request options.
type options struct {
	Query   string
	Form    string
	Body    *string
	Timeout any // seconds, or a Go duration string such as "1.5s"
	Headers map[string]string
	Cookies map[string]string
	Auth    *struct{ User, Pass string }
}

// build turns a method, URL and gluahttp options table into a Go request
// (loop goroutine: it reads Lua tables).
func build(method string, rawurl string, opts *lua.LTable) (*prepared, error) {
	var o options
	if opts != nil {
		if err := luaopts.Decode(opts, &o); err != nil {
			return nil, err
		}
	}
	var body io.Reader
	contentType := ""
	if o.Form != "" {
		body = strings.NewReader(o.Form)
		contentType = "application/x-www-form-urlencoded"
	}
	if o.Body != nil {
		body = strings.NewReader(*o.Body)
	}
	timeout := time.Duration(0)
	switch t := o.Timeout.(type) {
	case float64:
		timeout = time.Duration(t * float64(time.Second))
	case string:
		d, err := time.ParseDuration(t)
		if err != nil {
			return nil, errors.New("invalid timeout '" + t + "'")
		}
		timeout = d
	}
	if msg := checkRequest(method, rawurl, o.Headers); msg != "" {
		return nil, errors.New(msg)
	}
	req, err := http.NewRequest(method, rawurl, body)
	if err != nil {
		if strings.Contains(err.Error(), "invalid method") {
			return nil, errors.New("invalid method '" + method + "'")
		}
		return nil, errors.New("invalid url '" + rawurl + "'")
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if o.Query != "" {
		req.URL.RawQuery = o.Query
	}
	for name, value := range o.Headers {
		if strings.EqualFold(name, "host") {
			req.Host = value
			continue
		}
		req.Header.Set(name, value)
	}
	for name, value := range o.Cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	if o.Auth != nil {
		req.SetBasicAuth(o.Auth.User, o.Auth.Pass)
	}
	return &prepared{req: req, timeout: timeout}, nil
}

// do runs one request; it must not touch Lua values (helper goroutines).
func (m *module) do(ctx context.Context, p *prepared) *result {
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	resp, err := m.client.Do(p.req.WithContext(ctx))
	if err != nil {
		return &result{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return &result{err: err}
	}
	return &result{
		status:  resp.StatusCode,
		headers: resp.Header,
		cookies: resp.Cookies(),
		body:    body,
		url:     resp.Request.URL.String(),
	}
}

// table converts a result to gluahttp's response table. Loop goroutine.
func (r *result) table(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("status_code", lua.LNumber(r.status))
	t.RawSetString("body", lua.LString(r.body))
	t.RawSetString("body_size", lua.LNumber(len(r.body)))
	t.RawSetString("url", lua.LString(r.url))
	h := L.NewTable()
	for k := range r.headers {
		h.RawSetString(k, lua.LString(r.headers.Get(k)))
	}
	t.RawSetString("headers", h)
	c := L.NewTable()
	for _, ck := range r.cookies {
		c.RawSetString(ck.Name, lua.LString(ck.Value))
	}
	t.RawSetString("cookies", c)
	return t
}

// finish pushes (response) or (nil, message).
func (r *result) push(L *lua.LState) []lua.LValue {
	if r.err != nil {
		return []lua.LValue{lua.LNil, lua.LString(errorText(r.err))}
	}
	return []lua.LValue{r.table(L)}
}

// run executes work and returns its Lua results: parked on a helper
// goroutine inside a task, or blocking where the caller cannot park.
func (m *module) run(L *lua.LState, work func(ctx context.Context) func(L *lua.LState) []lua.LValue) int {
	if !m.loop.CanPark(L) {
		vals := work(context.Background())(L)
		for _, v := range vals {
			L.Push(v)
		}
		return len(vals)
	}
	return m.loop.Yield(L, scheduler.OpFunc(func(w scheduler.Waiter) {
		ctx, cancel := context.WithCancel(context.Background())
		w.OnCancel(cancel)
		m.loop.Go(func() func() {
			done := work(ctx)
			return func() {
				cancel()
				if w.Valid() {
					w.Resume(done(m.loop.L)...)
				}
			}
		})
	}))
}

// single implements get/post/…/request: arguments (url, options) start at
// index n.
func (m *module) single(L *lua.LState, method string, n int) int {
	rawurl := L.CheckString(n)
	opts := L.OptTable(n+1, nil)
	p, err := build(method, rawurl, opts)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(errorText(err)))
		return 2
	}
	return m.run(L, func(ctx context.Context) func(L *lua.LState) []lua.LValue {
		return m.do(ctx, p).push
	})
}

// batch implements request_batch({ {method, url, options}, … }): all
// requests run concurrently; it returns the responses (nil where a
// request failed) and, if any failed, a table of error messages.
func (m *module) batch(L *lua.LState) int {
	list := L.CheckTable(1)
	n := list.Len()
	preps := make([]*prepared, n)
	results := make([]*result, n)
	for i := 1; i <= n; i++ {
		spec, ok := list.RawGetInt(i).(*lua.LTable)
		if !ok {
			results[i-1] = &result{err: fmt.Errorf("request %d: table expected", i)}
			continue
		}
		method := strings.ToUpper(spec.RawGetInt(1).String())
		opts, _ := spec.RawGetInt(3).(*lua.LTable)
		p, err := build(method, spec.RawGetInt(2).String(), opts)
		if err != nil {
			results[i-1] = &result{err: err}
			continue
		}
		preps[i-1] = p
	}
	return m.run(L, func(ctx context.Context) func(L *lua.LState) []lua.LValue {
		var wg sync.WaitGroup
		for i, p := range preps {
			if p == nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = m.do(ctx, p)
			}()
		}
		wg.Wait()
		return func(L *lua.LState) []lua.LValue {
			resps, errs := L.CreateTable(n, 0), L.CreateTable(n, 0)
			failed := false
			for i, r := range results {
				if r.err != nil {
					failed = true
					errs.RawSetInt(i+1, lua.LString(errorText(r.err)))
					continue
				}
				resps.RawSetInt(i+1, r.table(L))
			}
			if failed {
				return []lua.LValue{resps, errs}
			}
			return []lua.LValue{resps}
		}
	})
}

// checkRequest refuses what would split a request on the wire: CR, LF or
// NUL in the method, the URL or a header, and header names that are no
// HTTP tokens. The messages are socket.http's (luamod/protocol).
func checkRequest(method, rawurl string, headers map[string]string) string {
	if strings.ContainsAny(method, "\r\n\x00") {
		return "invalid method (contains CR, LF or NUL)"
	}
	if strings.ContainsAny(rawurl, "\r\n\x00") {
		return "invalid url (contains CR, LF or NUL)"
	}
	for name, value := range headers {
		if name == "" || strings.ContainsAny(name, "\r\n\x00: \t") {
			return "invalid header name '" + strings.NewReplacer("\r", "\\r", "\n", "\\n", "\x00", "\\0").Replace(name) + "'"
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return "invalid value of header '" + name + "' (contains CR, LF or NUL)"
		}
	}
	return ""
}

// errorText is the Lua message of a failed request: LuaSocket's and
// LuaSec's words where they have one, never Go's formatting.
func errorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "timeout"
		}
		err = ue.Err
	}
	var dns *net.DNSError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "closed"
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "host not found"
		}
		return "temporary failure in name resolution"
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "unsupported protocol scheme"):
		return "unknown scheme"
	case strings.HasPrefix(msg, "stopped after"):
		return "too many redirects"
	case strings.Contains(msg, "malformed HTTP"), strings.Contains(msg, "server response headers exceeded"):
		return "malformed response"
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return "wrong version number"
	}
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) {
		return "certificate verify failed"
	}
	return ssl.ErrorString(err)
}
