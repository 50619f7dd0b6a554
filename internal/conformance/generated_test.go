package conformance

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	l51 "github.com/copas-lua/copas-lua/internal/lua51"
	lua "github.com/yuin/gopher-lua"
)

// generatedCount is how many seeded programs TestGenerated runs (-short:
// a tenth).
const generatedCount = 300

// knownGenDiff are the categories of differences between lua5.1 and
// copas-lua that generated programs hit today. Each recognises a pair of
// differing lines (lua5.1's want, copas-lua's have: a line of stdout or
// the error message). A program whose differences all fall in known
// categories is logged, not failed; every other difference fails. When a
// fix lands its category stops being seen and the summary says so:
// delete it then.
var knownGenDiff = []struct {
	name, reason string
	// norm rewrites a line so that this difference disappears; the
	// categories' norms apply one after the other to both sides.
	norm func(string) string
	// explains, if set, explains a line pair by copas-lua's side alone.
	explains func(have string) bool
}{
	{name: "argname", reason: "bad argument errors name the function '?' where lua5.1 names it ('rep', 'format', ...), or by its field where lua5.1 uses the call site's name (local f = string.format; f(...): 'f')",
		norm: func(s string) string { return argName.ReplaceAllString(s, "to '?' (") }},
	{name: "errlevel", reason: "error(v, 2) through pcall: lua5.1 adds the caller's position, copas-lua none",
		norm: func(s string) string { return genPos.ReplaceAllString(s, `"`) }},
	{name: "varname", reason: "runtime errors do not name the variable (\"attempt to perform arithmetic on upvalue 'x' (a string value)\") or name the wrong kind",
		norm: func(s string) string { return varDesc.ReplaceAllString(s, "${1} a ${2}${3} value") }},
	{name: "nan", reason: "the sign of nan: 0/0 is -nan in lua5.1 (x86), copas-lua gives nan where .., string.format or error turn it into a string (and -nan for -(0/0))",
		norm: func(s string) string { return strings.ReplaceAll(s, "-nan", "nan") }},
	{name: "negzero", reason: "-0: unary minus of a runtime 0 is 0 in copas-lua (lua5.1 -0), and lua5.1's constant folding quirks (a folded -0 shares the constant 0) are not reproduced",
		norm: func(s string) string {
			for {
				t := negZero.ReplaceAllString(s, "${1}${2}${3}")
				if t == s {
					return s
				}
				s = t
			}
		}},
	{name: "syntax", reason: "syntax errors say \"syntax error near X\" / \"parse error near X\" where lua5.1 says what it expected (\"unexpected symbol near X\", \"'=' expected near X\")",
		explains: func(have string) bool {
			return strings.Contains(have, "syntax error near") || strings.Contains(have, "parse error near")
		}},
	{name: "hexfloat", reason: "arithmetic on a string holding a hex float (\"0x10\" .. 0.1 = \"0x100.1\"): lua5.1 converts it (256.0625), copas-lua raises \"attempt to perform arithmetic on a number value\"",
		explains: func(have string) bool {
			return strings.Contains(have, "attempt to perform arithmetic on a number value") || strings.Contains(have, "(a number value)")
		}},
}

var (
	argName = regexp.MustCompile(`to '[A-Za-z_][A-Za-z0-9_.:]*' \(`)
	genPos  = regexp.MustCompile(`"[^"\s]+\.lua:\d+: `)
	varDesc = regexp.MustCompile(`(attempt to (?:perform arithmetic on|concatenate|index|call|get length of)) (?:(?:local|upvalue|global|field|method) '[^']*' \(a (\w+) value\)|a (\w+) value)`)
	negZero = regexp.MustCompile(`(^|[^.e])-(0(?:\.0*)?)([^0-9.]|$)`)
)

