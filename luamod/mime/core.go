// Package mime provides LuaSocket's mime and mime.core modules: the
// transfer-encoding transforms (base64, quoted-printable, line wrapping,
// end-of-line normalization, SMTP dot-stuffing) in Go, and the filter
// factories of module "mime" in embedded Lua on top of ltn12.
//
// Every transform keeps LuaSocket's incremental contract: it takes the
// context of the previous call and returns the output it can produce
// unambiguously together with the context for the next call, so that
// ltn12.filter.cycle can drive it chunk by chunk.
//
// Goroutine contract: Preload, the loaders and every Lua function run on
// the goroutine that owns the Lua state.
package mime

import (
	_ "embed"
	"strings"

	"github.com/copas-lua/copas-lua/internal/rewrite"
	lua "github.com/yuin/gopher-lua"
)

//go:embed mime.lua
var mimeLua string

// Version is mime._VERSION.
const Version = "MIME 1.0.3"

// Preload registers mime.core and mime in L's package.preload. Loop
// goroutine only.
func Preload(L *lua.LState) {
	L.PreloadModule("mime.core", LoadCore)
	L.PreloadModule("mime", Load)
}

// LoadCore returns the mime.core table. Loop goroutine only.
func LoadCore(L *lua.LState) int {
	mod := L.NewTable()
	mod.RawSetString("_VERSION", lua.LString(Version))
	for name, fn := range map[string]lua.LGFunction{
		"b64": b64, "unb64": unb64, "qp": qp, "unqp": unqp,
		"wrp": wrp, "qpwrp": qpwrp, "eol": eol, "dot": dot,
	} {
		mod.RawSetString(name, L.NewFunction(fn))
	}
	L.Push(mod)
	return 1
}

// Load returns module mime: mime.core's table extended with the filter
// factories (the same table, as in LuaSocket). Loop goroutine only.
func Load(L *lua.LState) int {
	L.Push(L.GetGlobal("require"))
	L.Push(lua.LString("mime.core"))
	L.Call(1, 1)
	core := L.Get(-1)
	L.Pop(1)
	fn, err := rewrite.Load(L, strings.NewReader(mimeLua), "=[mime]")
	if err != nil {
		L.RaiseError("mime: %v", err)
	}
	L.Push(fn)
	L.Push(core)
	L.Call(1, 1)
	return 1
}

// optString returns argument n as a string and whether it was given (a
// nil or absent argument is "not given"; numbers convert as in Lua).
func optString(L *lua.LState, n int) (string, bool) {
	v := L.Get(n)
	if v == lua.LNil {
		return "", false
	}
	return L.CheckString(n), true
}

// pushPair returns (a, b) where an empty final output becomes nil, the
// way LuaSocket reports "nothing left" at the end of input.
func finalPair(L *lua.LState, out string) int {
	if out == "" {
		L.Push(lua.LNil)
	} else {
		L.Push(lua.LString(out))
	}
	L.Push(lua.LNil)
	return 2
}

// streamer is one incremental transform: feed consumes a byte, keeping up
// to a few bytes of lookahead in pending; flush is applied at end of input.
type streamer interface {
	feed(c byte)
	flush()
	output() *strings.Builder
	rest() []byte
}

// runPair implements the common (C, D) contract of b64, unb64, qp and
// unqp: C is transformed; if D is nil the transform is finished (flush)
// and the result is (A or nil, nil); otherwise D is transformed too and
// the bytes that could not be decided yet are returned raw as B.
func runPair(L *lua.LState, s streamer) int {
	c, ok := optString(L, 1)
	if !ok {
		L.Push(lua.LNil)
		L.Push(lua.LNil)
		return 2
	}
	for i := 0; i < len(c); i++ {
		s.feed(c[i])
	}
	d, ok := optString(L, 2)
	if !ok {
		s.flush()
		return finalPair(L, s.output().String())
	}
	for i := 0; i < len(d); i++ {
		s.feed(d[i])
	}
	L.Push(lua.LString(s.output().String()))
	L.Push(lua.LString(string(s.rest())))
	return 2
}

const b64alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// b64val maps a byte to its base64 value; '=' counts as 0 (padding is
// resolved per quantum) and 255 marks bytes that are skipped.
var b64val = func() (t [256]byte) {
	for i := range t {
		t[i] = 255
	}
	for i := 0; i < 64; i++ {
		t[b64alphabet[i]] = byte(i)
	}
	t['='] = 0
	return
}()

type b64enc struct {
	out strings.Builder
	buf []byte
}

func (e *b64enc) output() *strings.Builder { return &e.out }
func (e *b64enc) rest() []byte             { return e.buf }

