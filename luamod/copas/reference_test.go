package copas_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInputOnReference runs the bad-input script on the reference,
// Copas 4.11 on PUC Lua 5.1, so the expectations written there are known
// to be Copas' own behaviour (the root package runs the same script on
// copas-lua). It needs lua5.1 with LuaSocket and coxpcall, and Copas'
// sources: set COPAS_LUA_REF_PATH to a LUA_PATH that finds copas and
// timerwheel, e.g.
//
//	COPAS_LUA_REF_PATH='/tmp/ref/copas/src/?.lua;/tmp/ref/timerwheel/src/?/init.lua;;'
func TestBadInputOnReference(t *testing.T) {
	path := os.Getenv("COPAS_LUA_REF_PATH")
	if path == "" {
		t.Skip("COPAS_LUA_REF_PATH not set (LUA_PATH for the reference Copas)")
	}
	lua, err := exec.LookPath("lua5.1")
	if err != nil {
		t.Skip("lua5.1 not installed")
	}
	script, _ := filepath.Abs("../../testdata/lua/copas_badinput_test.lua")
	cmd := exec.Command(lua, script)
	cmd.Env = append(os.Environ(), "LUA_PATH="+path)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "copas_badinput: ok") {
		t.Fatalf("reference run failed: %v\n%s", err, out)
	}
}
