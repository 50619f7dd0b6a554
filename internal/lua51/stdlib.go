package lua51

import (
	"errors"
	"math"
	"math/rand"
	"os"
	"runtime"
	"strings"
	"syscall"

	lua "github.com/yuin/gopher-lua"
)

// Argument kinds of Lua 5.1's library functions, for coerce: 's' is
// luaL_checkstring (a number becomes its "%.14g" string), 'n' is
// luaL_checknumber/checkint (a numeric string becomes its number), '.' is
// left alone. A trailing '*' repeats the kind before it.
//
// gopher-lua's Check functions refuse numeric strings where Lua 5.1 takes
// them (string.rep("x", "3")) and format numbers with Go's shortest form
// where Lua 5.1 uses "%.14g" (string.len(1/3) is 15, not 18).
var argKinds = map[string]map[string]string{
	"string": {
		"byte": "snn", "char": "n*", "len": "s", "lower": "s",
		"rep": "sn", "reverse": "s", "sub": "snn", "upper": "s",
	},
	"table": {"remove": ".n", "getn": "."},
	"math": {
		"abs": "n", "acos": "n", "asin": "n", "atan": "n", "atan2": "nn",
		"ceil": "n", "cos": "n", "cosh": "n", "deg": "n", "exp": "n",
		"floor": "n", "fmod": "nn", "frexp": "n", "ldexp": "nn", "log": "n",
		"log10": "n", "max": "n*", "min": "n*", "modf": "n", "pow": "nn",
		"rad": "n", "sin": "n", "sinh": "n", "sqrt": "n", "tan": "n",
		"tanh": "n",
	},
	"os": {"difftime": "nn", "exit": "n", "getenv": "s"},
}

// coerce wraps a library function so that its arguments convert as in
// Lua 5.1 before it runs.
func coerce(orig lua.LGFunction, kinds string) lua.LGFunction {
	return func(L *lua.LState) int {
		top := L.GetTop()
		for i := 1; i <= top; i++ {
			k := kindAt(kinds, i)
			if k == 0 {
				break
			}
			switch v := L.Get(i).(type) {
			case lua.LNumber:
				if k == 's' {
					L.Replace(i, lua.LString(formatNumber(v)))
				}
			case lua.LString:
				if k == 'n' {
					if n, ok := str2number(string(v)); ok {
						L.Replace(i, n)
					}
				}
			}
		}
		return orig(L)
	}
}

func kindAt(kinds string, i int) byte {
	if i <= len(kinds) {
		if kinds[i-1] == '*' {
			return kinds[i-2]
		}
		return kinds[i-1]
	}
	if len(kinds) >= 2 && kinds[len(kinds)-1] == '*' {
		return kinds[len(kinds)-2]
	}
	return 0
}

