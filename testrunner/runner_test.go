package testrunner

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const fixtures = "../testdata/runner"

// byName indexes a file's results by test name.
func byName(t *testing.T, fr FileResult) map[string]Result {
	t.Helper()
	m := map[string]Result{}
	for _, r := range fr.Results {
		if _, dup := m[r.Name]; dup {
			t.Errorf("two results named %q", r.Name)
		}
		m[r.Name] = r
	}
	return m
}

// want describes an expected result; empty fields are not checked.
type want struct {
	status  Status
	kind    string
	where   string // suffix of Where, e.g. "fail_test.lua:3"
	message string // regexp
	details string // regexp
	output  string // substring
}

func check(t *testing.T, got map[string]Result, name string, w want) {
	t.Helper()
	r, ok := got[name]
	if !ok {
		t.Errorf("%q: no result", name)
		return
	}
	if r.Status != w.status {
		t.Errorf("%q: status %v, want %v (%s: %s\n%s)", name, r.Status, w.status, r.Where, r.Message, r.Details)
	}
	if w.kind != "" && r.Kind != w.kind {
		t.Errorf("%q: kind %q, want %q", name, r.Kind, w.kind)
	}
	if w.where != "" && !strings.HasSuffix(r.Where, w.where) {
		t.Errorf("%q: where %q, want …%s", name, r.Where, w.where)
	}
	if w.message != "" && !regexp.MustCompile(w.message).MatchString(r.Message) {
		t.Errorf("%q: message %q does not match %q", name, r.Message, w.message)
	}
	if w.details != "" && !regexp.MustCompile(w.details).MatchString(r.Details) {
		t.Errorf("%q: details %q do not match %q", name, r.Details, w.details)
	}
	if w.output != "" && !strings.Contains(r.Output, w.output) {
		t.Errorf("%q: output %q lacks %q", name, r.Output, w.output)
	}
}

func TestPassing(t *testing.T) {
	t.Parallel()
	got := byName(t, RunFile(fixtures+"/pass/echo_test.lua", Options{}))
	for _, n := range []string{
		"echo server echoes a line", "echo server serves clients concurrently",
		"echo server ran the hooks around each test", "assertions has luassert-style chains",
		"assertions keeps plain assert", "assertions lets a failing assertion be caught",
		"assertions can sleep and use timers", "is a test outside any describe",
	} {
		check(t, got, n, want{status: Pass})
	}
	check(t, got, "a test to write later", want{status: Skip, message: "^pending$"})
	check(t, got, "skips can be skipped from inside", want{status: Skip, message: "^not today$"})
	if len(got) != 10 {
		t.Errorf("%d results, want 10", len(got))
	}

	got = byName(t, RunFile(fixtures+"/pass/features_test.lua", Options{}))
	for n, r := range got {
		if r.Status != Pass {
			t.Errorf("%q: %v %s: %s\n%s", n, r.Status, r.Where, r.Message, r.Details)
		}
	}
}

// A file without tests is one test, and the loop runs after the chunk.
func TestPlainScript(t *testing.T) {
	t.Parallel()
	fr := RunFile(fixtures+"/pass/plain_test.lua", Options{})
	got := byName(t, fr)
	check(t, got, "", want{status: Pass, output: "plain script ran"})

	got = byName(t, RunFile(fixtures+"/fail/plainfail_test.lua", Options{}))
	check(t, got, "", want{status: Fail, kind: KindFailure, where: "plainfail_test.lua:2", message: "^x should be 2$"})

	got = byName(t, RunFile(fixtures+"/fail/syntax_test.lua", Options{}))
	check(t, got, "", want{status: Fail, kind: KindError, where: "syntax_test.lua:3", message: "syntax error near 'end'"})

	got = byName(t, RunFile(fixtures+"/hang/loop_test.lua", Options{}))
	check(t, got, "", want{status: Fail, kind: KindTimeout, message: "timed out after 200ms", details: `(?s)sleeper.*loop_test.lua:5`})
}

