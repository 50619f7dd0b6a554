package copaslua_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/copas-lua/copas-lua/testrunner"
)

// TestLuaScripts runs every testdata/lua/*_test.lua file through the test
// runner (as `copas-lua test testdata/lua` does), each file in a fresh
// runtime as a subtest, and each Lua test as a subtest of its
// file. A script that declares no tests is one test: it fails by raising
// an error, and after it returns the loop runs until nothing is pending.
// The global TESTDIR holds the absolute path of testdata/lua, which is
// also on package.path.
func TestLuaScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/lua/*_test.lua")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no Lua script tests found")
	}
	// 60 s: scripts written before the runner had that cap for the whole
	// file, and a file without tests is a single test.
	opts := testrunner.Options{Timeout: 60 * time.Second}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), testrunner.Suffix)
		// One file at a time: several scripts check timer and lock timings
		// that two cores shared with the race detector and other packages
		// cannot keep when thirty scripts run at once.
		t.Run(name, func(t *testing.T) {
			res := testrunner.RunFile(f, opts)
			if res.Output != "" {
				t.Log(res.Output)
			}
			for _, r := range res.Results {
				if r.Name == "" {
					report(t, r) // the file is the test
					continue
				}
				t.Run(r.Name, func(t *testing.T) { report(t, r) })
			}
		})
	}
}

// report turns a Lua test's result into the outcome of t.
func report(t *testing.T, r testrunner.Result) {
	t.Helper()
	if r.Output != "" {
		t.Log(strings.TrimRight(r.Output, "\n"))
	}
	switch r.Status {
	case testrunner.Skip:
		t.Skip(r.Message)
	case testrunner.Fail:
		msg := r.Message
		if r.Where != "" {
			msg = r.Where + ": " + msg
		}
		if r.Details != "" {
			msg += "\n" + r.Details
		}
		t.Error(msg)
	}
}
