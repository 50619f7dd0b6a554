package lua51

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Error messages as Lua 5.1 words them. gopher-lua raises runtime errors
// with its own texts ("attempt to index a non-table object(nil) with key
// 'x'", "bad argument #1 to rep (string expected, got nil)") and positions
// (the nearest Lua frame, even when the function was called from Go, such
// as from pcall). The message is rewritten from the failing frame while it
// is still there: the instruction that failed, the variable that held the
// culprit (PUC's getobjname), the caller's call instruction and the
// argument count. Every thread the runtime or the program starts gets a
// Panic function that shapes the message as it is raised (panicShaped; pcall
// runs on such threads), and the runtime's top-level calls use
// MessageHandler, which sees the failing frame before PCall unwinds it.
// Messages it does not recognise stay as they are.

// panicShaped replaces a thread's Panic function (gopher-lua's
// panicWithoutTraceback): the message is shaped while the failing frame
// is current. coroutine.resume installs it on every coroutine that
// yielded (gopher-lua sets Panic at the first resume), which includes the
// pooled workers that run pcall.
func panicShaped(L *lua.LState) {
	shapeTop(L)
	panic(&lua.ApiError{Type: lua.ApiErrorRun, Object: L.Get(-1)})
}

func shapeTop(L *lua.LState) {
	s, ok := L.Get(-1).(lua.LString)
	if !ok {
		return
	}
	if out, ok := shapeAt(L, currentFrame(L), string(s)); ok {
		L.Replace(-1, lua.LString(out))
	}
}

func shapeAt(L *lua.LState, cf *frameMirror, msg string) (string, bool) {
	switch {
	case cf == nil || cf.Fn == nil:
		return "", false
	case cf.Fn.IsG && lua.LValue(cf.Fn) == L.GetField(L.Get(lua.RegistryIndex), errorKey):
		return "", false
	case cf.Fn.IsG:
		return shapeGoError(L, cf, msg)
	}
	return shapeVMError(L, cf, msg)
}

// shapingResume wraps coroutine.resume (see panicShaped).
func shapingResume(orig lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		n := orig(L)
		if th, ok := L.Get(1).(*lua.LState); ok && !th.Dead {
			th.Panic = panicShaped
		}
		return n
	}
}

// MessageHandler is a message handler for LState.PCall: it returns the
// error in Lua 5.1's words (the failing frame is the handler's caller).
func MessageHandler(L *lua.LState) int {
	v := L.Get(1)
	if s, ok := v.(lua.LString); ok {
		if cf := currentFrame(L); cf != nil {
			if out, ok := shapeAt(L, cf.Parent, string(s)); ok {
				v = lua.LString(out)
			}
		}
	}
	L.Push(v)
	return 1
}

// isShim tells the yield-safe pcall's own frames, which Lua 5.1 programs
// see as the C function pcall.
func isShim(fn *lua.LFunction) bool {
	return fn != nil && !fn.IsG && strings.Contains(fn.Proto.SourceName, shimChunk)
}

// where is gopher-lua's position of a Lua frame: "source:line:".
func where(f *frameMirror) string {
	p := f.Fn.Proto
	line := 0
	if f.Pc > 0 && f.Pc-1 < len(p.DbgSourcePositions) {
		line = p.DbgSourcePositions[f.Pc-1]
	}
	return fmt.Sprintf("%s:%d:", p.SourceName, line)
}

// gopherPrefix is the position gopher-lua put in front of a level-1
// error raised in frame f: the nearest Lua frame's, then a space.
func gopherPrefix(f *frameMirror) string {
	for f != nil && f.Fn != nil && f.Fn.IsG {
		f = f.Parent
	}
	if f == nil || f.Fn == nil {
		return " "
	}
	return where(f) + " "
}

// gopher-lua's names are never quoted: a shaped message does not match.
var argErrRe = regexp.MustCompile(`(?s)^bad argument #(-?\d+) to ([^'].*?) \((.*)\)$`)

