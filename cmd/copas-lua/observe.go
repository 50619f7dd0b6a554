package main

import (
	"context"
	"expvar"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

// Observability of a running program, off unless asked for:
//
//	copas-lua --pprof=127.0.0.1:6060 server.lua    (or COPAS_LUA_PPROF=addr)
//
// serves Go's net/http/pprof under /debug/pprof/ and expvar under
// /debug/vars on addr; expvar's "copas-lua" entry holds the runtime's
// Stats (copas.status(): threads by state, timers, servers and
// sockets waiting) read on the loop. SIGUSR1 writes every Copas thread
// with its state and traceback to stderr. --log-format=text|json sends
// the runtime's own messages (signals, the grace period, errors of Copas
// threads without an error handler, descriptor shortage) through log/slog
// to stderr in that format.
const pprofEnv = "COPAS_LUA_PPROF"

// newLogger returns the slog logger for --log-format, or nil.
func newLogger(format string) *slog.Logger {
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return nil
}

// logf reports a runtime message through the logger, if there is one.
func (c *cli) logf(format string, args ...any) {
	if c.logger != nil {
		c.logger.Info(fmt.Sprintf(format, args...))
	}
}

// statsTimeout bounds how long /debug/vars waits for the loop: a script
// blocked in a Go function does not serve it.
const statsTimeout = 2 * time.Second

// servePprof listens on addr and serves pprof and expvar there until the
// process ends.
func (c *cli) servePprof(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	expvar.Publish("copas-lua", expvar.Func(c.statsVar))
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/vars", expvar.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	// The address, as a port of 0 became a real one.
	fmt.Fprintf(os.Stderr, "%s: pprof and expvar on http://%s/debug/\n", progname, ln.Addr())
	return nil
}

// statsVar is the expvar "copas-lua": the runtime's Stats, read on the
// loop goroutine. Runs on an HTTP goroutine.
func (c *cli) statsVar() any {
	res := make(chan any, 1)
	c.sig.onLoop(func(L *lua.LState) {
		st, err := c.r.Stats(context.Background())
		if err != nil {
			res <- map[string]string{"error": err.Error()}
			return
		}
		res <- st
	})
	select {
	case v := <-res:
		return v
	case <-time.After(statsTimeout):
		return map[string]string{"error": "the Lua loop did not answer (a Go function is blocking it)"}
	}
}

// dumpThreads writes every task of the loop (Copas threads, Call and
// Serve handlers) with its state and traceback to stderr. Loop
// goroutine only.
func dumpThreads(L *lua.LState) {
	loop := scheduler.Of(L)
	if loop == nil {
		return
	}
	var b strings.Builder
	var tasks []*scheduler.Task
	loop.EachTask(func(t *scheduler.Task) { tasks = append(tasks, t) })
	fmt.Fprintf(&b, "%s: SIGUSR1: %d threads", progname, len(tasks))
	if n := loop.Detached(); n > 0 {
		fmt.Fprintf(&b, " (and %d unreachable ones sleeping forever)", n)
	}
	b.WriteByte('\n')
	copas, _ := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable)
	var nameOf lua.LValue = lua.LNil
	if copas != nil {
		if m, ok := copas.RawGetString("copas").(*lua.LTable); ok {
			nameOf = m.RawGetString("getthreadname")
		}
	}
	tb := lua.LNil
	if dbg, ok := L.GetGlobal("debug").(*lua.LTable); ok {
		tb = dbg.RawGetString("traceback")
	}
	for _, t := range tasks {
		name := ""
		if nameOf.Type() == lua.LTFunction {
			if r, err := callValue(L, nameOf, t.Co); err == nil && r.Type() == lua.LTString && r.String() != t.Co.String() {
				name = " " + r.String()
			}
		}
		fmt.Fprintf(&b, "\n%s%s (%s)", t.Co, name, t.State())
		if tb.Type() == lua.LTFunction {
			if r, err := callValue(L, tb, t.Co); err == nil {
				fmt.Fprintf(&b, "\n%s", r.String())
			}
		}
		b.WriteByte('\n')
	}
	os.Stderr.WriteString(b.String())
}

// callValue calls fn(args...) in protected mode and returns its first
// result.
func callValue(L *lua.LState, fn lua.LValue, args ...lua.LValue) (lua.LValue, error) {
	if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, args...); err != nil {
		return lua.LNil, err
	}
	v := L.Get(-1)
	L.Pop(1)
	return v, nil
}

// runtimeOptions are the copaslua options the command line asks for.
func runtimeOptions(logger *slog.Logger, grace time.Duration) []copaslua.Option {
	var opts []copaslua.Option
	if logger != nil {
		opts = append(opts, copaslua.WithLogger(logger))
	}
	if grace > 0 {
		opts = append(opts, copaslua.WithGracePeriod(grace))
	}
	return opts
}
