// Package lua51 makes stock gopher-lua 1.1.2 behave as PUC Lua 5.1 where
// programs can tell the difference. It is one place to look when a
// program behaves differently under copas-lua and lua5.1.
//
// Install replaces, in a fresh state:
//
//   - tostring, print, string.format (%s, %q), io.write, file:write and
//     table.concat: numbers become strings with Lua 5.1's "%.14g" (inf,
//     -inf, nan, -nan, -0) instead of Go's shortest form.
//   - table.concat: one Go builder instead of gopher-lua's stack-based
//     join, which overflows the registry or is quadratic on large tables.
//   - table.remove: the vacated slot is cleared, so removed values can be
//     collected (and weak tables can drop them).
//   - error: a level points at the right frame (gopher-lua is one off from
//     level 2) and error() without a value raises nil.
//   - debug.traceback(thread, msg), which gopher-lua rejects.
//   - collectgarbage: runs Go's collector and sweeps weak tables (weak.go;
//     gopher-lua ignores __mode).
//   - os.clock: process CPU time, not wall time.
//   - string.rep and unpack: sizes are bounded, so a runaway script gets a
//     Lua error instead of the Go runtime aborting the process.
//   - loadstring, load, loadfile, dofile and require's Lua searcher: chunk
//     names and syntax error messages as Lua 5.1 shows them, and every
//     chunk compiled through internal/rewrite (compiler bugs);
//     debug.getinfo reports the name a chunk was loaded with as source
//     (gopher-lua has one name for messages and getinfo).
//   - Library arguments convert as luaL_checkstring/checknumber do
//     (stdlib.go): numbers where strings are expected become "%.14g"
//     strings, numeric strings where numbers are expected become numbers.
//   - tonumber is strtod's (exponents, hexadecimal, inf, nan) and
//     strtoul's for other bases (str2number.go).
//   - string.format is Lua 5.1's, conversion by conversion, with its
//     errors (strformat.go); gopher-lua hands the format to Go's fmt.
//   - Pattern matching (lstrlib.go): string.find, match, gmatch, gfind and
//     gsub are Lua 5.1's, with its results (one nil for no match, init
//     clamped), replacement rules and error texts, and bounded work
//     ("pattern too complex" instead of a hang); gopher-lua's pm package
//     differs. string.byte's end defaults to its start; string.char checks byte values; select and
//     table.insert take numeric strings; setmetatable checks its first
//     argument; math.huge is inf; math.random checks its interval and has
//     a generator per state (gopher-lua reseeds Go's global one).
//   - The deprecated functions of 5.1's library: table.foreach,
//     table.foreachi, table.setn, gcinfo, math.mod, string.gfind.
//   - io.open, os.remove and os.rename fail with nil, "name: strerror",
//     errno.
//   - tostring returns whatever __tostring returns; print rejects a
//     non-string.
//   - The VM (vmconcat.go, vmarith.go, vmlen.go): `..` formats numbers as
//     "%.14g" and calls __concat as luaV_concat does; arithmetic converts
//     strings as tonumber and % is a - floor(a/b)*b; # ignores a table's
//     __len. gopher-lua's instruction table is reached with go:linkname
//     and patched once per process after its layout is checked.
//   - table.maxn counts non-integer keys; debug.getinfo describes Go
//     functions as Lua 5.1 describes C functions ("C", "[C]").
//   - error levels and positions treat the yield-safe pcall as the single
//     C function it stands for.
//   - Error messages read as Lua 5.1's (errmsg.go): "bad argument #1 to
//     'rep' (string expected, got no value)", no position when the function
//     was called from pcall, "calling 'x' on bad self", and the variable in
//     runtime errors ("attempt to index local 'a' (a nil value)", "attempt
//     to call global 'f' (a nil value)", arithmetic, length, comparison and
//     'for' errors). This reads gopher-lua's unexported call frames through
//     mirrors checked against its types at start-up (vmstate.go).
package lua51
