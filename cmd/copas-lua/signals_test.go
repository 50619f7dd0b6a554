package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
)

// proc is a running copas-lua whose stdout is read line by line, so a
// test can wait for the script to reach a point before it signals.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string
	stderr *syncBuffer
	cancel context.CancelFunc
	out    strings.Builder // stdout lines read so far
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startScript starts copas-lua with args on the Lua source script; the
// process is killed when the test ends, whatever happens.
func startScript(t *testing.T, script string, args ...string) *proc {
	t.Helper()
	dir := writeFiles(t, map[string]string{"script.lua": script})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := exec.CommandContext(ctx, bin, append(args, "script.lua")...)
	cmd.Dir = dir
	p := &proc{t: t, cmd: cmd, lines: make(chan string, 100), stderr: &syncBuffer{}, cancel: cancel}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	return p
}

// waitLine reads stdout up to the line want.
func (p *proc) waitLine(want string) {
	p.t.Helper()
	for line := range p.lines {
		p.out.WriteString(line + "\n")
		if line == want {
			return
		}
	}
	p.t.Fatalf("no line %q in stdout %q; stderr %q", want, p.out.String(), p.stderr.String())
}

// waitStderr waits until stderr contains want, polling it; the test's
// process deadline bounds the wait.
func (p *proc) waitStderr(want string) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.stderr.String(), want) {
		if time.Now().After(deadline) {
			p.t.Fatalf("stderr %q lacks %q", p.stderr.String(), want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// wait reads the rest of stdout and waits for the process: it returns
// stdout, stderr and the wait status.
func (p *proc) wait() (string, string, syscall.WaitStatus) {
	p.t.Helper()
	for line := range p.lines {
		p.out.WriteString(line + "\n")
	}
	err := p.cmd.Wait()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		p.t.Fatal(err)
	}
	return p.out.String(), p.stderr.String(), p.cmd.ProcessState.Sys().(syscall.WaitStatus)
}

func diedOf(ws syscall.WaitStatus, sig syscall.Signal) bool {
	return ws.Signaled() && ws.Signal() == sig
}

const spinScript = `io.write("ready\n") io.flush()
local function spin() while true do end end
spin()
`

// SIGINT interrupts a plain script with lua5.1's error; the status is 1.
func TestSIGINTInterrupts(t *testing.T) {
	p := startScript(t, spinScript)
	p.waitLine("ready")
	p.signal(syscall.SIGINT)
	_, errOut, ws := p.wait()
	// Where depends on the instruction the signal found running.
	if ws.ExitStatus() != 1 || !strings.HasPrefix(errOut, "copas-lua: script.lua:") ||
		!strings.Contains(errOut, ": interrupted!\nstack traceback:\n\tscript.lua:") {
		t.Errorf("status %v, stderr %q; want exit 1 and lua5.1's report", ws, errOut)
	}
}

// "interrupted!" is an error like any: pcall catches it and the next
// SIGINT interrupts again.
func TestSIGINTCaught(t *testing.T) {
	p := startScript(t, `
for i = 1, 2 do
  print(pcall(function() io.write("ready", i, "\n") io.flush() while true do end end))
end
print("after")
`)
	p.waitLine("ready1")
	p.signal(syscall.SIGINT)
	p.waitLine("ready2")
	p.signal(syscall.SIGINT)
	out, errOut, ws := p.wait()
	want := "ready1\nfalse\tscript.lua:3: interrupted!\nready2\nfalse\tscript.lua:3: interrupted!\nafter\n"
	if ws.ExitStatus() != 0 || out != want {
		t.Errorf("status %v, stdout %q, stderr %q; want %q", ws, out, errOut, want)
	}
}

// SIGTERM ends a plain script by that signal, with its buffered output
// written.
func TestSIGTERMFlushes(t *testing.T) {
	p := startScript(t, `io.stdout:setvbuf("full") io.write("buffered\n")
io.stderr:write("ready\n")
while true do end`)
	p.waitStderr("ready\n")
	p.signal(syscall.SIGTERM)
	out, errOut, ws := p.wait()
	if !diedOf(ws, syscall.SIGTERM) || out != "buffered\n" {
		t.Errorf("status %v, stdout %q, stderr %q", ws, out, errOut)
	}
}

// serverScript runs a Copas server and a thread that reports the stop:
// it waits for copas.exit, then finds the server closed, takes a while
// to finish and lets the loop end. Output after the loop is buffered.
const serverScript = `
local copas = require "copas"
local socket = require "socket"
local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
copas.addserver(server, function(skt) end)
copas.addthread(function()
  io.write("ready\n") io.flush()
  copas.waitforexit()
  print("exiting")
  local c = socket.tcp()
  print("connect", c:connect("127.0.0.1", port))
  c:close()
  io.flush()
  for i = 1, LINGER do copas.pause(0.001) end
  print("finished")
end)
copas.loop()
io.stdout:setvbuf("full")
print("loop ended")
`

// The first SIGTERM while Copas runs stops it gracefully: servers
// closed, threads told and left to finish, output flushed; the process
// then dies of SIGTERM.
func TestGracefulStop(t *testing.T) {
	p := startScript(t, "LINGER = 10\n"+serverScript, "--log-format=json")
	p.waitLine("ready")
	p.signal(syscall.SIGTERM)
	out, errOut, ws := p.wait()
	want := "ready\nexiting\nconnect\tnil\tconnection refused\nfinished\nloop ended\n"
	if !diedOf(ws, syscall.SIGTERM) || out != want {
		t.Errorf("status %v, stdout %q, stderr %q; want %q", ws, out, errOut, want)
	}
	var rec struct{ Level, Msg string }
	if err := json.Unmarshal([]byte(firstLine(errOut)), &rec); err != nil || !strings.HasPrefix(rec.Msg, "signal terminated: stopping") {
		t.Errorf("log line %q: %v", firstLine(errOut), err)
	}
}

// A thread still running at the end of the grace period is cancelled.
func TestGraceExpires(t *testing.T) {
	p := startScript(t, "LINGER = math.huge\n"+serverScript, "--grace=10ms")
	p.waitLine("ready")
	p.signal(syscall.SIGINT)
	out, errOut, ws := p.wait()
	want := "ready\nexiting\nconnect\tnil\tconnection refused\nloop ended\n"
	if !diedOf(ws, syscall.SIGINT) || out != want {
		t.Errorf("status %v, stdout %q, stderr %q; want %q", ws, out, errOut, want)
	}
}

// A second signal ends the process at once.
func TestSecondSignal(t *testing.T) {
	p := startScript(t, "LINGER = math.huge\n"+serverScript, "--grace=1h")
	p.waitLine("ready")
	p.signal(syscall.SIGINT)
	p.waitLine("exiting")
	p.signal(syscall.SIGINT)
	out, errOut, ws := p.wait()
	if !diedOf(ws, syscall.SIGINT) || strings.Contains(out, "loop ended") {
		t.Errorf("status %v, stdout %q, stderr %q", ws, out, errOut)
	}
}

// SIGUSR1 lists the Copas threads with their tracebacks on stderr, even
// while a thread spins; expvar serves the runtime's Stats.
func TestThreadDumpAndStats(t *testing.T) {
	p := startScript(t, `
local copas = require "copas"
copas.addnamedthread("sleeper", function() copas.pause(3600) end)
copas.addthread(function()
  copas.pause(0)
  io.write("ready\n") io.flush()
  while true do copas.pause(0.001) end
end)
copas.loop()
`, "--pprof=127.0.0.1:0")
	p.waitLine("ready")
	p.signal(syscall.SIGUSR1)
	p.waitStderr("in function 'pause'")
	dump := p.stderr.String()
	for _, want := range []string{"SIGUSR1: 2 threads", "sleeper (parked)", "stack traceback:", "script.lua:3:"} {
		if !strings.Contains(dump, want) {
			t.Errorf("dump lacks %q:\n%s", want, dump)
		}
	}
	addr := ""
	if _, rest, ok := strings.Cut(firstLine(dump), "http://"); ok {
		addr = strings.TrimSuffix(rest, "/debug/")
	}
	resp, err := http.Get("http://" + addr + "/debug/vars")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var vars struct {
		Stats struct {
			Running bool
			Tasks   int
		} `json:"copas-lua"`
	}
	if err := json.Unmarshal(body, &vars); err != nil || !vars.Stats.Running || vars.Stats.Tasks != 2 {
		t.Errorf("vars %s: %v", body, err)
	}
	p.signal(syscall.SIGTERM)
	p.signal(syscall.SIGTERM)
	p.wait()
}

func TestDevNullIsNoTerminal(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("/dev/null is a terminal")
	}
}

func TestLongOptions(t *testing.T) {
	var o options
	script, _, _, _, ok := collectArgsTo(strings.Fields("copas-lua --grace=2s --log-format=json --pprof=:0 -e x=1 s.lua"), &o)
	if !ok || script != 6 || o.grace != 2*time.Second || o.logFormat != "json" || o.pprof != ":0" {
		t.Errorf("script %d ok %v options %+v", script, ok, o)
	}
	for _, bad := range []string{"--grace=x", "--log-format=xml", "--nosuch=1", "--pprof"} {
		if _, _, _, _, ok := collectArgsTo([]string{"copas-lua", bad}, &o); ok {
			t.Errorf("%s accepted", bad)
		}
	}
	got := start(t, bin, invocation{args: []string{"--grace=1s", "-e", "print(1)"}})
	if got != (result{out: "1\n"}) {
		t.Errorf("got %+v", got)
	}
}

func TestVersionOf(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "7b78abea2bd7aff3d4ab2177d9232ffb0efdadc3"}}
	dirty := append(rev, debug.BuildSetting{Key: "vcs.modified", Value: "true"})
	for _, tc := range []struct {
		main     string
		settings []debug.BuildSetting
		want     string
	}{
		{"v1.2.3", nil, "1.2.3"},
		{"(devel)", nil, copaslua.Version},
		{"", rev, copaslua.Version + "+7b78abea2bd7"},
		{"v0.0.0-20261204193337-7b78abea2bd7+dirty", dirty, copaslua.Version + "+7b78abea2bd7-dirty"},
		{"v1.2.3", rev, "1.2.3"},
	} {
		bi := &debug.BuildInfo{Main: debug.Module{Version: tc.main}, Settings: tc.settings}
		if got := versionOf(bi); got != tc.want {
			t.Errorf("versionOf(%q, %v) = %q, want %q", tc.main, tc.settings, got, tc.want)
		}
	}
}