// explainPair returns the categories that explain the difference of one
// line pair, or nil.
func explainPair(want, have string) []string {
	var cats []string
	for _, k := range knownGenDiff {
		if k.explains != nil && k.explains(have) {
			return []string{k.name}
		}
	}
	for _, k := range knownGenDiff {
		if k.norm == nil {
			continue
		}
		w, h := k.norm(want), k.norm(have)
		if w != want || h != have {
			want, have = w, h
			cats = append(cats, k.name)
		}
		if want == have {
			return cats
		}
	}
	return nil
}

// classify returns the known categories that explain every difference
// between ref and got, or ok=false with the first unexplained one.
func classify(ref, got outcome) (cats []string, unexplained string, ok bool) {
	seen := map[string]bool{}
	explainLine := func(want, have string) bool {
		cs := explainPair(want, have)
		for _, c := range cs {
			if !seen[c] {
				seen[c] = true
				cats = append(cats, c)
			}
		}
		return cs != nil
	}
	if ref.errMsg != got.errMsg && !explainLine(ref.errMsg, got.errMsg) {
		return nil, fmt.Sprintf("error: lua5.1 %q, copas-lua %q", ref.errMsg, got.errMsg), false
	}
	if ref.code != got.code && ref.errMsg == got.errMsg {
		return nil, fmt.Sprintf("exit status: lua5.1 %d, copas-lua %d", ref.code, got.code), false
	}
	w, g := strings.Split(ref.stdout, "\n"), strings.Split(got.stdout, "\n")
	if len(w) != len(g) {
		return nil, fmt.Sprintf("stdout: lua5.1 %d lines, copas-lua %d lines", len(w), len(g)), false
	}
	for i := range w {
		if w[i] != g[i] && !explainLine(w[i], g[i]) {
			return nil, fmt.Sprintf("line %d: lua5.1 %q, copas-lua %q", i+1, w[i], g[i]), false
		}
	}
	sort.Strings(cats)
	return cats, "", true
}

// knownGenSeeds are generated programs (seeds of TestGenerated) with a
// difference no category explains yet, and what it is. Such a seed is
// logged, not failed; when it no longer differs that way the log says so
// (delete it then). /tmp/conformance-findings.md of the session that
// wrote this has the minimal snippets.
var knownGenSeeds = map[int64]string{
	16:  "a Go nil-pointer panic reaches Lua as the error \"runtime error: invalid memory address or nil pointer dereference\" (lua5.1: attempt to perform arithmetic on a string value); not yet reduced",
	17:  "-0 formatted by %.3f and concatenated: lua5.1 \"-0.000\"/\"-0\", copas-lua \"0.000\"/\"0\"",
	78:  "nan sign inside a gsub result (\"-nan,x\" vs \"nan,-x\"): not yet reduced",
	109: "a number differs (-551e+14 vs -541e+14): not yet reduced",
	140: "a number differs (3 vs 2): not yet reduced",
	196: "copas-lua printed one line fewer: not yet reduced",
	214: "a string result differs (string.find/sub: 16 \"e\\nline\" vs 15 \"line\"): not yet reduced",
	219: "-0 in .. and a count differs (10 vs 8): not yet reduced",
	222: "float %: a value lua5.1 computes as 0 (a - floor(a/b)*b) is 5.55e-16 in copas-lua",
	223: "copas-lua printed three lines fewer: not yet reduced",
}

// genResult is the comparison of one generated program.
type genResult struct {
	seed        int64
	same        bool
	cats        []string
	unexplained string
	file        string
}

// compareProgram writes src to a file in dir and runs it under both.
func compareProgram(t testing.TB, lua51, cli, dir, name, src string) (ref, got outcome, file string) {
	file = filepath.Join(dir, name)
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	ref, got = runBoth(t, lua51, cli, file)
	return ref, got, file
}

