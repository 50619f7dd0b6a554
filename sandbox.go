package copaslua

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/copas-lua/copas-lua/internal/lua51"
	lua "github.com/yuin/gopher-lua"
)

// The sandbox (WithSandbox). Threat model, as README states it: a
// sandboxed script may compute, allocate (within WithMemoryLimit and the
// runtime's size caps), use the network through the allowed modules,
// write to the runtime's stdout and stderr writers, read its stdin
// (WithStdin, empty by default), read files only through WithFS and
// environment variables only through WithEnv/WithGetenv. It cannot run
// programs, write, remove or rename files, read host files outside the
// FS, change the process's environment or locale, exit the process, close
// the process's standard streams, adopt descriptors (setfd), load C
// modules, or reach the debug library. It shares the process's CPU and
// memory: WithThreadBudget bounds a thread that does not yield.

// maxRead caps one read of the sandbox's files, as string.rep's results
// are capped: beyond it the read raises "not enough memory".
var maxRead = 1 << 30

// WithFS gives sandboxed scripts read-only access to fsys: io.open (mode
// "r" only), io.lines, io.input, dofile, loadfile and require's Lua
// searcher (package.path, default "?.lua;?/init.lua") resolve names in
// fsys, a leading "/" or "./" dropped. Without it a sandboxed script
// reads no files. It has no effect without WithSandbox.
func WithFS(fsys fs.FS) Option { return func(c *config) { c.fsys = fsys } }

// WithEnv lets os.getenv read the named variables of the process
// environment; other names give nil. Without WithEnv or WithGetenv,
// os.getenv reads the whole environment outside the sandbox and nothing
// under it.
func WithEnv(names ...string) Option {
	allow := map[string]bool{}
	for _, n := range names {
		allow[n] = true
	}
	return WithGetenv(func(name string) (string, bool) {
		if !allow[name] {
			return "", false
		}
		return os.LookupEnv(name)
	})
}

// WithGetenv makes os.getenv(name) return get(name) (nil when ok is
// false). get is called on the loop goroutine.
func WithGetenv(get func(name string) (value string, ok bool)) Option {
	return func(c *config) { c.getenv = get }
}

// WithStdin is what io.stdin, io.read and io.lines() read under the
// sandbox (default: nothing, end of file at once). It has no effect
// without WithSandbox; r is read on the loop goroutine.
func WithStdin(r io.Reader) Option { return func(c *config) { c.stdin = r } }

// moduleDeps are the built-in modules each built-in module requires,
// when loaded or later (copas loads socket on first use); WithModules
// adds them with their own dependencies. TestModuleDependencies checks
// that each module loads and works with only its closure.
var moduleDeps = map[string][]string{
	"copas":             {"socket", "coxpcall"},
	"copas.ftp":         {"copas", "socket.ftp"},
	"copas.future":      {"copas", "copas.semaphore"},
	"copas.http":        {"copas", "copaslua.httpcore", "copaslua.tls", "ssl", "socket.http"},
	"copas.lock":        {"copas", "copas.semaphore"},
	"copas.queue":       {"copas", "copas.semaphore"},
	"copas.semaphore":   {"copas"},
	"copas.smtp":        {"copas", "socket.smtp"},
	"copas.timer":       {"copas"},
	"copaslua.httpcore": {"ltn12", "mime", "socket", "socket.headers", "socket.url"},
	"mime":              {"ltn12", "mime.core", "socket"},
	"socket":            {"socket.core"},
	"socket.ftp":        {"ltn12", "socket", "socket.tp", "socket.url"},
	"socket.headers":    {"socket"},
	"socket.http":       {"copaslua.httpcore", "ltn12", "mime", "socket", "socket.headers", "socket.url"},
	"socket.smtp":       {"ltn12", "mime", "socket", "socket.headers", "socket.tp"},
	"socket.tp":         {"ltn12", "socket"},
	"socket.url":        {"socket"},
	"ssl":               {"socket", "ssl.config", "ssl.x509"},
	"ssl.https":         {"ssl", "socket.http"},
}

