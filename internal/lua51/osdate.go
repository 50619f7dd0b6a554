package lua51

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// os.date and os.time as Lua 5.1 on glibc in the "C" locale: os.date
// hands each %-conversion to strftime (unknown ones are copied), "!"
// means UTC, "*t" gives the fields; os.time normalises a date table as
// mktime does. gopher-lua maps a subset of conversions to Go layouts and
// prints unknown ones wrongly.

var gmt = time.FixedZone("GMT", 0)

var (
	weekdays = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	months   = [...]string{"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
)

func osDate(L *lua.LState) int {
	format := optString(L, 1, "%c")
	var t time.Time
	if L.Get(2) == lua.LNil {
		t = time.Now()
	} else {
		f := float64(checkNumber(L, 2))
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e17 {
			L.Push(lua.LNil)
			return 1
		}
		t = time.Unix(int64(f), 0)
	}
	if strings.HasPrefix(format, "!") {
		// glibc's gmtime names its zone GMT.
		t = t.In(gmt)
		format = format[1:]
	} else {
		t = t.Local()
	}
	if format == "*t" {
		tb := L.NewTable()
		tb.RawSetString("sec", lua.LNumber(t.Second()))
		tb.RawSetString("min", lua.LNumber(t.Minute()))
		tb.RawSetString("hour", lua.LNumber(t.Hour()))
		tb.RawSetString("day", lua.LNumber(t.Day()))
		tb.RawSetString("month", lua.LNumber(int(t.Month())))
		tb.RawSetString("year", lua.LNumber(t.Year()))
		tb.RawSetString("wday", lua.LNumber(int(t.Weekday())+1))
		tb.RawSetString("yday", lua.LNumber(t.YearDay()))
		tb.RawSetString("isdst", lua.LBool(t.IsDST()))
		L.Push(tb)
		return 1
	}
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		strftime(&b, format[i], t)
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// strftime appends one conversion of glibc's strftime in the C locale.
func strftime(b *strings.Builder, c byte, t time.Time) {
	d2 := func(n int) { fmt.Fprintf(b, "%02d", n) }
	hour12 := t.Hour() % 12
	if hour12 == 0 {
		hour12 = 12
	}
	switch c {
	case 'a':
		b.WriteString(weekdays[t.Weekday()][:3])
	case 'A':
		b.WriteString(weekdays[t.Weekday()])
	case 'b', 'h':
		b.WriteString(months[t.Month()-1][:3])
	case 'B':
		b.WriteString(months[t.Month()-1])
	case 'c':
		fmt.Fprintf(b, "%s %s %2d %02d:%02d:%02d %d", weekdays[t.Weekday()][:3], months[t.Month()-1][:3],
			t.Day(), t.Hour(), t.Minute(), t.Second(), t.Year())
	case 'C':
		d2(t.Year() / 100)
	case 'd':
		d2(t.Day())
	case 'D', 'x':
		fmt.Fprintf(b, "%02d/%02d/%02d", int(t.Month()), t.Day(), t.Year()%100)
	case 'e':
		fmt.Fprintf(b, "%2d", t.Day())
	case 'F':
		fmt.Fprintf(b, "%d-%02d-%02d", t.Year(), int(t.Month()), t.Day())
	case 'g':
		y, _ := t.ISOWeek()
		d2(y % 100)
	case 'G':
		y, _ := t.ISOWeek()
		b.WriteString(strconv.Itoa(y))
	case 'H':
		d2(t.Hour())
	case 'I':
		d2(hour12)
	case 'j':
		fmt.Fprintf(b, "%03d", t.YearDay())
	case 'k':
		fmt.Fprintf(b, "%2d", t.Hour())
	case 'l':
		fmt.Fprintf(b, "%2d", hour12)
	case 'm':
		d2(int(t.Month()))
	case 'M':
		d2(t.Minute())
	case 'n':
		b.WriteByte('\n')
	case 'p':
		if t.Hour() < 12 {
			b.WriteString("AM")
		} else {
			b.WriteString("PM")
		}
	case 'P':
		if t.Hour() < 12 {
			b.WriteString("am")
		} else {
			b.WriteString("pm")
		}
	case 'r':
		fmt.Fprintf(b, "%02d:%02d:%02d ", hour12, t.Minute(), t.Second())
		strftime(b, 'p', t)
	case 'R':
		fmt.Fprintf(b, "%02d:%02d", t.Hour(), t.Minute())
	case 's':
		// strftime runs mktime on the fields, as local time.
		// with gmtime's tm_isdst = 0 (standard time) for "!" dates.
		lt := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.Local)
		secs := lt.Unix()
		if t.Location() == gmt && lt.IsDST() {
			_, dst := lt.Zone()
			_, jan := time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.Local).Zone()
			_, jul := time.Date(t.Year(), 7, 1, 0, 0, 0, 0, time.Local).Zone()
			secs += int64(dst - min(jan, jul))
		}
		b.WriteString(strconv.FormatInt(secs, 10))
	case 'S':
		d2(t.Second())
	case 't':
		b.WriteByte('\t')
	case 'T', 'X':
		fmt.Fprintf(b, "%02d:%02d:%02d", t.Hour(), t.Minute(), t.Second())
	case 'u':
		wd := int(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		b.WriteString(strconv.Itoa(wd))
	case 'U':
		d2((t.YearDay() + 6 - int(t.Weekday())) / 7)
	case 'V':
		_, w := t.ISOWeek()
		d2(w)
	case 'w':
		b.WriteString(strconv.Itoa(int(t.Weekday())))
	case 'W':
		d2((t.YearDay() + 6 - (int(t.Weekday())+6)%7) / 7)
	case 'y':
		d2(t.Year() % 100)
	case 'Y':
		b.WriteString(strconv.Itoa(t.Year()))
	case 'z':
		_, off := t.Zone()
		sign := '+'
		if off < 0 {
			sign, off = '-', -off
		}
		fmt.Fprintf(b, "%c%02d%02d", sign, off/3600, off%3600/60)
	case 'Z':
		name, _ := t.Zone()
		b.WriteString(name)
	case '%':
		b.WriteByte('%')
	default:
		b.WriteByte('%')
		b.WriteByte(c)
	}
}

// osTime is os.time([table]).
func osTime(L *lua.LState) int {
	if L.Get(1) == lua.LNil {
		L.Push(lua.LNumber(time.Now().Unix()))
		return 1
	}
	t := L.CheckTable(1)
	field := func(name string, def int) int {
		v := t.RawGetString(name)
		n, ok := toNumber(v)
		if !ok {
			if def < 0 {
				L.RaiseError("field '%s' missing in date table", name)
			}
			return def
		}
		return int(n)
	}
	sec, min, hour := field("sec", 0), field("min", 0), field("hour", 12)
	day, month, year := field("day", -1), field("month", -1), field("year", -1)
	tm := time.Date(year, time.Month(month), day, hour, min, sec, 0, time.Local)
	L.Push(lua.LNumber(tm.Unix()))
	return 1
}