func TestGenerated(t *testing.T) {
	lua51 := lua51Path(t)
	cli := copasLua(t)
	n := generatedCount
	if testing.Short() {
		n /= 10
	}
	dir := t.TempDir()
	results := make([]genResult, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		suiteSlots <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-suiteSlots }()
			seed := int64(i + 1)
			src := genProgram(seed, 6+i%10)
			ref, got, file := compareProgram(t, lua51, cli, dir, fmt.Sprintf("gen%d.lua", seed), src)
			r := genResult{seed: seed, file: file, same: ref == got}
			if ref.code == -1 {
				r.unexplained = "lua5.1 timed out"
			} else if !r.same {
				var ok bool
				r.cats, r.unexplained, ok = classify(ref, got)
				if ok {
					r.unexplained = ""
				}
			}
			results[i] = r
		}(i)
	}
	wg.Wait()
	summarise(t, results, dir)
}

// summarise reports the generated programs' outcome: unexplained
// differences fail (with the seed, and the program kept for reading when
// CONFORMANCE_KEEP names a directory), known categories are counted.
func summarise(t *testing.T, results []genResult, dir string) {
	t.Helper()
	same, known := 0, 0
	catSeeds := map[string][]int64{}
	keep := os.Getenv("CONFORMANCE_KEEP")
	for _, r := range results {
		switch {
		case r.same:
			same++
		case r.unexplained == "":
			known++
			for _, c := range r.cats {
				catSeeds[c] = append(catSeeds[c], r.seed)
			}
		case knownGenSeeds[r.seed] != "":
			known++
			t.Logf("seed %d: known unexplained difference (%s): %s", r.seed, knownGenSeeds[r.seed], r.unexplained)
		default:
			msg := fmt.Sprintf("seed %d: copas-lua differs from lua5.1: %s (regenerate with genProgram(%d, %d))", r.seed, r.unexplained, r.seed, 6+int(r.seed-1)%10)
			if keep != "" {
				src, _ := os.ReadFile(r.file)
				dst := filepath.Join(keep, filepath.Base(r.file))
				if err := os.WriteFile(dst, src, 0o644); err == nil {
					msg += "; program kept as " + dst
				}
			}
			t.Error(msg)
		}
	}
	for _, r := range results {
		if reason := knownGenSeeds[r.seed]; reason != "" && r.unexplained == "" {
			t.Logf("seed %d is in knownGenSeeds (%s) but has no unexplained difference now: delete the entry", r.seed, reason)
		}
	}
	t.Logf("generated programs: %d, identical output %d, known differences only %d, unexplained %d", len(results), same, known, len(results)-same-known)
	for _, k := range knownGenDiff {
		seeds := catSeeds[k.name]
		if len(seeds) == 0 {
			t.Logf("known category %q not seen in this run (fixed? then delete it): %s", k.name, k.reason)
			continue
		}
		if len(seeds) > 5 {
			seeds = seeds[:5]
		}
		t.Logf("known category %q: %d programs (seeds %v ...): %s", k.name, len(catSeeds[k.name]), seeds, k.reason)
	}
}

// fuzzProgram turns fuzz input into a program: the first 8 bytes are the
// seed, the next byte the number of blocks.
func fuzzProgram(data []byte) (seed int64, blocks int) {
	var b [9]byte
	copy(b[:], data)
	return int64(binary.LittleEndian.Uint64(b[:8])), 1 + int(b[8])%16
}

// FuzzDifferential compares lua5.1 and copas-lua on generated programs;
// the input chooses the program (fuzzProgram). Known categories skip,
// anything else fails. Seeds: testdata/fuzz/FuzzDifferential.
func FuzzDifferential(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 6})
	f.Fuzz(func(t *testing.T, data []byte) {
		lua51 := lua51Path(t)
		cli := copasLua(t)
		seed, blocks := fuzzProgram(data)
		src := genProgram(seed, blocks)
		name := fmt.Sprintf("fuzz%x.lua", uint64(seed))
		ref, got, _ := compareProgram(t, lua51, cli, t.TempDir(), name, src)
		checkPair(t, ref, got, src)
	})
}

