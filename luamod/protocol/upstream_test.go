package protocol_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Upstream test scripts, run unmodified with the copas-lua CLI from
// checkouts of the references (not part of this repository) named by the
// environment: COPAS_LUA_LUASOCKET_TESTS is LuaSocket's test directory,
// COPAS_LUA_COPAS_TESTS Copas' tests directory.
const (
	luasocketTestsEnv = "COPAS_LUA_LUASOCKET_TESTS"
	copasTestsEnv     = "COPAS_LUA_COPAS_TESTS"
)

// refDir is the directory named by env, or skips the test saying how to
// run it.
func refDir(t *testing.T, env, what string) string {
	t.Helper()
	dir := os.Getenv(env)
	if dir == "" {
		t.Skipf("%s is not set: set it to a checkout's %s to run these upstream scripts", env, what)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("%s=%s: %v", env, dir, err)
	}
	return dir
}

func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "copas-lua")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/copas-lua/copas-lua/cmd/copas-lua").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// copyDir copies the regular files of src (not subdirectories) to a new
// temporary directory, so scripts that write scratch files do it there.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestUpstreamLuaSocketScripts(t *testing.T) {
	src := refDir(t, luasocketTestsEnv, "LuaSocket test/ directory")
	bin := buildCLI(t)
	dir := copyDir(t, src)
	for script, marker := range map[string]string{
		"urltest.lua":   "the library passed all tests",
		"mimetest.lua":  "testing b64 low-level: ok",
		"ltn12test.lua": "testing filter.chain (and source.chain, a bunch): ok",
	} {
		t.Run(script, func(t *testing.T) {
			cmd := exec.Command(bin, script)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), marker) || strings.Contains(string(out), "failed") {
				t.Fatalf("%s: %v\n%s", script, err, out)
			}
		})
	}
}

// Copas' tests/request.lua against a local server. (tests/http-timeout.lua
// binds the fixed port 49500 and takes ~15 s; run it by hand.)
func TestUpstreamCopasRequest(t *testing.T) {
	dir := refDir(t, copasTestsEnv, "Copas tests/ directory")
	bin := buildCLI(t)
	s := testServer(t)
	cmd := exec.Command(bin, "request.lua", s.URL+"/large?n=100000")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "content: 100000 bytes") {
		t.Fatalf("request.lua: %v\n%s", err, out)
	}
}
