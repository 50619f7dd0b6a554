package copaslua

import (
	"reflect"

	"github.com/copas-lua/copas-lua/internal/luaopts"
	lua "github.com/yuin/gopher-lua"
)

// ToLua converts a Go value into a Lua value: nil, bool, string, []byte,
// all integer and float kinds, lua.LValue (as is), slices/arrays (Lua
// arrays) and maps with string or integer keys (Lua tables), recursively.
// Other values become light userdata. Loop goroutine only.
func ToLua(L *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case lua.LValue:
		return x
	case bool:
		return lua.LBool(x)
	case string:
		return lua.LString(x)
	case []byte:
		return lua.LString(x)
	case int:
		return lua.LNumber(x)
	case int64:
		return lua.LNumber(x)
	case float64:
		return lua.LNumber(x)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return lua.LNumber(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return lua.LNumber(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return lua.LNumber(rv.Float())
	case reflect.Slice, reflect.Array:
		t := L.CreateTable(rv.Len(), 0)
		for i := 0; i < rv.Len(); i++ {
			t.RawSetInt(i+1, ToLua(L, rv.Index(i).Interface()))
		}
		return t
	case reflect.Map:
		t := L.CreateTable(0, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			t.RawSet(ToLua(L, iter.Key().Interface()), ToLua(L, iter.Value().Interface()))
		}
		return t
	}
	ud := L.NewUserData()
	ud.Value = v
	return ud
}

// ToGo converts a Lua value into plain Go values that are safe to use on
// any goroutine: nil, bool, float64, string; a table with keys 1..n only
// becomes []any, any other table map[any]any (string keys as string,
// numbers as float64); userdata gives its Value; functions, threads and
// channels become their string form. Cycles become nil. Loop goroutine
// only.
func ToGo(v lua.LValue) any { return toGo(v, map[*lua.LTable]bool{}) }

func toGo(v lua.LValue, seen map[*lua.LTable]bool) any {
	switch x := v.(type) {
	case *lua.LNilType:
		return nil
	case lua.LBool:
		return bool(x)
	case lua.LNumber:
		return float64(x)
	case lua.LString:
		return string(x)
	case *lua.LUserData:
		return x.Value
	case *lua.LTable:
		if seen[x] {
			return nil
		}
		seen[x] = true
		defer delete(seen, x)
		n := x.Len()
		count := 0
		x.ForEach(func(lua.LValue, lua.LValue) { count++ })
		if n > 0 && n == count {
			out := make([]any, n)
			for i := 1; i <= n; i++ {
				out[i-1] = toGo(x.RawGetInt(i), seen)
			}
			return out
		}
		out := make(map[any]any, count)
		x.ForEach(func(k, val lua.LValue) { out[toGo(k, seen)] = toGo(val, seen) })
		return out
	}
	return v.String()
}

// Decode maps a Lua option table onto the Go struct pointed to by out
// with gluamapper: keys match field names case-insensitively,
// `gluamapper:"name"` tags rename, and a value of the wrong type gives an
// error naming its key. Loop goroutine only.
func Decode(v lua.LValue, out any) error { return luaopts.Decode(v, out) }
