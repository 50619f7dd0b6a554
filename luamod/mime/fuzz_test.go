package mime

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// The fuzz targets of mime.core call the Go transforms through Lua, as a
// filter does, on one Lua state per fuzz worker (a fuzz worker runs one
// input at a time). Inputs are bounded so that no input takes long.
//
// Seeds: testdata/fuzz/FuzzXxx (go test runs them). Run longer with
//
//	go test -run '^$' -fuzz '^FuzzBase64$' -parallel 1 -fuzztime 10m ./luamod/mime/

const fuzzMax = 1 << 12

// bound makes an input that runs longer than 20 s crash the worker (Go's
// fuzzer has no per-input time limit; a crash is reported with the
// input). Call the returned function when the input is done.
func bound() func() bool {
	return time.AfterFunc(20*time.Second, func() { panic("input did not finish within 20 s (hang)") }).Stop
}

var fuzzCore *lua.LTable
var fuzzL *lua.LState

// core returns the worker's Lua state and its mime.core table.
func core(t testing.TB) (*lua.LState, *lua.LTable) {
	if fuzzL == nil {
		L := lua.NewState()
		L.Push(L.NewFunction(LoadCore))
		L.Call(0, 1)
		fuzzCore = L.Get(-1).(*lua.LTable)
		L.Pop(1)
		fuzzL = L
	}
	return fuzzL, fuzzCore
}

// call calls mime.core[name](args...) and returns its two results.
func call(t testing.TB, name string, args ...lua.LValue) (lua.LValue, lua.LValue) {
	t.Helper()
	L, mod := core(t)
	if err := L.CallByParam(lua.P{Fn: mod.RawGetString(name), NRet: 2, Protect: true}, args...); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	a, b := L.Get(-2), L.Get(-1)
	L.Pop(2)
	return a, b
}

// split cuts data into pieces whose lengths come from cuts (a 0 gives an
// empty piece); what is left after the cuts is the last piece.
func split(data []byte, cuts []byte) []string {
	var out []string
	for _, c := range cuts {
		if len(out) > 64 || len(data) == 0 {
			break
		}
		n := min(int(c), len(data))
		out = append(out, string(data[:n]))
		data = data[n:]
	}
	return append(out, string(data))
}

// cycle drives a transform as ltn12.filter.cycle does: ret, ctx =
// low(ctx, chunk, extra) for every chunk and once more with a nil chunk;
// it returns the concatenated outputs and the last context.
func cycle(t testing.TB, name string, ctx, extra lua.LValue, chunks []string) (string, lua.LValue) {
	t.Helper()
	var out strings.Builder
	for i := 0; i <= len(chunks); i++ {
		var chunk lua.LValue = lua.LNil
		if i < len(chunks) {
			chunk = lua.LString(chunks[i])
		}
		args := []lua.LValue{ctx, chunk}
		if extra != nil {
			args = append(args, extra)
		}
		var ret lua.LValue
		ret, ctx = call(t, name, args...)
		switch r := ret.(type) {
		case lua.LString:
			out.WriteString(string(r))
		case *lua.LNilType:
			if i < len(chunks) {
				t.Fatalf("%s gave nil for chunk %d of %d", name, i, len(chunks))
			}
		default:
			t.Fatalf("%s returned a %s", name, ret.Type())
		}
	}
	return out.String(), ctx
}

func str(v lua.LValue) string {
	if s, ok := v.(lua.LString); ok {
		return string(s)
	}
	return ""
}