// patchLibrary installs the Lua 5.1 versions of library functions and
// values that gopher-lua lacks or gets wrong.
func patchLibrary(L *lua.LState) {
	for lib, fns := range argKinds {
		t, ok := L.GetGlobal(lib).(*lua.LTable)
		if !ok {
			continue
		}
		for name, kinds := range fns {
			if f, ok := t.RawGetString(name).(*lua.LFunction); ok && f.IsG {
				g := f.GFunction
				// glibc's acos, asin and log10 return a positive NaN.
				if lib == "math" && name != "acos" && name != "asin" && name != "log10" {
					g = nanAsC(g)
				}
				t.RawSetString(name, rewrapG(L, f, coerce(g, kinds)))
			}
		}
	}
	str := L.GetGlobal("string").(*lua.LTable)
	str.RawSetString("char", L.NewFunction(stringChar))
	str.RawSetString("byte", L.NewFunction(stringByte))
	L.SetGlobal("select", L.NewFunction(baseSelect))

	L.SetGlobal("tonumber", L.NewFunction(baseToNumber))
	if f, ok := L.GetGlobal("setmetatable").(*lua.LFunction); ok && f.IsG {
		L.SetGlobal("setmetatable", L.NewFunction(checkedSetmetatable(f.GFunction)))
	}
	if dbg, ok := L.GetGlobal("debug").(*lua.LTable); ok {
		if f, ok := dbg.RawGetString("getinfo").(*lua.LFunction); ok && f.IsG {
			dbg.RawSetString("getinfo", rewrapG(L, f, debugGetinfo(f.GFunction)))
		}
	}
	ost := L.GetGlobal("os").(*lua.LTable)
	ost.RawSetString("remove", L.NewFunction(osRemove))
	ost.RawSetString("date", L.NewFunction(osDate))
	ost.RawSetString("time", L.NewFunction(osTime))
	ost.RawSetString("rename", L.NewFunction(osRename))
	iot := L.GetGlobal("io").(*lua.LTable)
	if f, ok := iot.RawGetString("open").(*lua.LFunction); ok && f.IsG {
		iot.RawSetString("open", rewrapG(L, f, ioOpen(f.GFunction)))
	}
	if f, ok := iot.RawGetString("lines").(*lua.LFunction); ok && f.IsG {
		orig := f.GFunction
		iot.RawSetString("lines", rewrapG(L, f, func(L *lua.LState) int {
			if L.GetTop() >= 1 && L.Get(1) != lua.LNil {
				name := checkString(L, 1)
				fh, err := os.Open(name)
				if err != nil {
					L.ArgError(1, name+": "+OSErrorText(err))
				}
				fh.Close()
			}
			return orig(L)
		}))
	}

	m := L.GetGlobal("math").(*lua.LTable)

	m.RawSetString("huge", lua.LNumber(math.Inf(1)))
	m.RawSetString("mod", m.RawGetString("fmod"))
	for _, name := range []string{"max", "min"} {
		if f, ok := m.RawGetString(name).(*lua.LFunction); ok && f.IsG {
			m.RawSetString(name, rewrapG(L, f, needsOne(f.GFunction)))
		}
	}
	L.SetGlobal("assert", L.NewFunction(baseAssert))
	// Per state, as C's rand() is per process; gopher-lua's randomseed
	// reseeds Go's global generator, which other states share.
	rng := rand.New(rand.NewSource(0))
	m.RawSetString("random", L.NewFunction(func(L *lua.LState) int { return mathRandom(L, rng) }))
	m.RawSetString("randomseed", L.NewFunction(func(L *lua.LState) int {
		rng.Seed(int64(checkInt(L, 1)))
		return 0
	}))

	tbl := L.GetGlobal("table").(*lua.LTable)
	tbl.RawSetString("insert", L.NewFunction(tableInsert))
	tbl.RawSetString("maxn", L.NewFunction(tableMaxn))
	tbl.RawSetString("foreach", L.NewFunction(tableForeach))
	tbl.RawSetString("foreachi", L.NewFunction(tableForeachi))
	tbl.RawSetString("setn", L.NewFunction(func(L *lua.LState) int {
		L.CheckTable(1)
		L.RaiseError("'setn' is obsolete")
		return 0
	}))
	L.SetGlobal("gcinfo", L.NewFunction(func(L *lua.LState) int {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		L.Push(lua.LNumber(ms.HeapAlloc / 1024))
		return 1
	}))
}

// mathRandom is Lua 5.1's math.random, with its argument checks.
func mathRandom(L *lua.LState, rng *rand.Rand) int {
	r := rng.Float64()
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(r))
	case 1:
		u := checkInt(L, 1)
		if u < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u)) + 1))
	case 2:
		l, u := checkInt(L, 1), checkInt(L, 2)
		if l > u {
			L.ArgError(2, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u-l+1)) + float64(l)))
	default:
		L.RaiseError("wrong number of arguments")
	}
	return 1
}

// stringChar is string.char: each argument must be a byte value.
func stringChar(L *lua.LState) int {
	n := L.GetTop()
	b := make([]byte, n)
	for i := 1; i <= n; i++ {
		c := checkInt(L, i)
		if c < 0 || c > 255 {
			L.ArgError(i, "invalid value")
		}
		b[i-1] = byte(c)
	}
	L.Push(lua.LString(b))
	return 1
}

// table.foreach(t, f): f(k, v) for every pair until f returns non-nil.
func tableForeach(L *lua.LState) int {
	t := L.CheckTable(1)
	f := L.CheckFunction(2)
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		L.Push(f)
		L.Push(k)
		L.Push(v)
		L.Call(2, 1)
		if r := L.Get(-1); r != lua.LNil {
			return 1
		}
		L.Pop(1)
	}
	return 0
}

// table.foreachi(t, f): f(i, t[i]) for i = 1..#t until f returns non-nil.
func tableForeachi(L *lua.LState) int {
	t := L.CheckTable(1)
	f := L.CheckFunction(2)
	n := t.Len()
	for i := 1; i <= n; i++ {
		L.Push(f)
		L.Push(lua.LNumber(i))
		L.Push(t.RawGetInt(i))
		L.Call(2, 1)
		if r := L.Get(-1); r != lua.LNil {
			return 1
		}
		L.Pop(1)
	}
	return 0
}

