package socket

import (
	"bytes"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Receive is a LuaSocket receive in progress: its pattern ('*l', '*a' or a
// byte count) and what it has collected so far, prefix first. The TCP
// objects and the ssl module share it, so both follow the same rules. A
// Receive belongs to the loop goroutine that runs the operation.
type Receive struct {
	kind byte // 'l', 'a' or 'n'
	want int  // 'n': bytes still wanted
	got  int  // 'a': bytes received by this call
	acc  []byte
	max  int    // 'l': longest line accepted (0: no limit)
	err  string // set by Take when the line is too long
}

// ErrLineTooLong is receive's error for a line longer than the maximum of
// a "*l<n>" pattern.
const ErrLineTooLong = "line too long"

// NewReceive parses receive's pattern argument (a number, or a string
// starting with "*l" or "*a"; extra is a further accepted spelling such as
// LuaSec's "l"/"a") with prefix. done is true when the prefix already
// satisfies a byte count; ok is false for an invalid pattern.
func NewReceive(pattern lua.LValue, prefix string, lenient bool) (r *Receive, done, ok bool) {
	r = &Receive{}
	if f, isNum := toNumber(pattern); isNum && pattern != lua.LNil {
		if !(f >= 0) {
			return nil, false, false
		}
		wanted := int(min(f, 1<<62))
		if len(prefix) != 0 && wanted <= len(prefix) {
			r.acc = []byte(prefix)
			return r, true, true
		}
		r.kind, r.want = 'n', wanted-len(prefix)
	} else {
		p := "*l"
		if s, isStr := pattern.(lua.LString); isStr {
			p = string(s)
		} else if pattern != lua.LNil {
			return nil, false, false
		}
		switch {
		case len(p) >= 2 && p[0] == '*' && p[1] == 'l', lenient && p == "l":
			r.kind = 'l'
			r.max = lineMax(p)
		case len(p) >= 2 && p[0] == '*' && p[1] == 'a', lenient && p == "a":
			r.kind = 'a'
		default:
			return nil, false, false
		}
	}
	if prefix != "" {
		r.acc = append(make([]byte, 0, len(prefix)+64), prefix...)
	}
	return r, false, true
}

// Take consumes from b what the pattern needs and reports how many bytes
// it used and whether the receive is complete.
func (r *Receive) Take(b []byte) (used int, done bool) {
	switch r.kind {
	case 'l':
		i := bytes.IndexByte(b, '\n')
		if r.max > 0 {
			if n := r.lineFits(b, i); n >= 0 {
				r.acc = appendNoCR(r.acc, b[:n])
				r.err = ErrLineTooLong
				return n, true
			}
		}
		if i < 0 {
			r.acc = appendNoCR(r.acc, b)
			return len(b), false
		}
		r.acc = appendNoCR(r.acc, b[:i])
		return i + 1, true
	case 'n':
		k := min(len(b), r.want)
		r.acc = append(r.acc, b[:k]...)
		r.want -= k
		return k, r.want <= 0
	}
	r.acc = append(r.acc, b...)
	r.got += len(b)
	return len(b), false
}

// EndedWell reports whether the stream ending with msg completes the
// receive: '*a' succeeds at the close if this call got anything.
func (r *Receive) EndedWell(msg string) bool {
	return r.kind == 'a' && msg == errClosed && r.got > 0
}

// Results are LuaSocket's results: data, or nil, err, partial data.
func (r *Receive) Results(err string) []lua.LValue {
	// acc is never written again, so the string can share its bytes.
	data := lua.LString(unsafe.String(unsafe.SliceData(r.acc), len(r.acc)))
	if err == "" {
		err = r.err
	}
	if err != "" {
		return []lua.LValue{lua.LNil, lua.LString(err), data}
	}
	return []lua.LValue{data, lua.LNil, lua.LNil}
}

// SendRange (pure, safe from any goroutine) turns send's i and j (1-based, negative from the end) into the
// byte range [from, to) of data of the given size.
func SendRange(size int64, i, j int64) (from, to int) {
	if i < 0 {
		i = size + i + 1
	}
	if j < 0 {
		j = size + j + 1
	}
	if i < 1 {
		i = 1
	}
	if j > size {
		j = size
	}
	if i > j {
		return int(i - 1), int(i - 1)
	}
	return int(i - 1), int(j)
}

// appendNoCR appends src without its CRs (LuaSocket drops every CR of a
// line, not only the one before LF).
func appendNoCR(dst, src []byte) []byte {
	for {
		i := bytes.IndexByte(src, '\r')
		if i < 0 {
			return append(dst, src...)
		}
		dst = append(dst, src[:i]...)
		src = src[i+1:]
	}
}

// lineMax reads the opt-in line limit of a "*l" pattern: "*l" followed
// by decimal digits ("*l8192") accepts lines of at most that many bytes
// (CRs not counted) and fails longer ones with nil, "line too long",
// partial. LuaSocket reads any "*l..." pattern as "*l", so such a pattern
// works there too, without the limit.
func lineMax(p string) int {
	if len(p) < 3 || p[0] != '*' {
		return 0
	}
	n := 0
	for _, c := range p[2:] {
		if c < '0' || c > '9' {
			return 0
		}
		if n < 1<<40 {
			n = n*10 + int(c-'0')
		}
	}
	return n
}

// lineFits checks a limited line against b, whose first LF is at i (-1:
// none): it returns -1 while the line stays within the limit, else how
// many bytes of b to take before failing (up to the limit).
func (r *Receive) lineFits(b []byte, i int) int {
	room := r.max - len(r.acc)
	seg := b
	if i >= 0 {
		seg = b[:i]
	}
	if lineLen(seg) <= room {
		return -1
	}
	// take bytes while they fit, so the partial result is the first max
	// bytes of the line
	n := 0
	for n < len(seg) && room > 0 {
		if seg[n] != '\r' {
			room--
		}
		n++
	}
	return n
}

// lineLen is the length of b without its CRs.
func lineLen(b []byte) int { return len(b) - bytes.Count(b, []byte{'\r'}) }
