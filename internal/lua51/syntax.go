package lua51

// syntax.go is a recognizer for Lua 5.1's grammar that finds the first
// syntax error of a chunk and words it exactly as Lua 5.1 does, for the
// chunks gopher-lua's parser rejects (its goyacc parser says "syntax error
// near 'x'" where Lua says "'=' expected near 'x'", "unexpected symbol",
// "'end' expected (to close 'function' at line 3)" and so on).
//
// It is a port of 5.1.5's llex.c and lparser.c without the code generator:
// the same lexer state (current character, line numbers, the token buffer
// that messages quote), the same recursive descent, the same checks in the
// same order, and the limits the parser enforces (syntax levels, local
// variables, upvalues, variables in an assignment). What it does not model
// are the code generator's own limits: "function or expression too
// complex" (more than 250 registers), "control structure too long" and
// "constant table overflow".

import (
	"fmt"
	"strings"
)

// Tokens: single characters are their byte value; the rest follow
// llex.h's order (ORDER RESERVED), from FIRST_RESERVED = 257.
const (
	tkAnd = 257 + iota
	tkBreak
	tkDo
	tkElse
	tkElseif
	tkEnd
	tkFalse
	tkFor
	tkFunction
	tkIf
	tkIn
	tkLocal
	tkNil
	tkNot
	tkOr
	tkRepeat
	tkReturn
	tkThen
	tkTrue
	tkUntil
	tkWhile
	tkConcat
	tkDots
	tkEq
	tkGe
	tkLe
	tkNe
	tkNumber
	tkName
	tkString
	tkEOS
)

// synTokens is luaX_tokens.
var synTokens = [...]string{
	"and", "break", "do", "else", "elseif",
	"end", "false", "for", "function", "if",
	"in", "local", "nil", "not", "or", "repeat",
	"return", "then", "true", "until", "while",
	"..", "...", "==", ">=", "<=", "~=",
	"<number>", "<name>", "<string>", "<eof>",
}

var synReserved = func() map[string]int {
	m := make(map[string]int, tkWhile-tkAnd+1)
	for i := tkAnd; i <= tkWhile; i++ {
		m[synTokens[i-tkAnd]] = i
	}
	return m
}()

const (
	synEOZ = -1

	// synBaseLevel is L->nCcalls when the parser starts, as it is for
	// loadstring called from a main chunk run by the lua5.1 program (2 C
	// calls deep). It decides where "chunk has too many syntax levels" and
	// "variables in assignment" strike.
	synBaseLevel  = 2
	synMaxCCalls  = 200 // LUAI_MAXCCALLS
	synMaxVars    = 200 // LUAI_MAXVARS
	synMaxUpvals  = 60  // LUAI_MAXUPVALUES
	synUnaryPrior = 8   // UNARY_PRIORITY
	synMaxSrc     = 80  // llex.c's MAXSRC: chunk ids in syntax errors
)

// synError carries a finished message out of the recursion.
type synError struct{ msg string }

type synToken struct {
	tok  int
	name string // TK_NAME's text
}

// Expression kinds, as far as statements care: assignable (VLOCAL,
// VUPVAL, VGLOBAL, VINDEXED), a call (VCALL), or anything else.
const (
	expOther = iota
	expVar
	expCall
)

type synBlock struct {
	prev        *synBlock
	nactvar     int
	isBreakable bool
}

type synUpval struct{ k, info int }

// synFunc is the part of FuncState the parser's checks read.
type synFunc struct {
	prev        *synFunc
	bl          *synBlock
	vars        []string // actvar: active locals, then ones being declared
	nactvar     int
	upvals      []synUpval
	isVararg    bool
	linedefined int
}

// synState is LexState.
type synState struct {
	src      string
	pos      int // next byte to read
	current  int
	line     int // linenumber
	lastline int
	buf      []byte
	t        synToken
	ahead    synToken
	chunkid  string
	fs       *synFunc
	level    int // L->nCcalls
}

// syntaxError reports the error Lua 5.1 finds in src, as
// "chunkid:line: message near 'token'", and whether there is one. chunkid
// is the chunk's name as syntax errors show it: syntaxChunkID(source).
func syntaxError(src, chunkid string) (msg string, bad bool) {
	defer func() {
		// A bug here must not turn a load error into a crash.
		if r := recover(); r != nil {
			msg, bad = "", false
		}
	}()
	return syntaxCheck(src, chunkid)
}

