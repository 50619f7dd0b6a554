// Command copas-lua runs Lua programs written for Copas and LuaSocket on
// gopher-lua. It is a drop-in for the lua5.1 interpreter:
//
//	copas-lua [options] [script [args]]
//
// with lua5.1's options (-e stat, -l name, -i, -v, --, -), its global arg
// table, LUA_INIT, its interactive mode and its error reports and exit
// statuses. Like lua5.1 it runs the script's main chunk and exits: a server
// script calls copas.loop() itself.
//
// Options of its own, which lua5.1 would refuse, come before the script:
//
//	--grace=DURATION   time a stop signal leaves Copas threads (5s)
//	--log-format=FMT   runtime messages through log/slog: text or json
//	--pprof=ADDR       serve net/http/pprof and expvar on ADDR
//	--tls-verify=MODE  default TLS verification for params without
//	                   verify: peer (the default) or none (LuaSec's)
//
// Signals are handled as signals.go describes; observe.go covers
// profiling, stats and the SIGUSR1 thread dump.
//
// The control flow mirrors lua.c of Lua 5.1.5 (pmain, collectargs, runargs,
// handle_script, dotty) so that corner cases behave the same.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
	"github.com/copas-lua/copas-lua/luamod/ssl"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// progname prefixes error reports and the usage line. lua5.1 uses argv[0];
// a fixed name keeps messages stable however the program was started.
const progname = "copas-lua"

func main() {
	raiseNoFileLimit()
	if isTestCommand(os.Args) {
		os.Exit(testCommand(os.Args[2:]))
	}
	os.Exit(run(os.Args))
}

// options are the command line's own options (the long ones).
type options struct {
	grace     time.Duration
	logFormat string
	pprof     string
}

// longOption parses one "--name=value" option into o; false if it is not
// one of ours or its value is invalid.
func (o *options) longOption(a string) bool {
	name, val, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
	if !ok {
		return false
	}
	switch name {
	case "grace":
		d, err := time.ParseDuration(val)
		if err != nil || d < 0 {
			return false
		}
		o.grace = d
	case "log-format":
		if val != "text" && val != "json" {
			return false
		}
		o.logFormat = val
	case "pprof":
		o.pprof = val
	case "tls-verify":
		// Process-wide, as COPAS_LUA_TLS_VERIFY is.
		if !ssl.SetDefaultVerify(val) {
			return false
		}
	default:
		return false
	}
	return true
}

// cli is one run of the interpreter.
type cli struct {
	r *copaslua.Runtime
	L *lua.LState
	// The standard files and io.output as the libraries created them, so
	// the REPL, the stdin script and the exit-time flush use the same
	// buffered io.stdin / io.stdout objects as the script, as lua.c shares
	// C's stdin and stdout FILEs with the io library.
	stdin, stdout, stderr lua.LValue
	ioOutput              lua.LValue
	stdinTTY              bool
	editor                *lineEditor // nil unless stdin and stdout are terminals
	logger                *slog.Logger
	sig                   *signals
}

// run executes the command line argv (argv[0] is the program) and returns
// the exit status. It is lua.c's pmain.
func run(argv []string) int {
	var o options
	if d, ok := os.LookupEnv(pprofEnv); ok {
		o.pprof = d
	}
	script, hasI, hasV, hasE, ok := collectArgsTo(argv, &o)
	c := newCLI(o)
	defer func() {
		c.close()
		// A graceful stop by a signal ends as death by that signal,
		// once buffered output is out.
		if sig := c.sig.exitSignal(); sig != 0 {
			dieOf(sig)
		}
	}()
	if o.pprof != "" {
		if err := c.servePprof(o.pprof); err != nil {
			fmt.Fprintf(os.Stderr, "%s: pprof: %v\n", progname, err)
			return 1
		}
	}
	if !c.luaInit() {
		return 1
	}
	if !ok {
		usage()
		return 1
	}
	if hasV {
		printVersion()
	}
	n := len(argv)
	if script > 0 {
		n = script
	}
	if !c.runArgs(argv[:n]) {
		return 1
	}
	if script > 0 && !c.handleScript(argv, script) {
		return 1
	}
	switch {
	case hasI:
		c.repl()
	case script == 0 && !hasE && !hasV:
		if c.stdinTTY {
			printVersion()
			c.repl()
		} else if !c.report(c.docall(c.loadStdin(), nil), true) {
			return 1
		}
	}
	return 0
}

