// Command echobench is the scale benchmark of copas-lua: it starts the Copas
// echo server of bench/server.lua under copas-lua (and under LuaJIT with the
// reference Copas 4.11, for comparison) as separate processes and is itself
// the load generator, with its own descriptors.
//
//	go run ./bench/echobench [flags]
//
// It measures
//
//   - hold: connections held and served by one copas-lua server, ramped up
//     to the largest count of -hold; at each count every new connection
//     has done one echo round trip (so the server accepted and serves it)
//     and the server's VmRSS is read from /proc/PID/status. The slope of
//     RSS over connections is the memory per connection.
//   - echo: round trips per second and server CPU per round trip (utime +
//     stime from /proc/PID/stat) with -conns connections, each sending a
//     line and waiting for it, for -duration after a warm-up; under
//     copas-lua and LuaJIT in the same run.
//
// and prints markdown tables. Every server it starts it ends; every phase is
// bounded in time. Network: 127.0.0.1 only, ports chosen by the OS.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type options struct {
	copasLua   string
	luajit     string
	copasSrc   string
	timerwheel string
	script     string
	hold       []int
	conns      []int
	duration   time.Duration
	warmup     time.Duration
	mode       string
	profileDir string
	msg        string
	addr       string
	pid        int
}

func main() {
	var o options
	var hold, conns string
	flag.StringVar(&o.copasLua, "copas-lua", "bin/copas-lua", "copas-lua binary")
	flag.StringVar(&o.luajit, "luajit", "luajit", "LuaJIT binary for the reference column (empty: skip)")
	flag.StringVar(&o.copasSrc, "copas-src", "/work/ref/lunarmodules+copas/src", "Copas 4.11 sources for LuaJIT")
	flag.StringVar(&o.timerwheel, "timerwheel", "/work/ref/Tieske+timerwheel.lua/src", "timerwheel.lua sources for LuaJIT")
	flag.StringVar(&o.script, "script", "bench/server.lua", "echo server script")
	flag.StringVar(&hold, "hold", "1000,5000,10000,15000,19000", "connection counts of the hold test (empty: skip)")
	flag.StringVar(&conns, "conns", "50,500", "connection counts of the echo test (empty: skip)")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "measured time of each echo run")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "warm-up before each echo measurement")
	flag.StringVar(&o.mode, "mode", "all", "all, hold or echo")
	flag.StringVar(&o.profileDir, "cpuprofile-dir", "", "if set, copas-lua echo servers write CPU profiles here (COPAS_LUA_CPUPROFILE)")
	flag.StringVar(&o.addr, "addr", "", "with -pid: run the echo test against this running server instead (mode echo, first -conns count)")
	flag.IntVar(&o.pid, "pid", 0, "process id of the server at -addr, for its CPU time")
	flag.StringVar(&o.msg, "msg", "the quick brown fox jumps over the lazy dog", "line echoed (without newline)")
	flag.Parse()
	var err error
	if o.hold, err = ints(hold); err != nil {
		fatal(err)
	}
	if o.conns, err = ints(conns); err != nil {
		fatal(err)
	}
	raiseNoFile()
	if o.addr != "" {
		external(o)
		return
	}
	if o.mode == "all" || o.mode == "echo" {
		echoTable(o)
	}
	if o.mode == "all" || o.mode == "hold" {
		holdTable(o)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "echobench:", err)
	os.Exit(1)
}

func ints(s string) ([]int, error) {
	var r []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, err
		}
		r = append(r, n)
	}
	return r, nil
}

func raiseNoFile() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

// server is one running echo server process.
type server struct {
	name string
	cmd  *exec.Cmd
	pid  int
	addr string
}

// start runs the echo script under impl ("copas-lua" or "luajit") and waits
// for its "listening PORT" line.
func start(o options, impl string, env ...string) (*server, error) {
	var cmd *exec.Cmd
	switch impl {
	case "copas-lua":
		cmd = exec.Command(o.copasLua, o.script, "0")
	case "luajit":
		cmd = exec.Command(o.luajit, o.script, "0")
		env = append(env, "LUA_PATH="+filepath.Join(o.copasSrc, "?.lua")+";"+
			filepath.Join(o.timerwheel, "?/init.lua")+";"+filepath.Join(o.timerwheel, "?.lua")+";;")
	default:
		return nil, fmt.Errorf("unknown implementation %q", impl)
	}
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: impl, cmd: cmd, pid: cmd.Process.Pid}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	select {
	case l := <-lines:
		port, ok := strings.CutPrefix(l, "listening ")
		if !ok {
			s.stop()
			return nil, fmt.Errorf("%s: unexpected output %q", impl, l)
		}
		s.addr = net.JoinHostPort("127.0.0.1", port)
		return s, nil
	case <-time.After(10 * time.Second):
		s.stop()
		return nil, fmt.Errorf("%s: server did not start", impl)
	}
}