// syntaxCheck is syntaxError without the safety net (for the tests).
func syntaxCheck(src, chunkid string) (msg string, bad bool) {
	if len(src) > 0 && src[0] == 0x1b { // LUA_SIGNATURE: lua_load undumps
		return binaryChunkError(src, chunkid)
	}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(synError)
			if !ok {
				panic(r)
			}
			msg, bad = e.msg, true
		}
	}()
	ls := &synState{src: src, line: 1, lastline: 1, chunkid: chunkid, level: synBaseLevel}
	ls.ahead.tok = tkEOS
	ls.fs = &synFunc{isVararg: true}
	ls.nextChar()
	ls.advance()
	ls.chunk()
	ls.check(tkEOS)
	return "", false
}

// binaryChunkError is lundump.c's answer to a chunk starting with ESC:
// its header is read and compared with this platform's (x86-64). lundump
// names the chunk by its raw name (source less a leading '=' or '@', or
// "binary string" for a string source starting with ESC); chunkid gives
// it back unless luaO_chunkid cut it, and then the chunk is not judged.
func binaryChunkError(src, chunkid string) (string, bool) {
	name := chunkid
	switch {
	case strings.HasPrefix(chunkid, "[string \"\x1b"):
		name = "binary string"
	case strings.HasPrefix(chunkid, `[string "`):
		name = strings.TrimSuffix(strings.TrimPrefix(chunkid, `[string "`), `"]`)
		if strings.HasSuffix(chunkid, `..."]`) {
			return "", false
		}
	case strings.HasPrefix(chunkid, "...") || len(chunkid) >= synMaxSrc-1:
		return "", false
	}
	const header = "\x1bLua\x51\x00\x01\x04\x08\x04\x08\x00"
	switch {
	case len(src) < len(header):
		return name + ": unexpected end in precompiled chunk", true
	case src[:len(header)] != header:
		return name + ": bad header in precompiled chunk", true
	}
	return "", false // a real binary chunk: not ours to judge
}

// syntaxChunkID is luaO_chunkid with llex.c's MAXSRC (80): how a chunk
// name appears in syntax errors (runtime errors use LUA_IDSIZE, 60).
func syntaxChunkID(source string) string { return chunkIDSized(source, synMaxSrc) }

// ---- lexer (llex.c) ----

func synIsAlpha(c int) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func synIsDigit(c int) bool { return c >= '0' && c <= '9' }
func synIsAlnum(c int) bool { return synIsAlpha(c) || synIsDigit(c) }
func synIsNewline(c int) bool {
	return c == '\n' || c == '\r'
}

func (ls *synState) nextChar() {
	if ls.pos < len(ls.src) {
		ls.current = int(ls.src[ls.pos])
		ls.pos++
	} else {
		ls.current = synEOZ
	}
}

func (ls *synState) save(c int) { ls.buf = append(ls.buf, byte(c)) }

func (ls *synState) saveNext() {
	ls.save(ls.current)
	ls.nextChar()
}

// cText is the buffer as C's %s prints it: up to the first NUL.
func cText(b []byte) string {
	s := string(b)
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return s
}

func (ls *synState) token2str(tok int) string {
	if tok < 257 {
		if tok < 32 || tok == 127 { // iscntrl
			return fmt.Sprintf("char(%d)", tok)
		}
		return string([]byte{byte(tok)})
	}
	return synTokens[tok-257]
}

func (ls *synState) txtToken(tok int) string {
	switch tok {
	case tkName, tkString, tkNumber:
		return cText(ls.buf)
	}
	return ls.token2str(tok)
}

// lexError is luaX_lexerror: token 0 means no "near" part.
func (ls *synState) lexError(msg string, tok int) {
	msg = fmt.Sprintf("%s:%d: %s", ls.chunkid, ls.line, msg)
	if tok != 0 {
		msg += " near '" + ls.txtToken(tok) + "'"
	}
	panic(synError{msg})
}

func (ls *synState) syntaxErr(msg string) { ls.lexError(msg, ls.t.tok) }