func (e *b64enc) feed(c byte) {
	e.buf = append(e.buf, c)
	if len(e.buf) == 3 {
		v := uint(e.buf[0])<<16 | uint(e.buf[1])<<8 | uint(e.buf[2])
		e.out.WriteByte(b64alphabet[v>>18&63])
		e.out.WriteByte(b64alphabet[v>>12&63])
		e.out.WriteByte(b64alphabet[v>>6&63])
		e.out.WriteByte(b64alphabet[v&63])
		e.buf = e.buf[:0]
	}
}

func (e *b64enc) flush() {
	switch len(e.buf) {
	case 1:
		v := uint(e.buf[0]) << 16
		e.out.WriteByte(b64alphabet[v>>18&63])
		e.out.WriteByte(b64alphabet[v>>12&63])
		e.out.WriteString("==")
	case 2:
		v := uint(e.buf[0])<<16 | uint(e.buf[1])<<8
		e.out.WriteByte(b64alphabet[v>>18&63])
		e.out.WriteByte(b64alphabet[v>>12&63])
		e.out.WriteByte(b64alphabet[v>>6&63])
		e.out.WriteByte('=')
	}
	e.buf = e.buf[:0]
}

type b64dec struct {
	out strings.Builder
	buf []byte
}

func (d *b64dec) output() *strings.Builder { return &d.out }
func (d *b64dec) rest() []byte             { return d.buf }

// feed skips bytes outside the alphabet (line breaks of wrapped input);
// an incomplete final quantum is dropped, as LuaSocket does.
func (d *b64dec) feed(c byte) {
	if b64val[c] == 255 {
		return
	}
	d.buf = append(d.buf, c)
	if len(d.buf) < 4 {
		return
	}
	v := uint(b64val[d.buf[0]])<<18 | uint(b64val[d.buf[1]])<<12 |
		uint(b64val[d.buf[2]])<<6 | uint(b64val[d.buf[3]])
	n := 3
	if d.buf[2] == '=' {
		n = 1
	} else if d.buf[3] == '=' {
		n = 2
	}
	three := [3]byte{byte(v >> 16), byte(v >> 8), byte(v)}
	d.out.Write(three[:n])
	d.buf = d.buf[:0]
}

func (d *b64dec) flush() {}

func b64(L *lua.LState) int   { return runPair(L, &b64enc{}) }
func unb64(L *lua.LState) int { return runPair(L, &b64dec{}) }

const hexUpper = "0123456789ABCDEF"

// qpPlain reports whether c may appear literally in quoted-printable.
func qpPlain(c byte) bool { return (c >= 33 && c <= 60) || (c >= 62 && c <= 126) }

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

type qpEnc struct {
	out    strings.Builder
	buf    []byte
	marker string // what a CRLF of the input becomes
}

func (e *qpEnc) output() *strings.Builder { return &e.out }
func (e *qpEnc) rest() []byte             { return e.buf }

func (e *qpEnc) quote(c byte) {
	e.out.WriteByte('=')
	e.out.WriteByte(hexUpper[c>>4])
	e.out.WriteByte(hexUpper[c&15])
}

// feed decides bytes as soon as the lookahead allows: a CR needs the next
// byte (CRLF is a line break), a space or tab the next two (it must be
// quoted before a line break).
func (e *qpEnc) feed(c byte) {
	e.buf = append(e.buf, c)
	for len(e.buf) > 0 {
		b := e.buf[0]
		switch {
		case b == '\r':
			if len(e.buf) < 2 {
				return
			}
			if e.buf[1] == '\n' {
				e.out.WriteString(e.marker)
				e.buf = e.buf[:0]
				return
			}
			e.quote(b)
		case b == ' ' || b == '\t':
			if len(e.buf) < 3 {
				return
			}
			if e.buf[1] == '\r' && e.buf[2] == '\n' {
				e.quote(b)
				e.out.WriteString(e.marker)
				e.buf = e.buf[:0]
				return
			}
			e.out.WriteByte(b)
		case qpPlain(b):
			e.out.WriteByte(b)
		default:
			e.quote(b)
		}
		e.buf = append(e.buf[:0], e.buf[1:]...)
	}
}

// flush ends the text with a soft line break if bytes were still pending.
func (e *qpEnc) flush() {
	for _, b := range e.buf {
		if qpPlain(b) {
			e.out.WriteByte(b)
		} else {
			e.quote(b)
		}
	}
	if len(e.buf) > 0 {
		e.out.WriteString("=\r\n")
	}
	e.buf = e.buf[:0]
}

