package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// diffTimeout bounds one run of a corpus program under either interpreter.
const diffTimeout = 20 * time.Second

// diffEnv is the environment both interpreters run with: no LUA_INIT, a
// package.path of the program's directory only and no C modules, so that
// a machine with LuaSocket or Copas installed for lua5.1 behaves as a
// fresh CI machine; TZ fixed for os.date.
var diffEnv = []string{
	"LUA_INIT=",
	"LUA_PATH=./?.lua;./?/init.lua",
	"LUA_CPATH=./?.so",
	"TZ=UTC",
	"LC_ALL=C",
}

// builtinRequire matches a require of a module that copas-lua has built
// in and plain lua5.1 lacks: such a program needs the network or the
// Copas loop, and is not part of the corpus.
var builtinRequire = regexp.MustCompile(`require\s*\(?\s*["'](copas|socket|ssl|ltn12|mime|coxpcall|testing|copaslua)\b`)

// excluded are the repository's Lua files that are not in the corpus
// although they require no built-in module.
var excluded = map[string]string{
	"luamod/copas/lua/copas.lua":            "module source: copas-lua loads it with its Go core module as argument",
	"luamod/socket/socket.lua":              "module source: copas-lua loads it with its Go core module as argument",
	"luamod/mime/mime.lua":                  "module source: copas-lua loads it with its Go core module as argument",
	"testrunner/testing.lua":                "module source: the test runner loads it with its Go core module as argument",
	"testdata/lua/assign_test.lua":          "needs the test runner's TESTDIR global",
	"testdata/lua/base_test.lua":            "checks copas-lua's bounded string.rep/unpack (a Lua error instead of lua5.1 allocating 10 GB: string.rep(\"x\", 1e10))",
	"testdata/lua/memory_limits_test.lua":   "checks copas-lua's 1 GiB caps on .. and table.concat (lua5.1 builds the 1.25 GiB strings)",
	"testdata/lua/coroutine_test.lua":       "yields across pcall, which copas-lua allows on purpose (README, Differences)",
	"testdata/runner/fail/hooks_test.lua":   "fixture of the test runner (describe/it globals)",
	"testdata/runner/hang/busy_test.lua":    "fixture of the test runner (describe/it globals; loops forever)",
	"internal/badargs/testdata/surface.lua": "lists the API of the built-in modules, which lua5.1 has none of (it loads them with pcall(require))",
	"internal/badargs/testdata/walker.lua":  "the bad-argument walker of the built-in modules (internal/badargs compares it with the reference)",
}

// knownDiff are corpus programs whose lua5.1 and copas-lua runs differ
// today, and how. The test fails when one of them starts to match, so
// that its entry is deleted and the list only shrinks.
var knownDiff = map[string]string{
	"internal/conformance/testdata/diff/rterrors.lua": "coroutine.resume(42) in a tail call gets no position or name (gopher-lua's tail call replaces the caller's frame); next({}, \"nokey\") returns nil (lua5.1: error \"invalid key to 'next'\")",
}

// corpusFile is one program of the differential corpus: path relative to
// the repository root.
type corpusFile struct {
	rel, abs string
}