func (ls *synState) incLine() {
	old := ls.current
	ls.nextChar() // skip '\n' or '\r'
	if synIsNewline(ls.current) && ls.current != old {
		ls.nextChar() // skip "\n\r" or "\r\n"
	}
	ls.line++
}

// checkNext is check_next, strchr included: a NUL is in every set.
func (ls *synState) checkNext(set string) bool {
	c := ls.current
	if c == synEOZ || (c != 0 && strings.IndexByte(set, byte(c)) < 0) {
		return false
	}
	ls.saveNext()
	return true
}

func (ls *synState) readNumeral() {
	for {
		ls.saveNext()
		if !synIsDigit(ls.current) && ls.current != '.' {
			break
		}
	}
	if ls.checkNext("Ee") {
		ls.checkNext("+-")
	}
	for synIsAlnum(ls.current) || ls.current == '_' {
		ls.saveNext()
	}
	ls.save(0)
	if _, ok := str2number(string(ls.buf)); !ok {
		ls.lexError("malformed number", tkNumber)
	}
}

func (ls *synState) skipSep() int {
	count := 0
	s := ls.current
	ls.saveNext()
	for ls.current == '=' {
		ls.saveNext()
		count++
	}
	if ls.current == s {
		return count
	}
	return -count - 1
}

func (ls *synState) readLongString(isString bool, sep int) {
	ls.saveNext() // skip 2nd '['
	if synIsNewline(ls.current) {
		ls.incLine()
	}
	for {
		switch ls.current {
		case synEOZ:
			if isString {
				ls.lexError("unfinished long string", tkEOS)
			}
			ls.lexError("unfinished long comment", tkEOS)
		case '[': // LUA_COMPAT_LSTR == 1
			if ls.skipSep() == sep {
				ls.saveNext()
				if sep == 0 {
					ls.lexError("nesting of [[...]] is deprecated", '[')
				}
			}
		case ']':
			if ls.skipSep() == sep {
				ls.saveNext()
				return
			}
		case '\n', '\r':
			ls.save('\n')
			ls.incLine()
			if !isString {
				ls.buf = ls.buf[:0]
			}
		default:
			if isString {
				ls.saveNext()
			} else {
				ls.nextChar()
			}
		}
	}
}

func (ls *synState) readString(del int) {
	ls.saveNext()
	for ls.current != del {
		switch ls.current {
		case synEOZ:
			ls.lexError("unfinished string", tkEOS)
		case '\n', '\r':
			ls.lexError("unfinished string", tkString)
		case '\\':
			ls.nextChar() // the '\' is not saved
			c := -1
			switch ls.current {
			case 'a':
				c = '\a'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'v':
				c = '\v'
			case '\n', '\r':
				ls.save('\n')
				ls.incLine()
				continue
			case synEOZ:
				continue // the loop raises the error
			default:
				if !synIsDigit(ls.current) {
					ls.saveNext() // \\, \", \' and \?
				} else { // \ddd
					c = 0
					for i := 0; ; {
						c = 10*c + (ls.current - '0')
						ls.nextChar()
						if i++; i >= 3 || !synIsDigit(ls.current) {
							break
						}
					}
					if c > 255 {
						ls.lexError("escape sequence too large", tkString)
					}
					ls.save(c)
				}
				continue
			}
			ls.save(c)
			ls.nextChar()
		default:
			ls.saveNext()
		}
	}
	ls.saveNext() // skip the delimiter
}

