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
//     chunk compiled through internal/rewrite (compiler bugs).
package lua51
