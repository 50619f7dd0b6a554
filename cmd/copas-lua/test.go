package main

import (
	"os"

	"github.com/copas-lua/copas-lua/testrunner"
)

// isTestCommand reports whether argv asks for the test runner: "test" as
// the first word, unless a file of that name exists (then, as in lua5.1,
// it is the script to run; "./test" also names it).
func isTestCommand(argv []string) bool {
	if len(argv) < 2 || argv[1] != "test" {
		return false
	}
	st, err := os.Stat("test")
	return err != nil || st.IsDir()
}

// testCommand runs `copas-lua test [flags] [paths...]`.
func testCommand(args []string) int {
	return testrunner.Main(args, os.Stdout, os.Stderr, isTerminal(os.Stdout))
}
