// Package luatable works around gopher-lua 1.1.2 table internals.
//
// gopher-lua never forgets a non-string hash key: setting t[k] = nil
// deletes the value but keeps k in the table's iteration list, so a table
// used as a set of sockets or coroutines keeps every object it ever held
// alive (and makes next() slower) for as long as the table lives. Compact
// rebuilds that list from the live entries. The fields are unexported, so
// this reaches them by name through reflect; TestCompact fails loudly if a
// gopher-lua upgrade changes them.
package luatable

import (
	"reflect"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

var (
	offKeys, offK2i, offDict, offStr uintptr
	ok                               bool
)

func init() {
	t := reflect.TypeOf(lua.LTable{})
	k, ok1 := t.FieldByName("keys")
	m, ok2 := t.FieldByName("k2i")
	d, ok3 := t.FieldByName("dict")
	sd, ok4 := t.FieldByName("strdict")
	ok = ok1 && ok2 && ok3 && ok4 &&
		sd.Type == reflect.TypeOf(map[string]lua.LValue(nil)) &&
		k.Type == reflect.TypeOf([]lua.LValue(nil)) &&
		m.Type == reflect.TypeOf(map[lua.LValue]int(nil)) &&
		d.Type == reflect.TypeOf(map[lua.LValue]lua.LValue(nil))
	offKeys, offK2i, offDict, offStr = k.Offset, m.Offset, d.Offset, sd.Offset
}

// Supported reports whether Compact can work with this gopher-lua.
func Supported() bool { return ok }

// Compact drops the keys of deleted entries from t's iteration list. It
// must not run while Lua code iterates t with next/pairs (a removed key
// would end that iteration early): call it from the loop between steps or
// from code that owns t. Loop goroutine only.
func Compact(t *lua.LTable) {
	if !ok || t == nil {
		return
	}
	base := unsafe.Pointer(t)
	keys := (*[]lua.LValue)(unsafe.Add(base, offKeys))
	k2i := (*map[lua.LValue]int)(unsafe.Add(base, offK2i))
	dict := *(*map[lua.LValue]lua.LValue)(unsafe.Add(base, offDict))
	strs := *(*map[string]lua.LValue)(unsafe.Add(base, offStr))
	n := len(dict) + len(strs)
	if len(*keys) == n {
		return
	}
	live := make([]lua.LValue, 0, n)
	idx := make(map[lua.LValue]int, n)
	for _, k := range *keys {
		var present bool
		if s, isStr := k.(lua.LString); isStr {
			_, present = strs[string(s)]
		} else {
			_, present = dict[k]
		}
		if present {
			idx[k] = len(live)
			live = append(live, k)
		}
	}
	*keys = live
	*k2i = idx
}

// Garbage is the number of deleted keys t still remembers.
func Garbage(t *lua.LTable) int {
	if !ok || t == nil {
		return 0
	}
	base := unsafe.Pointer(t)
	keys := *(*[]lua.LValue)(unsafe.Add(base, offKeys))
	dict := *(*map[lua.LValue]lua.LValue)(unsafe.Add(base, offDict))
	strs := *(*map[string]lua.LValue)(unsafe.Add(base, offStr))
	return len(keys) - len(dict) - len(strs)
}