func shapeGoError(L *lua.LState, cf *frameMirror, msg string) (string, bool) {
	prefix := gopherPrefix(cf)
	if !strings.HasPrefix(msg, prefix) {
		return "", false
	}
	body := msg[len(prefix):]
	caller := cf.Parent
	// The shim stands for C functions (pcall, coroutine.resume): a
	// function it calls on the program's behalf (the f of pcall(f)) was
	// called from C, but one it calls to do its own work raises as if
	// the shim function had, called from the program.
	for caller != nil && isShim(caller.Fn) && !callsUserFunction(caller) {
		caller = caller.Parent
	}
	luaCaller := caller != nil && caller.Fn != nil && !caller.Fn.IsG && !isShim(caller.Fn)
	pos := ""
	if luaCaller {
		pos = where(caller) + " "
	}
	if m := argErrRe.FindStringSubmatch(body); m != nil {
		n, _ := strconv.Atoi(m[1])
		detail := m[3]
		if strings.HasSuffix(detail, "got nil") && n > cf.NArgs {
			detail = strings.TrimSuffix(detail, "nil") + "no value"
		}
		switch {
		case detail == "file is closed":
			return pos + "attempt to use a closed file", true
		case strings.HasPrefix(detail, "thread expected, got "):
			detail = "coroutine expected"
		}
		name, kind := "?", ""
		if luaCaller && caller.TailCall == 0 {
			name, kind = calledName(caller)
		}
		if kind == "method" {
			n--
			if n == 0 {
				return fmt.Sprintf("%scalling '%s' on bad self (%s)", pos, name, detail), true
			}
		}
		body = fmt.Sprintf("bad argument #%d to '%s' (%s)", n, name, detail)
	}
	return pos + body, true
}

// callsUserFunction: shim frame f is calling the function a program
// handed to the shim (its local f), not one of the shim's helpers.
func callsUserFunction(f *frameMirror) bool {
	name, kind := calledName(f)
	return kind == "local" && name == "f"
}

// calledName is the name of the function that frame f is calling, as
// Lua 5.1's getfuncname finds it.
func calledName(f *frameMirror) (name, kind string) {
	p := f.Fn.Proto
	pc := f.Pc - 1
	if pc < 0 || pc >= len(p.Code) {
		return "?", ""
	}
	inst := p.Code[pc]
	switch int(inst >> 26) {
	case lua.OP_CALL, lua.OP_TAILCALL, lua.OP_TFORLOOP:
		kind, name = objName(p, pc, int(inst>>18)&0xff)
		if kind == "" {
			return "?", ""
		}
		return name, kind
	}
	return "?", ""
}

var (
	indexRe   = regexp.MustCompile(`(?s)^attempt to index a non-table object\((\w+)\) with key '.*'$`)
	arithRe   = regexp.MustCompile(`^cannot perform (\w+) operation between (\w+) and (\w+)$`)
	compareRe = regexp.MustCompile(`^attempt to compare (\w+) with (\w+)$`)
)

var forMessages = map[string]string{
	"for statement init must be a number":  "'for' initial value must be a number",
	"for statement limit must be a number": "'for' limit must be a number",
	"for statement step must be a number":  "'for' step must be a number",
}

