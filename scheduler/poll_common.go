//go:build linux || darwin || freebsd

package scheduler

import (
	"runtime"
	"sync"
)

// The part of the descriptor pollers (poll_linux.go, poll_posix.go) that
// does not depend on the system call: the callbacks armed per descriptor.

// fdWait holds the callbacks armed on one descriptor, per direction.
type fdWait struct{ fn [2]func() }

// arm sets fn as the callback of fd in one direction.
func (p *poller) arm(fd int, write bool, fn func()) {
	w := p.waits[int32(fd)]
	if w == nil {
		w = &fdWait{}
		p.waits[int32(fd)] = w
	}
	d := dirIndex(write)
	if w.fn[d] == nil {
		p.nwaits++
	}
	w.fn[d] = fn
}

// drop removes the callbacks of fd without running them.
func (p *poller) drop(fd int) {
	if w := p.waits[int32(fd)]; w != nil {
		for _, fn := range w.fn {
			if fn != nil {
				p.nwaits--
			}
		}
		delete(p.waits, int32(fd))
	}
}

// CancelWaitFD disarms the callback of fd in one direction, if any. Loop
// goroutine only.
func (l *Loop) CancelWaitFD(fd int, write bool) {
	p := l.poller
	if p == nil {
		return
	}
	w := p.waits[int32(fd)]
	if w == nil {
		return
	}
	d := dirIndex(write)
	if w.fn[d] != nil {
		w.fn[d] = nil
		p.nwaits--
	}
	if w.fn[0] == nil && w.fn[1] == nil {
		delete(p.waits, int32(fd))
	}
}

// WaitingFDs is the number of callbacks armed with WaitFD. Loop goroutine
// only.
func (l *Loop) WaitingFDs() int {
	if l.poller == nil {
		return 0
	}
	return l.poller.nwaits
}

func dirIndex(write bool) int {
	if write {
		return 1
	}
	return 0
}

// setPoller installs p as the loop's poller. release closes its
// descriptors: once, by Close or, for a loop dropped without Close, by a
// cleanup.
func (l *Loop) setPoller(p *poller, release func()) {
	l.poller = p
	l.pollerRef.Store(p)
	release = sync.OnceFunc(release)
	cleanup := runtime.AddCleanup(l, func(f func()) { f() }, release)
	l.closePoll = func() {
		cleanup.Stop()
		release()
	}
}
