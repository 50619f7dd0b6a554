package lua51

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Lua 5.1's pattern matching (reference manual §5.4.1) and the four
// functions built on it: string.find, string.match, string.gmatch (and its
// old name string.gfind) and string.gsub. gopher-lua compiles patterns with
// its own parser (package pm), which words errors differently, rejects
// patterns that Lua 5.1 only rejects when the matcher reaches the bad part,
// and differs in results (init past the end, position captures, frontier
// at the ends of the subject).
//
// The matcher is the classic backtracking one and walks the pattern text
// directly, so errors come exactly when Lua 5.1 raises them: find("abc",
// "x[") is nil because 'x' never matches. As in C, a pattern ends at its
// first NUL byte (the plain search of string.find still uses all of it).
//
// Unlike Lua 5.1, the work is bounded: the recursion depth and the number
// of matching steps per call (a base plus an allowance per subject byte),
// so that a hostile pattern raises "pattern too complex" instead of
// overflowing the Go stack or running for hours. A cancelled context of
// the state stops a long match too.

const (
	maxCaptures   = 32 // LUA_MAXCAPTURES
	capUnfinished = -1
	capPosition   = -2
	// specials are the characters that make string.find use the matcher.
	specials = "^$*+?.([%-"

	// maxMatchDepth bounds the recursion: every recursive call starts at
	// a later pattern position, so only patterns longer than this reach it.
	maxMatchDepth = 200000
	// stepChunk steps run between checks of the budget and the context.
	stepChunk = 1 << 16
	// A call may take matchBaseSteps plus matchByteSteps per byte of the
	// subject: tens of milliseconds on small subjects (a fuzzing worker
	// counts an input past 10 s as hung), enough for
	// gsub over large ones with ordinary patterns.
	matchBaseSteps = 1 << 23
	matchByteSteps = 1 << 8
)

const errTooComplex = "pattern too complex"

// patternError is a pattern error on its way out of the matcher; the
// library functions raise it as a Lua error (rethrowPattern).
type patternError struct{ msg string }

type capture struct{ init, len int }

type matchState struct {
	L     *lua.LState // nil in tests: no context to watch
	src   string
	pat   string // up to the first NUL
	level int    // captures open or closed so far
	depth int
	steps int // left in the current chunk
	// chunks is how many more stepChunk refills the budget allows.
	chunks  int
	capture [maxCaptures]capture
}

// newMatchState prepares matching pattern p (already cut at its NUL)
// against src.
func newMatchState(L *lua.LState, src, p string) *matchState {
	ms := &matchState{L: L, src: src, pat: p}
	ms.resetBudget()
	return ms
}

func (ms *matchState) resetBudget() {
	total := matchBaseSteps + matchByteSteps*len(ms.src)
	if len(ms.src) > (1<<40)/matchByteSteps {
		total = 1 << 40
	}
	ms.steps = stepChunk
	ms.chunks = total / stepChunk
	ms.depth = 0
}

func (ms *matchState) fail(msg string) {
	panic(&patternError{msg})
}

// refill runs when a chunk of steps is used up.
func (ms *matchState) refill() {
	for ms.steps < 0 {
		if ms.chunks <= 0 {
			ms.fail(errTooComplex)
		}
		ms.chunks--
		ms.steps += stepChunk
	}
	if ms.L != nil {
		if ctx := ms.L.Context(); ctx != nil && ctx.Err() != nil {
			ms.fail(ctx.Err().Error())
		}
	}
}

// rethrowPattern turns a pattern error of the matcher into a Lua error;
// other panics (errors of gsub's callbacks) go on untouched.
func rethrowPattern(L *lua.LState) {
	if r := recover(); r != nil {
		if pe, ok := r.(*patternError); ok {
			L.RaiseError("%s", pe.msg)
		}
		panic(r)
	}
}

// Character classes of the "C" locale, as bits per byte.
const (
	clAlpha = 1 << iota
	clCntrl
	clDigit
	clLower
	clPunct
	clSpace
	clUpper
	clXDigit
	clZero
	clAlnum = clAlpha | clDigit
)