func newCLI(o options) *cli {
	logger := newLogger(o.logFormat)
	r := copaslua.New(runtimeOptions(logger, o.grace)...)
	L := r.State()
	io := L.GetGlobal("io")
	c := &cli{
		r:        r,
		L:        L,
		stdin:    L.GetField(io, "stdin"),
		stdout:   L.GetField(io, "stdout"),
		stderr:   L.GetField(io, "stderr"),
		ioOutput: L.GetField(io, "output"),
		stdinTTY: isTerminal(os.Stdin),
		logger:   logger,
	}
	if logger != nil {
		r.Loop().Notice = func(msg string) { logger.Warn(msg) }
	}
	grace := o.grace
	if grace <= 0 {
		grace = defaultGrace
	}
	c.sig = installSignals(c, grace)
	// gopher-lua's os.exit calls os.Exit at once, losing output the script
	// buffered with setvbuf, and rejects os.exit(true/false).
	L.SetField(L.GetGlobal("os"), "exit", L.NewFunction(c.osExit))
	return c
}

// close flushes buffered output and releases the runtime: C's exit()
// flushes stdio, so buffered output must not be lost here either.
func (c *cli) close() {
	c.flush(c.L)
	c.sig.stop()
	c.r.Close()
	stopCPUProfile()
}

// defaultGrace is the grace period without --grace, the runtime's
// default (copaslua.WithGracePeriod).
const defaultGrace = 5 * time.Second

// flush flushes io.output(), io.stdout and io.stderr, ignoring errors (a
// script may have closed them). L is the running thread: os.exit may be
// called from a coroutine.
func (c *cli) flush(L *lua.LState) {
	files := []lua.LValue{c.stdout, c.stderr}
	if fn, ok := c.ioOutput.(*lua.LFunction); ok {
		if L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}) == nil {
			files = append(files, L.Get(-1))
			L.Pop(1)
		}
	}
	for _, f := range files {
		callMethod(L, f, "flush", 0)
	}
}

// callMethod calls obj:name(args...) on L in protected mode and returns
// its first nret results.
func callMethod(L *lua.LState, obj lua.LValue, name string, nret int, args ...lua.LValue) ([]lua.LValue, error) {
	fn, ok := L.GetField(obj, name).(*lua.LFunction)
	if !ok {
		return nil, fmt.Errorf("no method %q", name)
	}
	if err := L.CallByParam(lua.P{Fn: fn, NRet: nret, Protect: true}, append([]lua.LValue{obj}, args...)...); err != nil {
		return nil, err
	}
	res := make([]lua.LValue, nret)
	for i := range res {
		res[i] = L.Get(-nret + i)
	}
	L.Pop(nret)
	return res, nil
}

// osExit is os.exit([code]): code defaults to 0; true and false mean
// success and failure as in Lua 5.2+.
func (c *cli) osExit(L *lua.LState) int {
	code := 0
	switch v := L.Get(1).(type) {
	case *lua.LNilType:
	case lua.LBool:
		if !v {
			code = 1
		}
	default:
		code = L.CheckInt(1)
	}
	c.flush(L)
	stopCPUProfile()
	os.Exit(code)
	return 0
}

// luaInit runs LUA_INIT: "@file" runs a file, anything else is a chunk
// named "LUA_INIT".
func (c *cli) luaInit() bool {
	init, ok := os.LookupEnv("LUA_INIT")
	if !ok {
		return true
	}
	if name, isFile := strings.CutPrefix(init, "@"); isFile {
		return c.report(c.docall(c.loadFile(name), nil), true)
	}
	return c.report(c.docall(c.loadString(init, "LUA_INIT"), nil), true)
}

