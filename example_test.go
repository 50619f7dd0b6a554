package copaslua_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
)

// A TCP service whose per-connection handler is Lua: Go accepts, the Lua
// handler gets a Copas-wrapped LuaSocket client.
func ExampleRuntime_Serve() {
	rt := copaslua.New()
	defer rt.Close()
	if err := rt.DoString(`
		function greet(sock)
		  local name = sock:receive("*l")
		  sock:send("hello, " .. name .. "\n")
		end`); err != nil {
		panic(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	if err := rt.Serve(ctx, ln, "greet"); err != nil {
		panic(err)
	}

	reply := make(chan string, 1)
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			reply <- err.Error()
			return
		}
		defer c.Close()
		fmt.Fprintln(c, "gopher")
		line, _ := bufio.NewReader(c).ReadString('\n')
		reply <- strings.TrimSpace(line)
		cancel()
	}()
	_ = rt.Run(ctx) // serves until cancel() is called
	fmt.Println(<-reply)
	// Output: hello, gopher
}

// A Go net/http server whose handler is a Lua function, run on the loop
// with Call. The Lua side may use sockets, timers and Copas freely.
func ExampleRuntime_Call() {
	rt := copaslua.New()
	defer rt.Close()
	if err := rt.DoString(`
		local copas = require "copas"
		function handle(method, path)
		  copas.pause(0.001) -- a Copas thread: it may wait without blocking others
		  return 200, method .. " " .. path .. " from Lua"
		end`); err != nil {
		panic(err)
	}
	release := rt.KeepAlive() // Run serves Calls until release()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		res, err := rt.Call(req.Context(), "handle", req.Method, req.URL.Path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(int(res[0].(float64)))
		io.WriteString(w, res[1].(string))
	}))
	body := make(chan string, 1)
	go func() {
		resp, err := http.Get(srv.URL + "/hello")
		if err != nil {
			body <- err.Error()
		} else {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body <- fmt.Sprint(resp.StatusCode, " ", string(b))
		}
		release()
	}()
	// The loop runs on this goroutine until release().
	_ = rt.Run(context.Background())
	srv.Close()
	fmt.Println(<-body)
	// Output: 200 GET /hello from Lua
}

// A Copas script run under a context with a deadline: when the deadline
// passes, copas.exiting() becomes true and the threads wind down.
func ExampleRuntime_Run() {
	var out strings.Builder
	rt := copaslua.New(copaslua.WithStdout(&out), copaslua.WithGracePeriod(time.Second))
	defer rt.Close()
	if err := rt.DoString(`
		local copas = require "copas"
		copas.addthread(function()
		  local ticks = 0
		  while not copas.exiting() do
		    ticks = ticks + 1
		    copas.pause(0.01)
		  end
		  print("stopped cleanly after ticking: " .. tostring(ticks > 0))
		end)`); err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := rt.Run(ctx)
	fmt.Print(out.String())
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output:
	// stopped cleanly after ticking: true
	// true
}