// withDeps returns names and everything they depend on, sorted.
func withDeps(names []string) []string {
	seen := map[string]bool{}
	var add func(string)
	add = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, d := range moduleDeps[n] {
			add(d)
		}
	}
	for _, n := range names {
		add(n)
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (r *Runtime) sandbox() {
	L, c := r.st, r.cfg
	deny := func(name string) *lua.LFunction {
		return L.NewFunction(func(L *lua.LState) int {
			L.RaiseError("%s is not available in the sandbox", name)
			return 0
		})
	}
	ost := L.GetGlobal("os").(*lua.LTable)
	for _, n := range []string{"execute", "remove", "rename", "tmpname", "exit"} {
		ost.RawSetString(n, deny("os."+n))
	}
	ost.RawSetString("setenv", lua.LNil)
	ost.RawSetString("setlocale", lua.LNil)
	for _, n := range []string{"debug", "channel", "_printregs"} {
		L.SetGlobal(n, lua.LNil)
	}
	pkg := L.GetGlobal("package").(*lua.LTable)
	pkg.RawSetString("loadlib", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNil)
		L.Push(lua.LString("dynamic libraries not enabled; check your Lua installation"))
		L.Push(lua.LString("absent"))
		return 3
	}))
	pkg.RawSetString("cpath", lua.LString(""))
	if loaded, ok := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable); ok {
		loaded.RawSetString("debug", lua.LNil)
		loaded.RawSetString("channel", lua.LNil)
	}
	sb := &sandboxIO{L: L, fsys: c.fsys}
	sb.install(c)
	// Only preload and, with an FS, Lua files from it.
	// The table is changed in place: require holds on to it.
	if loaders, ok := pkg.RawGetString("loaders").(*lua.LTable); ok {
		first := loaders.RawGetInt(1)
		for i := loaders.Len(); i >= 1; i-- {
			loaders.RawSetInt(i, lua.LNil)
		}
		loaders.RawSetInt(1, first)
		if c.fsys != nil {
			loaders.RawSetInt(2, L.NewFunction(sb.searcher))
		}
	}
	if c.fsys != nil && !c.pathSet {
		pkg.RawSetString("path", lua.LString("?.lua;?/init.lua"))
	}
	L.SetGlobal("dofile", L.NewFunction(sb.dofile))
	L.SetGlobal("loadfile", L.NewFunction(sb.loadfile))
	r.afterLoad("socket.core", denySetfd)
	r.afterLoad("ssl", denySSLFiles)
}

// afterLoad makes the preload loader of name run patch on the module's
// result once it is loaded.
func (r *Runtime) afterLoad(name string, patch func(L *lua.LState, mod lua.LValue)) {
	L := r.st
	pre, ok := L.GetField(L.GetGlobal("package"), "preload").(*lua.LTable)
	if !ok {
		return
	}
	orig, ok := pre.RawGetString(name).(*lua.LFunction)
	if !ok {
		return
	}
	pre.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
		top := L.GetTop()
		L.Push(orig)
		for i := 1; i <= top; i++ {
			L.Push(L.Get(i))
		}
		L.Call(top, 1)
		patch(L, L.Get(-1))
		return 1
	}))
}

// denySetfd removes descriptor adoption from every socket class.
func denySetfd(L *lua.LState, _ lua.LValue) {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	for _, cls := range []string{"tcp{master}", "tcp{client}", "tcp{server}", "udp{unconnected}", "udp{connected}"} {
		mt, ok := reg.RawGetString(cls).(*lua.LTable)
		if !ok {
			continue
		}
		if idx, ok := mt.RawGetString("__index").(*lua.LTable); ok && idx.RawGetString("setfd") != lua.LNil {
			idx.RawSetString("setfd", L.NewFunction(func(L *lua.LState) int {
				L.RaiseError("setfd is not available in the sandbox")
				return 0
			}))
		}
	}
}

// sslFileParams are the LuaSec parameters naming files.
var sslFileParams = []string{"certificate", "key", "cafile", "capath", "dhparam", "crlfile"}