// checkPair fails t on an unexplained difference and skips on a known
// one.
func checkPair(t *testing.T, ref, got outcome, src string) {
	t.Helper()
	if ref == got {
		return
	}
	if ref.code == -1 {
		t.Skip("lua5.1 timed out")
	}
	cats, why, ok := classify(ref, got)
	if ok {
		t.Skipf("known differences only: %v", cats)
	}
	t.Fatalf("copas-lua differs from lua5.1: %s\n%s\nprogram:\n%s", why, explain(ref, got), src)
}

// fuzzGuard starts every FuzzRewrite program (on its first line, so that
// line numbers stay): a mutated program must not run commands or touch
// files outside its temporary directory.
const fuzzGuard = "os.execute, io.popen, os.remove, os.rename, os.exit = nil, nil, nil, nil, nil; "

// FuzzRewrite is the oracle of copas-lua's loader (internal/rewrite and
// the lua51 VM patches): any program, compiled and run by copas-lua,
// behaves as lua5.1 runs it. lua5.1 is the oracle rather than stock
// gopher-lua, which has bugs of its own. Inputs are Lua source, seeded
// with the differential corpus (the repository's Lua files that need no
// network, testdata/diff) and generated programs. Programs whose lua5.1
// output is not reproducible (addresses, time) or that do not finish are
// skipped; known categories skip; any other difference fails.
func FuzzRewrite(f *testing.F) {
	// Seeds that differ today for a known reason (knownDiff) are skipped.
	known := map[string]string{}
	for _, c := range corpus(f) {
		if _, ex := excluded[c.rel]; ex {
			continue
		}
		src, err := os.ReadFile(c.abs)
		if err != nil || builtinRequire.Match(src) || strings.HasPrefix(c.rel, "luamod/") {
			continue
		}
		if reason, ok := knownDiff[c.rel]; ok {
			known[string(src)] = reason
		}
		f.Add(string(src))
	}
	for seed := int64(1); seed <= 12; seed++ {
		if knownGenSeeds[seed] == "" {
			f.Add(genProgram(seed, 6+int(seed-1)%10))
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		if reason, ok := known[src]; ok {
			t.Skip("a knownDiff program: " + reason)
		}
		if len(src) > 1<<16 || strings.HasPrefix(src, "#") || strings.Contains(src, "\x00") {
			t.Skip("not a program this target runs")
		}
		lua51 := lua51Path(t)
		if grammarDiffers(lua51, src) {
			t.Skip("gopher-lua's grammar and Lua 5.1's differ on this program (one loads it, the other does not; README, Differences)")
		}
		cli := copasLua(t)
		dir := t.TempDir()
		prog := fuzzGuard + src
		ref, got, file := compareProgram(t, lua51, cli, dir, "prog.lua", prog)
		if ref.code == -1 {
			t.Skip("lua5.1 does not finish it")
		}
		again := normalise(run(diffTimeout, dir, diffEnv, lua51, filepath.Base(file)))
		if again != ref {
			t.Skip("lua5.1's own output is not reproducible (addresses, time)")
		}
		checkPair(t, ref, got, prog)
	})
}

// grammarDiffers: lua5.1 (luac5.1 -p, beside it) and copas-lua's loader
// disagree on whether src is a valid chunk. gopher-lua's parser accepts
// some chunks Lua 5.1 rejects (empty statements, goto, numbers run into
// names) and rejects some it accepts (\f and \v as white space, hex
// floats, goto as a name); the README lists them. Messages of chunks both
// reject are still compared.
func grammarDiffers(lua51, src string) bool {
	luac := filepath.Join(filepath.Dir(lua51), "luac5.1")
	if _, err := os.Stat(luac); err != nil {
		return false
	}
	f := filepath.Join(os.TempDir(), fmt.Sprintf("grammar-%d.lua", os.Getpid()))
	if err := os.WriteFile(f, []byte(src), 0o600); err != nil {
		return false
	}
	defer os.Remove(f)
	refOK := exec.Command(luac, "-p", f).Run() == nil
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	_, err := l51.Load(L, strings.NewReader(src), "prog")
	return refOK != (err == nil)
}
