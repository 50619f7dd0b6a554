package ltn12_test

import (
	"os"
	"testing"

	copaslua "github.com/copas-lua/copas-lua"
)

// TestUpstreamLTN12 runs LuaSocket's own ltn12 test unmodified from a
// checkout of the reference (not part of this repository) whose test/
// directory COPAS_LUA_LUASOCKET_TESTS names.
func TestUpstreamLTN12(t *testing.T) {
	upstream := os.Getenv("COPAS_LUA_LUASOCKET_TESTS")
	if upstream == "" {
		t.Skip("COPAS_LUA_LUASOCKET_TESTS is not set: set it to a LuaSocket checkout's test/ directory to run ltn12test.lua")
	}
	t.Chdir(upstream) // the script loads testsupport.lua relative to it
	r := copaslua.New()
	defer r.Close()
	if err := r.DoFile("ltn12test.lua"); err != nil {
		t.Fatal(err)
	}
}

func TestLoader(t *testing.T) {
	r := copaslua.New()
	defer r.Close()
	if err := r.DoString(`local a = require("ltn12"); assert(a == require("ltn12") and a.pump.all and a._VERSION)`); err != nil {
		t.Fatal(err)
	}
}
