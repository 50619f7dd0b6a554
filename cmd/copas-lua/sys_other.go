//go:build !linux

package main

// raiseNoFileLimit is a no-op here: Go raises the soft limit itself on
// the BSDs and macOS.
func raiseNoFileLimit() {}