// llex reads the next token.
func (ls *synState) llex() synToken {
	ls.buf = ls.buf[:0]
	for {
		switch c := ls.current; c {
		case '\n', '\r':
			ls.incLine()
			continue
		case '-':
			ls.nextChar()
			if ls.current != '-' {
				return synToken{tok: '-'}
			}
			ls.nextChar()
			if ls.current == '[' {
				sep := ls.skipSep()
				ls.buf = ls.buf[:0]
				if sep >= 0 {
					ls.readLongString(false, sep)
					ls.buf = ls.buf[:0]
					continue
				}
			}
			for !synIsNewline(ls.current) && ls.current != synEOZ {
				ls.nextChar()
			}
			continue
		case '[':
			sep := ls.skipSep()
			if sep >= 0 {
				ls.readLongString(true, sep)
				return synToken{tok: tkString}
			} else if sep == -1 {
				return synToken{tok: '['}
			}
			ls.lexError("invalid long string delimiter", tkString)
		case '=', '<', '>', '~':
			ls.nextChar()
			if ls.current != '=' {
				return synToken{tok: c}
			}
			ls.nextChar()
			switch c {
			case '=':
				return synToken{tok: tkEq}
			case '<':
				return synToken{tok: tkLe}
			case '>':
				return synToken{tok: tkGe}
			}
			return synToken{tok: tkNe}
		case '"', '\'':
			ls.readString(c)
			return synToken{tok: tkString}
		case '.':
			ls.saveNext()
			if ls.checkNext(".") {
				if ls.checkNext(".") {
					return synToken{tok: tkDots}
				}
				return synToken{tok: tkConcat}
			} else if !synIsDigit(ls.current) {
				return synToken{tok: '.'}
			}
			ls.readNumeral()
			return synToken{tok: tkNumber}
		case synEOZ:
			return synToken{tok: tkEOS}
		default:
			switch {
			case c == ' ' || (c >= '\t' && c <= '\r'): // isspace
				ls.nextChar()
				continue
			case synIsDigit(c):
				ls.readNumeral()
				return synToken{tok: tkNumber}
			case synIsAlpha(c) || c == '_':
				for {
					ls.saveNext()
					if !synIsAlnum(ls.current) && ls.current != '_' {
						break
					}
				}
				name := string(ls.buf)
				if r, ok := synReserved[name]; ok {
					return synToken{tok: r}
				}
				return synToken{tok: tkName, name: name}
			}
			ls.nextChar()
			return synToken{tok: c} // single-char tokens (+ - / ...)
		}
	}
}

// advance is luaX_next.
func (ls *synState) advance() {
	ls.lastline = ls.line
	if ls.ahead.tok != tkEOS {
		ls.t = ls.ahead
		ls.ahead.tok = tkEOS
	} else {
		ls.t = ls.llex()
	}
}

func (ls *synState) lookahead() { ls.ahead = ls.llex() }

// ---- parser (lparser.c) ----

func (ls *synState) errorExpected(tok int) {
	ls.syntaxErr("'" + ls.token2str(tok) + "' expected")
}

func (ls *synState) errorLimit(fs *synFunc, limit int, what string) {
	var msg string
	if fs.linedefined == 0 {
		msg = fmt.Sprintf("main function has more than %d %s", limit, what)
	} else {
		msg = fmt.Sprintf("function at line %d has more than %d %s", fs.linedefined, limit, what)
	}
	ls.lexError(msg, 0)
}

func (ls *synState) testNext(c int) bool {
	if ls.t.tok == c {
		ls.advance()
		return true
	}
	return false
}

func (ls *synState) check(c int) {
	if ls.t.tok != c {
		ls.errorExpected(c)
	}
}

func (ls *synState) checkNextTok(c int) {
	ls.check(c)
	ls.advance()
}

func (ls *synState) checkMatch(what, who, where int) {
	if !ls.testNext(what) {
		if where == ls.line {
			ls.errorExpected(what)
		}
		ls.syntaxErr(fmt.Sprintf("'%s' expected (to close '%s' at line %d)",
			ls.token2str(what), ls.token2str(who), where))
	}
}

func (ls *synState) strCheckName() string {
	ls.check(tkName)
	name := ls.t.name
	ls.advance()
	return name
}

func (ls *synState) newLocalVar(name string, n int) {
	fs := ls.fs
	if fs.nactvar+n+1 > synMaxVars {
		ls.errorLimit(fs, synMaxVars, "local variables")
	}
	i := fs.nactvar + n
	for len(fs.vars) <= i {
		fs.vars = append(fs.vars, "")
	}
	fs.vars[i] = name
}

func (ls *synState) adjustLocalVars(n int) { ls.fs.nactvar += n }

func (fs *synFunc) searchVar(name string) int {
	for i := fs.nactvar - 1; i >= 0; i-- {
		if fs.vars[i] == name {
			return i
		}
	}
	return -1
}

const (
	varGlobal = iota
	varLocal
	varUpval
)