func shapeVMError(L *lua.LState, cf *frameMirror, msg string) (string, bool) {
	prefix := where(cf) + " "
	if !strings.HasPrefix(msg, prefix) {
		return "", false
	}
	body := msg[len(prefix):]
	p := cf.Fn.Proto
	pc := cf.Pc - 1
	if pc < 0 || pc >= len(p.Code) {
		return "", false
	}
	inst := p.Code[pc]
	op := int(inst >> 26)
	a, b, c := int(inst>>18)&0xff, int(inst&0x1ff), int(inst>>9)&0x1ff
	shim := isShim(cf.Fn)
	if shim {
		prefix = ""
	}
	// typeErr is luaG_typeerror: the variable's name when the value is in
	// a register the debug information can name.
	typeErr := func(rk int, typ, what string) string {
		if !shim && rk < 0x100 {
			if kind, name := objName(p, pc, rk); kind != "" {
				return fmt.Sprintf("attempt to %s %s '%s' (a %s value)", what, kind, name, typ)
			}
		}
		return fmt.Sprintf("attempt to %s a %s value", what, typ)
	}
	value := func(rk int) lua.LValue {
		if rk >= 0x100 {
			if k := rk & 0xff; k < len(p.Constants) {
				return p.Constants[k]
			}
			return lua.LNil
		}
		return register(L, cf.LocalBase+rk)
	}
	if m := indexRe.FindStringSubmatch(body); m != nil {
		switch op {
		case lua.OP_GETTABLE, lua.OP_GETTABLEKS, lua.OP_SELF:
			return prefix + typeErr(b, m[1], "index"), true
		case lua.OP_SETTABLE, lua.OP_SETTABLEKS:
			return prefix + typeErr(a, m[1], "index"), true
		}
		return prefix + fmt.Sprintf("attempt to index a %s value", m[1]), true
	}
	if body == "attempt to call a non-function object" {
		switch op {
		case lua.OP_CALL, lua.OP_TAILCALL:
			return prefix + typeErr(a, value(a).Type().String(), "call"), true
		case lua.OP_TFORLOOP:
			return prefix + typeErr(a, value(a).Type().String(), "call"), true
		}
		return "", false
	}
	if m := arithRe.FindStringSubmatch(body); m != nil && m[1] != "concat" {
		switch op {
		case lua.OP_ADD, lua.OP_SUB, lua.OP_MUL, lua.OP_DIV, lua.OP_MOD, lua.OP_POW:
			culprit := c
			if _, ok := toNumber(value(b)); !ok {
				culprit = b
			}
			return prefix + typeErr(culprit, value(culprit).Type().String(), "perform arithmetic on"), true
		}
	}
	if body == "__unm undefined" && op == lua.OP_UNM {
		return prefix + typeErr(b, value(b).Type().String(), "perform arithmetic on"), true
	}
	if body == "__len undefined" && op == lua.OP_LEN {
		return prefix + typeErr(b, value(b).Type().String(), "get length of"), true
	}
	if m := compareRe.FindStringSubmatch(body); m != nil {
		if m[1] == m[2] {
			return prefix + fmt.Sprintf("attempt to compare two %s values", m[1]), true
		}
		return prefix + body, true
	}
	if s, ok := forMessages[body]; ok {
		return prefix + s, true
	}
	return "", false
}

// localName is luaF_getlocalname: the name of the n-th local variable
// (1-based) active at pc.
//
// gopher-lua 1.1.2 records a scope's end in the entry whose index is the
// local's register, not in the local's own entry, so once a register is
// reused (a local declared after a block with locals closed) the ranges
// are wrong. Then some entry is never written and keeps end 0: such a
// function's locals are not named at all rather than named wrongly.
// gopher-lua's end is the last pc inside the scope (PUC's is the first
// after it).
func localName(p *lua.FunctionProto, n, pc int) (string, bool) {
	if !localsTrusted(p) {
		return "", false
	}
	for _, l := range p.DbgLocals {
		if l.StartPc > pc {
			break
		}
		if pc <= l.EndPc {
			n--
			if n == 0 {
				return l.Name, true
			}
		}
	}
	return "", false
}

func localsTrusted(p *lua.FunctionProto) bool {
	for _, l := range p.DbgLocals {
		if l.EndPc < l.StartPc || (l.EndPc == 0 && len(p.Code) > 1) {
			return false
		}
	}
	return true
}

