package scheduler

// gopher-lua 1.1.2 does not refuse a yield made inside a nested VM loop
// (pcall, metamethods, for-in iterators, sort, gsub, require …): the yield
// only unwinds the nested loop and corrupts the coroutine (defect D1). The
// only place a yield is safe is the coroutine's base loop, i.e. a mainLoop
// entered directly from threadRun. We check that on the Go stack.
//
// The check runs on every socket operation that parks, so it walks the
// frame-pointer chain where the architecture keeps one (amd64, arm64: a few
// ns a frame, guard_fp.go) rather than runtime.Callers (≈0.6–0.9 µs, a
// quarter of the server's CPU in the echo benchmark). Each physical return
// PC is classified once, with the functions inlined at it, and cached.

const luaPkg = "github.com/yuin/gopher-lua."

// maxFrames bounds the walk; a Go function called from Lua sits a handful
// of frames above the VM loop that called it.
const maxFrames = 64