var (
	charClasses [256]uint16
	// classBits maps a class letter (either case) to its bits.
	classBits [256]uint16
)

func init() {
	for i := 0; i < 256; i++ {
		c := byte(i)
		var b uint16
		switch {
		case c >= 'a' && c <= 'z':
			b |= clAlpha | clLower
		case c >= 'A' && c <= 'Z':
			b |= clAlpha | clUpper
		case isDigit(c):
			b |= clDigit
		case c > ' ' && c < 127:
			b |= clPunct
		}
		if c < ' ' || c == 127 {
			b |= clCntrl
		}
		if isSpace(c) {
			b |= clSpace
		}
		if isHexDigit(c) {
			b |= clXDigit
		}
		if c == 0 {
			b |= clZero
		}
		charClasses[i] = b
	}
	for _, e := range []struct {
		letter byte
		bits   uint16
	}{
		{'a', clAlpha}, {'c', clCntrl}, {'d', clDigit}, {'l', clLower},
		{'p', clPunct}, {'s', clSpace}, {'u', clUpper}, {'w', clAlnum},
		{'x', clXDigit}, {'z', clZero},
	} {
		classBits[e.letter] = e.bits
		classBits[e.letter-'a'+'A'] = e.bits
	}
}

// matchClass tells whether c is in the class of %cl: a class letter, its
// upper-case complement, or else cl itself (%. is '.').
func matchClass(c, cl byte) bool {
	bits := classBits[cl]
	if bits == 0 {
		return c == cl
	}
	res := charClasses[c]&bits != 0
	if cl >= 'A' && cl <= 'Z' {
		return !res
	}
	return res
}

// classEnd returns the position after the single-character class at p.
func (ms *matchState) classEnd(p int) int {
	pat := ms.pat
	c := pat[p]
	p++
	switch c {
	case '%':
		if p >= len(pat) {
			ms.fail("malformed pattern (ends with '%')")
		}
		return p + 1
	case '[':
		if p < len(pat) && pat[p] == '^' {
			p++
		}
		// The first character is never the closing ']', and an escaped
		// character is skipped.
		for {
			if p >= len(pat) {
				ms.fail("malformed pattern (missing ']')")
			}
			c := pat[p]
			p++
			if c == '%' && p < len(pat) {
				p++
			}
			if p < len(pat) && pat[p] == ']' {
				return p + 1
			}
		}
	}
	return p
}

// matchBracket tells whether c is in the set that opens at p ('[') and
// closes at ec (']').
func (ms *matchState) matchBracket(c byte, p, ec int) bool {
	pat := ms.pat
	in := true
	if pat[p+1] == '^' {
		in = false
		p++
	}
	for p++; p < ec; p++ {
		switch {
		case pat[p] == '%':
			p++
			if matchClass(c, pat[p]) {
				return in
			}
		case pat[p+1] == '-' && p+2 < ec:
			if pat[p] <= c && c <= pat[p+2] {
				return in
			}
			p += 2
		case pat[p] == c:
			return in
		}
	}
	return !in
}

// singleMatch tells whether c matches the class from p to ep.
func (ms *matchState) singleMatch(c byte, p, ep int) bool {
	switch ms.pat[p] {
	case '.':
		return true
	case '%':
		return matchClass(c, ms.pat[p+1])
	case '[':
		return ms.matchBracket(c, p, ep-1)
	}
	return ms.pat[p] == c
}

// match matches the pattern from p against the subject from s and
// returns where the match ends, or -1.
func (ms *matchState) match(s, p int) int {
	ms.depth++
	if ms.depth > maxMatchDepth {
		ms.fail(errTooComplex)
	}
	e := ms.doMatch(s, p)
	ms.depth--
	return e
}