type qpDec struct {
	out strings.Builder
	buf []byte
}

func (d *qpDec) output() *strings.Builder { return &d.out }
func (d *qpDec) rest() []byte             { return d.buf }

// feed drops soft line breaks, decodes =XX (an invalid escape is kept
// verbatim), keeps CRLF and printable bytes and drops everything else.
func (d *qpDec) feed(c byte) {
	d.buf = append(d.buf, c)
	switch d.buf[0] {
	case '=':
		if len(d.buf) < 3 {
			return
		}
		if d.buf[1] == '\r' && d.buf[2] == '\n' {
			break
		}
		hi, lo := hexVal(d.buf[1]), hexVal(d.buf[2])
		if hi < 0 || lo < 0 {
			d.out.Write(d.buf)
		} else {
			d.out.WriteByte(byte(hi<<4 | lo))
		}
	case '\r':
		if len(d.buf) < 2 {
			return
		}
		if d.buf[1] == '\n' {
			d.out.Write(d.buf)
		}
	default:
		if b := d.buf[0]; b == '\t' || (b > 31 && b < 127) {
			d.out.WriteByte(b)
		}
	}
	d.buf = d.buf[:0]
}

func (d *qpDec) flush() {}

func qp(L *lua.LState) int {
	return runPair(L, &qpEnc{marker: L.OptString(3, "\r\n")})
}

func unqp(L *lua.LState) int { return runPair(L, &qpDec{}) }

// wrapLines implements wrp and qpwrp: (left, text, length) -> (wrapped,
// left). A nil text ends the stream with a final break if the last line
// is not empty. Input CRs are dropped and LFs become CRLF.
func wrapLines(L *lua.LState, final string, reserve func(c byte) int) int {
	left := int(L.CheckNumber(1))
	length := int(L.OptNumber(3, 76))
	text, ok := optString(L, 2)
	if !ok {
		if left < length {
			L.Push(lua.LString(final))
		} else {
			L.Push(lua.LNil)
		}
		L.Push(lua.LNumber(length))
		return 2
	}
	var out strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch c {
		case '\r':
		case '\n':
			out.WriteString("\r\n")
			left = length
		default:
			if left <= reserve(c) {
				out.WriteString(final)
				left = length
			}
			out.WriteByte(c)
			left--
		}
	}
	L.Push(lua.LString(out.String()))
	L.Push(lua.LNumber(left))
	return 2
}

func wrp(L *lua.LState) int {
	return wrapLines(L, "\r\n", func(byte) int { return 0 })
}

// qpwrp breaks with soft line breaks and never inside an =XX escape.
func qpwrp(L *lua.LState) int {
	return wrapLines(L, "=\r\n", func(c byte) int {
		if c == '=' {
			return 3
		}
		return 1
	})
}

// eol: (ctx, text, marker) -> (normalized, ctx). Any of CR, LF, CRLF and
// LFCR is one line break; CRCR and LFLF are two. ctx is the pending break
// character of the previous chunk, or 0.
func eol(L *lua.LState) int {
	ctx := L.CheckInt(1)
	text, ok := optString(L, 2)
	marker := L.OptString(3, "\r\n")
	if !ok {
		L.Push(lua.LNil)
		L.Push(lua.LNumber(0))
		return 2
	}
	isBreak := func(c int) bool { return c == '\r' || c == '\n' }
	var out strings.Builder
	for i := 0; i < len(text); i++ {
		c := int(text[i])
		switch {
		case !isBreak(c):
			out.WriteByte(byte(c))
			ctx = 0
		case isBreak(ctx):
			if c == ctx {
				out.WriteString(marker)
			}
			ctx = 0
		default:
			out.WriteString(marker)
			ctx = c
		}
	}
	L.Push(lua.LString(out.String()))
	L.Push(lua.LNumber(ctx))
	return 2
}

// dot: (state, text) -> (stuffed, state). A '.' at the start of a line
// gets doubled; state 2 means "at line start", 1 "after CR".
func dot(L *lua.LState) int {
	state := int(L.CheckNumber(1))
	text, ok := optString(L, 2)
	if !ok {
		L.Push(lua.LNil)
		L.Push(lua.LNumber(2))
		return 2
	}
	var out strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		out.WriteByte(c)
		switch {
		case c == '\r':
			state = 1
		case c == '\n' && state == 1:
			state = 2
		case c == '.' && state == 2:
			out.WriteByte('.')
			state = 0
		default:
			state = 0
		}
	}
	L.Push(lua.LString(out.String()))
	L.Push(lua.LNumber(state))
	return 2
}
