package lua51

import (
	"runtime"
	"strings"
	"weak"

	"github.com/copas-lua/copas-lua/internal/luatable"
	lua "github.com/yuin/gopher-lua"
)

// gopher-lua ignores __mode: a weak table holds its entries like any other
// table. We emulate Lua's weak tables at collectgarbage() time: every table
// given a metatable with __mode is remembered (weakly); a collection moves
// the weak references out of those tables into Go weak pointers, runs the
// Go collector, and puts back only the entries whose objects survived.
// Between collections weak tables hold their entries strongly.

type weakTable struct {
	t          weak.Pointer[lua.LTable]
	keys, vals bool
}

type weakRegistry struct {
	tables []weakTable
}

// trackWeak replaces setmetatable so tables with a __mode are remembered.
func trackWeak(L *lua.LState, reg *weakRegistry) {
	orig := L.GetGlobal("setmetatable").(*lua.LFunction)
	L.SetGlobal("setmetatable", L.NewFunction(func(L *lua.LState) int {
		t, isTable := L.Get(1).(*lua.LTable)
		mt, hasMeta := L.Get(2).(*lua.LTable)
		n := orig.GFunction(L)
		if isTable && hasMeta {
			if mode, ok := mt.RawGetString("__mode").(lua.LString); ok {
				reg.add(t, string(mode))
			}
		}
		return n
	}))
}

func (r *weakRegistry) add(t *lua.LTable, mode string) {
	k, v := strings.Contains(mode, "k"), strings.Contains(mode, "v")
	if !k && !v {
		return
	}
	wp := weak.Make(t)
	for i := range r.tables {
		if r.tables[i].t == wp {
			r.tables[i].keys, r.tables[i].vals = k, v
			return
		}
	}
	// Drop registrations of tables that are gone while we are here.
	live := r.tables[:0]
	for _, w := range r.tables {
		if w.t.Value() != nil {
			live = append(live, w)
		}
	}
	r.tables = append(live, weakTable{t: wp, keys: k, vals: v})
}

// ref holds one side of a moved entry: strongly, or weakly for collectable
// objects on a weak side.
type ref struct {
	strong lua.LValue
	wt     weak.Pointer[lua.LTable]
	wu     weak.Pointer[lua.LUserData]
	wf     weak.Pointer[lua.LFunction]
	wl     weak.Pointer[lua.LState]
	isWeak bool
}

func makeRef(v lua.LValue, weakSide bool) (ref, bool) {
	if !weakSide {
		return ref{strong: v}, false
	}
	switch o := v.(type) {
	case *lua.LTable:
		return ref{wt: weak.Make(o), isWeak: true}, true
	case *lua.LUserData:
		return ref{wu: weak.Make(o), isWeak: true}, true
	case *lua.LFunction:
		return ref{wf: weak.Make(o), isWeak: true}, true
	case *lua.LState:
		return ref{wl: weak.Make(o), isWeak: true}, true
	}
	// strings, numbers and booleans are values, never collected
	return ref{strong: v}, false
}

func (r ref) value() lua.LValue {
	if !r.isWeak {
		return r.strong
	}
	switch {
	case r.wt.Value() != nil:
		return r.wt.Value()
	case r.wu.Value() != nil:
		return r.wu.Value()
	case r.wf.Value() != nil:
		return r.wf.Value()
	case r.wl.Value() != nil:
		return r.wl.Value()
	}
	return nil
}

type moved struct {
	t    *lua.LTable
	k, v ref
}

// collect runs a full collection that clears dead entries of weak tables.
func (r *weakRegistry) collect() {
	var out []moved
	for _, w := range r.tables {
		t := w.t.Value()
		if t == nil {
			continue
		}
		var keys []lua.LValue
		t.ForEach(func(k, v lua.LValue) {
			kr, kw := makeRef(k, w.keys)
			vr, vw := makeRef(v, w.vals)
			if kw || vw {
				out = append(out, moved{t: t, k: kr, v: vr})
				keys = append(keys, k)
			}
		})
		for _, k := range keys {
			t.RawSet(k, lua.LNil)
		}
		// the deleted keys stay in gopher-lua's iteration list otherwise
		luatable.Compact(t)
	}
	runtime.GC()
	runtime.GC()
	for _, w := range r.tables {
		if t := w.t.Value(); t != nil {
			luatable.Compact(t)
		}
	}
	for _, m := range out {
		k, v := m.k.value(), m.v.value()
		if k != nil && v != nil {
			m.t.RawSet(k, v)
		}
	}
}
