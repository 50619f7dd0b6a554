// Package protocol provides LuaSocket 3's protocol layers — socket.url,
// socket.headers, socket.tp, socket.http, socket.smtp and socket.ftp — as
// Lua modules written for copas-lua and embedded here. They use only the
// plain LuaSocket API, so inside a Copas thread every socket operation
// parks the thread instead of blocking, and the same code serves the
// copas.http/ftp/smtp wrappers.
//
// Differences from LuaSocket 3.1 (deliberate):
//   - socket.url.parse takes the authority up to the first "/" (LuaSocket
//     3.0/3.1 releases and their urltest.lua; git HEAD also stops at "?"
//     and "#"). socket.url.absolute removes dot segments with a segment
//     stack: same results on urltest.lua and ordinary URLs, but it never
//     eats the host on inputs like ("http://h/../", "?a").
//   - socket.http: an empty chunk from a request source is skipped
//     (LuaSocket would send "0\r\n\r\n" and end the body early); IPv6
//     hosts are bracketed in the Host header; 308 redirects are followed;
//     reqt.timeout (a number) is honoured. Opt-in keep-alive
//     (reqt.keepalive or http.KEEPALIVE) is shared with copas.http.
//   - socket.ftp enters passive mode with EPSV and falls back to PASV when
//     the server rejects EPSV; data connections use the create function.
//   - socket.smtp.message builds the message from ltn12 sources instead of
//     a coroutine.
//
// Goroutine contract: Preload and the loaders run on the goroutine that
// owns the Lua state (the loop goroutine).
package protocol

import (
	"embed"
	"io/fs"
	"strings"

	"github.com/copas-lua/copas-lua/internal/rewrite"
	lua "github.com/yuin/gopher-lua"
)

//go:embed lua/*.lua internal/*.lua
var sources embed.FS

// Modules lists the module names Preload registers.
func Modules() []string {
	entries, _ := fs.ReadDir(sources, "lua")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, "socket."+strings.TrimSuffix(e.Name(), ".lua"))
	}
	return names
}

// Preload registers every socket.<name> module of lua/<name>.lua in L's
// package.preload, and the shared engines of internal/<name>.lua as
// "copaslua.<name>" (not LuaSocket names: copas.http builds on them too).
// Loop goroutine only.
func Preload(L *lua.LState) {
	for _, mod := range Modules() {
		src, _ := sources.ReadFile("lua/" + strings.TrimPrefix(mod, "socket.") + ".lua")
		L.PreloadModule(mod, rewrite.Loader(mod, string(src)))
	}
	internal, _ := fs.ReadDir(sources, "internal")
	for _, e := range internal {
		src, _ := sources.ReadFile("internal/" + e.Name())
		mod := "copaslua." + strings.TrimSuffix(e.Name(), ".lua")
		L.PreloadModule(mod, rewrite.Loader(mod, string(src)))
	}
}