func (ms *matchState) doMatch(s, p int) int {
	pat, src := ms.pat, ms.src
	for {
		if ms.steps--; ms.steps < 0 {
			ms.refill()
		}
		if p >= len(pat) {
			return s
		}
		switch pat[p] {
		case '(':
			if p+1 < len(pat) && pat[p+1] == ')' {
				return ms.startCapture(s, p+2, capPosition)
			}
			return ms.startCapture(s, p+1, capUnfinished)
		case ')':
			return ms.endCapture(s, p+1)
		case '$':
			if p+1 == len(pat) {
				if s == len(src) {
					return s
				}
				return -1
			}
		case '%':
			if p+1 >= len(pat) {
				break // classEnd raises the error
			}
			switch c := pat[p+1]; {
			case c == 'b':
				if s = ms.matchBalance(s, p+2); s < 0 {
					return -1
				}
				p += 4
				continue
			case c == 'f':
				p += 2
				if p >= len(pat) || pat[p] != '[' {
					ms.fail("missing '[' after '%f' in pattern")
				}
				ep := ms.classEnd(p)
				// Outside the subject the character is '\0'.
				var prev, cur byte
				if s > 0 {
					prev = src[s-1]
				}
				if s < len(src) {
					cur = src[s]
				}
				if ms.matchBracket(prev, p, ep-1) || !ms.matchBracket(cur, p, ep-1) {
					return -1
				}
				p = ep
				continue
			case isDigit(c):
				if s = ms.matchCapture(s, c); s < 0 {
					return -1
				}
				p += 2
				continue
			}
		}
		// A single-character class, maybe with a quantifier.
		ep := ms.classEnd(p)
		m := s < len(src) && ms.singleMatch(src[s], p, ep)
		if ep < len(pat) {
			switch pat[ep] {
			case '?':
				if m {
					if e := ms.match(s+1, ep+1); e >= 0 {
						return e
					}
				}
				p = ep + 1
				continue
			case '*':
				return ms.maxExpand(s, p, ep)
			case '+':
				if !m {
					return -1
				}
				return ms.maxExpand(s+1, p, ep)
			case '-':
				return ms.minExpand(s, p, ep)
			}
		}
		if !m {
			return -1
		}
		s++
		p = ep
	}
}

// maxExpand matches as many repetitions as possible of the class from p
// to ep, then gives them back one by one until the rest matches.
func (ms *matchState) maxExpand(s, p, ep int) int {
	i := 0
	for s+i < len(ms.src) && ms.singleMatch(ms.src[s+i], p, ep) {
		i++
	}
	ms.steps -= i
	for ; i >= 0; i-- {
		if e := ms.match(s+i, ep+1); e >= 0 {
			return e
		}
	}
	return -1
}

// minExpand matches as few repetitions as possible.
func (ms *matchState) minExpand(s, p, ep int) int {
	for {
		if e := ms.match(s, ep+1); e >= 0 {
			return e
		}
		if s < len(ms.src) && ms.singleMatch(ms.src[s], p, ep) {
			s++
		} else {
			return -1
		}
	}
}

func (ms *matchState) startCapture(s, p, what int) int {
	if ms.level >= maxCaptures {
		ms.fail("too many captures")
	}
	ms.capture[ms.level] = capture{s, what}
	ms.level++
	e := ms.match(s, p)
	if e < 0 {
		ms.level--
	}
	return e
}

func (ms *matchState) endCapture(s, p int) int {
	l := -1
	for i := ms.level - 1; i >= 0; i-- {
		if ms.capture[i].len == capUnfinished {
			l = i
			break
		}
	}
	if l < 0 {
		ms.fail("invalid pattern capture")
	}
	ms.capture[l].len = s - ms.capture[l].init
	e := ms.match(s, p)
	if e < 0 {
		ms.capture[l].len = capUnfinished
	}
	return e
}

// matchBalance is %bxy at p: x, then text up to the y that balances it.
func (ms *matchState) matchBalance(s, p int) int {
	if p+1 >= len(ms.pat) {
		ms.fail("unbalanced pattern")
	}
	src := ms.src
	if s >= len(src) || src[s] != ms.pat[p] {
		return -1
	}
	open, close := ms.pat[p], ms.pat[p+1]
	depth := 1
	for i := s + 1; i < len(src); i++ {
		switch src[i] {
		case close:
			if depth--; depth == 0 {
				ms.steps -= i - s
				return i + 1
			}
		case open:
			depth++
		}
	}
	ms.steps -= len(src) - s
	return -1
}