func (ls *synState) indexUpvalue(fs *synFunc, k, info int) int {
	for i, u := range fs.upvals {
		if u.k == k && u.info == info {
			return i
		}
	}
	if len(fs.upvals)+1 > synMaxUpvals {
		ls.errorLimit(fs, synMaxUpvals, "upvalues")
	}
	fs.upvals = append(fs.upvals, synUpval{k, info})
	return len(fs.upvals) - 1
}

func (ls *synState) singleVarAux(fs *synFunc, name string) (kind, info int) {
	if fs == nil {
		return varGlobal, 0
	}
	if v := fs.searchVar(name); v >= 0 {
		return varLocal, v
	}
	k, i := ls.singleVarAux(fs.prev, name)
	if k == varGlobal {
		return varGlobal, 0
	}
	return varUpval, ls.indexUpvalue(fs, k, i)
}

func (ls *synState) singleVar() {
	ls.singleVarAux(ls.fs, ls.strCheckName())
}

func (ls *synState) enterLevel() {
	if ls.level++; ls.level > synMaxCCalls {
		ls.lexError("chunk has too many syntax levels", 0)
	}
}

func (ls *synState) enterBlock(bl *synBlock, isBreakable bool) {
	bl.isBreakable = isBreakable
	bl.nactvar = ls.fs.nactvar
	bl.prev = ls.fs.bl
	ls.fs.bl = bl
}

func (ls *synState) leaveBlock() {
	fs := ls.fs
	bl := fs.bl
	fs.bl = bl.prev
	fs.nactvar = bl.nactvar
}

func (ls *synState) field() {
	ls.advance() // skip the dot or colon
	ls.strCheckName()
}

func (ls *synState) yindex() {
	ls.advance() // skip the '['
	ls.expr()
	ls.checkNextTok(']')
}

func (ls *synState) constructor() {
	line := ls.line
	ls.checkNextTok('{')
	for {
		if ls.t.tok == '}' {
			break
		}
		switch ls.t.tok {
		case tkName:
			ls.lookahead()
			if ls.ahead.tok != '=' {
				ls.expr() // listfield
			} else {
				ls.recField()
			}
		case '[':
			ls.recField()
		default:
			ls.expr()
		}
		if !ls.testNext(',') && !ls.testNext(';') {
			break
		}
	}
	ls.checkMatch('}', '{', line)
}

func (ls *synState) recField() {
	if ls.t.tok == tkName {
		ls.strCheckName()
	} else {
		ls.yindex()
	}
	ls.checkNextTok('=')
	ls.expr()
}

func (ls *synState) parList() {
	fs := ls.fs
	nparams := 0
	fs.isVararg = false
	if ls.t.tok != ')' {
		for {
			switch ls.t.tok {
			case tkName:
				ls.newLocalVar(ls.strCheckName(), nparams)
				nparams++
			case tkDots:
				ls.advance()
				ls.newLocalVar("arg", nparams) // LUA_COMPAT_VARARG
				nparams++
				fs.isVararg = true
			default:
				ls.syntaxErr("<name> or '...' expected")
			}
			if fs.isVararg || !ls.testNext(',') {
				break
			}
		}
	}
	ls.adjustLocalVars(nparams)
}

func (ls *synState) body(needSelf bool, line int) {
	fs := &synFunc{prev: ls.fs, linedefined: line}
	ls.fs = fs
	ls.checkNextTok('(')
	if needSelf {
		ls.newLocalVar("self", 0)
		ls.adjustLocalVars(1)
	}
	ls.parList()
	ls.checkNextTok(')')
	ls.chunk()
	ls.checkMatch(tkEnd, tkFunction, line)
	ls.fs = fs.prev
}

func (ls *synState) explist1() {
	ls.expr()
	for ls.testNext(',') {
		ls.expr()
	}
}

func (ls *synState) funcArgs() {
	line := ls.line
	switch ls.t.tok {
	case '(':
		if line != ls.lastline {
			ls.syntaxErr("ambiguous syntax (function call x new statement)")
		}
		ls.advance()
		if ls.t.tok != ')' {
			ls.explist1()
		}
		ls.checkMatch(')', '(', line)
	case '{':
		ls.constructor()
	case tkString:
		ls.advance()
	default:
		ls.syntaxErr("function arguments expected")
	}
}