// collectArgs scans the options before the script. It returns the index of
// the script in argv (0 if none) and which of -i, -v, -e were seen; ok is
// false for an invalid command line.
func collectArgs(argv []string) (script int, hasI, hasV, hasE, ok bool) {
	var o options
	return collectArgsTo(argv, &o)
}

// collectArgsTo is collectArgs that also accepts copas-lua's long options
// (--name=value), storing them in o.
func collectArgsTo(argv []string, o *options) (script int, hasI, hasV, hasE, ok bool) {
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		if len(a) == 0 || a[0] != '-' {
			return i, hasI, hasV, hasE, true
		}
		if len(a) == 1 { // "-": the script is stdin
			return i, hasI, hasV, hasE, true
		}
		switch a[1] {
		case '-':
			if len(a) != 2 {
				if o.longOption(a) {
					continue
				}
				return 0, false, false, false, false
			}
			if i+1 < len(argv) {
				return i + 1, hasI, hasV, hasE, true
			}
			return 0, hasI, hasV, hasE, true
		case 'i', 'v':
			if len(a) != 2 {
				return 0, false, false, false, false
			}
			hasI = hasI || a[1] == 'i'
			hasV = true // -i prints the version too, as in lua.c
		case 'e', 'l':
			hasE = hasE || a[1] == 'e'
			if len(a) == 2 { // argument in the next word
				i++
				if i >= len(argv) {
					return 0, false, false, false, false
				}
			}
		default:
			return 0, false, false, false, false
		}
	}
	return 0, hasI, hasV, hasE, true
}

// runArgs runs the -e and -l options in order; argv stops before the script.
func (c *cli) runArgs(argv []string) bool {
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		if len(a) < 2 || a[0] != '-' || (a[1] != 'e' && a[1] != 'l') {
			continue
		}
		val := a[2:]
		if val == "" {
			i++
			val = argv[i]
		}
		var ok bool
		if a[1] == 'e' {
			ok = c.report(c.docall(c.loadString(val, "(command line)"), nil), true)
		} else {
			ok = c.report(c.docall(c.L.GetGlobal("require"), nil, lua.LString(val)), true)
		}
		if !ok {
			return false
		}
	}
	return true
}

// handleScript sets the global arg (arg[0] the script, negative indices
// the interpreter and its options) and runs the script with its
// arguments as varargs.
func (c *cli) handleScript(argv []string, script int) bool {
	L := c.L
	argt := L.CreateTable(len(argv)-script-1, script+1)
	for i, a := range argv {
		argt.RawSetInt(i-script, lua.LString(a))
	}
	L.SetGlobal("arg", argt)
	var args []lua.LValue
	for _, a := range argv[script+1:] {
		args = append(args, lua.LString(a))
	}
	name := argv[script]
	var fn loaded
	if name == "-" && argv[script-1] != "--" {
		fn = c.loadStdin()
	} else {
		fn = c.loadFile(name)
	}
	return c.report(c.docall(fn, nil, args...), true)
}

// chunkError is a load failure, already formatted as Lua 5.1 would.
type chunkError string

func (e chunkError) Error() string { return string(e) }

// loaded is a loaded chunk or the error that stopped it from loading.
type loaded struct {
	fn  *lua.LFunction
	err error
}

func (c *cli) loadString(src, name string) loaded {
	fn, err := c.r.Load(strings.NewReader(src), name)
	return loaded{fn, syntaxError(err, src)}
}

// loadFile loads a script like luaL_loadfile: a first line starting with
// '#' (a #! line) is skipped, keeping line numbers.
func (c *cli) loadFile(name string) loaded {
	src, err := os.ReadFile(name)
	if err != nil {
		verb := "open"
		if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, os.ErrPermission) {
			verb = "read"
		}
		return loaded{err: chunkError(fmt.Sprintf("cannot %s %s: %s", verb, name, copaslua.OSErrorText(err)))}
	}
	return c.loadString(skipShebang(src), name)
}