// matchCapture is the back-reference %l: the same text as capture l
// (a position capture matches nothing).
func (ms *matchState) matchCapture(s int, l byte) int {
	i := int(l) - '1'
	if i < 0 || i >= ms.level || ms.capture[i].len == capUnfinished {
		ms.fail("invalid capture index")
	}
	c := ms.capture[i]
	if c.len >= 0 && len(ms.src)-s >= c.len && ms.src[s:s+c.len] == ms.src[c.init:c.init+c.len] {
		ms.steps -= c.len
		return s + c.len
	}
	return -1
}

// getCapture is capture i of a match from s to e; capture 0 of a pattern
// without captures is the whole match.
func (ms *matchState) getCapture(i, s, e int) lua.LValue {
	if i >= ms.level {
		if i != 0 {
			ms.fail("invalid capture index")
		}
		return lua.LString(ms.src[s:e])
	}
	c := ms.capture[i]
	switch c.len {
	case capUnfinished:
		ms.fail("unfinished capture")
	case capPosition:
		return lua.LNumber(c.init + 1)
	}
	return lua.LString(ms.src[c.init : c.init+c.len])
}

// pushCaptures pushes the captures of a match from s to e, or the whole
// match when the pattern has none and whole is set.
func (ms *matchState) pushCaptures(L *lua.LState, s, e int, whole bool) int {
	n := ms.level
	if n == 0 && whole {
		n = 1
	}
	for i := 0; i < n; i++ {
		L.Push(ms.getCapture(i, s, e))
	}
	return n
}

// cutNUL is the pattern as C sees it: up to its first NUL.
func cutNUL(p string) string {
	if i := strings.IndexByte(p, 0); i >= 0 {
		return p[:i]
	}
	return p
}

// patchPatterns installs Lua 5.1's find, match, gmatch, gfind and gsub
// in the string table.
func patchPatterns(L *lua.LState) {
	str := L.GetGlobal("string").(*lua.LTable)
	str.RawSetString("find", L.NewFunction(strFind))
	str.RawSetString("match", L.NewFunction(strMatch))
	gmatch := L.NewFunction(strGmatch)
	str.RawSetString("gmatch", gmatch)
	str.RawSetString("gfind", gmatch)
	str.RawSetString("gsub", L.NewFunction(strGsub))
}

func strFind(L *lua.LState) int  { return strFindAux(L, true) }
func strMatch(L *lua.LState) int { return strFindAux(L, false) }

// strFindAux is string.find(s, pattern [, init [, plain]]) and
// string.match(s, pattern [, init]).
func strFindAux(L *lua.LState, find bool) int {
	s := checkString(L, 1)
	p := checkString(L, 2)
	init := posRelat(optInt(L, 3, 1), len(s)) - 1
	if init < 0 {
		init = 0
	} else if init > len(s) {
		init = len(s)
	}
	if find && (lua.LVAsBool(L.Get(4)) || !strings.ContainsAny(cutNUL(p), specials)) {
		if i := strings.Index(s[init:], p); i >= 0 {
			L.Push(lua.LNumber(init + i + 1))
			L.Push(lua.LNumber(init + i + len(p)))
			return 2
		}
		L.Push(lua.LNil)
		return 1
	}
	defer rethrowPattern(L)
	p = cutNUL(p)
	anchor := len(p) > 0 && p[0] == '^'
	if anchor {
		p = p[1:]
	}
	ms := newMatchState(L, s, p)
	for s1 := init; ; s1++ {
		ms.level = 0
		if e := ms.match(s1, 0); e >= 0 {
			if find {
				L.Push(lua.LNumber(s1 + 1))
				L.Push(lua.LNumber(e))
				return ms.pushCaptures(L, 0, 0, false) + 2
			}
			return ms.pushCaptures(L, s1, e, true)
		}
		if s1 >= len(s) || anchor {
			break
		}
	}
	L.Push(lua.LNil)
	return 1
}