func (ls *synState) prefixExp() int {
	switch ls.t.tok {
	case '(':
		line := ls.line
		ls.advance()
		ls.expr()
		ls.checkMatch(')', '(', line)
		return expOther
	case tkName:
		ls.singleVar()
		return expVar
	}
	ls.syntaxErr("unexpected symbol")
	return expOther
}

func (ls *synState) primaryExp() int {
	k := ls.prefixExp()
	for {
		switch ls.t.tok {
		case '.':
			ls.field()
			k = expVar
		case '[':
			ls.yindex()
			k = expVar
		case ':':
			ls.advance()
			ls.strCheckName()
			ls.funcArgs()
			k = expCall
		case '(', tkString, '{':
			ls.funcArgs()
			k = expCall
		default:
			return k
		}
	}
}

func (ls *synState) simpleExp() {
	switch ls.t.tok {
	case tkNumber, tkString, tkNil, tkTrue, tkFalse:
	case tkDots:
		if !ls.fs.isVararg {
			ls.syntaxErr("cannot use '...' outside a vararg function")
		}
	case '{':
		ls.constructor()
		return
	case tkFunction:
		ls.advance()
		ls.body(false, ls.line)
		return
	default:
		ls.primaryExp()
		return
	}
	ls.advance()
}

// Binary operators' priorities: left and right.
func binaryPriority(tok int) (left, right int, ok bool) {
	switch tok {
	case '+', '-':
		return 6, 6, true
	case '*', '/', '%':
		return 7, 7, true
	case '^':
		return 10, 9, true
	case tkConcat:
		return 5, 4, true
	case tkNe, tkEq, '<', tkLe, '>', tkGe:
		return 3, 3, true
	case tkAnd:
		return 2, 2, true
	case tkOr:
		return 1, 1, true
	}
	return 0, 0, false
}

// subExpr reads an expression whose binary operators bind tighter than
// limit and returns the first operator it leaves.
func (ls *synState) subExpr(limit int) int {
	ls.enterLevel()
	if t := ls.t.tok; t == tkNot || t == '-' || t == '#' {
		ls.advance()
		ls.subExpr(synUnaryPrior)
	} else {
		ls.simpleExp()
	}
	op := ls.t.tok
	for {
		left, right, ok := binaryPriority(op)
		if !ok || left <= limit {
			break
		}
		ls.advance()
		op = ls.subExpr(right)
	}
	ls.level--
	return op
}

func (ls *synState) expr() { ls.subExpr(0) }

func blockFollow(tok int) bool {
	switch tok {
	case tkElse, tkElseif, tkEnd, tkUntil, tkEOS:
		return true
	}
	return false
}

func (ls *synState) block() {
	var bl synBlock
	ls.enterBlock(&bl, false)
	ls.chunk()
	ls.leaveBlock()
}

func (ls *synState) assignment(k, nvars int) {
	if k != expVar {
		ls.syntaxErr("syntax error")
	}
	if ls.testNext(',') {
		k := ls.primaryExp()
		if limit := synMaxCCalls - ls.level; nvars > limit {
			ls.errorLimit(ls.fs, limit, "variables in assignment")
		}
		ls.assignment(k, nvars+1)
		return
	}
	ls.checkNextTok('=')
	ls.explist1()
}

func (ls *synState) breakStat() {
	bl := ls.fs.bl
	for bl != nil && !bl.isBreakable {
		bl = bl.prev
	}
	if bl == nil {
		ls.syntaxErr("no loop to break")
	}
}

func (ls *synState) whileStat(line int) {
	ls.advance() // skip WHILE
	ls.expr()
	var bl synBlock
	ls.enterBlock(&bl, true)
	ls.checkNextTok(tkDo)
	ls.block()
	ls.checkMatch(tkEnd, tkWhile, line)
	ls.leaveBlock()
}

func (ls *synState) repeatStat(line int) {
	var bl1, bl2 synBlock
	ls.enterBlock(&bl1, true)
	ls.enterBlock(&bl2, false)
	ls.advance() // skip REPEAT
	ls.chunk()
	ls.checkMatch(tkUntil, tkRepeat, line)
	ls.expr() // the condition sees the block's locals
	ls.leaveBlock()
	ls.leaveBlock()
}

