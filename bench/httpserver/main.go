// Command httpserver is the local HTTP server of bench/http_bench.sh: it
// listens on an OS-chosen loopback port, prints the port, and answers
// every request with a fixed body of -size bytes.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
)

func main() {
	size := flag.Int("size", 1024, "response body size in bytes")
	flag.Parse()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	body := strings.Repeat("x", *size)
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write([]byte(body))
	})))
}