// strGmatch is string.gmatch(s, pattern). As in Lua 5.1, '^' is an
// ordinary character here, and after an empty match the next search
// starts one character further.
func strGmatch(L *lua.LState) int {
	s := checkString(L, 1)
	p := cutNUL(checkString(L, 2))
	ms := &matchState{src: s, pat: p}
	pos := 0
	iter := func(L *lua.LState) int {
		defer rethrowPattern(L)
		ms.L = L
		ms.resetBudget()
		for src := pos; src <= len(s); src++ {
			ms.level = 0
			if e := ms.match(src, 0); e >= 0 {
				pos = e
				if e == src {
					pos++
				}
				return ms.pushCaptures(L, src, e, true)
			}
		}
		return 0
	}
	L.Push(L.NewFunction(iter))
	return 1
}

// strGsub is string.gsub(s, pattern, repl [, n]).
func strGsub(L *lua.LState) int {
	src := checkString(L, 1)
	p := cutNUL(checkString(L, 2))
	repl := L.Get(3)
	// luaL_optint: a C int, so 2^32+1 is 1.
	maxN := int(int32(optInt(L, 4, len(src)+1)))
	var replStr string
	switch r := repl.(type) {
	case lua.LString:
		replStr = string(r)
	case lua.LNumber:
		replStr = formatNumber(r)
	case *lua.LFunction, *lua.LTable:
	default:
		L.ArgError(3, "string/function/table expected")
	}
	defer rethrowPattern(L)
	anchor := len(p) > 0 && p[0] == '^'
	if anchor {
		p = p[1:]
	}
	ms := newMatchState(L, src, p)
	var b []byte
	n, pos := 0, 0
loop:
	for n < maxN {
		ms.level = 0
		e := ms.match(pos, 0)
		if e >= 0 {
			n++
			switch r := repl.(type) {
			case *lua.LFunction:
				L.Push(r)
				L.Call(ms.pushCaptures(L, pos, e, true), 1)
				b = ms.addValue(L, b, L.Get(-1), pos, e)
				L.Pop(1)
			case *lua.LTable:
				b = ms.addValue(L, b, L.GetTable(r, ms.getCapture(0, pos, e)), pos, e)
			default:
				b = ms.addString(b, replStr, pos, e)
			}
		}
		switch {
		case e > pos:
			pos = e
		case pos < len(src):
			b = append(b, src[pos])
			pos++
		default:
			break loop
		}
		if len(b) > maxStringLen {
			ms.fail("not enough memory")
		}
		if anchor {
			break
		}
	}
	b = append(b, src[pos:]...)
	L.Push(lua.LString(b))
	L.Push(lua.LNumber(n))
	return 2
}

// addString appends gsub's string replacement for a match from s to e:
// %0 is the match, %1-%9 its captures, '%' before anything else is that
// character (a '%' at the end adds the NUL that ends C's string).
func (ms *matchState) addString(b []byte, repl string, s, e int) []byte {
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		i++
		var d byte
		if i < len(repl) {
			d = repl[i]
		}
		switch {
		case !isDigit(d):
			b = append(b, d)
		case d == '0':
			b = append(b, ms.src[s:e]...)
		default:
			b = appendValue(b, ms.getCapture(int(d-'1'), s, e))
		}
		if len(b) > maxStringLen {
			ms.fail("not enough memory")
		}
	}
	return b
}

// addValue appends what a table or function gave for a match: false or
// nil keep the match, strings and numbers replace it.
func (ms *matchState) addValue(L *lua.LState, b []byte, v lua.LValue, s, e int) []byte {
	switch v.(type) {
	case lua.LString, lua.LNumber:
		return appendValue(b, v)
	}
	if !lua.LVAsBool(v) {
		return append(b, ms.src[s:e]...)
	}
	L.RaiseError("invalid replacement value (a %s)", v.Type().String())
	return b
}

func appendValue(b []byte, v lua.LValue) []byte {
	if n, ok := v.(lua.LNumber); ok {
		return append(b, formatNumber(n)...)
	}
	return append(b, string(v.(lua.LString))...)
}
