//go:build linux

package socket

import (
	"bytes"
	"math"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// FuzzReceivePattern feeds arbitrary patterns, prefixes and streams, cut
// into arbitrary pieces, through the receive-pattern reader shared by TCP
// objects and ssl connections, and checks it against a direct model of
// LuaSocket's rules: '*l' is the prefix and the first line without its CRs,
// '*a' takes everything, a count takes that many bytes after the prefix.
// It must never panic, never use more bytes than it is given, and cut the
// stream at the same place however it arrives.
//
// Seeds: testdata/fuzz/FuzzReceivePattern. Run longer with
// go test -run '^$' -fuzz FuzzReceivePattern ./luamod/socket/
func FuzzReceivePattern(f *testing.F) {
	f.Fuzz(func(t *testing.T, kind byte, str string, num float64, prefix string, data, cuts []byte) {
		lenient := kind&4 != 0
		var pattern lua.LValue
		switch kind & 3 {
		case 0:
			pattern = lua.LString(str)
		case 1:
			pattern = lua.LNumber(num)
		case 2:
			pattern = lua.LNil
		case 3:
			pattern = lua.LString(str) // numeric strings count as numbers
		}
		r, done, ok := NewReceive(pattern, prefix, lenient)
		want, wantUsed, wantDone, valid := model(pattern, prefix, data, lenient)
		if ok != valid {
			t.Fatalf("pattern %v: ok %v, model says %v", pattern, ok, valid)
		}
		if !ok {
			return
		}
		used := 0
		if !done {
			for rest, i := data, 0; len(rest) > 0 && !done; i++ {
				n := len(rest)
				if i < len(cuts) && int(cuts[i]) > 0 && int(cuts[i]) < n {
					n = int(cuts[i])
				}
				u, d := r.Take(rest[:n])
				if u < 0 || u > n {
					t.Fatalf("Take used %d of %d bytes", u, n)
				}
				if !d && u != n {
					t.Fatalf("Take stopped at %d of %d bytes without finishing", u, n)
				}
				used += u
				rest = rest[u:]
				done = d
			}
		}
		if done != wantDone || used != wantUsed {
			t.Fatalf("done %v after %d bytes; model: %v after %d", done, used, wantDone, wantUsed)
		}
		res := r.Results("")
		if !done {
			res = r.Results("closed")
			if res[0] != lua.LNil || res[1] != lua.LString("closed") {
				t.Fatalf("unfinished results %v", res)
			}
			res = res[2:]
		}
		if got := res[0].String(); got != want {
			t.Fatalf("got %q, model %q", got, want)
		}
	})
}

// model computes what a receive with pattern and prefix returns from
// stream: the data (or partial data when not done), the bytes of stream
// it consumes, whether it completes, and whether the pattern is valid.
// Numbers are converted as Lua does (toNumber) and truncated as C's
// (size_t) cast does.
func model(pattern lua.LValue, prefix string, stream []byte, lenient bool) (string, int, bool, bool) {
	if f, isNum := toNumber(pattern); isNum {
		if !(f >= 0) {
			return "", 0, false, false
		}
		wanted := math.Trunc(f)
		if prefix != "" && wanted <= float64(len(prefix)) {
			return prefix, 0, true, true
		}
		need := wanted - float64(len(prefix))
		// A count needs at least one read, even a count of 0.
		if len(stream) > 0 && float64(len(stream)) >= need {
			n := int(need)
			return prefix + string(stream[:n]), n, true, true
		}
		return prefix + string(stream), len(stream), false, true
	}
	p := "*l"
	if s, isStr := pattern.(lua.LString); isStr {
		p = string(s)
	}
	switch {
	case strings.HasPrefix(p, "*l"), lenient && p == "l":
		i := bytes.IndexByte(stream, '\n')
		if i < 0 {
			return prefix + strings.ReplaceAll(string(stream), "\r", ""), len(stream), false, true
		}
		return prefix + strings.ReplaceAll(string(stream[:i]), "\r", ""), i + 1, true, true
	case strings.HasPrefix(p, "*a"), lenient && p == "a":
		return prefix + string(stream), len(stream), false, true
	}
	return "", 0, false, false
}
