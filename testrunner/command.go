package testrunner

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Exit statuses of Main.
const (
	ExitOK     = 0 // every selected test passed (or was skipped)
	ExitFailed = 1 // a test failed, or there were no test files
	ExitUsage  = 2 // bad command line or unreadable path
)

const usageText = `usage: copas-lua test [flags] [paths...]

Runs the *_test.lua files found in paths (directories recursively; default
"."), each in a fresh runtime, files in parallel. A file declares tests
with describe/it (or is itself one test when it declares none).

Flags:
  -v               print a line for every test, and what tests printed
  --run REGEX      run only tests whose "file: name" matches REGEX
  --timeout D      time limit per test: 10s, 500ms, or seconds (default 10s)
  --parallel N     files run at once (default: number of CPUs)
  --format F       output format: text (default) or tap
  --junit FILE     also write JUnit XML to FILE
`

// durationFlag accepts Go durations ("1m30s") and plain seconds ("2.5").
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n <= 0 {
			return errors.New("must be positive")
		}
		*f.d = seconds(n)
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return errors.New("want a positive duration such as 10s or 500ms")
	}
	*f.d = d
	return nil
}

// Main runs the `copas-lua test` command with args (the words after
// "test") and returns the exit status. Output goes to stdout, usage errors
// to stderr; terminal enables the live progress line. Safe from any
// goroutine, but it writes to the given writers throughout the run.
func Main(args []string, stdout, stderr io.Writer, terminal bool) int {
	fs := flag.NewFlagSet("copas-lua test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	verbose := fs.Bool("v", false, "")
	run := fs.String("run", "", "")
	timeout := DefaultTimeout
	fs.Var(durationFlag{&timeout}, "timeout", "")
	parallel := fs.Int("parallel", 0, "")
	format := fs.String("format", "text", "")
	junit := fs.String("junit", "", "")
	help := fs.Bool("h", false, "")
	fs.BoolVar(help, "help", false, "")

	// Flags may come before, between or after the paths.
	var paths []string
	for {
		if err := fs.Parse(args); err != nil {
			fmt.Fprintf(stderr, "copas-lua test: %v\n%s", err, usageText)
			return ExitUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			paths = append(paths, args[1:]...)
			break
		}
		paths = append(paths, args[0])
		args = args[1:]
	}
	if *help {
		fmt.Fprint(stdout, usageText)
		return ExitOK
	}
	opts := Options{Timeout: timeout, Parallel: *parallel}
	if *run != "" {
		re, err := regexp.Compile(*run)
		if err != nil {
			fmt.Fprintf(stderr, "copas-lua test: --run: %v\n", err)
			return ExitUsage
		}
		opts.Run = re
	}
	if *format != "text" && *format != "tap" {
		fmt.Fprintf(stderr, "copas-lua test: unknown --format %q (want text or tap)\n", *format)
		return ExitUsage
	}
	if *parallel < 0 {
		fmt.Fprintln(stderr, "copas-lua test: --parallel must be at least 1")
		return ExitUsage
	}
	files, err := Find(paths)
	if err != nil {
		fmt.Fprintf(stderr, "copas-lua test: %v\n", err)
		return ExitUsage
	}
	if len(files) == 0 {
		where := "."
		if len(paths) > 0 {
			where = strings.Join(paths, " ")
		}
		fmt.Fprintf(stderr, "copas-lua test: no *%s files in %s\n", Suffix, where)
		return ExitFailed
	}

	var reps multi
	switch *format {
	case "text":
		reps = append(reps, &TextReporter{W: stdout, Verbose: *verbose, Progress: terminal, Files: len(files)})
	case "tap":
		reps = append(reps, &TAPReporter{W: stdout})
	}
	var ju *JUnitReporter
	if *junit != "" {
		ju = &JUnitReporter{Path: *junit}
		reps = append(reps, ju)
	}
	sum := Run(files, opts, reps.Started, reps.FileDone)
	reps.Finish(sum)
	if ju != nil && ju.Err != nil {
		fmt.Fprintf(stderr, "copas-lua test: --junit: %v\n", ju.Err)
		return ExitFailed
	}
	if sum.Failed > 0 {
		return ExitFailed
	}
	return ExitOK
}