// denySSLFiles makes ssl.newcontext and ssl.wrap refuse parameters that
// name host files.
func denySSLFiles(L *lua.LState, mod lua.LValue) {
	t, ok := mod.(*lua.LTable)
	if !ok {
		return
	}
	for _, name := range []string{"newcontext", "wrap"} {
		orig, ok := t.RawGetString(name).(*lua.LFunction)
		if !ok {
			continue
		}
		t.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			for i := 1; i <= L.GetTop(); i++ {
				p, ok := L.Get(i).(*lua.LTable)
				if !ok {
					continue
				}
				for _, k := range sslFileParams {
					if p.RawGetString(k) != lua.LNil {
						L.RaiseError("ssl parameter '%s' (a file) is not available in the sandbox", k)
					}
				}
			}
			top := L.GetTop()
			L.Insert(orig, 1)
			L.Call(top, lua.MultRet)
			return L.GetTop()
		}))
	}
}

// sandboxIO is the io library of the sandbox: files are read-only views
// of the FS, stdout and stderr the runtime's writers.
type sandboxIO struct {
	L       *lua.LState
	fsys    fs.FS
	mt      *lua.LTable
	stdin   *lua.LUserData
	stdout  *lua.LUserData
	input   *lua.LUserData
	output  *lua.LUserData
	methods *lua.LTable
}

type sbFile struct {
	name   string
	r      *bufio.Reader // nil: not readable
	f      fs.File       // nil for the standard streams
	w      io.Writer     // nil: not writable
	closed bool
	std    bool
}

const sbFileClass = "copas-lua.sandbox.file"

func (sb *sandboxIO) install(c config) {
	L := sb.L
	sb.mt = L.NewTypeMetatable(sbFileClass)
	sb.methods = L.NewTable()
	L.SetFuncs(sb.methods, map[string]lua.LGFunction{
		"read":    func(L *lua.LState) int { return sb.read(L, sb.check(L, 1), 2) },
		"lines":   func(L *lua.LState) int { return sb.lines(L, sb.check(L, 1), false) },
		"write":   func(L *lua.LState) int { return sb.write(L, 1, 2) },
		"close":   func(L *lua.LState) int { return sb.close(L, sb.check(L, 1)) },
		"flush":   func(L *lua.LState) int { sb.check(L, 1); L.Push(L.Get(1)); return 1 },
		"setvbuf": func(L *lua.LState) int { sb.check(L, 1); L.Push(lua.LTrue); return 1 },
		"seek":    sb.seek,
	})
	sb.mt.RawSetString("__index", sb.methods)
	sb.mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		f := sb.file(L.Get(1))
		if f != nil && f.closed {
			L.Push(lua.LString("file (closed)"))
		} else {
			L.Push(lua.LString(fmt.Sprintf("file (%p)", L.Get(1))))
		}
		return 1
	}))
	stdin := c.stdin
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	stdout, stderr := c.stdout, c.stderr
	if stdout == nil {
		stdout = os.Stdout
	}
	if stderr == nil {
		stderr = os.Stderr
	}
	sb.stdin = sb.newFile(&sbFile{name: "stdin", r: bufio.NewReader(stdin), std: true})
	sb.stdout = sb.newFile(&sbFile{name: "stdout", w: stdout, std: true})
	errf := sb.newFile(&sbFile{name: "stderr", w: stderr, std: true})
	sb.input, sb.output = sb.stdin, sb.stdout

	iot := L.NewTable()
	iot.RawSetString("stdin", sb.stdin)
	iot.RawSetString("stdout", sb.stdout)
	iot.RawSetString("stderr", errf)
	denyIO := func(name string) lua.LGFunction {
		return func(L *lua.LState) int {
			L.RaiseError("io.%s is not available in the sandbox", name)
			return 0
		}
	}
	L.SetFuncs(iot, map[string]lua.LGFunction{
		"open":    sb.open,
		"lines":   sb.ioLines,
		"input":   sb.ioInput,
		"output":  sb.ioOutput,
		"read":    func(L *lua.LState) int { return sb.read(L, sb.file(sb.input), 1) },
		"write":   func(L *lua.LState) int { return sb.write(L, 0, 1) },
		"close":   sb.ioClose,
		"flush":   func(L *lua.LState) int { L.Push(sb.output); return 1 },
		"type":    sb.ioType,
		"popen":   denyIO("popen"),
		"tmpfile": denyIO("tmpfile"),
	})
	L.SetGlobal("io", iot)
	if loaded, ok := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable); ok {
		loaded.RawSetString("io", iot)
	}
}

func (sb *sandboxIO) newFile(f *sbFile) *lua.LUserData {
	ud := sb.L.NewUserData()
	ud.Value = f
	ud.Metatable = sb.mt
	return ud
}

