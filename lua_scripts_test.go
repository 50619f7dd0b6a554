package copaslua

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// TestLuaScripts runs every testdata/lua/*_test.lua file in a fresh Runtime as
// its own subtest. A script fails by raising an error; after the script
// returns, the loop runs until nothing is pending. The global TESTDIR holds
// the absolute path of testdata/lua, which is also on package.path.
func TestLuaScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/lua/*_test.lua")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no Lua script tests found")
	}
	dir, _ := filepath.Abs("testdata/lua")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), "_test.lua")
		t.Run(name, func(t *testing.T) {
			runScript(t, dir, f)
		})
	}
}

func runScript(t *testing.T, dir, file string) {
	t.Helper()
	r := New(WithPackagePath(filepath.Join(dir, "?.lua") + ";" + DefaultPath))
	defer r.Close()
	L := r.State()
	L.SetGlobal("TESTDIR", lua.LString(dir))
	if err := r.DoFile(file); err != nil {
		t.Fatalf("%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := r.Run(ctx); err != nil {
		t.Fatalf("loop: %v", err)
	}
}
