package protocol_test

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	copaslua "github.com/copas-lua/copas-lua"
)

// urlDiffScript parses and rebuilds every string of INPUTS (hex) with
// socket.url, escapes and unescapes it, and returns one line per input.
// The same script runs on lua5.1 with LuaSocket and on copas-lua.
const urlDiffScript = `
local url = require "socket.url"
local HEX = {}
for i = 0, 255 do HEX[string.char(i)] = string.format("%02x", i) end
local function hex(s) return (tostring(s):gsub(".", HEX)) end
local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end
local fields = { "scheme", "authority", "userinfo", "user", "password", "host", "port", "path", "params", "query", "fragment" }
local out = {}
for i, h in ipairs(INPUTS) do
  local s = unhex(h)
  local line = { tostring(i) }
  local t = url.parse(s)
  if t then
    for _, k in ipairs(fields) do line[#line + 1] = k .. "=" .. (t[k] and hex(t[k]) or "-") end
    line[#line + 1] = "build=" .. hex(url.build(t))
  else
    line[#line + 1] = "nil"
  end
  line[#line + 1] = "esc=" .. hex(url.escape(s)) .. " unesc=" .. hex(url.unescape(s))
  out[#out + 1] = table.concat(line, " ")
end
return table.concat(out, "\n")
`

func urlCorpus() []string {
	in := []string{
		"http://user:pass@host:8080/a/b;p?q=1#f", "//h", "/a/../b/./c", "?x", "#y", ";p", "",
		"http://[::1]:80/", "mailto:x@y", "a:b:c", "http://h/%41%zz", "http://u@:1", "..",
		"http://[v]:", "s://a@b@c:d:e/", "ftp://ftp.example.org/pub;type=i", "http://h?x#y/z",
		"1http://x", "+a:b", "http://a:b:c@d", "//:80", "//u@", "http:", "http://", "%", "%4",
	}
	rng := rand.New(rand.NewSource(7))
	const alphabet = "ab:/?#;@[]%.=1+-_ \x00\xff"
	for i := 0; i < 600; i++ {
		b := make([]byte, rng.Intn(24))
		for j := range b {
			b[j] = alphabet[rng.Intn(len(alphabet))]
		}
		in = append(in, string(b))
	}
	return in
}

// TestURLMatchesLuaSocket compares socket.url.parse (every field), build,
// escape and unescape with LuaSocket 3 on lua5.1 for a corpus of strings,
// in one lua5.1 process. Skipped without lua5.1 and LuaSocket unless CI
// is "true".
func TestURLMatchesLuaSocket(t *testing.T) {
	lua51, err := exec.LookPath("lua5.1")
	if err == nil {
		err = exec.Command(lua51, "-e", `require "socket.url"`).Run()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("lua5.1 with LuaSocket is required in CI: %v", err)
		}
		t.Skipf("lua5.1 with LuaSocket not available: %v", err)
	}
	inputs := urlCorpus()
	var b strings.Builder
	b.WriteString("INPUTS = {\n")
	for _, s := range inputs {
		fmt.Fprintf(&b, "%q,\n", fmt.Sprintf("%x", s))
	}
	b.WriteString("}\n" + urlDiffScript)
	path := filepath.Join(t.TempDir(), "urldiff.lua")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ref, err := exec.Command(lua51, "-e", fmt.Sprintf("io.write(dofile(%q))", path)).Output()
	if err != nil {
		t.Fatalf("lua5.1: %v", err)
	}
	r := copaslua.New()
	defer r.Close()
	fn, err := r.Load(strings.NewReader(b.String()), "=urldiff")
	if err != nil {
		t.Fatal(err)
	}
	L := r.State()
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		t.Fatal(err)
	}
	got := L.Get(-1).String()
	want, have := strings.Split(string(ref), "\n"), strings.Split(got, "\n")
	if len(want) != len(have) {
		t.Fatalf("LuaSocket gave %d lines, copas-lua %d", len(want), len(have))
	}
	bad := 0
	for i := range want {
		if want[i] != have[i] {
			t.Errorf("%q:\n  LuaSocket %s\n  copas-lua %s", inputs[i], want[i], have[i])
			if bad++; bad > 20 {
				t.Fatal("too many differences")
			}
		}
	}
}