// objName is Lua 5.1's getobjname: what register reg holds at pc, as
// "local", "global", "field", "upvalue" or "method" and a name; kind is
// "" when it cannot tell.
func objName(p *lua.FunctionProto, pc, reg int) (kind, name string) {
	if name, ok := localName(p, reg+1, pc); ok {
		if strings.HasPrefix(name, "(") {
			// gopher-lua's hidden locals ("(for generator)") are named
			// in Lua 5.1 as well, but ours also stand for rewrite temps.
			return "", ""
		}
		return "local", name
	}
	i, ok := lastSetter(p, pc, reg)
	if !ok {
		return "", ""
	}
	a, b, c := int(i>>18)&0xff, int(i&0x1ff), int(i>>9)&0x1ff
	switch int(i >> 26) {
	case lua.OP_GETGLOBAL:
		if k := int(i & 0x3ffff); k < len(p.Constants) {
			if s, ok := p.Constants[k].(lua.LString); ok {
				return "global", string(s)
			}
		}
	case lua.OP_MOVE, lua.OP_MOVEN:
		if b < a {
			return objName(p, pc, b)
		}
	case lua.OP_GETTABLE, lua.OP_GETTABLEKS:
		return "field", constName(p, c)
	case lua.OP_GETUPVAL:
		if b < len(p.DbgUpvalues) {
			return "upvalue", p.DbgUpvalues[b]
		}
		return "upvalue", "?"
	case lua.OP_SELF:
		return "method", constName(p, c)
	}
	return "", ""
}

func constName(p *lua.FunctionProto, rk int) string {
	if rk >= 0x100 {
		if k := rk & 0xff; k < len(p.Constants) {
			if s, ok := p.Constants[k].(lua.LString); ok {
				return string(s)
			}
		}
	}
	return "?"
}

// lastSetter is a simplified symbexec: the last instruction before lastpc
// that writes reg, following forward jumps as Lua 5.1 does.
func lastSetter(p *lua.FunctionProto, lastpc, reg int) (uint32, bool) {
	last := -1
	for pc := 0; pc < lastpc && pc < len(p.Code); pc++ {
		i := p.Code[pc]
		op := int(i >> 26)
		a, b := int(i>>18)&0xff, int(i&0x1ff)
		switch op {
		case lua.OP_LOADNIL:
			if a <= reg && reg <= b {
				last = pc
			}
		case lua.OP_TFORLOOP:
			if reg >= a+2 {
				last = pc
			}
		case lua.OP_CALL, lua.OP_TAILCALL:
			if reg >= a {
				last = pc
			}
		case lua.OP_VARARG:
			if reg >= a && (b == 0 || reg <= a+b-2) {
				last = pc
			}
		case lua.OP_SELF:
			if reg == a || reg == a+1 {
				last = pc
			}
		case lua.OP_JMP:
			dest := pc + 1 + int(i&0x3ffff) - 131071
			if pc < dest && dest <= lastpc {
				pc = dest - 1
			}
		case lua.OP_CLOSURE:
			if a == reg {
				last = pc
			}
			if k := int(i & 0x3ffff); k < len(p.FunctionPrototypes) {
				pc += int(p.FunctionPrototypes[k].NumUpvalues)
			}
		case lua.OP_SETGLOBAL, lua.OP_SETUPVAL, lua.OP_SETTABLE, lua.OP_SETTABLEKS,
			lua.OP_EQ, lua.OP_LT, lua.OP_LE, lua.OP_TEST, lua.OP_RETURN,
			lua.OP_SETLIST, lua.OP_CLOSE, lua.OP_NOP:
		case lua.OP_FORLOOP, lua.OP_FORPREP:
			if reg == a || reg == a+3 {
				last = pc
			}
		default:
			if a == reg {
				last = pc
			}
		}
	}
	if last < 0 {
		return 0, false
	}
	return p.Code[last], true
}