func (ls *synState) forBody(nvars int) {
	ls.adjustLocalVars(3) // control variables
	ls.checkNextTok(tkDo)
	var bl synBlock
	ls.enterBlock(&bl, false)
	ls.adjustLocalVars(nvars)
	ls.block()
	ls.leaveBlock()
}

func (ls *synState) forNum(varname string) {
	ls.newLocalVar("(for index)", 0)
	ls.newLocalVar("(for limit)", 1)
	ls.newLocalVar("(for step)", 2)
	ls.newLocalVar(varname, 3)
	ls.checkNextTok('=')
	ls.expr()
	ls.checkNextTok(',')
	ls.expr()
	if ls.testNext(',') {
		ls.expr()
	}
	ls.forBody(1)
}

func (ls *synState) forList(indexname string) {
	ls.newLocalVar("(for generator)", 0)
	ls.newLocalVar("(for state)", 1)
	ls.newLocalVar("(for control)", 2)
	ls.newLocalVar(indexname, 3)
	nvars := 4
	for ls.testNext(',') {
		ls.newLocalVar(ls.strCheckName(), nvars)
		nvars++
	}
	ls.checkNextTok(tkIn)
	ls.explist1()
	ls.forBody(nvars - 3)
}

func (ls *synState) forStat(line int) {
	var bl synBlock
	ls.enterBlock(&bl, true)
	ls.advance() // skip FOR
	varname := ls.strCheckName()
	switch ls.t.tok {
	case '=':
		ls.forNum(varname)
	case ',', tkIn:
		ls.forList(varname)
	default:
		ls.syntaxErr("'=' or 'in' expected")
	}
	ls.checkMatch(tkEnd, tkFor, line)
	ls.leaveBlock()
}

func (ls *synState) testThenBlock() {
	ls.advance() // skip IF or ELSEIF
	ls.expr()
	ls.checkNextTok(tkThen)
	ls.block()
}

func (ls *synState) ifStat(line int) {
	ls.testThenBlock()
	for ls.t.tok == tkElseif {
		ls.testThenBlock()
	}
	if ls.t.tok == tkElse {
		ls.advance()
		ls.block()
	}
	ls.checkMatch(tkEnd, tkIf, line)
}

func (ls *synState) localFunc() {
	ls.newLocalVar(ls.strCheckName(), 0)
	ls.adjustLocalVars(1)
	ls.body(false, ls.line)
}

func (ls *synState) localStat() {
	nvars := 0
	for {
		ls.newLocalVar(ls.strCheckName(), nvars)
		nvars++
		if !ls.testNext(',') {
			break
		}
	}
	if ls.testNext('=') {
		ls.explist1()
	}
	ls.adjustLocalVars(nvars)
}

func (ls *synState) funcName() bool {
	ls.singleVar()
	for ls.t.tok == '.' {
		ls.field()
	}
	if ls.t.tok == ':' {
		ls.field()
		return true
	}
	return false
}

// statement reads one statement and reports whether it must be the last
// of its block (return, break).
func (ls *synState) statement() bool {
	line := ls.line
	switch ls.t.tok {
	case tkIf:
		ls.ifStat(line)
	case tkWhile:
		ls.whileStat(line)
	case tkDo:
		ls.advance()
		ls.block()
		ls.checkMatch(tkEnd, tkDo, line)
	case tkFor:
		ls.forStat(line)
	case tkRepeat:
		ls.repeatStat(line)
	case tkFunction:
		ls.advance()
		needSelf := ls.funcName()
		ls.body(needSelf, line)
	case tkLocal:
		ls.advance()
		if ls.testNext(tkFunction) {
			ls.localFunc()
		} else {
			ls.localStat()
		}
	case tkReturn:
		ls.advance()
		if !blockFollow(ls.t.tok) && ls.t.tok != ';' {
			ls.explist1()
		}
		return true
	case tkBreak:
		ls.advance()
		ls.breakStat()
		return true
	default:
		if k := ls.primaryExp(); k != expCall {
			ls.assignment(k, 1)
		}
	}
	return false
}

func (ls *synState) chunk() {
	ls.enterLevel()
	for islast := false; !islast && !blockFollow(ls.t.tok); {
		islast = ls.statement()
		ls.testNext(';')
	}
	ls.level--
}
