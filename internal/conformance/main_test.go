// Package conformance holds the Lua 5.1 fidelity gates of copas-lua:
//
//   - TestLua51Suite and TestGluaSuite run gopher-lua's copy of the official
//     Lua 5.1 test suite (and its own _glua-tests) in place from the module
//     cache, under stock gopher-lua and under copas-lua, and require every
//     file stock passes to pass on copas-lua.
//   - TestDifferential runs a corpus of Lua programs (the repo's own *.lua
//     that need no network, and testdata/diff/*.lua) under PUC lua5.1 and
//     the copas-lua command, comparing stdout, the first line of the error
//     on stderr and the exit status.
//   - TestGenerated and FuzzDifferential do the same for programs made by a
//     seeded random generator (gen_test.go).
//   - FuzzRewrite is the oracle of internal/rewrite: a program compiled
//     through copas-lua's loader must behave as lua5.1 runs it (lua5.1, not
//     stock gopher-lua, is the oracle: stock gopher-lua has its own bugs).
//
// Every process a test starts runs under exec.CommandContext with a
// deadline. Child processes are this test binary itself (TestMain's child
// mode: a file in a copaslua.New runtime; under -race a copy built without
// the race detector, which would make the suite take minutes),
// testdata/stockrun (stock gopher-lua: a program of its own, because
// internal/lua51 patches gopher-lua's VM for the whole process), and the
// copas-lua command, each built once into a temporary directory.
//
// Fuzzing (each for as long as wanted):
//
//	go test -run '^$' -fuzz '^FuzzDifferential$' -fuzztime 10m ./internal/conformance/
//	go test -run '^$' -fuzz '^FuzzRewrite$' -fuzztime 10m ./internal/conformance/
package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
	lua "github.com/yuin/gopher-lua"
)

// childEnv selects TestMain's child mode: "copas" runs the file named by
// the last argument in-process in a copaslua.New runtime and exits 0 when
// it ran without error. (Stock gopher-lua runs in testdata/stockrun, a
// program of its own: copas-lua patches gopher-lua's VM for the whole
// process when it is linked in.)
const childEnv = "COPASLUA_CONFORMANCE_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(child(mode, os.Args[len(os.Args)-1]))
	}
	code := m.Run()
	if tmpPath != "" {
		os.RemoveAll(tmpPath)
	}
	os.Exit(code)
}

