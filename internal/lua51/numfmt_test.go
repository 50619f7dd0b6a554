package lua51

import (
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// Strings printed by lua5.1 (glibc, x86-64) for these values.
var numfmtCases = []struct {
	n    float64
	want string
}{
	{0, "0"},
	{math.Copysign(0, -1), "-0"},
	{1, "1"},
	{-1, "-1"},
	{100, "100"},
	{3, "3"},
	{10.0 / 3, "3.3333333333333"},
	{-10.0 / 3, "-3.3333333333333"},
	{0.1, "0.1"},
	{0.1 + 0.2, "0.3"},
	{1.5, "1.5"},
	{1e-5, "1e-05"},
	{0.0001, "0.0001"},
	{123456789, "123456789"},
	{99999999999999, "99999999999999"},
	{1e14, "1e+14"},
	{-1e14, "-1e+14"},
	{1e15, "1e+15"},
	{1 << 53, "9.007199254741e+15"},
	{math.Pow(2, 63), "9.2233720368548e+18"},
	{-math.Pow(2, 63), "-9.2233720368548e+18"},
	{1e100, "1e+100"},
	{5e-324, "4.9406564584125e-324"},
	{math.MaxFloat64, "1.7976931348623e+308"},
	{123456.789e3, "123456789"},
	{1234567.891, "1234567.891"},
	{1.23456789012345678, "1.2345678901235"},
	{math.Inf(1), "inf"},
	{math.Inf(-1), "-inf"},
	{math.NaN(), "nan"},
	{-math.NaN(), "-nan"},
}

func TestFormatNumber(t *testing.T) {
	for _, c := range numfmtCases {
		if got := formatNumber(lua.LNumber(c.n)); got != c.want {
			t.Errorf("formatNumber(%v) = %q, want %q", c.n, got, c.want)
		}
	}
}

// TestFormatNumberLua51 compares with lua5.1 itself, when installed, on the
// fixed cases and on numbers built from many magnitudes and digit patterns.
func TestFormatNumberLua51(t *testing.T) {
	lua51, err := exec.LookPath("lua5.1")
	if err != nil {
		t.Skip("lua5.1 not installed")
	}
	var nums []float64
	for _, c := range numfmtCases {
		nums = append(nums, c.n)
	}
	for e := -310; e <= 310; e += 7 {
		for _, m := range []float64{1, 1.5, 3.3333333333333335, 7.0 / 9, 9.99999999999995, 123456789.123} {
			nums = append(nums, m*math.Pow(10, float64(e)), -m*math.Pow(10, float64(e)))
		}
	}
	// The script reads each number as its exact bits (%a is not in 5.1),
	// from the hex of the mantissa and the exponent.
	var script strings.Builder
	script.WriteString("local z = 0\nlocal t = {")
	for _, f := range nums {
		switch {
		case math.IsNaN(f) && math.Signbit(f):
			script.WriteString("z/z,")
		case math.IsNaN(f):
			script.WriteString("-(z/z),")
		case math.Signbit(f) && f == 0:
			script.WriteString("-z,")
		case math.IsInf(f, 0):
			script.WriteString(strconv.Itoa(int(math.Copysign(1, f))) + "/z,")
		default:
			frac, exp := math.Frexp(f)
			mant := int64(frac * (1 << 53))
			script.WriteString("math.ldexp(" + strconv.FormatInt(mant, 10) + ", " + strconv.Itoa(exp-53) + "),")
		}
	}
	script.WriteString("}\nfor i = 1, #t do print(t[i]) end\n")
	cmd := exec.Command(lua51, "-")
	cmd.Stdin = strings.NewReader(script.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(nums) {
		t.Fatalf("lua5.1 printed %d lines for %d numbers", len(lines), len(nums))
	}
	for i, f := range nums {
		if got := formatNumber(lua.LNumber(f)); got != lines[i] {
			t.Errorf("formatNumber(%v) = %q, lua5.1 %q", f, got, lines[i])
		}
	}
}

func TestQuoteString(t *testing.T) {
	got := quoteString("a\nb\r\x00c\x01\xff\"\\")
	want := "\"a\\\nb\\r\\000c\x01\xff\\\"\\\\\""
	if got != want {
		t.Errorf("quoteString = %q, want %q", got, want)
	}
}

// benchHeaders builds HTTP response headers in a loop: string constants
// with integer and string operands, the common case of `..` in servers.
const benchHeaders = `
local n = ...
local out
for i = 1, n do
  local len, id, host = i, i * 7, "example.com"
  out = "HTTP/1.1 200 OK\r\nContent-Length: " .. len .. "\r\nX-Request-Id: " .. id ..
    "\r\nHost: " .. host .. "\r\nConnection: keep-alive\r\n\r\n"
end
return out
`

// benchShort is the smallest chain: one constant, one integer.
const benchShort = `
local n = ...
local out
for i = 1, n do out = "n=" .. i end
return out
`

// benchMixed has a float, a table field and a call result as operands.
const benchMixed = `
local n = ...
local t = {name = "x"}
local out
for i = 1, n do out = t.name .. ":" .. i / 4 .. "/" .. tostring(i) end
return out
`

// BenchmarkConcat compares `..` run by gopher-lua's own OP_CONCAT handler
// ("stock", which formats numbers with Go's shortest form) with the
// patched one (vmconcat.go), on HTTP headers, on the shortest chain and
// on mixed operands:
//
//	go test -run - -bench Concat -benchmem -count 5 ./internal/lua51/
func BenchmarkConcat(b *testing.B) {
	if !vmConcatPatched {
		b.Fatalf("OP_CONCAT is not patched: %s", vmConcatReason)
	}
	for _, src := range []struct{ name, code string }{{"headers", benchHeaders}, {"short", benchShort}, {"mixed", benchMixed}} {
		for _, mode := range []string{"stock", "patched"} {
			b.Run(src.name+"/"+mode, func(b *testing.B) {
				if mode == "stock" {
					// No state runs while benchmarks do.
					jumpTable[lua.OP_CONCAT] = stockConcat
					defer func() { jumpTable[lua.OP_CONCAT] = opConcat }()
				}
				L := lua.NewState()
				defer L.Close()
				Install(L)
				fn, err := L.LoadString(src.code)
				if err != nil {
					b.Fatal(err)
				}
				const iters = 1000
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					L.Push(fn)
					L.Push(lua.LNumber(iters))
					if err := L.PCall(1, 1, nil); err != nil {
						b.Fatal(err)
					}
					L.Pop(1)
				}
			})
		}
	}
}
