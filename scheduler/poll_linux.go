//go:build linux && !copaslua_poll

package scheduler

import (
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Readiness of descriptors, waited for by the loop itself: one
// edge-triggered epoll set per loop, polled without blocking at every
// round that has waiters and blocking when the loop has nothing else to do
// (the way Copas calls select). A parked socket operation therefore costs
// a map entry and a closure: no goroutine, no system call, no hand-off
// between threads. An eventfd in the set lets Wake interrupt the wait.
//
// Edge-triggered means an event comes when new data (or room, or an
// error) arrives after the last one. Callers wait only after an operation
// failed with EAGAIN, so whatever arrives after that failure is reported.

type poller struct {
	epfd, evfd int
	sleeping   atomic.Bool // the loop is (about to be) blocked in epoll_wait
	waits      map[int32]*fdWait
	nwaits     int // callbacks armed
	events     [256]syscall.EpollEvent
	noPwait2   bool
}

const (
	epollIn    = 0x1
	epollOut   = 0x4
	epollErr   = 0x8
	epollHup   = 0x10
	epollRdHup = 0x2000
	epollET    = 1 << 31 // EPOLLET as the uint32 of EpollEvent.Events
)

// WaitFD arms fn to run once on the loop goroutine when fd may have become
// readable (write false) or writable (write true) since the caller last
// saw EAGAIN, or has an error or hang-up. registered tells whether fd is
// already in the loop's poll set (it is added otherwise; the caller keeps
// the flag per descriptor it owns and passes it back; see ForgetFD). At
// most one callback per descriptor and direction; a new one replaces the
// old. Loop goroutine only.
func (l *Loop) WaitFD(fd int, write bool, registered *bool, fn func()) error {
	p, err := l.poll()
	if err != nil {
		return err
	}
	if !*registered {
		ev := syscall.EpollEvent{Events: epollIn | epollOut | epollRdHup | epollET, Fd: int32(fd)}
		err := epollCtl(p.epfd, syscall.EPOLL_CTL_ADD, fd, &ev)
		if err == syscall.EEXIST {
			// Still in the set from an earlier owner of the number.
			err = epollCtl(p.epfd, syscall.EPOLL_CTL_MOD, fd, &ev)
		}
		if err != nil {
			return err
		}
		*registered = true
	}
	p.arm(fd, write, fn)
	return nil
}

// ForgetFD removes fd from the poll set before its owner closes or gives
// it away, and drops the callbacks still armed on it without running them
// (the owner ends those operations itself). Loop goroutine only.
func (l *Loop) ForgetFD(fd int, registered *bool) {
	p := l.poller
	if p == nil || fd < 0 {
		*registered = false
		return
	}
	if *registered {
		_ = epollCtl(p.epfd, syscall.EPOLL_CTL_DEL, fd, &syscall.EpollEvent{})
		*registered = false
	}
	p.drop(fd)
}

// poll returns the loop's poller, creating it on first use.
func (l *Loop) poll() (*poller, error) {
	if l.poller != nil {
		return l.poller, nil
	}
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	evfd, _, e := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if e != 0 {
		syscall.Close(epfd)
		return nil, e
	}
	ev := syscall.EpollEvent{Events: epollIn | epollET, Fd: int32(evfd)}
	if err := epollCtl(epfd, syscall.EPOLL_CTL_ADD, int(evfd), &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(int(evfd))
		return nil, err
	}
	p := &poller{epfd: epfd, evfd: int(evfd), waits: make(map[int32]*fdWait)}
	l.setPoller(p, func() {
		syscall.Close(epfd)
		syscall.Close(int(evfd))
	})
	return p, nil
}

// kick interrupts a blocking pollFDs. Safe from any goroutine.
func (p *poller) kick() {
	if p.sleeping.Load() {
		one := [8]byte{1}
		syscall.Write(p.evfd, one[:])
	}
}

// pollFDs waits up to d (0: just look; negative: no limit) for readiness
// and runs the callbacks of the descriptors that became ready. It reports
// whether Wake interrupted the wait and whether any callback ran.
func (l *Loop) pollFDs(d time.Duration) (woken, ran bool) {
	p := l.poller
	ms := 0
	var ts *syscall.Timespec
	if d != 0 {
		if d < 0 {
			ms = -1
		} else {
			ms = int((d + time.Millisecond - 1) / time.Millisecond)
			t := syscall.NsecToTimespec(int64(d))
			ts = &t
		}
		p.sleeping.Store(true)
		select {
		case <-l.wake:
			p.sleeping.Store(false)
			return true, false
		default:
		}
	}
	var n int
	var e syscall.Errno
	for {
		n, e = p.wait(ms, ts, d != 0)
		if e != syscall.EINTR {
			break
		}
	}
	if d != 0 {
		p.sleeping.Store(false)
	}
	for i := 0; i < n; i++ {
		ev := p.events[i]
		if ev.Fd == int32(p.evfd) {
			var buf [8]byte
			syscall.Read(p.evfd, buf[:])
			woken = true
			continue
		}
		if l.fireFD(ev.Fd, ev.Events) {
			ran = true
		}
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

// wait is one epoll_pwait2 (nanosecond timeout) or, on kernels without it,
// epoll_pwait with the timeout rounded up to milliseconds. block says
// whether it may block (then it is a regular system call, so the runtime
// can run other goroutines meanwhile).
func (p *poller) wait(ms int, ts *syscall.Timespec, block bool) (int, syscall.Errno) {
	ev := uintptr(unsafe.Pointer(&p.events[0]))
	nev := uintptr(len(p.events))
	var r uintptr
	var e syscall.Errno
	switch {
	case !block:
		r, _, e = syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(p.epfd), ev, nev, 0, 0, 0)
	case ts != nil && !p.noPwait2:
		r, _, e = syscall.Syscall6(sysEpollPwait2, uintptr(p.epfd), ev, nev, uintptr(unsafe.Pointer(ts)), 0, 0)
		if e == syscall.ENOSYS {
			p.noPwait2 = true
			return 0, syscall.EINTR // retry with epoll_pwait
		}
	default:
		r, _, e = syscall.Syscall6(syscall.SYS_EPOLL_PWAIT, uintptr(p.epfd), ev, nev, uintptr(ms), 0, 0)
	}
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

// sysEpollPwait2 is epoll_pwait2(2) (Linux 5.11), the same number on
// every architecture.
const sysEpollPwait2 = 441

// fireFD runs the callbacks of fd that events concern.
func (l *Loop) fireFD(fd int32, events uint32) bool {
	p := l.poller
	w := p.waits[fd]
	if w == nil {
		return false
	}
	var fns [2]func()
	if events&(epollIn|epollRdHup|epollHup|epollErr) != 0 {
		fns[0], w.fn[0] = w.fn[0], nil
	}
	if events&(epollOut|epollHup|epollErr) != 0 {
		fns[1], w.fn[1] = w.fn[1], nil
	}
	if w.fn[0] == nil && w.fn[1] == nil {
		delete(p.waits, fd)
	}
	ran := false
	for _, fn := range fns {
		if fn != nil {
			p.nwaits--
			ran = true
			fn()
		}
	}
	return ran
}

func epollCtl(epfd, op, fd int, ev *syscall.EpollEvent) error {
	_, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(ev)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
