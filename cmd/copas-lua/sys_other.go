//go:build !linux

package main

import "os"

// raiseNoFileLimit is a no-op here: Go raises the soft limit itself on
// the BSDs and macOS.
func raiseNoFileLimit() {}

// isTerminal approximates isatty(3) where TCGETS is not available.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
