package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestTestCommand runs `copas-lua test` on the runner's fixtures: exit
// status, the summary line, and file:line of a failure.
func TestTestCommand(t *testing.T) {
	fixtures, err := filepath.Abs("../../testdata/runner")
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, bin, invocation{args: []string{"test", "pass"}, dir: fixtures})
	if r.code != 0 || r.out != "22 passed, 0 failed, 2 skipped\n" {
		t.Errorf("passing suite: code %d, stdout %q, stderr %q", r.code, r.out, r.err)
	}

	r = start(t, bin, invocation{args: []string{"test", "--run", "compares numbers", "fail/fail_test.lua"}, dir: fixtures})
	want := "--- FAIL: fail/fail_test.lua: failing compares numbers ("
	if r.code != 1 || !strings.HasPrefix(r.out, want) ||
		!strings.Contains(r.out, "\n    fail/fail_test.lua:3: expected values to be equal\n") ||
		!strings.HasSuffix(r.out, "\n0 passed, 1 failed\n") {
		t.Errorf("failing suite: code %d, stdout:\n%s", r.code, r.out)
	}

	r = start(t, bin, invocation{args: []string{"test", "--frobnicate"}, dir: fixtures})
	if r.code != 2 || !strings.HasPrefix(r.err, "copas-lua test: flag provided but not defined") {
		t.Errorf("bad flag: code %d, stderr %q", r.code, r.err)
	}
}

// A script named "test" is still run as a script, as lua5.1 would.
func TestTestCommandYieldsToScript(t *testing.T) {
	dir := writeFiles(t, map[string]string{"test": `print("script named test", ...)`})
	r := start(t, bin, invocation{args: []string{"test", "a"}, dir: dir})
	if r.code != 0 || r.out != "script named test\ta\n" {
		t.Errorf("code %d, stdout %q, stderr %q", r.code, r.out, r.err)
	}
}
