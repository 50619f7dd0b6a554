//go:build linux

package ssl_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInputOnReference runs the bad-input script on the reference,
// LuaSec on PUC Lua 5.1 (Debian's lua5.1 and lua-sec), so the table of
// LuaSec's behaviour written there is known to be LuaSec's own (the root
// package runs the same script on copas-lua). Skipped without lua5.1 or
// LuaSec.
func TestBadInputOnReference(t *testing.T) {
	lua, err := exec.LookPath("lua5.1")
	if err != nil {
		t.Skip("lua5.1 not installed")
	}
	if err := exec.Command(lua, "-e", `require "ssl"`).Run(); err != nil {
		t.Skip("LuaSec not installed for lua5.1")
	}
	script, _ := filepath.Abs("../../testdata/lua/ssl_badinput_test.lua")
	// Success is the exit status: LuaSec may close the script's standard
	// output (a connection that ssl.wrap made before failing on a bad socket
	// closes a descriptor it never owned when collected), so the closing
	// "ok" line can be lost.
	out, err := exec.Command(lua, script).CombinedOutput()
	if err != nil || strings.Contains(string(out), "differences from LuaSec") {
		t.Fatalf("reference run failed: %v\n%s", err, out)
	}
}