func TestFailing(t *testing.T) {
	t.Parallel()
	start := time.Now()
	got := byName(t, RunFile(fixtures+"/fail/fail_test.lua", Options{}))
	check(t, got, "failing compares numbers", want{status: Fail, kind: KindFailure, where: "fail_test.lua:3",
		message: "^expected values to be equal$", details: `expected: \(number\) 3\n  actual: \(number\) 2`})
	check(t, got, "failing compares tables", want{status: Fail, kind: KindFailure, where: "fail_test.lua:7",
		details: `(?m)^-   port = 80,\n\+   port = 8080,$`})
	check(t, got, "failing errors", want{status: Fail, kind: KindError, where: "fail_test.lua:13", message: "attempt to index"})
	check(t, got, "failing uses plain assert", want{status: Fail, kind: KindFailure, where: "fail_test.lua:17", message: "^one is not two$"})
	check(t, got, "failing passes", want{status: Pass, output: "output of a passing test"})
	check(t, got, "failing times out", want{status: Fail, kind: KindTimeout, where: "fail_test.lua:24",
		message: "^timed out after 200ms$",
		details: `(?s)test: failing times out\n.*fail_test.lua:27.*helper\n.*fail_test.lua:26`})
	check(t, got, "failing runs after a timeout in a clean runtime", want{status: Pass})
	check(t, got, "failing waits forever", want{status: Fail, kind: KindTimeout, message: "can never finish",
		details: `paused forever`})
	check(t, got, "failing fails in another thread", want{status: Fail, kind: KindError,
		message: "a Copas thread failed", details: "fail_test.lua:42: handler broke"})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v: the timeout and the deadlock should end their tests early", d)
	}

	got = byName(t, RunFile(fixtures+"/fail/hooks_test.lua", Options{}))
	check(t, got, "broken setup first", want{status: Fail, where: "hooks_test.lua:2", message: "^setup failed: cannot start the server"})
	check(t, got, "broken setup second", want{status: Fail, message: "^setup failed"})
	check(t, got, "broken teardown passes", want{status: Pass})
	check(t, got, "broken teardown (teardown)", want{status: Fail, where: "hooks_test.lua:8", message: "cannot stop the server"})
	check(t, got, "before_each fails skips the body", want{status: Fail, where: "hooks_test.lua:15", message: "^no fixture$"})
	check(t, got, "after_each ran anyway", want{status: Pass})
}

// A test that never gives the loop back is reported and its file given up.
func TestBusyLoopAbandonsFile(t *testing.T) {
	t.Parallel()
	fr := RunFile(fixtures+"/hang/busy_test.lua", Options{grace: 100 * time.Millisecond})
	got := byName(t, fr)
	check(t, got, "spins without yielding", want{status: Fail, kind: KindTimeout, message: "did not give the loop back.*abandoned"})
	if _, ran := got["never runs"]; ran || len(got) != 1 {
		t.Errorf("results after the abandoned test: %v", got)
	}
	if fr.Duration > 5*time.Second { // far below the 10 s default: the file was given up
		t.Errorf("abandoning took %v", fr.Duration)
	}

	// With time to come back, the overrun is a timeout and the file goes on.
	got = byName(t, RunFile(fixtures+"/hang/busy_test.lua", Options{}))
	check(t, got, "spins without yielding", want{status: Fail, kind: KindTimeout, message: "without giving the loop back"})
	check(t, got, "never runs", want{status: Pass})
}

func TestRunFilter(t *testing.T) {
	t.Parallel()
	opts := Options{Run: regexp.MustCompile(`echo server (echoes|ran)`)}
	got := byName(t, RunFile(fixtures+"/pass/echo_test.lua", opts))
	if len(got) != 2 {
		t.Fatalf("selected %d tests, want 2: %v", len(got), got)
	}
	check(t, got, "echo server echoes a line", want{status: Pass})
	// The hooks saw only the selected tests.
	check(t, got, "echo server ran the hooks around each test", want{status: Fail, kind: KindFailure})
}

func run(t *testing.T, args ...string) (code int, out, errOut string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(args, &o, &e, false)
	return code, o.String(), e.String()
}

func TestMainExitCodes(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, fixtures+"/pass")
	if code != ExitOK || out != "22 passed, 0 failed, 2 skipped\n" {
		t.Errorf("pass: code %d, output:\n%s", code, out)
	}
	if strings.Contains(out, "--- PASS") {
		t.Errorf("passing tests listed without -v:\n%s", out)
	}

	code, out, _ = run(t, "--run", "compares numbers|plainfail", fixtures+"/fail", "-v")
	if code != ExitFailed {
		t.Errorf("fail: code %d, want %d", code, ExitFailed)
	}
	for _, s := range []string{
		"--- FAIL: " + fixtures + "/fail/fail_test.lua: failing compares numbers (",
		fixtures + "/fail/fail_test.lua:3: expected values to be equal",
		fixtures + "/fail/plainfail_test.lua:2: x should be 2",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	if !strings.HasSuffix(out, "\n0 passed, 2 failed\n") {
		t.Errorf("final line: %q", out)
	}

	for _, args := range [][]string{{"--bogus"}, {"--timeout", "soon"}, {"--run", "("}, {"--format", "xml"}, {"no/such/dir"}} {
		if code, _, e := run(t, args...); code != ExitUsage || e == "" {
			t.Errorf("%v: code %d, stderr %q", args, code, e)
		}
	}
	if code, _, e := run(t, t.TempDir()); code != ExitFailed || !strings.Contains(e, "no *_test.lua files") {
		t.Errorf("empty dir: code %d, stderr %q", code, e)
	}
}