// loadStdin loads all of stdin as a chunk named "stdin", reading through
// io.stdin so that nothing is lost to a second buffer.
func (c *cli) loadStdin() loaded {
	res, err := callMethod(c.L, c.stdin, "read", 1, lua.LString("*a"))
	if err != nil {
		return loaded{err: chunkError("cannot read stdin: " + errText(err))}
	}
	src, _ := res[0].(lua.LString)
	return c.loadString(skipShebang([]byte(src)), "stdin")
}

func skipShebang(src []byte) string {
	if len(src) > 0 && src[0] == '#' {
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			return string(src[i:])
		}
		return ""
	}
	return string(src)
}

// syntaxError rewrites gopher-lua's parse errors ("name line:3(column:5)
// near 'x':   syntax error") in Lua 5.1's "name:3: syntax error near 'x'"
// form, which editors and people expect.
func syntaxError(err error, src string) error {
	if err == nil {
		return nil
	}
	var pe *parse.Error
	if ae, ok := err.(*lua.ApiError); ok && ae.Type == lua.ApiErrorSyntax {
		// Load words syntax errors as Lua 5.1 does.
		if msg, ok := ae.Object.(lua.LString); ok && !strings.Contains(string(msg), "(column:") {
			if strings.HasSuffix(string(msg), "near '<eof>'") {
				return &incompleteError{chunkError(msg)}
			}
			return chunkError(msg)
		}
	}
	if ae, ok := err.(*lua.ApiError); ok && ae.Cause != nil {
		err = ae.Cause // gopher-lua's ApiError does not implement Unwrap
	}
	if !errors.As(err, &pe) {
		return chunkError(errText(err))
	}
	if pe.Pos.Line == parse.EOF {
		line := strings.Count(src, "\n") + 1
		return &incompleteError{chunkError(fmt.Sprintf("%s:%d: %s near '<eof>'", pe.Pos.Source, line, pe.Message))}
	}
	return chunkError(fmt.Sprintf("%s:%d: %s near '%s'", pe.Pos.Source, pe.Pos.Line, pe.Message, pe.Token))
}

// incompleteError is a syntax error at the end of the input: in the REPL
// more lines may complete the chunk.
type incompleteError struct{ chunkError }

func errText(err error) string {
	var ae *lua.ApiError
	if errors.As(err, &ae) && ae.Object != nil {
		return ae.Object.String()
	}
	return err.Error()
}

// messageHandler is lua.c's traceback message handler: the error in Lua 5.1's words,
// followed by debug.traceback from the failing frame for string messages.
func messageHandler(L *lua.LState) int {
	copaslua.ErrorHandler(L)
	msg := L.Get(-1)
	if _, ok := msg.(lua.LString); !ok {
		return 1
	}
	dbg, ok := L.GetGlobal("debug").(*lua.LTable)
	if !ok {
		return 1
	}
	tb := L.GetField(dbg, "traceback")
	if tb.Type() != lua.LTFunction {
		return 1
	}
	L.Push(tb)
	L.Push(msg)
	L.Push(lua.LNumber(2))
	L.Call(2, 1)
	return 1
}

// docall calls the loaded chunk (or fn) with args and returns its results.
// A chunk that failed to load is returned as the error.
func (c *cli) docall(ch any, results *[]lua.LValue, args ...lua.LValue) error {
	var fn lua.LValue
	switch v := ch.(type) {
	case loaded:
		if v.err != nil {
			return v.err
		}
		fn = v.fn
	case lua.LValue:
		fn = v
	}
	L := c.L
	base := L.GetTop()
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	err := L.PCall(len(args), lua.MultRet, L.NewFunction(messageHandler))
	if err == nil && results != nil {
		for i := base + 1; i <= L.GetTop(); i++ {
			*results = append(*results, L.Get(i))
		}
	}
	L.SetTop(base)
	return err
}