// stop ends the server: SIGTERM (a copas-lua CPU profile is written then), SIGKILL
// after a grace period.
func (s *server) stop() {
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// external runs one echo measurement against a server started elsewhere
// (to watch it with strace or perf).
func external(o options) {
	if len(o.conns) == 0 {
		fatal(errors.New("-addr needs a -conns count"))
	}
	s := &server{name: "external", addr: o.addr, pid: o.pid}
	r := echoRun(o, s, o.conns[0])
	fmt.Printf("%d conns: %.0f round trips/s, %.1f µs server CPU/round trip (err %v)\n",
		r.conns, r.perSec(), r.cpuPerTrip(), r.err)
}

// cpu returns the server's user+system CPU time.
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // CLK_TCK
}

// rssKB returns VmRSS and VmHWM of the server, in KB.
func (s *server) rssKB() (rss, hwm int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "VmRSS:":
			rss = n
		case "VmHWM:":
			hwm = n
		}
	}
	return rss, hwm
}

// client is one connection of the load generator.
type client struct {
	c net.Conn
	r *bufio.Reader
}

func dial(addr string) (*client, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	return &client{c: c, r: bufio.NewReaderSize(c, 256)}, nil
}

// roundTrip sends msg+"\n" and reads the echo back, within d.
func (c *client) roundTrip(line []byte, d time.Duration) error {
	_ = c.c.SetDeadline(time.Now().Add(d))
	if _, err := c.c.Write(line); err != nil {
		return err
	}
	got, err := c.r.ReadSlice('\n')
	if err != nil {
		return err
	}
	if len(got) != len(line) {
		return fmt.Errorf("echo mismatch: %q", got)
	}
	return nil
}

// dialAll opens n connections with bounded parallelism and does one round
// trip on each; it gives up at deadline.
func dialAll(addr string, n int, line []byte, deadline time.Time) ([]*client, error) {
	out := make([]*client, n)
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || time.Now().After(deadline) {
					return
				}
				c, err := dial(addr)
				if err == nil {
					err = c.roundTrip(line, time.Until(deadline))
				}
				if err != nil {
					if c != nil {
						c.c.Close()
					}
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("connection %d: %w", i, err)
					}
					mu.Unlock()
					return
				}
				out[i] = c
			}
		}()
	}
	wg.Wait()
	if firstErr == nil && time.Now().After(deadline) {
		firstErr = errors.New("deadline passed while connecting")
	}
	return out, firstErr
}

func closeAll(cs []*client) {
	for _, c := range cs {
		if c != nil {
			c.c.Close()
		}
	}
}

// echoResult is one echo measurement.
type echoResult struct {
	conns     int
	trips     int64
	elapsed   time.Duration
	serverCPU time.Duration
	err       error
}

func (r echoResult) perSec() float64 { return float64(r.trips) / r.elapsed.Seconds() }
func (r echoResult) cpuPerTrip() float64 {
	if r.trips == 0 {
		return 0
	}
	return float64(r.serverCPU.Microseconds()) / float64(r.trips)
}

// echoRun measures round trips with n connections against s.
func echoRun(o options, s *server, n int) echoResult {
	line := []byte(o.msg + "\n")
	res := echoResult{conns: n}
	cs, err := dialAll(s.addr, n, line, time.Now().Add(60*time.Second))
	defer closeAll(cs)
	if err != nil {
		res.err = err
		return res
	}
	var counting atomic.Bool
	var trips atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), o.warmup+o.duration+30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var errOnce sync.Once
	for _, c := range cs {
		wg.Add(1)
		go func(c *client) {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := c.roundTrip(line, 10*time.Second); err != nil {
					if ctx.Err() == nil {
						errOnce.Do(func() { res.err = err })
						cancel()
					}
					return
				}
				if counting.Load() {
					trips.Add(1)
				}
			}
		}(c)
	}
	time.Sleep(o.warmup)
	cpu0, t0 := s.cpu(), time.Now()
	counting.Store(true)
	time.Sleep(o.duration)
	counting.Store(false)
	res.trips, res.elapsed, res.serverCPU = trips.Load(), time.Since(t0), s.cpu()-cpu0
	cancel()
	for _, c := range cs {
		_ = c.c.SetDeadline(time.Now()) // unblock the round trip in flight
	}
	wg.Wait()
	return res
}

