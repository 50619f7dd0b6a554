// Command stockrun runs a Lua file under stock gopher-lua, for
// TestLua51Suite and TestGluaSuite. It is its own program because
// copas-lua's internal/lua51 patches gopher-lua's VM for the whole process
// when it is linked in: a test binary that links copas-lua cannot run
// stock gopher-lua.
//
//	stockrun file
//
// The lines listed in COPASLUA_CONFORMANCE_BLANK ("5,33-34") are emptied
// first; a first line starting with '#' is skipped. Exit status 0 means
// the file ran without error.
package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: stockrun file")
		os.Exit(2)
	}
	file := os.Args[1]
	src, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	spec := os.Getenv("COPASLUA_CONFORMANCE_BLANK")
	if len(src) > 0 && src[0] == '#' {
		spec += ",1"
	}
	src = blankLines(src, spec)
	// The options of gopher-lua's own script_test.go.
	L := lua.NewState(lua.Options{RegistrySize: 1024 * 20, CallStackSize: 1024})
	defer L.Close()
	fn, err := L.Load(bytes.NewReader(src), file)
	if err == nil {
		L.Push(fn)
		err = L.PCall(0, lua.MultRet, nil)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		L.Close()
		os.Exit(1)
	}
}

// blankLines empties the 1-based lines listed in spec ("3,7-9"), keeping
// the line numbers of the others.
func blankLines(src []byte, spec string) []byte {
	lines := bytes.Split(src, []byte("\n"))
	for _, part := range strings.Split(spec, ",") {
		if part == "" {
			continue
		}
		var from, to int
		if n, _ := fmt.Sscanf(part, "%d-%d", &from, &to); n < 2 {
			to = from
		}
		for i := max(from, 1); i <= to && i <= len(lines); i++ {
			lines[i-1] = nil
		}
	}
	return bytes.Join(lines, []byte("\n"))
}
