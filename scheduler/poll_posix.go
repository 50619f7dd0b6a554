//go:build darwin || freebsd || (linux && copaslua_poll)

package scheduler

import (
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Readiness of descriptors with poll(2), the poller of macOS and FreeBSD.
// On Linux, epoll (poll_linux.go) is used unless the program is built
// with -tags copaslua_poll, which is how CI tests this file.
//
// Each round polls the descriptors that have a callback armed. poll(2)
// is level-triggered, but a callback is armed only after its operation
// failed with EAGAIN and is disarmed before it runs, so a callback runs
// only for readiness that arrived after that failure, as with the
// edge-triggered epoll set. A round costs time in the number of armed
// descriptors, which is fine for the development machines these systems
// usually are. A pipe in the set lets Wake interrupt a wait.

type poller struct {
	rfd, wfd int         // the wake pipe
	sleeping atomic.Bool // the loop is (about to be) blocked in poll
	waits    map[int32]*fdWait
	nwaits   int // callbacks armed
	fds      []unix.PollFd
	fire     []func()
}

// WaitFD arms fn to run once on the loop goroutine when fd may have become
// readable (write false) or writable (write true) since the caller last
// saw EAGAIN, or has an error or hang-up. registered is set: the flag
// has no kernel state behind it with poll(2), but callers keep it as for
// epoll (see ForgetFD). At most one callback per descriptor and
// direction; a new one replaces the old. Loop goroutine only.
func (l *Loop) WaitFD(fd int, write bool, registered *bool, fn func()) error {
	p, err := l.poll()
	if err != nil {
		return err
	}
	*registered = true
	p.arm(fd, write, fn)
	return nil
}

// ForgetFD drops the callbacks still armed on fd without running them,
// before its owner closes or gives it away (the owner ends those
// operations itself). Loop goroutine only.
func (l *Loop) ForgetFD(fd int, registered *bool) {
	*registered = false
	if p := l.poller; p != nil && fd >= 0 {
		p.drop(fd)
	}
}

// poll returns the loop's poller, creating it on first use.
func (l *Loop) poll() (*poller, error) {
	if l.poller != nil {
		return l.poller, nil
	}
	var fds [2]int
	syscall.ForkLock.RLock()
	err := unix.Pipe(fds[:])
	if err == nil {
		unix.CloseOnExec(fds[0])
		unix.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, err
	}
	for _, fd := range fds {
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fds[0])
			unix.Close(fds[1])
			return nil, err
		}
	}
	p := &poller{rfd: fds[0], wfd: fds[1], waits: make(map[int32]*fdWait)}
	l.setPoller(p, func() {
		unix.Close(fds[0])
		unix.Close(fds[1])
	})
	return p, nil
}

// kick interrupts a blocking pollFDs. Safe from any goroutine.
func (p *poller) kick() {
	if p.sleeping.Load() {
		one := [1]byte{1}
		unix.Write(p.wfd, one[:])
	}
}

const (
	pollIn   = unix.POLLIN
	pollOut  = unix.POLLOUT
	pollDone = unix.POLLERR | unix.POLLHUP | unix.POLLNVAL
)

// pollFDs waits up to d (0: just look; negative: no limit) for readiness
// and runs the callbacks of the descriptors that became ready. It reports
// whether Wake interrupted the wait and whether any callback ran.
func (l *Loop) pollFDs(d time.Duration) (woken, ran bool) {
	p := l.poller
	var deadline time.Time
	if d > 0 {
		deadline = time.Now().Add(d)
	}
	if d != 0 {
		p.sleeping.Store(true)
		select {
		case <-l.wake:
			p.sleeping.Store(false)
			return true, false
		default:
		}
	}
	p.fds = append(p.fds[:0], unix.PollFd{Fd: int32(p.rfd), Events: pollIn})
	for fd, w := range p.waits {
		var ev int16
		if w.fn[0] != nil {
			ev |= pollIn
		}
		if w.fn[1] != nil {
			ev |= pollOut
		}
		p.fds = append(p.fds, unix.PollFd{Fd: fd, Events: ev})
	}
	var n int
	for {
		ms := 0
		switch {
		case d < 0:
			ms = -1
		case d > 0:
			// Rounded up: waking early would spin until the deadline.
			ms = int((max(time.Until(deadline), 0) + time.Millisecond - 1) / time.Millisecond)
		}
		var err error
		n, err = unix.Poll(p.fds, ms)
		if err != unix.EINTR {
			if err != nil {
				n = 0
			}
			break
		}
	}
	if d != 0 {
		p.sleeping.Store(false)
	}
	if n > 0 {
		// Take every callback that is due before running any: a callback
		// may arm another descriptor whose readiness in this round's
		// results predates its EAGAIN.
		fire := p.fire[:0]
		for _, pfd := range p.fds {
			if pfd.Revents == 0 {
				continue
			}
			if pfd.Fd == int32(p.rfd) {
				var buf [64]byte
				for {
					if k, _ := unix.Read(p.rfd, buf[:]); k < len(buf) {
						break
					}
				}
				woken = true
				continue
			}
			w := p.waits[pfd.Fd]
			if w == nil {
				continue
			}
			if pfd.Revents&(pollIn|pollDone) != 0 && w.fn[0] != nil {
				fire = append(fire, w.fn[0])
				w.fn[0] = nil
				p.nwaits--
			}
			if pfd.Revents&(pollOut|pollDone) != 0 && w.fn[1] != nil {
				fire = append(fire, w.fn[1])
				w.fn[1] = nil
				p.nwaits--
			}
			if w.fn[0] == nil && w.fn[1] == nil {
				delete(p.waits, pfd.Fd)
			}
		}
		for i, fn := range fire {
			fire[i] = nil
			ran = true
			fn()
		}
		p.fire = fire[:0]
	}
	if woken {
		// Drop the token that came with the kick.
		select {
		case <-l.wake:
		default:
		}
	}
	return woken, ran
}
