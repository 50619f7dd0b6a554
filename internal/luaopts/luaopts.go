// Package luaopts maps Lua option tables onto Go structs with gluamapper,
// the one way the project's Go modules read option tables.
package luaopts

import (
	"fmt"

	"github.com/yuin/gluamapper"
	lua "github.com/yuin/gopher-lua"
)

// Keys are kept as written (gluamapper's default would capitalise every
// nested key too, changing header and cookie names); mapstructure matches
// them to field names case-insensitively, and `gluamapper:"name"` tags
// rename. Numbers and strings convert into each other where the field
// asks for it.
var mapper = gluamapper.NewMapper(gluamapper.Option{NameFunc: gluamapper.Id})

// Decode fills out (a pointer to a struct) from the Lua table v. A value
// of the wrong type gives an error naming its key. Loop goroutine only.
func Decode(v lua.LValue, out any) error {
	t, ok := v.(*lua.LTable)
	if !ok {
		return fmt.Errorf("options must be a table, got %s", v.Type())
	}
	if err := mapper.Map(t, out); err != nil {
		return fmt.Errorf("bad option: %w", err)
	}
	return nil
}