func (sb *sandboxIO) file(v lua.LValue) *sbFile {
	if ud, ok := v.(*lua.LUserData); ok {
		if f, ok := ud.Value.(*sbFile); ok {
			return f
		}
	}
	return nil
}

func (sb *sandboxIO) check(L *lua.LState, i int) *sbFile {
	f := sb.file(L.Get(i))
	if f == nil {
		L.ArgError(i, "FILE* expected, got "+L.Get(i).Type().String())
	}
	if f.closed {
		L.RaiseError("attempt to use a closed file")
	}
	return f
}

// fsPath maps a Lua file name onto the FS.
func fsPath(name string) (string, bool) {
	p := path.Clean("/" + name)[1:]
	if p == "" {
		p = "."
	}
	return p, fs.ValidPath(p)
}

func (sb *sandboxIO) openFS(name string) (*sbFile, error) {
	if sb.fsys == nil {
		return nil, fs.ErrNotExist
	}
	p, ok := fsPath(name)
	if !ok {
		return nil, fs.ErrNotExist
	}
	f, err := sb.fsys.Open(p)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%w", fs.ErrInvalid)
	}
	return &sbFile{name: name, r: bufio.NewReader(f), f: f}, nil
}

func osText(err error) string {
	switch {
	case err == fs.ErrNotExist || os.IsNotExist(err):
		return "No such file or directory"
	case os.IsPermission(err):
		return "Permission denied"
	}
	return lua51.OSErrorText(err)
}

func (sb *sandboxIO) open(L *lua.LState) int {
	name := L.CheckString(1)
	mode := L.OptString(2, "r")
	if strings.ContainsAny(mode, "wa+") {
		L.Push(lua.LNil)
		L.Push(lua.LString(name + ": writing files is not available in the sandbox"))
		return 2
	}
	f, err := sb.openFS(name)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(name + ": " + osText(err)))
		L.Push(lua.LNumber(2))
		return 3
	}
	L.Push(sb.newFile(f))
	return 1
}

func (sb *sandboxIO) ioLines(L *lua.LState) int {
	if L.GetTop() == 0 || L.Get(1) == lua.LNil {
		return sb.lines(L, sb.file(sb.input), false)
	}
	name := L.CheckString(1)
	f, err := sb.openFS(name)
	if err != nil {
		L.ArgError(1, name+": "+osText(err))
	}
	return sb.lines(L, f, true)
}

func (sb *sandboxIO) lines(L *lua.LState, f *sbFile, closeAtEOF bool) int {
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if f.closed {
			L.RaiseError("file is already closed")
		}
		line, ok := sb.readLine(L, f)
		if !ok {
			if closeAtEOF {
				f.closed = true
				f.f.Close()
			}
			L.Push(lua.LNil)
			return 1
		}
		L.Push(lua.LString(line))
		return 1
	}))
	return 1
}

func (sb *sandboxIO) ioInput(L *lua.LState) int {
	switch v := L.Get(1).(type) {
	case lua.LString:
		f, err := sb.openFS(string(v))
		if err != nil {
			L.RaiseError("%s: %s", string(v), osText(err))
		}
		sb.input = sb.newFile(f)
	case *lua.LUserData:
		sb.check(L, 1)
		sb.input = v
	}
	L.Push(sb.input)
	return 1
}

func (sb *sandboxIO) ioOutput(L *lua.LState) int {
	switch v := L.Get(1).(type) {
	case lua.LString:
		L.RaiseError("io.output to a file is not available in the sandbox")
	case *lua.LUserData:
		sb.check(L, 1)
		sb.output = v
	}
	L.Push(sb.output)
	return 1
}

func (sb *sandboxIO) ioClose(L *lua.LState) int {
	if L.GetTop() == 0 {
		return sb.close(L, sb.file(sb.output))
	}
	return sb.close(L, sb.check(L, 1))
}

func (sb *sandboxIO) ioType(L *lua.LState) int {
	f := sb.file(L.CheckAny(1))
	switch {
	case f == nil:
		L.Push(lua.LNil)
	case f.closed:
		L.Push(lua.LString("closed file"))
	default:
		L.Push(lua.LString("file"))
	}
	return 1
}

