package lua51

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestFrameLayout fails when gopher-lua's call frames no longer match the
// mirrors (after an upgrade): error messages would silently keep
// gopher-lua's wording.
func TestFrameLayout(t *testing.T) {
	if !vmLayout.ok {
		t.Fatal("gopher-lua's callFrame/registry layout differs from vmstate.go's mirrors")
	}
	L := lua.NewState()
	defer L.Close()
	var seen *lua.LFunction
	var nargs int
	var reg lua.LValue
	probe := L.NewFunction(func(L *lua.LState) int {
		cf := currentFrame(L)
		seen, nargs = cf.Fn, cf.NArgs
		reg = register(L, cf.Parent.LocalBase) // the caller's first local
		return 0
	})
	L.SetGlobal("probe", probe)
	if err := L.DoString(`local first = "local one"; probe(1, 2, 3)`); err != nil {
		t.Fatal(err)
	}
	if seen != probe || nargs != 3 {
		t.Fatalf("current frame: fn %v nargs %d, want the probe with 3", seen, nargs)
	}
	if reg != lua.LString("local one") {
		t.Fatalf("caller's register 0 = %v", reg)
	}
}