// optInt is luaL_optint: absent or nil gives def.
func optInt(L *lua.LState, n, def int) int {
	if L.Get(n) == lua.LNil {
		return def
	}
	return checkInt(L, n)
}

// posRelat turns a negative string position into one from the start.
func posRelat(pos, n int) int {
	if pos < 0 {
		pos += n + 1
	}
	if pos < 0 {
		return 0
	}
	return pos
}

// stringByte is string.byte(s [, i [, j]]): j defaults to i (gopher-lua
// returns the rest of the string).
func stringByte(L *lua.LState) int {
	s := checkString(L, 1)
	i := posRelat(optInt(L, 2, 1), len(s))
	j := posRelat(optInt(L, 3, i), len(s))
	if i <= 0 {
		i = 1
	}
	if j > len(s) {
		j = len(s)
	}
	if i > j {
		return 0
	}
	if j-i >= maxUnpack {
		L.RaiseError("string slice too long")
	}
	for k := i; k <= j; k++ {
		L.Push(lua.LNumber(s[k-1]))
	}
	return j - i + 1
}

// baseSelect is select(n, ...): n may be a numeric string; any string
// starting with '#' counts the arguments.
func baseSelect(L *lua.LState) int {
	n := L.GetTop()
	if s, ok := L.Get(1).(lua.LString); ok && len(s) > 0 && s[0] == '#' {
		L.Push(lua.LNumber(n - 1))
		return 1
	}
	i := checkInt(L, 1)
	if i < 0 {
		i = n + i
	} else if i > n {
		i = n
	}
	if i < 1 {
		L.ArgError(1, "index out of range")
	}
	return n - i
}

// tableInsert is table.insert(t, [pos,] v) with raw accesses, a numeric
// string as pos and Lua 5.1's error for a wrong argument count.
func tableInsert(L *lua.LState) int {
	t := L.CheckTable(1)
	e := t.Len() + 1
	var pos int
	switch L.GetTop() {
	case 2:
		pos = e
	case 3:
		pos = checkInt(L, 2)
		if pos > e {
			e = pos
		}
		for i := e; i > pos; i-- {
			t.RawSetInt(i, t.RawGetInt(i-1))
		}
	default:
		L.RaiseError("wrong number of arguments to 'insert'")
	}
	t.RawSetInt(pos, L.Get(-1))
	return 0
}

// optString is luaL_optstring.
func optString(L *lua.LState, n int, def string) string {
	if L.Get(n) == lua.LNil {
		return def
	}
	return checkString(L, n)
}

// errorKey holds the error function in the registry: its messages are the
// program's own and are never reworded.
const errorKey = "copas-lua.error"

// shapeLibrary installs the places where errors are worded as Lua 5.1's
// (errmsg.go): pcall, and coroutine.create/resume, which hook the threads
// they run. Library functions need no wrapper: their errors are shaped by
// the thread's Panic hook or by MessageHandler, where they are caught.
func shapeLibrary(L *lua.LState) {
	// string.gfind is the same function as gmatch in Lua 5.1.
	if str, ok := L.GetGlobal("string").(*lua.LTable); ok {
		str.RawSetString("gfind", str.RawGetString("gmatch"))
	}
	L.SetGlobal("pcall", L.NewFunction(shapingPcall(L)))
	reg := L.Get(lua.RegistryIndex)
	L.SetField(reg, errorKey, L.GetGlobal("error"))
	L.SetField(reg, tostringKey, L.GetGlobal("tostring"))
	if co, ok := L.GetGlobal("coroutine").(*lua.LTable); ok {
		if f, ok := co.RawGetString("resume").(*lua.LFunction); ok && f.IsG {
			co.RawSetString("resume", L.NewFunction(shapingResume(f.GFunction)))
		}
		if f, ok := co.RawGetString("create").(*lua.LFunction); ok && f.IsG {
			co.RawSetString("create", L.NewFunction(hookingCreate(L, f.GFunction)))
		}
	}
}

// checkedSetmetatable adds Lua 5.1's argument checks (gopher-lua accepts
// any first argument).
func checkedSetmetatable(orig lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		L.CheckTable(1)
		if t := L.Get(2).Type(); t != lua.LTNil && t != lua.LTTable {
			L.ArgError(2, "nil or table expected")
		}
		return orig(L)
	}
}

// osResult pushes what Lua 5.1's os and io functions return: true, or
// nil, "name: strerror" and errno.
func osResult(L *lua.LState, err error, name string) int {
	if err == nil {
		L.Push(lua.LTrue)
		return 1
	}
	L.Push(lua.LNil)
	L.Push(lua.LString(name + ": " + OSErrorText(err)))
	L.Push(lua.LNumber(errnoOf(err)))
	return 3
}