func (sb *sandboxIO) close(L *lua.LState, f *sbFile) int {
	if f.std {
		L.Push(lua.LNil)
		L.Push(lua.LString("cannot close standard file"))
		return 2
	}
	f.closed = true
	f.f.Close()
	L.Push(lua.LTrue)
	return 1
}

// write writes the arguments from first to the file at index fileIdx
// (0: the default output) and returns the file.
func (sb *sandboxIO) write(L *lua.LState, fileIdx, first int) int {
	var ud lua.LValue = sb.output
	if fileIdx > 0 {
		sb.check(L, fileIdx)
		ud = L.Get(fileIdx)
	}
	f := sb.file(ud)
	if f.w == nil {
		L.Push(lua.LNil)
		L.Push(lua.LString("Bad file descriptor"))
		L.Push(lua.LNumber(9))
		return 3
	}
	return writeArgs(L, f.w, first, ud)
}

func (sb *sandboxIO) seek(L *lua.LState) int {
	f := sb.check(L, 1)
	whence := map[string]int{"set": io.SeekStart, "cur": io.SeekCurrent, "end": io.SeekEnd}
	w, ok := whence[L.OptString(2, "cur")]
	if !ok {
		L.ArgError(2, "invalid option '"+L.OptString(2, "cur")+"'")
	}
	off := int64(L.OptNumber(3, 0))
	s, ok := f.f.(io.Seeker)
	if f.f == nil || !ok {
		L.Push(lua.LNil)
		L.Push(lua.LString("Illegal seek"))
		L.Push(lua.LNumber(29))
		return 3
	}
	if w == io.SeekCurrent {
		off -= int64(f.r.Buffered())
	}
	pos, err := s.Seek(off, w)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	f.r.Reset(f.f)
	L.Push(lua.LNumber(pos))
	return 1
}

// read is file:read(formats...) from argument first.
func (sb *sandboxIO) read(L *lua.LState, f *sbFile, first int) int {
	if f == nil || f.closed {
		L.RaiseError("attempt to use a closed file")
	}
	if f.r == nil {
		L.Push(lua.LNil)
		L.Push(lua.LString("Bad file descriptor"))
		L.Push(lua.LNumber(9))
		return 3
	}
	top := L.GetTop()
	if top < first {
		L.Push(lua.LString("*l"))
		top = first
	}
	n := 0
	for i := first; i <= top; i++ {
		var v lua.LValue = lua.LNil
		switch fmtv := L.Get(i).(type) {
		case lua.LNumber:
			v = sb.readN(L, f, float64(fmtv))
		case lua.LString:
			s := string(fmtv)
			if !strings.HasPrefix(s, "*") || len(s) < 2 {
				L.ArgError(i-first+1, "invalid format")
			}
			switch s[1] {
			case 'l':
				if line, ok := sb.readLine(L, f); ok {
					v = lua.LString(line)
				}
			case 'a':
				v = lua.LString(sb.readAll(L, f))
			case 'n':
				v = sb.readNumber(f)
			default:
				L.ArgError(i-first+1, "invalid format")
			}
		default:
			L.ArgError(i-first+1, "invalid format")
		}
		L.Push(v)
		n++
		if v == lua.LNil {
			break
		}
	}
	return n
}

func tooBig(L *lua.LState, n int) {
	if n > maxRead {
		L.RaiseError("not enough memory")
	}
}

// readN reads up to n bytes without trusting n for the allocation.
func (sb *sandboxIO) readN(L *lua.LState, f *sbFile, n float64) lua.LValue {
	if n <= 0 {
		if _, err := f.r.Peek(1); err != nil {
			return lua.LNil
		}
		return lua.LString("")
	}
	want := maxRead + 1
	if n < float64(want) {
		want = int(n)
	}
	var b []byte
	chunk := make([]byte, min(want, 64<<10))
	for len(b) < want {
		k, err := f.r.Read(chunk[:min(len(chunk), want-len(b))])
		b = append(b, chunk[:k]...)
		tooBig(L, len(b))
		if err != nil {
			break
		}
	}
	if len(b) == 0 {
		return lua.LNil
	}
	return lua.LString(b)
}

