package luatable

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestCompact(t *testing.T) {
	if !Supported() {
		t.Fatal("gopher-lua's LTable layout changed: Compact is disabled")
	}
	L := lua.NewState()
	defer L.Close()
	tb := L.NewTable()
	objs := make([]*lua.LTable, 10)
	for i := range objs {
		objs[i] = L.NewTable()
		tb.RawSet(objs[i], lua.LNumber(i))
	}
	tb.RawSetString("name", lua.LNumber(1))
	tb.RawSetString("gone", lua.LNumber(3))
	tb.RawSetString("gone", lua.LNil)
	for i := 0; i < 10; i += 2 {
		tb.RawSet(objs[i], lua.LNil)
	}
	if g := Garbage(tb); g != 6 {
		t.Fatalf("garbage before = %d, want 5", g)
	}
	Compact(tb)
	if g := Garbage(tb); g != 0 {
		t.Fatalf("garbage after = %d", g)
	}
	n := 0
	tb.ForEach(func(k, v lua.LValue) {
		n++
		if _, isStr := k.(lua.LString); !isStr && int(v.(lua.LNumber))%2 != 1 {
			t.Errorf("deleted entry %v survived", v)
		}
	})
	if n != 6 || tb.RawGetString("name") != lua.LNumber(1) {
		t.Fatalf("entries after compact = %d", n)
	}
	// the table keeps working: new keys, next() order, deletes
	tb.RawSet(objs[0], lua.LString("again"))
	if tb.RawGet(objs[0]) != lua.LString("again") {
		t.Fatal("set after compact failed")
	}
	k, _ := tb.Next(lua.LNil)
	count := 0
	for k != lua.LNil {
		count++
		k, _ = tb.Next(k)
	}
	if count != 7 {
		t.Fatalf("next() visited %d", count)
	}
}