// report prints err like lua.c: "copas-lua: message" and the traceback for
// string (and number) errors, "(error object is not a string)" for other
// values, nothing for nil. It returns whether err was nil. Buffered output
// is flushed first so that it precedes the report, as when C's exit
// flushes stdout.
func (c *cli) report(err error, prefix bool) bool {
	if err == nil {
		return true
	}
	msg := err.Error()
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		switch obj := ae.Object.(type) {
		case *lua.LNilType:
			return false
		case lua.LString, lua.LNumber:
			msg = obj.String()
			if ae.StackTrace != "" {
				msg += "\n" + ae.StackTrace
			}
		default:
			msg = "(error object is not a string)"
		}
	}
	c.flush(c.L)
	if prefix {
		msg = progname + ": " + msg
	}
	fmt.Fprintln(os.Stderr, msg)
	return false
}

// usageFormat is lua5.1's usage message; %s is the program name.
const usageFormat = `usage: %s [options] [script [args]].
Available options are:
  -e stat  execute string 'stat'
  -l name  require library 'name'
  -i       enter interactive mode after executing 'script'
  -v       show version information
  --       stop handling options
  -        execute stdin and stop handling options
`

func usage() { fmt.Fprintf(os.Stderr, usageFormat, progname) }

// repl is lua.c's dotty: read a chunk (more lines while it is incomplete),
// run it, print its results; errors are reported without the program name.
func (c *cli) repl() {
	L := c.L
	c.editor = newLineEditor()
	for {
		ch, ok := c.loadLine()
		if !ok {
			break
		}
		var results []lua.LValue
		err := c.docall(ch, &results)
		c.report(err, false)
		if err == nil && len(results) > 0 {
			if perr := c.docall(L.GetGlobal("print"), nil, results...); perr != nil {
				fmt.Fprintf(os.Stderr, "error calling 'print' (%s)\n", errText(perr))
			}
		}
	}
	c.writeOut("\n")
}

// loadLine reads one chunk for the REPL; "=expr" on its first line means
// "return expr". ok is false at the end of input.
func (c *cli) loadLine() (loaded, bool) {
	line, ok := c.readLine(true)
	if !ok {
		return loaded{}, false
	}
	if rest, isExpr := strings.CutPrefix(line, "="); isExpr {
		line = "return " + rest
	}
	for {
		if c.editor != nil && c.editor.cancelled {
			// ^C at the prompt drops the chunk typed so far.
			return c.loadString("", "stdin"), true
		}
		ch := c.loadString(line, "stdin")
		if !incomplete(ch.err) {
			return ch, true
		}
		more, ok := c.readLine(false)
		if !ok {
			return loaded{}, false
		}
		line += "\n" + more
	}
}

// incomplete reports whether a chunk failed only because its input ended
// early (Lua 5.1 checks for "near '<eof>'").
func incomplete(err error) bool {
	var ie *incompleteError
	return errors.As(err, &ie)
}

// readLine prints the prompt (_PROMPT or _PROMPT2 if they are strings or
// numbers) and reads a line through io.stdin. When stdin is not a terminal
// the line is echoed after the prompt, as the readline-linked lua5.1 does,
// so piped sessions read like typed ones.
func (c *cli) readLine(first bool) (string, bool) {
	name, prompt := "_PROMPT", "> "
	if !first {
		name, prompt = "_PROMPT2", ">> "
	}
	switch p := c.L.GetGlobal(name).(type) {
	case lua.LString, lua.LNumber:
		prompt = p.String()
	}
	if c.editor != nil {
		c.flush(c.L)
		return c.editor.readLine(prompt)
	}
	c.writeOut(prompt)
	res, err := callMethod(c.L, c.stdin, "read", 1, lua.LString("*l"))
	if err != nil {
		return "", false
	}
	line, ok := res[0].(lua.LString)
	if !ok {
		return "", false
	}
	if !c.stdinTTY {
		c.writeOut(string(line) + "\n")
	}
	return string(line), true
}

// writeOut writes to stdout after flushing what the script buffered there.
func (c *cli) writeOut(s string) {
	c.flush(c.L)
	io.WriteString(os.Stdout, s)
}