// FuzzBase64: b64 agrees with encoding/base64, however the input is cut
// into chunks; unb64 decodes it back; unb64 of any bytes gives the same
// result however they are cut, and that result survives b64 and unb64.
func FuzzBase64(f *testing.F) {
	for _, s := range []string{"", "a", "ab", "abc", "abcd", "\x00\xff\x80"} {
		f.Add([]byte(s), []byte{1, 2})
	}
	f.Add([]byte("YWJj\r\nZA==\r\n"), []byte{3, 0, 5})
	f.Add([]byte("=Y=W=J=j"), []byte{1, 1, 1})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		if len(data) > fuzzMax {
			return
		}
		defer bound()()
		want := base64.StdEncoding.EncodeToString(data)
		a, b := call(t, "b64", lua.LString(data))
		if len(data) == 0 {
			if a != lua.LNil || b != lua.LNil {
				t.Fatalf("b64('') = %v, %v; want nil, nil", a, b)
			}
		} else if str(a) != want || b != lua.LNil {
			t.Fatalf("b64 one-shot = %q, %v; want %q", str(a), b, want)
		}
		enc, _ := cycle(t, "b64", lua.LString(""), nil, split(data, cuts))
		if enc != want {
			t.Fatalf("b64 in chunks %v = %q; want %q", cuts, enc, want)
		}
		dec, _ := cycle(t, "unb64", lua.LString(""), nil, split([]byte(enc), cuts))
		if dec != string(data) {
			t.Fatalf("unb64(b64(x)) = %q; want %q", dec, data)
		}
		// Arbitrary input to the decoder.
		whole, _ := cycle(t, "unb64", lua.LString(""), nil, []string{string(data)})
		cut, _ := cycle(t, "unb64", lua.LString(""), nil, split(data, cuts))
		if whole != cut {
			t.Fatalf("unb64 whole %q, in chunks %v %q", whole, cuts, cut)
		}
		if len(whole) > len(data)*3/4 {
			t.Fatalf("unb64 made %d bytes of %d", len(whole), len(data))
		}
		again, _ := cycle(t, "unb64", lua.LString(""), nil,
			[]string{base64.StdEncoding.EncodeToString([]byte(whole))})
		if again != whole {
			t.Fatalf("unb64(b64(unb64(x))) = %q; want %q", again, whole)
		}
	})
}

// qpMarkers are the two line-break markers of mime.encode's
// quoted-printable modes ("text" and "binary").
var qpMarkers = [2]string{"\r\n", "=0D=0A"}

// FuzzQuotedPrintable: qp gives the same text however its input is cut,
// only printable ASCII, tabs and CRLF; unqp decodes it back, also after
// qpwrp broke it into lines of at most 76 bytes; unqp of any bytes gives
// the same result however they are cut.
func FuzzQuotedPrintable(f *testing.F) {
	f.Add([]byte("hello world"), []byte{3}, false)
	f.Add([]byte("a \r\nb\t\r\n=\r"), []byte{2, 1, 1}, false)
	f.Add([]byte("\x00\xff line\r\n"), []byte{1}, true)
	f.Add([]byte("=41=4=\r\nx=0d=0A=zz"), []byte{1, 1, 2}, false)
	f.Add([]byte(strings.Repeat("=", 100)), []byte{75}, false)
	f.Fuzz(func(t *testing.T, data, cuts []byte, binary bool) {
		if len(data) > fuzzMax {
			return
		}
		defer bound()()
		marker := lua.LString(qpMarkers[0])
		if binary {
			marker = lua.LString(qpMarkers[1])
		}
		whole, _ := cycle(t, "qp", lua.LString(""), marker, []string{string(data)})
		enc, _ := cycle(t, "qp", lua.LString(""), marker, split(data, cuts))
		if enc != whole {
			t.Fatalf("qp whole %q, in chunks %v %q", whole, cuts, enc)
		}
		for i := 0; i < len(enc); i++ {
			if c := enc[i]; c != '\t' && c != '\r' && c != '\n' && (c < 32 || c > 126) {
				t.Fatalf("qp output has byte %#x: %q", c, enc)
			}
		}
		dec, _ := cycle(t, "unqp", lua.LString(""), nil, split([]byte(enc), cuts))
		if dec != string(data) {
			t.Fatalf("unqp(qp(x)) = %q; want %q (qp: %q)", dec, data, enc)
		}
		wrapped, _ := cycle(t, "qpwrp", lua.LNumber(76), lua.LNumber(76), split([]byte(enc), cuts))
		for _, line := range strings.Split(wrapped, "\r\n") {
			if len(line) > 76 {
				t.Fatalf("qpwrp line of %d bytes: %q", len(line), line)
			}
		}
		dec, _ = cycle(t, "unqp", lua.LString(""), nil, []string{wrapped})
		if dec != string(data) {
			t.Fatalf("unqp(qpwrp(qp(x))) = %q; want %q (wrapped: %q)", dec, data, wrapped)
		}
		// Arbitrary input to the decoder.
		wholeDec, _ := cycle(t, "unqp", lua.LString(""), nil, []string{string(data)})
		cutDec, _ := cycle(t, "unqp", lua.LString(""), nil, split(data, cuts))
		if wholeDec != cutDec {
			t.Fatalf("unqp whole %q, in chunks %v %q", wholeDec, cuts, cutDec)
		}
	})
}