func echoTable(o options) {
	if len(o.conns) == 0 {
		return
	}
	impls := []string{"copas-lua"}
	note := ""
	if o.luajit == "" {
		note = "LuaJIT column skipped: no -luajit given."
	} else if _, err := exec.LookPath(o.luajit); err != nil {
		note = "LuaJIT column skipped: " + o.luajit + " not found."
	} else if _, err := os.Stat(filepath.Join(o.copasSrc, "copas.lua")); err != nil {
		note = "LuaJIT column skipped: Copas sources not found in " + o.copasSrc + "."
	} else {
		impls = append(impls, "luajit")
	}
	results := map[string][]echoResult{}
	for _, n := range o.conns {
		for _, impl := range impls {
			var env []string
			if impl == "copas-lua" && o.profileDir != "" {
				env = append(env, "COPAS_LUA_CPUPROFILE="+filepath.Join(o.profileDir, fmt.Sprintf("echo-%d.pprof", n)))
			}
			s, err := start(o, impl, env...)
			if err != nil {
				fatal(err)
			}
			r := echoRun(o, s, n)
			s.stop()
			results[impl] = append(results[impl], r)
			fmt.Fprintf(os.Stderr, "echo %s %d conns: %.0f round trips/s, %.1f µs server CPU/round trip (err %v)\n",
				impl, n, r.perSec(), r.cpuPerTrip(), r.err)
		}
	}
	fmt.Printf("\n### Echo throughput (%s per run after %s warm-up, %d-byte lines)\n\n", o.duration, o.warmup, len(o.msg)+1)
	hdr := "| connections | copas-lua round trips/s | copas-lua server CPU µs/round trip |"
	sep := "|---|---|---|"
	if len(impls) > 1 {
		hdr += " Copas 4.11 on LuaJIT round trips/s | LuaJIT server CPU µs/round trip |"
		sep += "---|---|"
	}
	fmt.Println(hdr)
	fmt.Println(sep)
	for i, n := range o.conns {
		row := fmt.Sprintf("| %d |", n)
		for _, impl := range impls {
			r := results[impl][i]
			if r.err != nil {
				row += fmt.Sprintf(" failed: %v | |", r.err)
				continue
			}
			row += fmt.Sprintf(" %.0f | %.1f |", r.perSec(), r.cpuPerTrip())
		}
		fmt.Println(row)
	}
	if note != "" {
		fmt.Println("\n" + note)
	}
}

func holdTable(o options) {
	if len(o.hold) == 0 {
		return
	}
	s, err := start(o, "copas-lua")
	if err != nil {
		fatal(err)
	}
	defer s.stop()
	line := []byte(o.msg + "\n")
	rss0, _ := s.rssKB()
	var pts []point
	var all []*client
	defer func() { closeAll(all) }()
	var failure error
	t0 := time.Now()
	for _, n := range o.hold {
		if n <= len(all) {
			continue
		}
		cs, err := dialAll(s.addr, n-len(all), line, time.Now().Add(120*time.Second))
		for _, c := range cs {
			if c != nil {
				all = append(all, c)
			}
		}
		if err != nil {
			failure = fmt.Errorf("at %d connections: %w", len(all), err)
			break
		}
		time.Sleep(500 * time.Millisecond)
		rss, hwm := s.rssKB()
		pts = append(pts, point{n, rss, hwm})
		fmt.Fprintf(os.Stderr, "hold %d connections: RSS %d KB (HWM %d KB), %.1f s\n", n, rss, hwm, time.Since(t0).Seconds())
	}
	// Serve them all once more, concurrently, and time it.
	var served atomic.Int64
	var serveErr atomic.Value
	serveStart := time.Now()
	if failure == nil {
		var wg sync.WaitGroup
		var next atomic.Int64
		for w := 0; w < 256; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1) - 1)
					if i >= len(all) {
						return
					}
					if err := all[i].roundTrip(line, 60*time.Second); err != nil {
						serveErr.CompareAndSwap(nil, err)
						return
					}
					served.Add(1)
				}
			}()
		}
		wg.Wait()
	}
	serveTime := time.Since(serveStart)
	rssEnd, hwmEnd := s.rssKB()

	fmt.Printf("\n### Held connections (one copas-lua echo server; RSS from /proc/PID/status)\n\n")
	fmt.Printf("| connections | server RSS | RSS / connection | RSS growth since previous row, per connection |\n|---|---|---|---|\n")
	fmt.Printf("| 0 | %.1f MB | | |\n", float64(rss0)/1024)
	prev := point{0, rss0, 0}
	for _, p := range pts {
		fmt.Printf("| %d | %.1f MB | %.1f KB | %.1f KB |\n", p.n, float64(p.rss)/1024,
			float64(p.rss)/float64(p.n), float64(p.rss-prev.rss)/float64(p.n-prev.n))
		prev = p
	}
	if len(pts) >= 2 {
		fmt.Printf("\nSlope (least squares, RSS over connections, %d–%d): **%.1f KB per connection**.\n",
			pts[0].n, pts[len(pts)-1].n, slope(pts))
	}
	fmt.Printf("After the ramp: all %d held connections served one more round trip each (256 at a time) in %.2f s; RSS %.1f MB, peak (VmHWM) %.1f MB.\n",
		served.Load(), serveTime.Seconds(), float64(rssEnd)/1024, float64(hwmEnd)/1024)
	if e := serveErr.Load(); e != nil {
		fmt.Printf("Serving error: %v\n", e)
	}
	if failure != nil {
		fmt.Printf("\n**Hold test failed** %v\n", failure)
	}
}

// point is the server's memory at n held connections, in KB.
type point struct{ n, rss, hwm int }

// slope is the least-squares slope of RSS over connections.
func slope(pts []point) float64 {
	var sx, sy, sxx, sxy float64
	for _, p := range pts {
		x, y := float64(p.n), float64(p.rss)
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	k := float64(len(pts))
	return (k*sxy - sx*sy) / (k*sxx - sx*sx)
}
