package lua51

import (
	"reflect"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Read-only views of gopher-lua 1.1.2's unexported call frames and
// registers, which error messages need (which instruction failed, which
// register held the culprit, how many arguments a Go function got) and
// its API does not expose. The mirrors are checked field by field against
// the real types with reflect at start-up; if gopher-lua's layout ever
// differs, frames() reports false and messages keep gopher-lua's wording
// (TestFrameLayout fails).

type frameMirror struct {
	Idx        int
	Fn         *lua.LFunction
	Parent     *frameMirror
	Pc         int
	Base       int
	LocalBase  int
	ReturnBase int
	NArgs      int
	NRet       int
	TailCall   int
}

type registryMirror struct {
	array []lua.LValue
	top   int
}

var vmLayout = checkLayout()

type layoutInfo struct {
	ok           bool
	currentFrame uintptr // offset of LState.currentFrame
	reg          uintptr // offset of LState.reg
}

func checkLayout() layoutInfo {
	st := reflect.TypeOf((*lua.LState)(nil)).Elem()
	cf, ok1 := st.FieldByName("currentFrame")
	rg, ok2 := st.FieldByName("reg")
	if !ok1 || !ok2 || cf.Type.Kind() != reflect.Pointer || rg.Type.Kind() != reflect.Pointer {
		return layoutInfo{}
	}
	if !sameLayout(cf.Type.Elem(), reflect.TypeOf(frameMirror{}), true) ||
		!sameLayout(rg.Type.Elem(), reflect.TypeOf(registryMirror{}), false) {
		return layoutInfo{}
	}
	return layoutInfo{ok: true, currentFrame: cf.Offset, reg: rg.Offset}
}

// sameLayout: the mirror's fields are the real type's first fields, with
// the same names, offsets and kinds (exact types where they are exported).
func sameLayout(real, mirror reflect.Type, whole bool) bool {
	if real.Kind() != reflect.Struct || real.NumField() < mirror.NumField() {
		return false
	}
	if whole && real.NumField() != mirror.NumField() {
		return false
	}
	for i := 0; i < mirror.NumField(); i++ {
		r, m := real.Field(i), mirror.Field(i)
		if r.Name != m.Name || r.Offset != m.Offset || r.Type.Kind() != m.Type.Kind() || r.Type.Size() != m.Type.Size() {
			return false
		}
		switch m.Type.Kind() {
		case reflect.Pointer:
			if m.Type.Elem() == mirror {
				if r.Type.Elem() != real {
					return false
				}
			} else if r.Type != m.Type {
				return false
			}
		case reflect.Slice:
			if r.Type != m.Type {
				return false
			}
		}
	}
	return true
}

// currentFrame is L's running call frame, nil if unknown.
func currentFrame(L *lua.LState) *frameMirror {
	if !vmLayout.ok {
		return nil
	}
	return *(**frameMirror)(unsafe.Add(unsafe.Pointer(L), vmLayout.currentFrame))
}

// register is the value of absolute stack slot i of L.
func register(L *lua.LState, i int) lua.LValue {
	if !vmLayout.ok {
		return lua.LNil
	}
	rg := *(**registryMirror)(unsafe.Add(unsafe.Pointer(L), vmLayout.reg))
	if rg == nil || i < 0 || i >= len(rg.array) || rg.array[i] == nil {
		return lua.LNil
	}
	return rg.array[i]
}
