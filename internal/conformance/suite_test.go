package conformance

import (
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// gopherLuaDir is the module directory of the gopher-lua that go.mod
// selects, in the module cache (`go list -m`; after `go mod download` on a
// clean clone it is there).
func gopherLuaDir(t testing.TB) string {
	t.Helper()
	gopherOnce.Do(func() {
		r := run(time.Minute, moduleRoot(), nil, goCommand(), "list", "-m", "-f", "{{.Dir}}", "github.com/yuin/gopher-lua")
		gopherDir = strings.TrimSpace(r.stdout)
		if r.code != 0 || gopherDir == "" {
			gopherErr = fmt.Errorf("go list -m github.com/yuin/gopher-lua: exit %d: %s (run go mod download)", r.code, r.stderr)
		}
	})
	if gopherErr != nil {
		t.Fatal(gopherErr)
	}
	return gopherDir
}

var (
	gopherOnce sync.Once
	gopherDir  string
	gopherErr  error
)

// suiteFile is the expected outcome of one suite file. The zero value
// means: stock gopher-lua and copas-lua both pass it.
type suiteFile struct {
	// timeout of one run; zero means defaultTimeout.
	timeout time.Duration
	// neither: stock gopher-lua fails it too, and why. The file still
	// runs on copas-lua (logged, not checked); stock is not run again.
	neither string
	// knownBroken: stock passes it, copas-lua fails it today, and why.
	// The test fails when such a file starts passing, so that the entry
	// is deleted and the list only shrinks.
	knownBroken string
	// skip: not run at all, and why.
	skip string
	// blank: line ranges ("5,33-34") emptied before both runs: assertions
	// of gopher-lua-only message texts or formats, which copas-lua
	// replaces by Lua 5.1's. The line numbers stay the same.
	blank string
}

// defaultTimeout bounds one run of a suite file. The slowest file that
// passes, constructs.lua, takes about 7 s on one core.
const defaultTimeout = 60 * time.Second

// lua51Suite describes every file of _lua5.1-tests (gopher-lua v1.1.2's
// adapted copy of the Lua 5.1 suite). A file missing from the map fails
// the test: a new gopher-lua version must be looked at file by file.
var lua51Suite = map[string]suiteFile{
	"all.lua":        {neither: "the suite's driver: asserts os.setlocale\"C\" (gopher-lua has no os.setlocale) and dofiles every file; each runs here on its own"},
	"api.lua":        {},
	"attrib.lua":     {},
	"big.lua":        {skip: "builds a 2^25-byte string and concatenates it 129 times (4 GiB) to provoke a 32-bit size overflow, which lua5.1 itself fails on a 64-bit machine; it would exhaust a CI machine's memory"},
	"calls.lua":      {},
	"checktable.lua": {},
	"closure.lua":    {},
	"code.lua":       {},
	"constructs.lua": {},
	"db.lua":         {neither: "db.lua:26: debug.getinfo's short_src/what/line fields differ from Lua 5.1 in gopher-lua"},
	"errors.lua":     {neither: "stock: errors.lua:29 (error() without a value does not raise nil); copas-lua gets further, to errors.lua:39 (unpack({}, 1, n=2^30) must raise)"},
	"events.lua":     {},
	"files.lua":      {},
	"gc.lua":         {neither: "gc.lua:88: gcinfo is missing in gopher-lua"},
	"literals.lua":   {},
	"locals.lua":     {},
	"main.lua":       {neither: "tests the lua.c standalone interpreter through os.execute of \"lua\" (main.lua:5: os.execute() without a command)"},
	// 47, 48, 52: tonumber('\n  -10  \n', 36) == -36 holds for gopher-lua only:
	// Lua 5.1 converts with strtoul, which negates in unsigned arithmetic
	// (lua5.1 on x86-64 gives 1.844674407371e+19), and so does copas-lua.
	"math.lua":    {blank: "47,48,52"},
	"nextvar.lua": {neither: "nextvar.lua:174: table.foreach is missing in gopher-lua"},
	"pm.lua":      {},
	"sort.lua":    {},
	"strings.lua": {},
	"vararg.lua":  {},
	"verybig.lua": {timeout: 20 * time.Second, neither: "stock gopher-lua takes about 70 s to compile the generated chunk of >64k constants and then fails its assertion at line 120033; lua5.1 runs the file in 0.4 s (the time limit here is 20 s, so it passes here once compiling is fast)"},
}

// gluaSuite describes every file of _glua-tests, gopher-lua's own tests.
// Their assertions of gopher-lua's own error texts are blanked out: there
// copas-lua says what Lua 5.1 says.
var gluaSuite = map[string]suiteFile{
	"base.lua": {},
	// 8, 17: "can not resume a running/dead thread" (Lua 5.1: "cannot
	// resume running/dead coroutine").
	"coroutine.lua": {blank: "8,17"},
	"db.lua":        {},
	// goto and labels are Lua 5.2: 5.1 reads goto as a name.
	"goto.lua": {blank: "7-8,11,15,18-22,25-26,29-35"},
	// 78-79, 83-85, 90-101, 107-115: debug.traceback's gopher-lua format
	// ("[G]: ?" frames); 167: "attempt to call a non-function object".
	"issues.lua": {blank: "78-79,83-85,90-101,107-115,167", knownBroken: "issues.lua:208: pcall(nil) must fail with \"attempt to call a nil value\" (copas-lua: \"=[copas-lua coroutine shim]:20: attempt to call a non-function object\")"},
	// 7, 12: math.max()/math.min() say "wrong number of arguments" in
	// gopher-lua ("bad argument #1 to 'max' (number expected, got no
	// value)" in Lua 5.1).
	"math.lua": {blank: "7,12"},
	"os.lua":   {},
	// 7: gsub's "%c" in a replacement is "%c" in gopher-lua, "c" in Lua 5.1.
	"strings.lua": {blank: "7"},
	"table.lua":   {},
	// 5: "__unm undefined", 33/40/47: "for statement init/limit/step must
	// be a number", 52: "cannot perform add operation between table and
	// function", 57: "cannot perform concat operation ...", 129: "register
	// overflow", 136: "cannot use '...' outside a vararg function" (Lua
	// 5.1 has its own text for each); 13: #t calls __len of a table (Lua
	// 5.1 ignores __len for tables).
	"vm.lua": {blank: "5,13,33,40,47,52,57,129,136"},
}

func TestLua51Suite(t *testing.T) {
	runSuite(t, filepath.Join(gopherLuaDir(t), "_lua5.1-tests"), lua51Suite)
}

func TestGluaSuite(t *testing.T) {
	runSuite(t, filepath.Join(gopherLuaDir(t), "_glua-tests"), gluaSuite)
}

// suiteSlots bounds the suite files running at once.
var suiteSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

func runSuite(t *testing.T, dir string, spec map[string]suiteFile) {
	files, err := filepath.Glob(filepath.Join(dir, "*.lua"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no *.lua in %s: %v", dir, err)
	}
	sort.Strings(files)
	seen := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		seen[name] = true
		sf, ok := spec[name]
		t.Run(name, func(t *testing.T) {
			if !ok {
				t.Fatalf("%s is not described in this test's table: run it under stock gopher-lua and copas-lua and add it", name)
			}
			if sf.skip != "" {
				t.Skip(sf.skip)
			}
			t.Parallel()
			suiteSlots <- struct{}{}
			defer func() { <-suiteSlots }()
			d := sf.timeout
			if d == 0 {
				d = defaultTimeout
			}
			var env []string
			if sf.blank != "" {
				env = append(env, blankEnv+"="+sf.blank)
			}
			if sf.neither == "" {
				stock := runChild(t, d, dir, "stock", name, env...)
				if stock.code != 0 {
					t.Fatalf("stock gopher-lua fails %s, which it is expected to pass: %s", name, describe(stock, d))
				}
			}
			copas := runChild(t, d, dir, "copas", name, env...)
			passed := copas.code == 0
			switch {
			case sf.neither != "":
				t.Logf("neither stock gopher-lua nor (so far) copas-lua is expected to pass this file: %s", sf.neither)
				if passed {
					t.Logf("copas-lua passes it now (%v): move it out of the neither list", copas.elapsed.Round(time.Millisecond))
				} else {
					t.Logf("copas-lua: %s", describe(copas, d))
				}
			case sf.knownBroken != "":
				if passed {
					t.Errorf("%s is in knownBroken (%s) but copas-lua passes it now: delete the entry", name, sf.knownBroken)
				} else {
					t.Logf("known broken on copas-lua: %s\ncopas-lua: %s", sf.knownBroken, describe(copas, d))
				}
			case !passed:
				t.Errorf("stock gopher-lua passes %s, copas-lua fails it: %s", name, describe(copas, d))
			}
		})
	}
	for name := range spec {
		if !seen[name] {
			t.Errorf("%s is described in this test's table but not in %s", name, dir)
		}
	}
}

// describe is a one-line account of a failed run.
func describe(r runResult, d time.Duration) string {
	if r.timedOut {
		return fmt.Sprintf("no result within %v", d)
	}
	return fmt.Sprintf("exit %d after %v: %s", r.code, r.elapsed.Round(time.Millisecond), strings.TrimSpace(r.stderr))
}
