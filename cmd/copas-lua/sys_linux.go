//go:build linux

package main

import "syscall"

// raiseNoFileLimit raises the soft RLIMIT_NOFILE to the hard limit: a
// server holds one descriptor per connection. Go's runtime already does
// this at start-up and restores the old soft limit for child processes;
// Setrlimit is called only if the limit is still low, because calling it
// would make children (io.popen, os.execute) inherit the raised limit.
func raiseNoFileLimit() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil || lim.Cur >= lim.Max {
		return
	}
	lim.Cur = lim.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}
