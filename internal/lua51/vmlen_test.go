package lua51

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestVMLen: # of tables and strings is raw (a table's __len is not
// called, as in Lua 5.1); other values still reach __len or the error.
func TestVMLen(t *testing.T) {
	if stockLen == nil {
		t.Fatal("OP_LEN not patched: " + vmConcatReason)
	}
	L := lua.NewState()
	defer L.Close()
	Install(L)
	err := L.DoString(`
		local t = setmetatable({1, 2, 3}, {__len = function() return 99 end})
		assert(#t == 3, "table __len called")
		assert(#"abcd" == 4 and #"" == 0)
		local s = "xy"; local n = #s .. "|" .. #{}
		assert(n == "2|0", n)
		local ok, e = pcall(function() local x; return #x end)
		assert(not ok and e:find("attempt to get length of local 'x' %(a nil value%)"), e)
		ok, e = pcall(function() return #5 end)
		assert(not ok and e:find("attempt to get length of a number value"), e)`)
	if err != nil {
		t.Fatal(err)
	}
}
