package testrunner

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// maxDepth bounds how deep nested tables are printed and compared by
// format; deeper levels print as "{...}".
const maxDepth = 12

// formatValue renders v for failure messages: the type in parentheses,
// then the value; tables over several indented lines with sorted keys so
// two renderings can be diffed line by line.
func formatValue(v lua.LValue) string {
	if t, ok := v.(*lua.LTable); ok {
		return "(table) " + strings.Join(tableLines(t), "\n")
	}
	return "(" + v.Type().String() + ") " + scalar(v)
}

func scalar(v lua.LValue) string {
	switch x := v.(type) {
	case lua.LString:
		return strconv.Quote(string(x))
	default:
		return v.String()
	}
}

// tableLines renders t as lines: "{", one line per entry (nested tables
// indented), "}". Tables seen higher up print as "<cycle>".
func tableLines(t *lua.LTable) []string {
	var out []string
	var walk func(prefix string, t *lua.LTable, indent string, seen map[*lua.LTable]bool, depth int)
	walk = func(prefix string, t *lua.LTable, indent string, seen map[*lua.LTable]bool, depth int) {
		if seen[t] {
			out = append(out, indent+prefix+"<cycle>,")
			return
		}
		keys := sortedKeys(t)
		if len(keys) == 0 {
			out = append(out, indent+prefix+"{},")
			return
		}
		if depth >= maxDepth {
			out = append(out, indent+prefix+"{...},")
			return
		}
		seen[t] = true
		out = append(out, indent+prefix+"{")
		for _, k := range keys {
			kp := keyString(k) + " = "
			if sub, ok := t.RawGet(k).(*lua.LTable); ok {
				walk(kp, sub, indent+"  ", seen, depth+1)
			} else {
				out = append(out, indent+"  "+kp+scalar(t.RawGet(k))+",")
			}
		}
		out = append(out, indent+"},")
		delete(seen, t)
	}
	walk("", t, "", map[*lua.LTable]bool{}, 0)
	// The outermost table carries no trailing comma.
	last := len(out) - 1
	out[last] = strings.TrimSuffix(out[last], ",")
	return out
}

func keyString(k lua.LValue) string {
	if s, ok := k.(lua.LString); ok && isIdent(string(s)) {
		return string(s)
	}
	return "[" + scalar(k) + "]"
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return !luaKeywords[s]
}

var luaKeywords = map[string]bool{
	"and": true, "break": true, "do": true, "else": true, "elseif": true, "end": true,
	"false": true, "for": true, "function": true, "if": true, "in": true, "local": true,
	"nil": true, "not": true, "or": true, "repeat": true, "return": true, "then": true,
	"true": true, "until": true, "while": true,
}

// sortedKeys returns t's keys: numbers ascending, then strings, then the
// rest by type and rendering, so output is stable between runs.
func sortedKeys(t *lua.LTable) []lua.LValue {
	var keys []lua.LValue
	t.ForEach(func(k, _ lua.LValue) { keys = append(keys, k) })
	rank := func(v lua.LValue) int {
		switch v.(type) {
		case lua.LNumber:
			return 0
		case lua.LString:
			return 1
		case lua.LBool:
			return 2
		}
		return 3
	}
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		ra, rb := rank(a), rank(b)
		if ra != rb {
			return ra < rb
		}
		switch x := a.(type) {
		case lua.LNumber:
			return x < b.(lua.LNumber)
		case lua.LString:
			return x < b.(lua.LString)
		}
		return a.String() < b.String()
	})
	return keys
}

// same reports whether a and b are deeply equal: tables with the same
// keys mapping to deeply equal values (keys that are tables compare by
// identity), anything else by raw equality. NaN equals NaN, as "the same
// value" should.
func same(a, b lua.LValue) bool {
	type pair struct{ a, b *lua.LTable }
	seen := map[pair]bool{}
	var eq func(a, b lua.LValue) bool
	eq = func(a, b lua.LValue) bool {
		ta, okA := a.(*lua.LTable)
		tb, okB := b.(*lua.LTable)
		if !okA || !okB {
			if na, ok := a.(lua.LNumber); ok {
				if nb, ok := b.(lua.LNumber); ok && na != na && nb != nb {
					return true
				}
			}
			return a == b
		}
		if ta == tb || seen[pair{ta, tb}] {
			return true
		}
		seen[pair{ta, tb}] = true // assume equal while comparing (cycles)
		n := 0
		equal := true
		ta.ForEach(func(k, v lua.LValue) {
			n++
			if equal && !eq(v, tb.RawGet(k)) {
				equal = false
			}
		})
		if !equal {
			return false
		}
		m := 0
		tb.ForEach(func(_, _ lua.LValue) { m++ })
		return n == m
	}
	return eq(a, b)
}

// diffValues renders expected and actual and returns a line diff of the
// two renderings: "- " lines only in expected, "+ " only in actual. Long
// runs of common lines are shortened to three lines of context.
func diffValues(expected, actual lua.LValue) string {
	lines := func(v lua.LValue) []string {
		if t, ok := v.(*lua.LTable); ok {
			return tableLines(t)
		}
		return []string{formatValue(v)}
	}
	return diffLines(lines(expected), lines(actual))
}

func diffLines(a, b []string) string {
	const maxCells = 4_000_000
	if len(a)*len(b) > maxCells {
		return fmt.Sprintf("(values too large to diff: %d and %d lines)", len(a), len(b))
	}
	// LCS table, computed from the end so the walk goes forward.
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var lines []line
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			lines = append(lines, line{' ', a[i]})
			i++
			j++
		case j < len(b) && (i == len(a) || lcs[i][j+1] > lcs[i+1][j]):
			lines = append(lines, line{'+', b[j]})
			j++
		default:
			lines = append(lines, line{'-', a[i]})
			i++
		}
	}
	const context = 3
	keep := make([]bool, len(lines))
	for k, l := range lines {
		if l.op != ' ' {
			for c := max(0, k-context); c <= min(len(lines)-1, k+context); c++ {
				keep[c] = true
			}
		}
	}
	var sb strings.Builder
	sb.WriteString("- expected\n+ actual\n")
	skipped := false
	for k, l := range lines {
		if !keep[k] {
			if !skipped {
				sb.WriteString("  ...\n")
				skipped = true
			}
			continue
		}
		skipped = false
		sb.WriteByte(l.op)
		sb.WriteByte(' ')
		sb.WriteString(l.text)
		sb.WriteByte('\n')
	}
	return strings.TrimSuffix(sb.String(), "\n")
}