// child runs file in-process as mode says and returns the exit status.
// blankEnv may list line ranges ("5,33-34") that are replaced by empty
// lines before the file is compiled (the line numbers stay the same).
func child(mode, file string) int {
	src, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	spec := os.Getenv(blankEnv)
	if len(src) > 0 && src[0] == '#' { // skipped as lua.c does, keeping line numbers
		spec += ",1"
	}
	src = blankLines(src, spec)
	switch mode {
	case "copas":
		rt := copaslua.New()
		var fn *lua.LFunction
		if fn, err = rt.Load(bytes.NewReader(src), file); err == nil {
			rt.State().Push(fn)
			err = rt.State().PCall(0, lua.MultRet, nil)
		}
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err = rt.Run(ctx)
			cancel()
		}
		rt.Close()
	default:
		err = fmt.Errorf("unknown child mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// blankEnv carries the line ranges child blanks out.
const blankEnv = "COPASLUA_CONFORMANCE_BLANK"

// blankLines empties the 1-based lines listed in spec ("3,7-9").
func blankLines(src []byte, spec string) []byte {
	lines := bytes.Split(src, []byte("\n"))
	for _, part := range strings.Split(spec, ",") {
		if part == "" {
			continue
		}
		var from, to int
		if n, _ := fmt.Sscanf(part, "%d-%d", &from, &to); n < 2 {
			to = from
		}
		for i := from; i <= to && i <= len(lines); i++ {
			if i >= 1 {
				lines[i-1] = nil
			}
		}
	}
	return bytes.Join(lines, []byte("\n"))
}

// runResult is what one process run produced.
type runResult struct {
	stdout, stderr string
	code           int  // exit status; -1 when killed or not started
	timedOut       bool // the deadline killed it
	elapsed        time.Duration
}

// run starts name args in dir with the deadline d and waits for it.
// stdin is empty. Extra environment entries are added to the test's own.
func run(d time.Duration, dir string, env []string, name string, args ...string) runResult {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = nil
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 2 * time.Second
	start := time.Now()
	err := cmd.Run()
	r := runResult{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.code, r.timedOut = -1, true
	case err == nil:
		r.code = 0
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		r.code = -1
		r.stderr += err.Error()
	}
	return r
}

// runChild runs file in dir in a child process, with extra environment
// entries env: for mode "copas" this test binary in TestMain's child mode
// (one built without the race detector when this one has it), for
// "stock" testdata/stockrun.
func runChild(t testing.TB, d time.Duration, dir, mode, file string, env ...string) runResult {
	if mode == "stock" {
		return run(d, dir, env, stockRunner(t), file)
	}
	return run(d, dir, append(env, childEnv+"="+mode), helperBinary(t), "-test.run=^$", file)
}

// built is a program the tests build once into tempDir.
type built struct {
	once sync.Once
	path string
	err  error
}

// get builds the program on first use with `go VERB -o PATH REST...` run
// in dir; what names the build in its error.
func (b *built) get(t testing.TB, name, dir, what string, verb string, rest ...string) string {
	t.Helper()
	b.once.Do(func() {
		var tmp string
		if tmp, b.err = tempDir(); b.err != nil {
			return
		}
		b.path = filepath.Join(tmp, name)
		args := append([]string{verb, "-o", b.path}, rest...)
		if r := run(5*time.Minute, dir, nil, goCommand(), args...); r.code != 0 {
			b.err = fmt.Errorf("%s: exit %d: %s", what, r.code, r.stderr)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

var stockBuild, helperBuild, cliBuild built

// stockRunner is testdata/stockrun, built once.
func stockRunner(t testing.TB) string {
	t.Helper()
	return stockBuild.get(t, "stockrun", moduleRoot(), "go build stockrun", "build", "./internal/conformance/testdata/stockrun")
}

// helperBinary is the program runChild starts: os.Args[0], or under the
// race detector this package's test binary built without it.
func helperBinary(t testing.TB) string {
	t.Helper()
	if !raceEnabled {
		return os.Args[0]
	}
	wd, _ := os.Getwd()
	return helperBuild.get(t, "conformance.test", wd, "go test -c", "test", "-c", ".")
}

var (
	tmpOnce sync.Once
	tmpPath string
	tmpErr  error
)

// tempDir is one temporary directory for the built programs, removed by
// TestMain.
func tempDir() (string, error) {
	tmpOnce.Do(func() { tmpPath, tmpErr = os.MkdirTemp("", "conformance") })
	return tmpPath, tmpErr
}

// copasLua returns the path of the copas-lua command, built once (without
// the race detector: it is the program users run) into a temporary
// directory that TestMain removes.
func copasLua(t testing.TB) string {
	t.Helper()
	return cliBuild.get(t, "copas-lua", moduleRoot(), "go build ./cmd/copas-lua", "build", "./cmd/copas-lua")
}

// moduleRoot is the repository root (two levels above this package).
func moduleRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Dir(filepath.Dir(wd))
}

// lua51Path returns the path of PUC lua5.1. Where it is missing the test
// is skipped, except in CI (CI set), where that is a failure: .ci/run
// installs it.
func lua51Path(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("lua5.1")
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("lua5.1 not found (CI=%s): .ci/run installs it with apt-get install lua5.1", os.Getenv("CI"))
	}
	t.Skip("lua5.1 not found in PATH: the differential tests need PUC Lua 5.1 as their oracle (apt-get install lua5.1); CI installs it")
	return ""
}

// firstLine is s up to its first newline.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// goCommand is the go command of the toolchain running the tests.
func goCommand() string {
	// The toolchain's own go, by its GOROOT (the test binary's build-time
	// GOROOT is not to be trusted); else the one on PATH.
	if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}
