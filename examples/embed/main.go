// Command embed is a Go program with Lua handlers: a TCP line service and
// an HTTP endpoint, both answered by Lua code running on one copas-lua
// runtime, until interrupted (or -for elapses).
//
//	go run ./examples/embed -tcp 127.0.0.1:7070 -http 127.0.0.1:7071
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	copaslua "github.com/copas-lua/copas-lua"
)

const handlers = `
local copas = require "copas"
local hits = 0

-- TCP: answer each line with its length
function lines(sock)
  while true do
    local line = sock:receive("*l")
    if not line then return end
    sock:send(#line .. "\n")
  end
end

-- HTTP: count requests; the pause shows a handler may wait
function http_handler(method, path)
  hits = hits + 1
  copas.pause(0.001)
  return 200, ("%s %s, request %d\n"):format(method, path, hits)
end
`

func main() {
	tcpAddr := flag.String("tcp", "127.0.0.1:7070", "TCP listen address")
	httpAddr := flag.String("http", "127.0.0.1:7071", "HTTP listen address")
	runFor := flag.Duration("for", 0, "stop after this long (0: until interrupted)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *runFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *runFor)
		defer cancel()
	}

	rt := copaslua.New(copaslua.WithGracePeriod(2 * time.Second))
	defer rt.Close()
	if err := rt.DoString(handlers); err != nil {
		log.Fatal(err)
	}

	ln, err := net.Listen("tcp", *tcpAddr)
	if err != nil {
		log.Fatal(err)
	}
	if err := rt.Serve(ctx, ln, "lines"); err != nil {
		log.Fatal(err)
	}

	srv := &http.Server{Addr: *httpAddr, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := rt.Call(r.Context(), "http_handler", r.Method, r.URL.Path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(int(res[0].(float64)))
		io.WriteString(w, res[1].(string))
	})}
	go func() {
		if err := srv.ListenAndServe(); err != http.ErrServerClosed {
			log.Print(err)
		}
	}()
	release := rt.KeepAlive()
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
		release()
	}()

	fmt.Printf("tcp on %s, http on %s\n", ln.Addr(), *httpAddr)
	if err := rt.Run(ctx); err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}
