package main

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
)

// bin is the copas-lua binary built once for all tests; luaRef is lua5.1
// if it is installed. Cases marked same also run under lua5.1 to check
// that the expectations written here are really lua5.1's behaviour.
var bin, luaRef string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "copas-lua-cli")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "copas-lua")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building copas-lua:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	luaRef, _ = exec.LookPath("lua5.1")
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reading the build information:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	version = "copas-lua " + versionOf(bi) + " (gopher-lua 1.1.2, Lua 5.1)\n"
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	out, err string
	code     int
}

type invocation struct {
	args  []string // after argv[0]
	stdin string
	env   []string // added to the environment (without LUA_INIT, LUA_PATH)
	dir   string
	argv0 string // argv[0]; "copas-lua" if empty
}

// start runs path with the invocation. argv[0] is "copas-lua" for both
// interpreters unless set, so lua5.1's messages use the same program name
// and arg[-1] is the same. The context bounds every process.
func start(t *testing.T, path string, inv invocation) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path)
	cmd.Args = append([]string{"copas-lua"}, inv.args...)
	if inv.argv0 != "" {
		cmd.Args[0] = inv.argv0
	}
	cmd.Dir = inv.dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LUA_INIT=") && !strings.HasPrefix(kv, "LUA_PATH=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, inv.env...)
	cmd.Stdin = strings.NewReader(inv.stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok || ctx.Err() != nil {
			t.Fatalf("%s %q: %v", path, inv.args, err)
		}
		code = ee.ExitCode()
	}
	return result{out.String(), errb.String(), code}
}

// writeFiles creates files (name → content) in a new temporary directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

const argDump = `for i = -3, #arg do io.write(i, "=", tostring(arg[i]), "\n") end
print(select("#", ...), ...)
`

const traceback = "\nstack traceback:\n"

// version is the line -v and -i print on stderr (lua5.1 prints its own),
// with the version the test binary's build information gives.
var version string

type cliCase struct {
	name string
	inv  invocation
	out  string // exact stdout
	err  string // stderr prefix
	code int
	// same: lua5.1 must print the same stdout and exit status and the
	// same first line of stderr (tracebacks differ: [C] vs [G]).
	same bool
}