func errnoOf(err error) int {
	var en syscall.Errno
	if errors.As(err, &en) {
		return int(en)
	}
	return 0
}

func osRemove(L *lua.LState) int {
	name := checkString(L, 1)
	err := syscall.Unlink(name)
	if err == syscall.EISDIR || err == syscall.EPERM {
		// C's remove() removes empty directories too.
		if st, serr := os.Lstat(name); serr == nil && st.IsDir() {
			err = syscall.Rmdir(name)
		}
	}
	return osResult(L, err, name)
}

func osRename(L *lua.LState) int {
	from, to := checkString(L, 1), checkString(L, 2)
	return osResult(L, syscall.Rename(from, to), from)
}

// ioOpen wraps io.open: a failure reads "name: strerror", errno.
func ioOpen(orig lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		name := checkString(L, 1)
		mode := optString(L, 2, "r")
		// glibc's fopen reads the first letter and a '+' among the rest
		// and ignores other letters; any other first letter is EINVAL.
		if mode == "" || strings.IndexByte("rwa", mode[0]) < 0 {
			return osResult(L, syscall.EINVAL, name)
		}
		norm := mode[:1]
		if strings.Contains(mode[1:], "+") {
			norm += "+"
		}
		mode = norm
		L.SetTop(2)
		L.Replace(1, lua.LString(name))
		L.Replace(2, lua.LString(mode))
		n := orig(L)
		if n >= 2 && L.Get(-n) == lua.LNil {
			// Ask the OS again for the errno gopher-lua's message lost.
			flags := os.O_RDONLY
			switch {
			case len(mode) > 0 && mode[0] == 'w':
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			case len(mode) > 0 && mode[0] == 'a':
				flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
			}
			if strings.Contains(mode, "+") {
				flags = flags&^(os.O_WRONLY|os.O_RDONLY) | os.O_RDWR
			}
			f, err := os.OpenFile(name, flags, 0666)
			if err == nil {
				f.Close()
				return n
			}
			L.Pop(n)
			return osResult(L, err, name)
		}
		return n
	}
}

// rewrapG is a Go function running g with f's upvalues (gopher-lua's
// gmatch and io.write read theirs).
func rewrapG(L *lua.LState, f *lua.LFunction, g lua.LGFunction) *lua.LFunction {
	up := make([]lua.LValue, len(f.Upvalues))
	for i, u := range f.Upvalues {
		up[i] = u.Value()
	}
	return L.NewClosure(g, up...)
}

// baseAssert is Lua 5.1.5's assert: the message must be a string (or a
// number) and is raised with the caller's position.
func baseAssert(L *lua.LState) int {
	if L.GetTop() == 0 {
		L.ArgError(1, "value expected")
	}
	if lua.LVAsBool(L.Get(1)) {
		return L.GetTop()
	}
	L.RaiseError("%s", optString(L, 2, "assertion failed!"))
	return 0
}

// needsOne makes math.max/min raise Lua 5.1's error for no arguments.
func needsOne(orig lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		if L.GetTop() == 0 {
			typeError(L, 1, "number")
		}
		return orig(L)
	}
}

// cNaN is the NaN that x86-64 produces for invalid operations (sign bit
// set: Lua 5.1 prints it as -nan); Go's math functions return a positive
// one.
var cNaN = lua.LNumber(math.Float64frombits(0xfff8000000000000))

// nanAsC wraps a math function: a NaN it makes from arguments that are
// not NaN is C's default NaN, as glibc's libm returns.
func nanAsC(orig lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		top := L.GetTop()
		for i := 1; i <= top; i++ {
			if n, ok := L.Get(i).(lua.LNumber); ok && n != n {
				return orig(L)
			}
		}
		n := orig(L)
		for i := L.GetTop() - n + 1; i <= L.GetTop(); i++ {
			if v, ok := L.Get(i).(lua.LNumber); ok && v != v && !math.Signbit(float64(v)) {
				L.Replace(i, cNaN)
			}
		}
		return n
	}
}

// tableMaxn is table.maxn: the largest positive numeric key, integer or
// not (gopher-lua looks at integer keys only).
func tableMaxn(L *lua.LState) int {
	t := L.CheckTable(1)
	max := 0.0
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		if n, ok := k.(lua.LNumber); ok && float64(n) > max {
			max = float64(n)
		}
	}
	L.Push(lua.LNumber(max))
	return 1
}