// eolModel is mime.normalize's rule written directly: CR, LF, CRLF and
// LFCR are one line break each, CRCR and LFLF two, and a pair is never
// the start of another (CR CR LF is three breaks, as in LuaSocket).
func eolModel(data []byte, marker string) string {
	var out strings.Builder
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c != '\r' && c != '\n' {
			out.WriteByte(c)
			continue
		}
		out.WriteString(marker)
		if i+1 < len(data) && (data[i+1] == '\r' || data[i+1] == '\n') {
			if data[i+1] == c {
				out.WriteString(marker)
			}
			i++
		}
	}
	return out.String()
}

// dotModel is SMTP dot-stuffing written directly: a '.' at the start of
// the text or after a CRLF is doubled.
func dotModel(data []byte) string {
	s := string(data)
	if strings.HasPrefix(s, ".") {
		s = "." + s
	}
	return strings.ReplaceAll(s, "\r\n.", "\r\n..")
}

// FuzzLineFilters: wrp, eol and dot give the same output however the input
// is cut; eol and dot agree with direct models of their rules; wrp only
// drops CRs, turns LFs into CRLF and adds CRLFs, keeping lines within the
// length.
func FuzzLineFilters(f *testing.F) {
	f.Add([]byte("a\r\nb\n\rc\r\rd\n\n"), []byte{1, 1}, byte(4), byte(0))
	f.Add([]byte(".x\r\n.\r\n..\r\n"), []byte{2, 1}, byte(76), byte(1))
	f.Add([]byte(strings.Repeat("abc ", 40)), []byte{5, 50}, byte(10), byte(2))
	f.Add([]byte("\r"), []byte{0}, byte(0), byte(0))
	f.Fuzz(func(t *testing.T, data, cuts []byte, length, mode byte) {
		if len(data) > fuzzMax {
			return
		}
		defer bound()()
		chunks := split(data, cuts)
		marker := []string{"\r\n", "\n", "", "<br>"}[mode&3]

		// eol
		want := eolModel(data, marker)
		got, _ := cycle(t, "eol", lua.LNumber(0), lua.LString(marker), chunks)
		if got != want {
			t.Fatalf("eol(%q) in chunks %v = %q; model %q", data, cuts, got, want)
		}

		// dot
		got, _ = cycle(t, "dot", lua.LNumber(2), nil, chunks)
		if want := dotModel(data); got != want {
			t.Fatalf("dot(%q) in chunks %v = %q; model %q", data, cuts, got, want)
		}

		// wrp: lengths 0..255 (0 breaks before every byte)
		n := lua.LNumber(length)
		whole, _ := cycle(t, "wrp", n, n, []string{string(data)})
		got, _ = cycle(t, "wrp", n, n, chunks)
		if got != whole {
			t.Fatalf("wrp(%q, %d) whole %q, in chunks %v %q", data, length, whole, cuts, got)
		}
		plain := strings.NewReplacer("\r", "", "\n", "").Replace(string(data))
		if bare := strings.ReplaceAll(got, "\r\n", ""); bare != plain {
			t.Fatalf("wrp(%q, %d) = %q: text changed", data, length, got)
		}
		if strings.Count(got, "\r") != strings.Count(got, "\r\n") || strings.Count(got, "\n") != strings.Count(got, "\r\n") {
			t.Fatalf("wrp(%q) = %q: bare CR or LF", data, got)
		}
		for _, line := range bytes.Split([]byte(got), []byte("\r\n")) {
			if len(line) > max(int(length), 1) {
				t.Fatalf("wrp(%q, %d): line of %d bytes", data, length, len(line))
			}
		}
	})
}
