// Package testrunner runs test files written in Lua on copas-lua: the
// engine behind `copas-lua test` and the project's own Lua script tests.
//
// Each *_test.lua file runs in a fresh copaslua.Runtime with module
// "testing" loaded and its vocabulary (describe, it, before_each,
// after_each, setup, teardown, pending, finally and a luassert-style
// assert) set as globals. Loading the file collects its tests; each test
// then runs as a Copas thread, so it can start servers, connect, sleep and
// use timers, under a per-test timeout. A file that declares no tests is
// one test: it passes when the file runs without error and the loop then
// finishes.
//
// Goroutine contract: RunFile and Run may be called from any goroutine.
// Each file's Runtime lives on a goroutine of its own that nothing else
// touches; the Options.Setup hook runs there.
package testrunner

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
)

// DefaultTimeout is the time a test may run when neither Options nor the
// test itself says otherwise.
const DefaultTimeout = 10 * time.Second

// Status is the outcome of a test.
type Status int

const (
	Pass Status = iota
	Fail
	Skip
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "PASS"
	case Fail:
		return "FAIL"
	}
	return "SKIP"
}

// Kinds of failure.
const (
	KindFailure = "failure" // an assertion failed
	KindError   = "error"   // any other error
	KindTimeout = "timeout" // the test ran out of time or could never finish
)

// Result is the outcome of one test.
type Result struct {
	File string // the test file, as found
	// Name is the full test name: the describe names and the test's own,
	// joined by spaces. It is empty for a file that declares no tests.
	Name   string
	Status Status
	// Kind classifies a failure: KindFailure, KindError or KindTimeout.
	Kind string
	// Where is "file:line" of the failure, or of the test's declaration
	// when the failure has no position of its own.
	Where    string
	Message  string // first line of the failure, or why a test was skipped
	Details  string // expected/actual, a diff, tracebacks of waiting threads
	Output   string // what the test printed
	Duration time.Duration
}

// ID is the test's name as reports show it and Options.Run matches it:
// "file: name", or just the file for a file without declared tests.
func (r Result) ID() string {
	if r.Name == "" {
		return r.File
	}
	return r.File + ": " + r.Name
}

// FileResult is the outcome of one file.
type FileResult struct {
	File     string
	Results  []Result
	Output   string // printed outside any test (while loading, between tests)
	Duration time.Duration
}

// Options configure a run. The zero value is usable.
type Options struct {
	// Timeout is how long each test may run (DefaultTimeout if zero). A
	// test may set its own with an option or testing.timeout(seconds).
	Timeout time.Duration
	// Run, if set, selects the tests whose ID it matches.
	Run *regexp.Regexp
	// Parallel is how many files Run runs at once (the number of CPUs if
	// zero).
	Parallel int
	// Setup, if set, is called with each file's runtime before the file
	// runs, on that runtime's goroutine.
	Setup func(r *copaslua.Runtime)
	// grace is how long a test that timed out may take to give the loop
	// back before the file is abandoned (tests shorten it).
	grace time.Duration
}

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

func (o Options) graceTime() time.Duration {
	if o.grace > 0 {
		return o.grace
	}
	return 2 * time.Second
}

func (o Options) selected(id string) bool { return o.Run == nil || o.Run.MatchString(id) }

// Suffix names test files.
const Suffix = "_test.lua"

// Find returns the test files named by paths: files as given, and every
// *_test.lua below directories (hidden directories are skipped), sorted.
// No paths means ".". Safe from any goroutine.
func Find(paths []string) ([]string, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	seen := map[string]bool{}
	var files []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			add(p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(d.Name(), Suffix) {
				add(path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	return files, nil
}

// Summary counts the results of a run.
type Summary struct {
	Passed, Failed, Skipped int
}

// Add counts the results of f.
func (s *Summary) Add(f FileResult) {
	for _, r := range f.Results {
		switch r.Status {
		case Pass:
			s.Passed++
		case Fail:
			s.Failed++
		default:
			s.Skipped++
		}
	}
}

// String is the final line of a report: "N passed, M failed" and
// ", K skipped" when tests were skipped.
func (s Summary) String() string {
	line := fmt.Sprintf("%d passed, %d failed", s.Passed, s.Failed)
	if s.Skipped > 0 {
		line += fmt.Sprintf(", %d skipped", s.Skipped)
	}
	return line
}

// Run runs files, up to opts.Parallel at a time, and calls done with each
// file's result as it finishes; done is never called concurrently. started,
// if not nil, is called (also serialized with done) when a file starts.
// Safe from any goroutine.
func Run(files []string, opts Options, started func(file string), done func(FileResult)) Summary {
	n := opts.Parallel
	if n <= 0 {
		n = runtime.NumCPU()
	}
	var (
		mu  sync.Mutex
		sum Summary
		wg  sync.WaitGroup
	)
	jobs := make(chan string)
	for range min(n, max(len(files), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				if started != nil {
					mu.Lock()
					started(f)
					mu.Unlock()
				}
				res := RunFile(f, opts)
				mu.Lock()
				sum.Add(res)
				if done != nil {
					done(res)
				}
				mu.Unlock()
			}
		}()
	}
	for _, f := range files {
		jobs <- f
	}
	close(jobs)
	wg.Wait()
	return sum
}