func TestCLI(t *testing.T) {
	files := map[string]string{
		"argdump.lua":    argDump,
		"mymod.lua":      `MYMOD = "loaded " .. ... ; return true`,
		"fail.lua":       "local x = 1\nerror('script failed')\n",
		"shebang.lua":    "#!/usr/bin/env copas-lua\nprint('ran', ...)\nerror('line 3')\n",
		"syntax.lua":     "x = = 1\n",
		"setx.lua":       "x = 5\n",
		"init.lua":       `print("init file")`,
		"sub/inpath.lua": `return "from LUA_PATH"`,
		"indefault.lua":  `return "from default path"`,
	}
	dir := writeFiles(t, files)

	cases := []cliCase{
		{name: "arg table and varargs", inv: invocation{args: []string{"-e", "x=1", "argdump.lua", "a", "b c"}},
			out: "-3=copas-lua\n-2=-e\n-1=x=1\n0=argdump.lua\n1=a\n2=b c\n2\ta\tb c\n", same: true},
		{name: "arg after --", inv: invocation{args: []string{"--", "argdump.lua", "-x"}},
			out: "-3=nil\n-2=copas-lua\n-1=--\n0=argdump.lua\n1=-x\n1\t-x\n", same: true},
		{name: "no args", inv: invocation{args: []string{"argdump.lua"}},
			out: "-3=nil\n-2=nil\n-1=copas-lua\n0=argdump.lua\n0\n", same: true},
		{name: "stdin script with -", inv: invocation{args: []string{"-", "a", "b"}, stdin: "print(arg[-1], arg[0], ...)"},
			out: "copas-lua\t-\ta\tb\n", same: true},
		{name: "file named - after --", inv: invocation{args: []string{"--", "-"}, stdin: "print(1)"},
			err: "copas-lua: cannot open -", code: 1, same: true},
		{name: "stdin without script", inv: invocation{stdin: "#!shebang skipped\nprint(arg, select('#', ...))"},
			out: "nil\t0\n", same: true},
		{name: "stdin after --", inv: invocation{args: []string{"--"}, stdin: "print('stdin')"},
			out: "stdin\n", same: true},
		{name: "stdin after -l", inv: invocation{args: []string{"-l", "mymod"}, stdin: "print(MYMOD)"},
			out: "loaded mymod\n", same: true},
		{name: "-e does not read stdin", inv: invocation{args: []string{"-e", "print(1)"}, stdin: "print(2)"},
			out: "1\n", same: true},
		{name: "-e attached and several", inv: invocation{args: []string{"-eprint(1)", "-e", "print(2)"}},
			out: "1\n2\n", same: true},
		{name: "-l", inv: invocation{args: []string{"-l", "mymod", "-lstring", "-e", "print(MYMOD)"}},
			out: "loaded mymod\n", same: true},
		{name: "-l missing module", inv: invocation{args: []string{"-l", "nomod"}},
			err: "copas-lua: ", code: 1},
		{name: "-v", inv: invocation{args: []string{"-v"}, stdin: "print('not run')"}, err: version},
		{name: "-v with -e", inv: invocation{args: []string{"-v", "-e", "print(1)"}},
			out: "1\n", err: version},
		{name: "-i from a pipe", inv: invocation{args: []string{"-i"}, stdin: "=1+1\n"},
			out: "> =1+1\n2\n> \n", err: version, same: true},
		{name: "-i after script", inv: invocation{args: []string{"-i", "setx.lua"}, stdin: "=x\n"},
			out: "> =x\n5\n> \n", err: version, same: true},
		{name: "-i multi-line and results", inv: invocation{args: []string{"-i"},
			stdin: "if true then\nprint('x')\nend\nreturn 1, nil, 'a'\nlocal y = 1\n=nil\nx = [[\nlong]]\n=x\n"},
			out: "> if true then\n>> print('x')\n>> end\nx\n> return 1, nil, 'a'\n1\tnil\ta\n> local y = 1\n> =nil\nnil\n" +
				"> x = [[\n>> long]]\n> =x\nlong\n> \n", err: version, same: true},
		{name: "-i errors", inv: invocation{args: []string{"-i"}, stdin: "error('boom')\nx = = 1\n=2\n"},
			out: "> error('boom')\n> x = = 1\n> =2\n2\n> \n", err: version + "stdin:1: boom" + traceback},
		{name: "-i prompts", inv: invocation{args: []string{"-i"}, stdin: "_PROMPT = '$ '\n_PROMPT2 = 2\nfor i = 1, 2 do\nend\n"},
			out: "> _PROMPT = '$ '\n$ _PROMPT2 = 2\n$ for i = 1, 2 do\n2end\n$ \n", err: version, same: true},
		// The REPL and io.stdin share one buffer, as lua.c without
		// readline shares C's stdin (readline's lua5.1 loses "=2").
		{name: "-i reads io.stdin", inv: invocation{args: []string{"-i"}, stdin: "=io.read()\nhello\n=2\n"},
			out: "> =io.read()\nhello\n> =2\n2\n> \n", err: version},
		{name: "runtime error", inv: invocation{args: []string{"-e", "error('boom')"}},
			err: "copas-lua: (command line):1: boom" + traceback + "\t[C]: in function 'error'\n", code: 1, same: true},
		{name: "script error", inv: invocation{args: []string{"fail.lua"}},
			err: "copas-lua: fail.lua:2: script failed" + traceback, code: 1, same: true},
		{name: "shebang line skipped", inv: invocation{args: []string{"shebang.lua", "x"}},
			out: "ran\tx\n", err: "copas-lua: shebang.lua:3: line 3" + traceback, code: 1, same: true},
		{name: "error object not a string", inv: invocation{args: []string{"-e", "error({})"}},
			err: "copas-lua: (error object is not a string)\n", code: 1, same: true},
		{name: "syntax error in -e", inv: invocation{args: []string{"-e", "x = = 1"}},
			err: "copas-lua: (command line):1: unexpected symbol near '='\n", code: 1, same: true},
		{name: "syntax error at eof", inv: invocation{args: []string{"-e", "if x then"}},
			err: "copas-lua: (command line):1: 'end' expected near '<eof>'\n", code: 1, same: true},
		{name: "syntax error in file", inv: invocation{args: []string{"syntax.lua"}},
			err: "copas-lua: syntax.lua:1: unexpected symbol near '='\n", code: 1, same: true},
		{name: "missing script", inv: invocation{args: []string{"nothere.lua"}},
			err: "copas-lua: cannot open nothere.lua: No such file or directory\n", code: 1, same: true},
		{name: "script is a directory", inv: invocation{args: []string{"sub"}},
			err: "copas-lua: cannot read sub: Is a directory\n", code: 1, same: true},
		{name: "error stops options", inv: invocation{args: []string{"-e", "error('x')", "-e", "print(2)"}},
			err: "copas-lua: (command line):1: x", code: 1, same: true},
		{name: "os.exit code", inv: invocation{args: []string{"-e", "io.write('abc') os.exit(3)"}},
			out: "abc", code: 3, same: true},
		{name: "os.exit default", inv: invocation{args: []string{"-e", "os.exit()"}}, same: true},
		{name: "os.exit true", inv: invocation{args: []string{"-e", "os.exit(true)"}}},
		{name: "os.exit false", inv: invocation{args: []string{"-e", "os.exit(false)"}}, code: 1},
		{name: "os.exit flushes", inv: invocation{args: []string{"-e", "io.stdout:setvbuf('full') io.write('buffered') os.exit(5)"}},
			out: "buffered", code: 5, same: true},
		{name: "os.exit in a coroutine", inv: invocation{args: []string{"-e",
			"coroutine.wrap(function() io.stdout:setvbuf('full') io.write('co') os.exit(4) end)()"}},
			out: "co", code: 4, same: true},
		{name: "os.exit flushes io.output", inv: invocation{args: []string{"-e",
			"local f = io.output(io.stdout) f:setvbuf('full') io.write('out') os.exit(0)"}},
			out: "out", same: true},
		{name: "exit flushes", inv: invocation{args: []string{"-e", "io.stdout:setvbuf('full') io.write('end')"}},
			out: "end", same: true},
		{name: "error flushes", inv: invocation{args: []string{"-e", "io.stdout:setvbuf('full') io.write('before') error('e')"}},
			out: "before", err: "copas-lua: (command line):1: e", code: 1, same: true},
		{name: "LUA_INIT chunk", inv: invocation{args: []string{"-e", "print(2)"}, env: []string{`LUA_INIT=print("init", arg)`}},
			out: "init\tnil\n2\n", same: true},
		{name: "LUA_INIT file", inv: invocation{args: []string{"-e", "print(2)"}, env: []string{"LUA_INIT=@init.lua"}},
			out: "init file\n2\n", same: true},
		{name: "LUA_INIT before bad option", inv: invocation{args: []string{"-z"}, env: []string{`LUA_INIT=print("init")`}},
			out: "init\n", err: "usage: copas-lua", code: 1, same: true},
		{name: "LUA_INIT error", inv: invocation{args: []string{"-e", "print(2)"}, env: []string{"LUA_INIT=error('x')"}},
			err: "copas-lua: LUA_INIT:1: x" + traceback, code: 1, same: true},
		{name: "LUA_INIT missing file", inv: invocation{args: []string{"-e", "print(2)"}, env: []string{"LUA_INIT=@nope.lua"}},
			err: "copas-lua: cannot open nope.lua: No such file or directory\n", code: 1, same: true},
		{name: "LUA_PATH with ;;", inv: invocation{env: []string{"LUA_PATH=./sub/?.lua;;"}, args: []string{"-e",
			"print(require('inpath')) print(require('indefault')) print(package.path)"}},
			out: "from LUA_PATH\nfrom default path\n./sub/?.lua;" + copaslua.DefaultPath + ";\n"},
		{name: "LUA_PATH without ;;", inv: invocation{env: []string{"LUA_PATH=./sub/?.lua"}, args: []string{"-e",
			"print((pcall(require, 'indefault'))) print(package.path)"}},
			out: "false\n./sub/?.lua\n"},
	}
	// A pure-Lua rock from Debian (apt lua-dkjson, installed by .ci/run)
	// loads from the default path.
	if _, err := os.Stat("/usr/share/lua/5.1/dkjson.lua"); err == nil || os.Getenv("CI") == "true" {
		cases = append(cases, cliCase{name: "pure-Lua rock on the default path",
			inv: invocation{args: []string{"-e", `print(require("dkjson").encode({1, 2, "x"}))`}}, out: "[1,2,\"x\"]\n", same: true})
	} else {
		t.Log("lua-dkjson is not installed: the pure-Lua rock case is skipped")
	}
	cases = append(cases,
		cliCase{name: "--tls-verify=none", inv: invocation{args: []string{"--tls-verify=none", "-e", "print(1)"}}, out: "1\n"},
		cliCase{name: "--tls-verify=bogus", inv: invocation{args: []string{"--tls-verify=bogus", "-e", "print(1)"}}, err: usageText, code: 1})
	for _, o := range []string{"-x", "-vx", "-ix", "--x", "-e", "-l", "-v -e"} {
		cases = append(cases, cliCase{name: "bad option " + o, inv: invocation{args: strings.Fields(o)}, err: usageText, code: 1, same: true})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.inv.dir = dir
			got := start(t, bin, tc.inv)
			if got.out != tc.out || got.code != tc.code || !strings.HasPrefix(got.err, tc.err) {
				t.Errorf("copas-lua %q:\nstdout %q\nwant   %q\nstderr %q\nwant prefix %q\nstatus %d, want %d",
					tc.inv.args, got.out, tc.out, got.err, tc.err, got.code, tc.code)
			}
			if tc.err == "" && got.err != "" {
				t.Errorf("unexpected stderr %q", got.err)
			}
			if !tc.same || luaRef == "" {
				return
			}
			ref := start(t, luaRef, tc.inv)
			if ref.out != got.out || ref.code != got.code || firstLine(ref.err) != firstLine(got.err) &&
				!strings.HasPrefix(got.err, version) ||
				strings.Contains(ref.err, traceback) != strings.Contains(got.err, traceback) {
				t.Errorf("differs from lua5.1 for %q:\ncopas-lua: %q %q %d\nlua5.1:    %q %q %d",
					tc.inv.args, got.out, got.err, got.code, ref.out, ref.err, ref.code)
			}
		})
	}
}

