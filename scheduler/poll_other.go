//go:build !linux && !darwin && !freebsd

package scheduler

import "time"

// copas-lua needs a Unix system: its sockets are descriptors driven by
// poll(2) or epoll. The undefined name below makes the build fail here
// with the list of supported systems in the error message; the stubs
// keep it the only error of this package.
var _ = copas_lua_builds_only_on_linux_macos_and_freebsd

type poller struct{}

func (p *poller) kick()                                   {}
func (l *Loop) WaitingFDs() int                           { return 0 }
func (l *Loop) pollFDs(d time.Duration) (woken, ran bool) { return false, false }
