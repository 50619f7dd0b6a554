//go:build linux

package socket

import (
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// pollFdsUntil is the wait of a parked socket.select that could get no
// eventfd (out of descriptors): it must still see readiness, and stop
// soon after its flag is set.
func TestPollFdsUntil(t *testing.T) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])
	fds := []pollFd{{fd: int32(p[0]), events: pollIn}}

	var stop atomic.Bool
	n, errno := pollFdsUntil(fds, 3*selSlice, &stop)
	if n != 0 || errno != 0 {
		t.Fatalf("idle pipe: %d, %v", n, errno)
	}

	done := make(chan int)
	go func() {
		n, _ := pollFdsUntil(fds, -1, &stop)
		done <- n
	}()
	time.Sleep(2 * selSlice)
	stop.Store(true)
	select {
	case n := <-done:
		if n != 0 {
			t.Fatalf("stopped wait reports %d ready", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stop flag did not end the wait")
	}

	stop.Store(false)
	go func() {
		n, _ := pollFdsUntil(fds, -1, &stop)
		done <- n
	}()
	syscall.Write(p[1], []byte("x"))
	select {
	case n := <-done:
		if n != 1 || fds[0].revents&pollIn == 0 {
			t.Fatalf("readable pipe: %d, revents %#x", n, fds[0].revents)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("readiness did not end the wait")
	}
}