var usageText = fmt.Sprintf(usageFormat, "copas-lua")

// TestUsageMatchesLua checks the whole usage text against lua5.1's
// (the bad-option cases check only its first line against lua5.1).
func TestUsageMatchesLua(t *testing.T) {
	if luaRef == "" {
		t.Skip("lua5.1 not installed")
	}
	ref := start(t, luaRef, invocation{args: []string{"-x"}})
	if ref.err != usageText {
		t.Errorf("lua5.1 usage:\n%s\nours:\n%s", ref.err, usageText)
	}
}

// TestRelaunch checks that arg[-1] starts the interpreter again, as
// scripts that spawn copies of themselves rely on.
func TestRelaunch(t *testing.T) {
	dir := writeFiles(t, map[string]string{"relaunch.lua": `
if ... == "child" then print("child of", arg[-1]) os.exit(7) end
local p = io.popen(string.format("%q %q child", arg[-1], arg[0]))
io.write(p:read("*a"))
p:close()
`})
	got := start(t, bin, invocation{args: []string{"relaunch.lua"}, dir: dir, argv0: bin})
	want := "child of\t" + bin + "\n"
	if got != (result{out: want}) {
		t.Fatalf("got %+v, want stdout %q", got, want)
	}
}

// TestNoFileLimit starts copas-lua with a low soft descriptor limit and
// checks that it runs with the soft limit raised to the hard limit.
func TestNoFileLimit(t *testing.T) {
	if _, err := os.Stat("/proc/self/limits"); err != nil {
		t.Skip("no /proc/self/limits")
	}
	dir := writeFiles(t, map[string]string{"limits.lua": `
for l in io.lines("/proc/self/limits") do
	if l:match("^Max open files") then print(l:match("(%d+)%s+(%d+)")) end
end`})
	got := start(t, "/bin/sh", invocation{dir: dir, argv0: "sh",
		args: []string{"-c", "ulimit -Sn 64 && exec " + strconv.Quote(bin) + " limits.lua"}})
	f := strings.Fields(got.out)
	if got.code != 0 || len(f) != 2 {
		t.Fatalf("got %+v", got)
	}
	if f[0] != f[1] {
		t.Errorf("soft limit %s, hard limit %s: want them equal", f[0], f[1])
	}
}