// trampolineSrc makes the body of every coroutine: it hooks the thread's
// Panic before the function runs (gopher-lua sets Panic when a coroutine
// starts, so it cannot be set beforehand) and tail-calls the function.
const trampolineSrc = `local hook = ...
return function(f) return function(...) hook() return f(...) end end`

func trampolineMaker(L *lua.LState) lua.LValue {
	mk, err := L.LoadString(trampolineSrc)
	if err != nil {
		panic(err)
	}
	L.Push(mk)
	L.Push(L.NewFunction(func(L *lua.LState) int {
		L.Panic = panicShaped
		return 0
	}))
	L.Call(1, 1)
	maker := L.Get(-1)
	L.Pop(1)
	return maker
}

// TaskBody returns a function that wraps the function of a thread the
// runtime starts itself (a Copas thread) so that the thread's errors are
// worded as Lua 5.1's, as coroutine.create does for the program's own
// coroutines. Loop goroutine only.
func TaskBody(L *lua.LState) func(fn *lua.LFunction) *lua.LFunction {
	maker := trampolineMaker(L)
	return func(fn *lua.LFunction) *lua.LFunction {
		L.Push(maker)
		L.Push(fn)
		L.Call(1, 1)
		body := L.Get(-1).(*lua.LFunction)
		L.Pop(1)
		return body
	}
}

// hookingCreate wraps coroutine.create (see trampolineSrc).
func hookingCreate(L *lua.LState, orig lua.LGFunction) lua.LGFunction {
	maker := trampolineMaker(L)
	return func(L *lua.LState) int {
		f, ok := L.Get(1).(*lua.LFunction)
		if !ok || f.IsG {
			L.ArgError(1, "Lua function expected")
		}
		L.Push(maker)
		L.Push(f)
		L.Call(1, 1)
		L.Replace(1, L.Get(-1))
		L.SetTop(1)
		return orig(L)
	}
}

// shapingPcall is pcall with MessageHandler, for states without the
// scheduler's pcall (which runs on coroutines and is shaped there).
func shapingPcall(L *lua.LState) lua.LGFunction {
	handler := L.NewFunction(MessageHandler)
	return func(L *lua.LState) int {
		top := L.GetTop()
		if top == 0 {
			L.ArgError(1, "value expected")
		}
		if err := L.PCall(top-1, lua.MultRet, handler); err != nil {
			L.Push(lua.LFalse)
			if ae, ok := err.(*lua.ApiError); ok {
				L.Push(ae.Object)
			} else {
				L.Push(lua.LString(err.Error()))
			}
			return 2
		}
		L.Insert(lua.LTrue, 1)
		return L.GetTop()
	}
}

// luaWhere is luaL_where(L, level) as a Lua 5.1 program sees its stack:
// the frames of the yield-safe pcall (shim frames, and the worker
// coroutine it runs the function on) are one C function in the caller's
// thread, with no position. Level 0 is the running function.
func luaWhere(L *lua.LState, level int) string {
	var frames []*frameMirror // nil entry: a shim (C) frame
	th := L
	for th != nil && len(frames) <= level {
		f := currentFrame(th)
		if f == nil {
			break
		}
		bottomShim := false
		for ; f != nil; f = f.Parent {
			// A Go function the shim calls for its own work (resume)
			// belongs to the same C frame; level 0 is the caller's own.
			helper := f.Fn.IsG && len(frames) > 0 && f.Parent != nil && isShim(f.Parent.Fn)
			if isShim(f.Fn) || helper {
				if n := len(frames); n == 0 || frames[n-1] != nil {
					frames = append(frames, nil)
				}
				bottomShim = true
				continue
			}
			frames = append(frames, f)
			bottomShim = false
		}
		// A pcall worker's stack starts in the shim; its caller is the
		// thread that resumed it.
		if !bottomShim {
			break
		}
		th = th.Parent
	}
	if level >= len(frames) || frames[level] == nil || frames[level].Fn.IsG {
		return ""
	}
	return where(frames[level])
}
