package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
)

// Profiling for performance work, off unless asked for:
//
//	COPAS_LUA_CPUPROFILE=cpu.pprof copas-lua server.lua
//
// writes a Go CPU profile of the whole process (Lua VM, scheduler, socket
// I/O) to the named file; read it with `go tool pprof bin/copas-lua
// cpu.pprof`. The profile is complete when the program exits, by the end
// of the script, os.exit or a signal (signals.go). For live profiles see
// --pprof (observe.go).
const cpuProfileEnv = "COPAS_LUA_CPUPROFILE"

// stopCPUProfile ends the CPU profile, if one is being written. Safe from
// any goroutine, more than once.
var stopCPUProfile = func() {}

func init() {
	path := os.Getenv(cpuProfileEnv)
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %s: %v\n", progname, cpuProfileEnv, err)
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %s: %v\n", progname, cpuProfileEnv, err)
		f.Close()
		return
	}
	stopCPUProfile = sync.OnceFunc(func() {
		pprof.StopCPUProfile()
		f.Close()
	})
}