// TestMainChunkDoesNotRunLoop: like lua5.1, the program exits when the
// main chunk returns, even if the script left work for an event loop
// (here, a coroutine nobody resumes).
func TestMainChunkDoesNotRunLoop(t *testing.T) {
	got := start(t, bin, invocation{args: []string{"-e",
		"co = coroutine.create(function() print('never') end) print('done')"}})
	if got != (result{out: "done\n"}) {
		t.Errorf("got %+v", got)
	}
}

func TestCollectArgs(t *testing.T) {
	for _, tc := range []struct {
		argv             string
		script           int
		hasI, hasV, hasE bool
		ok               bool
	}{
		{"lua", 0, false, false, false, true},
		{"lua s.lua -x", 1, false, false, false, true},
		{"lua -e x -l y s.lua", 5, false, false, true, true},
		{"lua -ex -ly s.lua", 3, false, false, true, true},
		{"lua -i", 0, true, true, false, true},
		{"lua -v -", 2, false, true, false, true},
		{"lua -- -", 2, false, false, false, true},
		{"lua --", 0, false, false, false, true},
		{"lua -e", 0, false, false, false, false},
		{"lua -iv", 0, false, false, false, false},
		{"lua -x", 0, false, false, false, false},
	} {
		script, hasI, hasV, hasE, ok := collectArgs(strings.Fields(tc.argv))
		if script != tc.script || hasI != tc.hasI || hasV != tc.hasV || hasE != tc.hasE || ok != tc.ok {
			t.Errorf("collectArgs(%q) = %d %v %v %v %v, want %d %v %v %v %v", tc.argv,
				script, hasI, hasV, hasE, ok, tc.script, tc.hasI, tc.hasV, tc.hasE, tc.ok)
		}
	}
}

// FuzzCollectArgs checks that any command line is either rejected or
// yields a script index that runArgs and handleScript can use.
func FuzzCollectArgs(f *testing.F) {
	for _, s := range []string{"-e x s.lua a", "-- -", "-i -v", "-lx", "-", "--"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		argv := append([]string{"copas-lua"}, strings.Fields(s)...)
		script, _, _, _, ok := collectArgs(argv)
		if !ok {
			return
		}
		if script < 0 || script >= len(argv) {
			t.Fatalf("script index %d out of range for %q", script, argv)
		}
		n := len(argv)
		if script > 0 {
			n = script
		}
		for i := 1; i < n; i++ { // every word before the script is an option or its value
			a := argv[i]
			if a == "" || a[0] != '-' {
				t.Fatalf("non-option %q before script %d in %q", a, script, argv)
			}
			if (a == "-e" || a == "-l") && i+1 >= n {
				t.Fatalf("option %q without value accepted in %q", a, argv)
			}
			if a == "-e" || a == "-l" {
				i++
			}
		}
	})
}
