package mime

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

// mimeDiffScript runs every mime.core transform over the inputs of the
// table INPUTS (hex strings), whole, split in two for the (C, D) contract
// and driven chunk by chunk as ltn12.filter.cycle does, and returns one
// line per call with its results. The same script runs on lua5.1 with
// LuaSocket's mime.core and on gopher-lua with ours.
const mimeDiffScript = `
local core = require "mime.core"
local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end
local HEX = {}
for i = 0, 255 do HEX[string.char(i)] = string.format("%02x", i) end
local function hex(s) return (s:gsub(".", HEX)) end
local function show(v)
  if v == nil then return "nil" end
  if type(v) == "string" then return "s" .. hex(v) end
  if type(v) == "number" then return "n" .. string.format("%d", v) end
  return type(v)
end
local out = {}
local function run(label, name, ...)
  local a, b = core[name](...)
  out[#out + 1] = label .. " " .. name .. " " .. show(a) .. " " .. show(b)
end
local function cycle(label, name, ctx, extra, chunks)
  local parts = {}
  for i = 1, #chunks + 1 do
    local ret
    ret, ctx = core[name](ctx, chunks[i], extra)
    parts[#parts + 1] = ret or ""
  end
  out[#out + 1] = label .. " cycle " .. name .. " s" .. hex(table.concat(parts)) .. " " .. show(ctx)
end
for i, h in ipairs(INPUTS) do
  local s = unhex(h)
  local k = SPLITS[i]
  local c, d = s:sub(1, k), s:sub(k + 1)
  local chunks = { c, d }
  local l = tostring(i)
  for _, f in ipairs { "b64", "unb64", "qp", "unqp" } do
    run(l, f, s)
    run(l, f, c, d)
    cycle(l, f, "", nil, chunks)
  end
  run(l, "qp", s, nil, "=0D=0A")
  run(l, "qp", c, d, "=0D=0A")
  cycle(l, "qp", "", "=0D=0A", chunks)
  for _, f in ipairs { "wrp", "qpwrp" } do
    for _, p in ipairs { { 76, 76 }, { 3, 4 }, { 1, 1 }, { 0, 5 }, { 2, 2 } } do
      run(l, f, p[1], s, p[2])
      cycle(l, f, p[1], p[2], chunks)
    end
    run(l, f, 0, nil, 76)
    run(l, f, 76, nil, 76)
  end
  for _, ctx in ipairs { 0, 13, 10 } do
    run(l, "eol", ctx, s)
    run(l, "eol", ctx, s, "\n")
    run(l, "eol", ctx, nil)
  end
  cycle(l, "eol", 0, "\r\n", chunks)
  for _, st in ipairs { 0, 1, 2 } do
    run(l, "dot", st, s)
    run(l, "dot", st, nil)
  end
  cycle(l, "dot", 2, nil, chunks)
end
return table.concat(out, "\n")
`

// mimeCorpus is the inputs of TestMimeMatchesLuaSocket: edge cases and
// seeded random strings over the bytes the transforms treat specially.
func mimeCorpus() (inputs []string, splits []int) {
	fixed := []string{
		"", "a", "ab", "abc", "abcd", "YWJj", "YWI=", "YQ==", "Y", "YW", "YWJ",
		"Y=Jj", "====", "YQ==YQ==", "YW\r\nJj\r\n", "\x00\xff",
		"hello world", "a \r\nb", "a\t\r\n", "a ", "a\t", " ", "\r", "\n", "\r\n",
		"\n\r", "\r\r", "\n\n", "\r\r\n", "=", "=4", "=41", "=4g", "=\r\n", "=\r",
		"=0d=0A", "x=\r\ny", ".", "..", ".\r\n.", "\r\n.\r\n", "a\r\n..b",
		strings.Repeat("x", 200), strings.Repeat("= ", 60), strings.Repeat("\xe9", 80),
	}
	rng := rand.New(rand.NewSource(12))
	alphabet := "\r\n \t=.AZaz09+/\x00\xff-_xg"
	inputs = append(inputs, fixed...)
	for i := 0; i < 400; i++ {
		n := rng.Intn(48)
		b := make([]byte, n)
		for j := range b {
			if rng.Intn(8) == 0 {
				b[j] = byte(rng.Intn(256))
			} else {
				b[j] = alphabet[rng.Intn(len(alphabet))]
			}
		}
		inputs = append(inputs, string(b))
	}
	for _, s := range inputs {
		splits = append(splits, rng.Intn(len(s)+1))
	}
	return inputs, splits
}

func mimeDiffProgram() string {
	inputs, splits := mimeCorpus()
	var b strings.Builder
	b.WriteString("INPUTS = {\n")
	for _, s := range inputs {
		fmt.Fprintf(&b, "%q,\n", fmt.Sprintf("%x", s))
	}
	b.WriteString("}\nSPLITS = {")
	for _, k := range splits {
		fmt.Fprintf(&b, "%d,", k)
	}
	b.WriteString("}\n")
	b.WriteString(mimeDiffScript)
	return b.String()
}

// TestMimeMatchesLuaSocket runs the same calls of every mime.core
// function on LuaSocket (lua5.1 with Debian's lua-socket, one process)
// and on this package and compares the results call by call. Skipped
// without lua5.1 and LuaSocket unless CI is "true".
func TestMimeMatchesLuaSocket(t *testing.T) {
	lua51, err := exec.LookPath("lua5.1")
	if err == nil {
		err = exec.Command(lua51, "-e", `require "mime.core"`).Run()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("lua5.1 with LuaSocket is required in CI: %v", err)
		}
		t.Skipf("lua5.1 with LuaSocket not available: %v", err)
	}
	prog := mimeDiffProgram()
	path := filepath.Join(t.TempDir(), "mimediff.lua")
	if err := os.WriteFile(path, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	ref, err := exec.Command(lua51, "-e", fmt.Sprintf("io.write(dofile(%q))", path)).Output()
	if err != nil {
		t.Fatalf("lua5.1: %v", err)
	}

	L := lua.NewState(scheduler.StateOptions)
	defer L.Close()
	Preload(L)
	if err := L.DoString(prog); err != nil {
		t.Fatalf("copas-lua: %v", err)
	}
	got := L.Get(-1).String()

	want := strings.Split(string(ref), "\n")
	have := strings.Split(got, "\n")
	if len(want) != len(have) {
		t.Fatalf("LuaSocket gave %d lines, we gave %d", len(want), len(have))
	}
	inputs, splits := mimeCorpus()
	bad := 0
	for i := range want {
		if want[i] != have[i] {
			var n int
			fmt.Sscanf(want[i], "%d", &n)
			t.Errorf("input %d %q split at %d:\n  LuaSocket %s\n  copas-lua %s", n, inputs[n-1], splits[n-1], want[i], have[i])
			if bad++; bad > 20 {
				t.Fatal("too many differences")
			}
		}
	}
	t.Logf("%d calls agree", len(want))
}
