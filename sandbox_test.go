package copaslua_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
	lua "github.com/yuin/gopher-lua"
	"go.uber.org/goleak"
)

// Every escape a sandboxed script might try fails (each chunk must
// raise an error, or assert what it gets instead).
func TestSandboxEscapes(t *testing.T) {
	dir := t.TempDir()
	hostMod := filepath.Join(dir, "hostmod.lua")
	if err := os.WriteFile(hostMod, []byte(`return "host module"`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("COPAS_SANDBOX_SECRET", "s3cret")
	fsys := fstest.MapFS{
		"data.txt":   {Data: []byte("line 1\nline 2\n")},
		"lib/m.lua":  {Data: []byte(`return { answer = 42 }`)},
		"script.lua": {Data: []byte(`return 7`)},
	}
	rt := newRT(t, "", copaslua.WithSandbox(), copaslua.WithFS(fsys),
		copaslua.WithPackagePath("lib/?.lua;"+dir+"/?.lua"))
	mustFail := map[string]string{
		"os.execute":       `os.execute("true")`,
		"io.popen":         `io.popen("true")`,
		"os.exit":          `os.exit(1)`,
		"os.remove":        `os.remove("data.txt")`,
		"os.rename":        `os.rename("data.txt", "x")`,
		"os.tmpname":       `os.tmpname()`,
		"io.tmpfile":       `io.tmpfile()`,
		"os.setenv":        `os.setenv("GODEBUG", "tlsrsakex=1")`,
		"os.setlocale":     `os.setlocale("C")`,
		"debug library":    `debug.getregistry()`,
		"require debug":    `require "debug"`,
		"string.dump":      `string.dump(function() end)`,
		"setfd":            `local s = require("socket").tcp() s:setfd(1)`,
		"dofile host":      `dofile("/etc/passwd")`,
		"dofile escape":    `dofile("../../etc/passwd")`,
		"require host":     `require "hostmod"`,
		"io.lines host":    `io.lines("/etc/passwd")`,
		"io.input host":    `io.input("/etc/passwd")`,
		"io.output file":   `io.output("out.txt")`,
		"channel":          `channel.make()`,
		"ssl certificate":  `require("ssl").newcontext{mode = "server", protocol = "any", certificate = "/etc/ssl/private/x.pem"}`,
		"ssl wrap cafile":  `require("ssl").wrap(require("socket").tcp(), {mode = "client", protocol = "any", cafile = "/etc/passwd"})`,
		"getfenv registry": `local r = debug and debug.getregistry() assert(r)`,
	}
	for name, src := range mustFail {
		if err := rt.DoString(src); err == nil {
			t.Errorf("%s: allowed in the sandbox: %s", name, src)
		}
	}
	if err := rt.DoString(`
		assert(os.setenv == nil and os.setlocale == nil)
		assert(os.getenv("COPAS_SANDBOX_SECRET") == nil and os.getenv("HOME") == nil, "getenv reads the host")
		assert(io.open("/etc/passwd") == nil, "io.open reads the host")
		assert(io.open("data.txt", "w") == nil and io.open("data.txt", "r+") == nil, "writable")
		assert(loadfile("/etc/passwd") == nil)
		local ok, _, kind = package.loadlib("/lib/x86_64-linux-gnu/libc.so.6", "system")
		assert(ok == nil and kind == "absent")
		assert(#package.loaders == 2, #package.loaders)
		assert(select(2, io.stdout:close()) == "cannot close standard file")
		assert(io.read() == nil, "stdin is the host's")
		-- what the FS allows
		local f = assert(io.open("data.txt"))
		assert(f:read("*l") == "line 1" and f:read(2^40) == "line 2\n" and f:read(1) == nil)
		f:close()
		local n = 0 for l in io.lines("/data.txt") do n = n + 1 end assert(n == 2)
		assert(dofile("script.lua") == 7 and loadfile("./script.lua")() == 7)
		assert(require("m").answer == 42)`); err != nil {
		t.Fatal(err)
	}
}

// Without WithFS a sandboxed script reads no files at all.
func TestSandboxNoFS(t *testing.T) {
	rt := newRT(t, "", copaslua.WithSandbox())
	if err := rt.DoString(`
		assert(io.open("go.mod") == nil and io.open("/etc/passwd") == nil)
		assert(loadfile("go.mod") == nil and not pcall(dofile, "go.mod"))
		assert(#package.loaders == 1)
		assert(not pcall(require, "readme_test"))`); err != nil {
		t.Fatal(err)
	}
}

// WithEnv and WithGetenv are allow-lists for os.getenv.
func TestSandboxEnv(t *testing.T) {
	t.Setenv("COPAS_SB_A", "a")
	t.Setenv("COPAS_SB_B", "b")
	rt := newRT(t, "", copaslua.WithSandbox(), copaslua.WithEnv("COPAS_SB_A"))
	if err := rt.DoString(`assert(os.getenv("COPAS_SB_A") == "a" and os.getenv("COPAS_SB_B") == nil)`); err != nil {
		t.Fatal(err)
	}
	rt2 := newRT(t, "", copaslua.WithGetenv(func(n string) (string, bool) { return "v:" + n, n == "X" }))
	if err := rt2.DoString(`assert(os.getenv("X") == "v:X" and os.getenv("COPAS_SB_A") == nil)`); err != nil {
		t.Fatal(err)
	}
}

// Copas' default error handler reports a thread's error with its
// traceback under the sandbox (debug is gone for the script).
func TestSandboxCopasErrorHandler(t *testing.T) {
	defer goleak.VerifyNone(t)
	var errOut strings.Builder
	rt := newRT(t, `
		local copas = require "copas"
		copas.addthread(function() error("thread failed here") end)`,
		copaslua.WithSandbox(), copaslua.WithModules("copas"), copaslua.WithStderr(&errOut))
	if err := rt.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := errOut.String(); !strings.Contains(got, "thread failed here") || !strings.Contains(got, "stack traceback") {
		t.Fatalf("error report = %q", got)
	}
}

// WithModules brings each module's dependencies: every built-in module
// loads with only its own name allowed.
func TestModuleDependencies(t *testing.T) {
	all := copaslua.New()
	var names []string
	all.State().GetField(all.State().GetGlobal("package"), "preload").(*lua.LTable).ForEach(func(k, _ lua.LValue) {
		names = append(names, k.String())
	})
	all.Close()
	for _, name := range names {
		rt := copaslua.New(copaslua.WithSandbox(), copaslua.WithModules(name))
		if err := rt.DoString(`require "` + name + `"`); err != nil {
			t.Errorf("WithModules(%q): %v", name, err)
		}
		rt.Close()
	}
	// copas loads socket on first use: a thread doing socket I/O works.
	rt := newRT(t, "", copaslua.WithSandbox(), copaslua.WithModules("copas"))
	if err := rt.DoString(`
		local copas = require "copas"
		copas.addthread(function()
		  local srv = assert(require("socket").bind("127.0.0.1", 0))
		  local c = copas.wrap(require("socket").tcp())
		  assert(c:connect(srv:getsockname()))
		  c:close() srv:close() done = true
		end)
		copas.loop()
		assert(done)
		assert(not pcall(require, "ssl"))`); err != nil {
		t.Fatal(err)
	}
}

// io.open(f):read(2^40) returns the file's contents (as lua5.1 does)
// instead of aborting the process, in and outside the sandbox.
func TestHugeReadCount(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f.txt")
	if err := os.WriteFile(file, []byte(strings.Repeat("x", 100000)), 0o644); err != nil {
		t.Fatal(err)
	}
	rt := newRT(t, "")
	if err := rt.DoString(`
		local f = assert(io.open(` + luaQuote(file) + `))
		local s = f:read(2^40)
		assert(#s == 100000, #s)
		assert(f:read(2^40) == nil)
		f:close()
		f = assert(io.open(` + luaQuote(file) + `))
		local a, b = f:read(10, "*a")
		assert(#a == 10 and #b == 99990)
		f:close()
		io.input(` + luaQuote(file) + `)
		assert(#io.read(2^40) == 100000)`); err != nil {
		t.Fatal(err)
	}
	sb := newRT(t, "", copaslua.WithSandbox(), copaslua.WithFS(os.DirFS(dir)))
	if err := sb.DoString(`assert(#io.open("f.txt"):read(2^40) == 100000)`); err != nil {
		t.Fatal(err)
	}
	// An endless file gets "not enough memory", not a dead process.
	if _, err := os.Stat("/dev/zero"); err == nil {
		saved := *copaslua.MaxRead
		*copaslua.MaxRead = 8 << 20
		defer func() { *copaslua.MaxRead = saved }()
		done := make(chan error, 1)
		go func() {
			rt := copaslua.New()
			defer rt.Close()
			done <- rt.DoString(`local ok, err = pcall(function() return io.open("/dev/zero"):read("*a") end)
				assert(not ok and err:find("not enough memory"), tostring(err))`)
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(2 * time.Minute):
			t.Fatal("reading /dev/zero did not stop")
		}
	}
}

func luaQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "\\'") + "'" }