// The project's own script tests pass through the command. Not parallel
// with the other tests here, and one file at a time: some scripts check
// timings to 50 ms, and the root package runs the same files meanwhile.
func TestProjectScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every script of testdata/lua (the root package's TestLuaScripts does too)")
	}
	code, out, _ := run(t, "--parallel", "1", "--timeout", "60", "../testdata/lua")
	if code != ExitOK || !regexp.MustCompile(`(?m)^[1-9]\d* passed, 0 failed\n$`).MatchString(out) {
		t.Errorf("code %d, output:\n%s", code, out)
	}
}

func TestJUnit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "junit.xml")
	code, _, _ := run(t, "--junit", path, "--run", "failing (compares|passes|errors)|echo|plain", fixtures+"/fail", fixtures+"/pass")
	if code != ExitFailed {
		t.Errorf("code %d", code)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("junit does not parse: %v\n%s", err, data)
	}
	cases := map[string]junitCase{}
	n := 0
	for _, s := range doc.Suites {
		if len(s.Cases) != s.Tests {
			t.Errorf("suite %s: tests=%d but %d testcases", s.Name, s.Tests, len(s.Cases))
		}
		for _, c := range s.Cases {
			cases[c.Name] = c
			n++
		}
	}
	// fail_test: 5 selected (one by "plain"); plainfail; echo_test: 10;
	// plain_test.
	if n != 17 || doc.Tests != 17 {
		t.Errorf("%d testcases, tests=%d; want 17", n, doc.Tests)
	}
	if doc.Failures != 4 || doc.Errors != 1 || doc.Skipped != 2 {
		t.Errorf("failures=%d errors=%d skipped=%d, want 4 1 2", doc.Failures, doc.Errors, doc.Skipped)
	}
	c := cases["failing compares numbers"]
	if c.Failure == nil || c.Line != 3 || c.Failure.Type != KindFailure ||
		!strings.Contains(c.Failure.Text, "fail_test.lua:3: expected values to be equal") {
		t.Errorf("failing testcase: %+v %+v", c, c.Failure)
	}
	if c := cases["failing errors"]; c.Error == nil {
		t.Errorf("error testcase: %+v", c)
	}
	if c := cases["a test to write later"]; c.Skipped == nil {
		t.Errorf("skipped testcase: %+v", c)
	}
	if c := cases["failing passes"]; c.Failure != nil || c.Error != nil || !strings.Contains(c.SystemOut, "output of a passing test") {
		t.Errorf("passing testcase: %+v", c)
	}
}

func TestTAP(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, "--format", "tap", "--run", "failing (compares numbers|passes)|later", fixtures+"/fail/fail_test.lua", fixtures+"/pass/echo_test.lua")
	if code != ExitFailed {
		t.Errorf("code %d", code)
	}
	for _, re := range []string{
		`^TAP version 13\n`,
		`(?m)^not ok \d - \S+fail_test.lua: failing compares numbers\n  ---\n  message: "expected values to be equal"\n`,
		`(?m)^ok \d - \S+fail_test.lua: failing passes$`,
		`(?m)^ok \d - \S+echo_test.lua: a test to write later # SKIP pending$`,
		`\n1\.\.3\n# 1 passed, 1 failed, 1 skipped\n$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("TAP output does not match %q:\n%s", re, out)
		}
	}
}

func TestDiff(t *testing.T) {
	got := diffLines([]string{"{", "  a = 1,", "  b = 2,", "}"}, []string{"{", "  a = 1,", "  b = 3,", "}"})
	want := "- expected\n+ actual\n  {\n    a = 1,\n-   b = 2,\n+   b = 3,\n  }"
	if got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
}

// The progress line is drawn only on a terminal and erased before results
// and the summary, so the final line stays clean.
func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	rep := &TextReporter{W: &b, Progress: true, Files: 2}
	rep.Started("a_test.lua")
	rep.Started("b_test.lua")
	rep.FileDone(FileResult{File: "a_test.lua", Results: []Result{{File: "a_test.lua", Status: Fail, Where: "a_test.lua:3", Message: "boom"}}})
	rep.FileDone(FileResult{File: "b_test.lua", Results: []Result{{File: "b_test.lua", Status: Pass}}})
	rep.Finish(Summary{Passed: 1, Failed: 1})
	out := b.String()
	for _, s := range []string{"[0/2 files] 0 passed, 0 failed  running a_test.lua, b_test.lua", "[1/2 files] 0 passed, 1 failed  running b_test.lua",
		"\r\x1b[K--- FAIL: a_test.lua (0.00s)\n    a_test.lua:3: boom\n", "\r\x1b[K1 passed, 1 failed\n"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%q", s, out)
		}
	}
	b.Reset()
	rep = &TextReporter{W: &b, Files: 1}
	rep.Started("a_test.lua")
	rep.FileDone(FileResult{File: "a_test.lua"})
	rep.Finish(Summary{})
	if b.String() != "0 passed, 0 failed\n" {
		t.Errorf("without a terminal: %q", b.String())
	}
}
