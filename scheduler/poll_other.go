//go:build !linux

package scheduler

import (
	"errors"
	"time"
)

// Without epoll there is no poll set: WaitFD fails and callers wait for
// readiness some other way.

type poller struct{ nwaits int }

var errNoPoller = errors.New("scheduler: descriptor polling needs Linux")

// WaitFD is not available on this system.
func (l *Loop) WaitFD(fd int, write bool, registered *bool, fn func()) error { return errNoPoller }

// CancelWaitFD does nothing on this system.
func (l *Loop) CancelWaitFD(fd int, write bool) {}

// ForgetFD does nothing on this system.
func (l *Loop) ForgetFD(fd int, registered *bool) { *registered = false }

// WaitingFDs is always 0 on this system.
func (l *Loop) WaitingFDs() int { return 0 }

func (p *poller) kick() {}

func (l *Loop) pollFDs(d time.Duration) (woken, ran bool) { return false, false }