// corpus lists the repository's *.lua files (git ls-files, so that only
// committed files count; testdata/diff's own programs among them) that
// need no network and no built-in module, and testdata/diff/*.lua not yet
// committed.
func corpus(t testing.TB) []corpusFile {
	root := moduleRoot()
	seen := map[string]bool{}
	var files []corpusFile
	add := func(rel string) {
		if seen[rel] {
			return
		}
		seen[rel] = true
		files = append(files, corpusFile{rel: rel, abs: filepath.Join(root, rel)})
	}
	r := run(time.Minute, root, nil, "git", "ls-files", "*.lua")
	if r.code == 0 {
		for _, rel := range strings.Fields(r.stdout) {
			add(rel)
		}
	} else {
		t.Logf("git ls-files failed (%s); the corpus is testdata/diff only", strings.TrimSpace(r.stderr))
	}
	own, _ := filepath.Glob("testdata/diff/*.lua")
	for _, f := range own {
		add(filepath.ToSlash(filepath.Join("internal/conformance", f)))
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	return files
}

// outcome is what one interpreter did with a program, normalised for
// comparison.
type outcome struct {
	stdout string
	errMsg string // the first line of stderr without the program name
	code   int
}

func (o outcome) String() string {
	return fmt.Sprintf("exit %d, stderr %q, stdout %q", o.code, o.errMsg, o.stdout)
}

// progPrefix is the program name lua.c puts before an error report (its
// argv[0]: "lua5.1: ", "/usr/bin/lua5.1: ", "copas-lua: ").
var progPrefix = regexp.MustCompile(`^(\S*/)?(lua5\.1|copas-lua): `)

// normalise turns a run into an outcome: lua.c reports "progname: msg"
// followed by a traceback; only msg's first line is compared.
func normalise(r runResult) outcome {
	msg := progPrefix.ReplaceAllString(firstLine(r.stderr), "")
	code := r.code
	if r.timedOut {
		code = -1
		msg = "(timed out)"
	}
	return outcome{stdout: r.stdout, errMsg: msg, code: code}
}

// runBoth runs the program file (in its directory) under lua5.1 and
// copas-lua.
func runBoth(t testing.TB, lua51, cli, file string) (ref, got outcome) {
	dir, base := filepath.Split(file)
	ref = normalise(run(diffTimeout, dir, diffEnv, lua51, base))
	got = normalise(run(diffTimeout, dir, diffEnv, cli, base))
	return ref, got
}

// diffLines describes where two outputs differ, line by line.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	n := max(len(w), len(g))
	shown := 0
	for i := 0; i < n && shown < 12; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "  line %d:\n    lua5.1:    %q\n    copas-lua: %q\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

// explain is a readable account of how got differs from ref.
func explain(ref, got outcome) string {
	var b strings.Builder
	if ref.code != got.code {
		fmt.Fprintf(&b, "exit status: lua5.1 %d, copas-lua %d\n", ref.code, got.code)
	}
	if ref.errMsg != got.errMsg {
		fmt.Fprintf(&b, "error: lua5.1 %q\n       copas-lua %q\n", ref.errMsg, got.errMsg)
	}
	if ref.stdout != got.stdout {
		b.WriteString("stdout:\n" + diffLines(ref.stdout, got.stdout))
	}
	return b.String()
}

func TestDifferential(t *testing.T) {
	lua51 := lua51Path(t)
	cli := copasLua(t)
	files := corpus(t)
	inCorpus := map[string]bool{}
	for _, f := range files {
		f := f
		if reason, ok := excluded[f.rel]; ok {
			t.Logf("not in the corpus: %s: %s", f.rel, reason)
			continue
		}
		src, err := os.ReadFile(f.abs)
		if err != nil {
			t.Error(err)
			continue
		}
		if m := builtinRequire.FindSubmatch(src); m != nil {
			t.Logf("not in the corpus: %s: requires the built-in module %q (network or the Copas loop; lua5.1 has none)", f.rel, m[1])
			continue
		}
		inCorpus[f.rel] = true
		t.Run(f.rel, func(t *testing.T) {
			t.Parallel()
			suiteSlots <- struct{}{}
			ref, got := runBoth(t, lua51, cli, f.abs)
			<-suiteSlots
			if ref.code == -1 {
				t.Fatalf("lua5.1 did not finish within %v: not a corpus program", diffTimeout)
			}
			reason, known := knownDiff[f.rel]
			switch {
			case ref == got && known:
				t.Errorf("%s is in knownDiff (%s) but copas-lua now behaves as lua5.1: delete the entry", f.rel, reason)
			case ref != got && known:
				t.Logf("known difference: %s\n%s", reason, explain(ref, got))
			case ref != got:
				t.Errorf("copas-lua differs from lua5.1:\n%s", explain(ref, got))
			}
		})
	}
	for rel := range knownDiff {
		if !inCorpus[rel] {
			t.Errorf("knownDiff lists %s, which is not in the corpus", rel)
		}
	}
	for rel := range excluded {
		if _, err := os.Stat(filepath.Join(moduleRoot(), rel)); err != nil {
			t.Errorf("excluded lists %s, which does not exist", rel)
		}
	}
}