func (sb *sandboxIO) readAll(L *lua.LState, f *sbFile) string {
	var b strings.Builder
	chunk := make([]byte, 64<<10)
	for {
		k, err := f.r.Read(chunk)
		b.Write(chunk[:k])
		tooBig(L, b.Len())
		if err != nil {
			return b.String()
		}
	}
}

func (sb *sandboxIO) readLine(L *lua.LState, f *sbFile) (string, bool) {
	var b []byte
	for {
		part, err := f.r.ReadSlice('\n')
		b = append(b, part...)
		tooBig(L, len(b))
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && len(b) == 0 {
			return "", false
		}
		return strings.TrimSuffix(string(b), "\n"), true
	}
}

func (sb *sandboxIO) readNumber(f *sbFile) lua.LValue {
	for {
		c, err := f.r.ReadByte()
		if err != nil {
			return lua.LNil
		}
		if !strings.ContainsRune(" \t\n\r\f\v", rune(c)) {
			f.r.UnreadByte()
			break
		}
	}
	var b []byte
	for len(b) < 200 {
		c, err := f.r.ReadByte()
		if err != nil {
			break
		}
		if !strings.ContainsRune("0123456789+-.eExXabcdefABCDEF", rune(c)) {
			f.r.UnreadByte()
			break
		}
		b = append(b, c)
	}
	s := string(b)
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return lua.LNumber(v)
	}
	if v, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"), 16, 64); err == nil && len(s) > 2 {
		return lua.LNumber(v)
	}
	return lua.LNil
}

// readSource reads a whole Lua file from the FS (or stdin for "").
func (sb *sandboxIO) readSource(name string) ([]byte, error) {
	var r io.Reader
	if name == "" {
		r = sb.file(sb.stdin).r
	} else {
		f, err := sb.openFS(name)
		if err != nil {
			return nil, err
		}
		defer f.f.Close()
		r = f.r
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(maxRead)+1))
	if len(b) > maxRead {
		return nil, fmt.Errorf("not enough memory")
	}
	if len(b) > 0 && b[0] == '#' {
		if i := strings.IndexByte(string(b), '\n'); i >= 0 {
			b = b[i:]
		} else {
			b = nil
		}
	}
	return b, err
}

func (sb *sandboxIO) loadChunk(L *lua.LState, name string) (*lua.LFunction, string) {
	src, err := sb.readSource(name)
	chunk := name
	if name == "" {
		chunk = "=stdin"
	}
	if err != nil {
		return nil, "cannot open " + name + ": " + osText(err)
	}
	fn, err := lua51.Load(L, strings.NewReader(string(src)), chunk)
	if err != nil {
		if ae, ok := err.(*lua.ApiError); ok {
			return nil, ae.Object.String()
		}
		return nil, err.Error()
	}
	return fn, ""
}

func (sb *sandboxIO) loadfile(L *lua.LState) int {
	fn, msg := sb.loadChunk(L, L.OptString(1, ""))
	if fn == nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(msg))
		return 2
	}
	L.Push(fn)
	return 1
}

func (sb *sandboxIO) dofile(L *lua.LState) int {
	fn, msg := sb.loadChunk(L, L.OptString(1, ""))
	if fn == nil {
		L.RaiseError("%s", msg)
	}
	top := L.GetTop()
	L.Push(fn)
	L.Call(0, lua.MultRet)
	return L.GetTop() - top
}

// searcher is require's Lua searcher over the FS and package.path.
func (sb *sandboxIO) searcher(L *lua.LState) int {
	name := L.CheckString(1)
	p, _ := L.GetField(L.GetGlobal("package"), "path").(lua.LString)
	var tried strings.Builder
	for _, tmpl := range strings.Split(string(p), ";") {
		if tmpl == "" {
			continue
		}
		file := strings.ReplaceAll(tmpl, "?", strings.ReplaceAll(name, ".", "/"))
		if f, err := sb.openFS(file); err == nil {
			f.f.Close()
			fn, msg := sb.loadChunk(L, file)
			if fn == nil {
				L.RaiseError("error loading module '%s' from file '%s':\n\t%s", name, file, msg)
			}
			L.Push(fn)
			return 1
		}
		fmt.Fprintf(&tried, "\n\tno file '%s'", file)
	}
	L.Push(lua.LString(tried.String()))
	return 1
}
