package ltn12_test

import (
	"os"
	"testing"

	copaslua "github.com/copas-lua/copas-lua"
)

// upstream is LuaSocket's own ltn12 test, run unmodified when a checkout
// of the reference is present (it is not part of this repository).
const upstream = "/work/ref/lunarmodules+luasocket/test"

func TestUpstreamLTN12(t *testing.T) {
	if _, err := os.Stat(upstream + "/ltn12test.lua"); err != nil {
		t.Skip("reference LuaSocket tests not present")
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
