package lua51

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// cpathState is a state with the Lua 5.1 layer and the C searchers;
// package.path and LUA_CPATH point into dir.
func cpathState(t *testing.T, dir string) *lua.LState {
	t.Helper()
	t.Setenv("LUA_CPATH", filepath.Join(dir, "?.so")+";"+filepath.Join(dir, "lib", "?.so"))
	L := lua.NewState()
	t.Cleanup(L.Close)
	Install(L)
	installCPath(L)
	L.SetField(L.GetGlobal("package"), "path", lua.LString(filepath.Join(dir, "?.lua")))
	return L
}

func luaString(t *testing.T, L *lua.LState, src string) string {
	t.Helper()
	if err := L.DoString("return " + src); err != nil {
		t.Fatal(err)
	}
	s := L.ToStringMeta(L.Get(-1)).String()
	L.Pop(1)
	return s
}

// require's messages, package.cpath and package.loadlib are lua5.1's.
func TestCPathLikeLua(t *testing.T) {
	dir := t.TempDir()
	L := cpathState(t, dir)
	cases := []string{
		`select(2, pcall(require, "nosuch"))`,
		`select(2, pcall(require, "a.b"))`,
		`package.cpath`,
		`table.concat({tostring(package.loadlib("x.so", "f"))}, "|")`,
		`select("#", package.loadlib("x.so", "f"))`,
	}
	want := []string{
		"module 'nosuch' not found:\n\tno field package.preload['nosuch']\n\tno file '" + dir + "/nosuch.lua'\n\tno file '" + dir + "/nosuch.so'\n\tno file '" + dir + "/lib/nosuch.so'",
		"module 'a.b' not found:\n\tno field package.preload['a.b']\n\tno file '" + dir + "/a/b.lua'\n\tno file '" + dir + "/a/b.so'\n\tno file '" + dir + "/lib/a/b.so'\n\tno file '" + dir + "/a.so'\n\tno file '" + dir + "/lib/a.so'",
		dir + "/?.so;" + dir + "/lib/?.so",
		"nil",
		"3",
	}
	for i, src := range cases {
		if got := luaString(t, L, src); got != want[i] {
			t.Errorf("%s:\n got %q\nwant %q", src, got, want[i])
		}
	}
	if err := L.DoString(`_, msg, where = package.loadlib("x.so", "f")`); err != nil {
		t.Fatal(err)
	}
	msg, where := L.GetGlobal("msg").String(), L.GetGlobal("where").String()
	if where != "absent" || !strings.Contains(msg, "dynamic libraries not enabled") {
		t.Errorf("loadlib: %q %q", msg, where)
	}
	lua51, err := exec.LookPath("lua5.1")
	if err != nil {
		t.Log("lua5.1 not installed: not compared")
		return
	}
	for i, src := range cases[:3] {
		code := `package.path = ` + quote(filepath.Join(dir, "?.lua")) + ` io.write(` + src + `)`
		cmd := exec.Command(lua51, "-e", code)
		cmd.Env = append(os.Environ(), "LUA_CPATH="+filepath.Join(dir, "?.so")+";"+filepath.Join(dir, "lib", "?.so"))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("lua5.1: %v", err)
		}
		if string(out) != want[i] {
			t.Errorf("lua5.1 %s:\n got %q\nwant %q", src, out, want[i])
		}
	}
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "\\'") + "'" }

// A C module on the cpath is reported as found and not loadable, with
// the built-in modules named.
func TestCModuleFound(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "lfs.so"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	L := cpathState(t, dir)
	L.PreloadModule("socket.core", func(L *lua.LState) int { return 0 })
	got := luaString(t, L, `select(2, pcall(require, "lfs"))`)
	want := "error loading module 'lfs' from file '" + dir + "/lfs.so':\n\tfound a C module, but copas-lua cannot load C modules (built-in replacements: socket.core)"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// Loading, caching and the loop check behave as Lua 5.1's require.
func TestRequire51(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "m.lua"), []byte(`n = (n or 0) + 1 return {name = ...}`), 0o644)
	os.WriteFile(filepath.Join(dir, "none.lua"), []byte(`x = 1`), 0o644)
	os.WriteFile(filepath.Join(dir, "loop.lua"), []byte(`require "loop"`), 0o644)
	L := cpathState(t, dir)
	for src, want := range map[string]string{
		`require("m").name .. n .. tostring(require("m") == package.loaded.m) .. n`: "m1true1",
		`tostring(require("none")) .. tostring(package.loaded.none)`:                "truetrue",
		`select(2, pcall(require, "loop"))`:                                         dir + "/loop.lua:1: loop or previous error loading module 'loop'",
	} {
		if got := luaString(t, L, src); got != want {
			t.Errorf("%s: got %q want %q", src, got, want)
		}
	}
}
