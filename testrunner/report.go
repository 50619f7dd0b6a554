package testrunner

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Reporter presents a run. Its methods are called from one goroutine at a
// time (Run serializes them).
type Reporter interface {
	Started(file string)
	FileDone(f FileResult)
	Finish(s Summary)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// indent prefixes every line of s.
func indent(s, prefix string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix) + "\n"
}

// failureText is the body of a failure report: "file:line: message", the
// details below it.
func failureText(r Result) string {
	var b strings.Builder
	head := r.Message
	if r.Where != "" {
		head = r.Where + ": " + head
	}
	b.WriteString(head + "\n")
	b.WriteString(indent(r.Details, "    "))
	return b.String()
}

// TextReporter writes go-test-like lines: with Verbose a line per test,
// otherwise only failures; then the summary line. With Progress (an
// interactive terminal) a status line is redrawn as files finish.
type TextReporter struct {
	W        io.Writer
	Verbose  bool
	Progress bool
	Files    int // number of files, for the progress line

	done    int
	running []string
	sum     Summary
	drawn   bool
}

func (t *TextReporter) clear() {
	if t.drawn {
		fmt.Fprint(t.W, "\r\x1b[K")
		t.drawn = false
	}
}

func (t *TextReporter) draw() {
	if !t.Progress {
		return
	}
	t.clear()
	line := fmt.Sprintf("[%d/%d files] %s", t.done, t.Files, t.sum)
	if len(t.running) > 0 {
		line += "  running " + strings.Join(t.running, ", ")
	}
	if len(line) > 120 {
		line = line[:117] + "..."
	}
	fmt.Fprint(t.W, line)
	t.drawn = true
}

func (t *TextReporter) Started(file string) {
	t.running = append(t.running, file)
	t.draw()
}

func (t *TextReporter) FileDone(f FileResult) {
	t.clear()
	for i, r := range t.running {
		if r == f.File {
			t.running = append(t.running[:i], t.running[i+1:]...)
			break
		}
	}
	t.done++
	t.sum.Add(f)
	failed := false
	for _, r := range f.Results {
		failed = failed || r.Status == Fail
	}
	if t.Verbose || failed {
		if f.Output != "" {
			fmt.Fprintf(t.W, "=== %s (output)\n%s", f.File, indent(f.Output, "    "))
		}
	}
	for _, r := range f.Results {
		if !t.Verbose && r.Status != Fail {
			continue
		}
		fmt.Fprintf(t.W, "--- %s: %s (%s)\n", r.Status, r.ID(), secs(r.Duration))
		switch r.Status {
		case Fail:
			fmt.Fprint(t.W, indent(failureText(r), "    "))
		case Skip:
			if r.Message != "" {
				fmt.Fprint(t.W, indent(r.Message, "    "))
			}
		}
		fmt.Fprint(t.W, indent(r.Output, "    "))
	}
	t.draw()
}

func (t *TextReporter) Finish(s Summary) {
	t.clear()
	fmt.Fprintln(t.W, s.String())
}

// TAPReporter writes TAP version 13: a line per test, YAML diagnostics for
// failures, the plan at the end, then the summary as a comment.
type TAPReporter struct {
	W io.Writer
	n int
}

func (t *TAPReporter) Started(string) {
	if t.n == 0 {
		fmt.Fprintln(t.W, "TAP version 13")
		t.n = -1
	}
}

