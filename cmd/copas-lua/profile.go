package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

// Profiling for performance work, off unless asked for:
//
//	COPAS_LUA_CPUPROFILE=cpu.pprof copas-lua server.lua
//
// writes a Go CPU profile of the whole process (Lua VM, scheduler, socket
// I/O) to the named file; read it with `go tool pprof bin/copas-lua
// cpu.pprof`. A server never returns from copas.loop(), so the profile is
// written when the process gets SIGINT or SIGTERM, and the process then
// exits with status 130 or 143 as a shell would report the signal.
const cpuProfileEnv = "COPAS_LUA_CPUPROFILE"

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
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sig
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(128 + int(s.(syscall.Signal)))
	}()
}