func (t *TAPReporter) FileDone(f FileResult) {
	if t.n <= 0 {
		t.n = 0
	}
	for _, r := range f.Results {
		t.n++
		name := strings.ReplaceAll(r.ID(), "#", `\#`)
		switch r.Status {
		case Pass:
			fmt.Fprintf(t.W, "ok %d - %s\n", t.n, name)
		case Skip:
			fmt.Fprintf(t.W, "ok %d - %s # SKIP %s\n", t.n, name, r.Message)
		default:
			fmt.Fprintf(t.W, "not ok %d - %s\n", t.n, name)
			fmt.Fprintln(t.W, "  ---")
			fmt.Fprintf(t.W, "  message: %s\n", strconv.Quote(r.Message))
			fmt.Fprintf(t.W, "  severity: %s\n", r.Kind)
			if r.Where != "" {
				fmt.Fprintf(t.W, "  at: %s\n", strconv.Quote(r.Where))
			}
			if r.Details != "" {
				fmt.Fprintf(t.W, "  details: |\n%s", indent(r.Details, "    "))
			}
			if r.Output != "" {
				fmt.Fprintf(t.W, "  output: |\n%s", indent(r.Output, "    "))
			}
			fmt.Fprintln(t.W, "  ...")
		}
	}
}

func (t *TAPReporter) Finish(s Summary) {
	if t.n < 0 {
		t.n = 0
	}
	if t.n == 0 {
		fmt.Fprintln(t.W, "TAP version 13")
	}
	fmt.Fprintf(t.W, "1..%d\n# %s\n", t.n, s)
}

// JUnit XML, as CI systems read it.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
	SystemOut string      `xml:"system-out,omitempty"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkip    `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkip struct {
	Message string `xml:"message,attr,omitempty"`
}

// JUnitReporter collects the run and writes JUnit XML to Path at Finish:
// a testsuite per file, a testcase per test.
type JUnitReporter struct {
	Path  string
	Err   error // set if the file could not be written
	files []FileResult
	start time.Time
}

func (j *JUnitReporter) Started(string) {
	if j.start.IsZero() {
		j.start = time.Now()
	}
}

func (j *JUnitReporter) FileDone(f FileResult) { j.files = append(j.files, f) }

func (j *JUnitReporter) Finish(Summary) {
	data, err := JUnit(j.files, time.Since(j.start))
	if err == nil {
		err = os.WriteFile(j.Path, data, 0o644)
	}
	j.Err = err
}

func seconds3(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// JUnit renders results as a JUnit XML document.
func JUnit(files []FileResult, total time.Duration) ([]byte, error) {
	files = append([]FileResult(nil), files...)
	sort.SliceStable(files, func(i, j int) bool { return files[i].File < files[j].File })
	doc := junitSuites{Name: "copas-lua test", Time: seconds3(total)}
	for _, f := range files {
		s := junitSuite{Name: f.File, Time: seconds3(f.Duration), SystemOut: f.Output}
		for _, r := range f.Results {
			c := junitCase{Name: r.Name, Classname: strings.TrimSuffix(f.File, ".lua"), File: f.File, Time: seconds3(r.Duration), SystemOut: r.Output}
			if c.Name == "" {
				c.Name = f.File
			}
			if file, line, ok := splitWhere(r.Where); ok && file == f.File {
				c.Line = line
			}
			s.Tests++
			switch r.Status {
			case Skip:
				s.Skipped++
				c.Skipped = &junitSkip{Message: r.Message}
			case Fail:
				p := &junitProblem{Message: r.Message, Type: r.Kind, Text: failureText(r)}
				if r.Kind == KindFailure {
					s.Failures++
					c.Failure = p
				} else {
					s.Errors++
					c.Error = p
				}
			}
			s.Cases = append(s.Cases, c)
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, s)
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

// splitWhere splits "file:line".
func splitWhere(w string) (string, int, bool) {
	i := strings.LastIndexByte(w, ':')
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(w[i+1:])
	if err != nil {
		return "", 0, false
	}
	return w[:i], n, true
}

// multi fans a run out to several reporters.
type multi []Reporter

func (m multi) Started(f string) {
	for _, r := range m {
		r.Started(f)
	}
}

func (m multi) FileDone(f FileResult) {
	for _, r := range m {
		r.FileDone(f)
	}
}

func (m multi) Finish(s Summary) {
	for _, r := range m {
		r.Finish(s)
	}
}
