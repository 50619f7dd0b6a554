package scheduler

import (
	"container/heap"
	"time"
)

// Timer is a callback armed on the loop's timer heap. One heap and one Go
// timer serve every sleeper, so 100k sleeping threads cost one heap entry
// each and no goroutines.
type Timer struct {
	at  time.Time
	seq uint64 // FIFO among equal deadlines
	idx int    // position in the heap, -1 when not armed
	fn  func()
}

type timerHeap []*Timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*Timer)
	t.idx = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	t.idx = -1
	*h = old[:n-1]
	return t
}

func (h timerHeap) next() (time.Time, bool) {
	if len(h) == 0 {
		return time.Time{}, false
	}
	return h[0].at, true
}

// AfterFunc arms fn to run on the loop goroutine once d has passed on the
// loop's clock. Loop goroutine only.
func (l *Loop) AfterFunc(d time.Duration, fn func()) *Timer {
	return l.At(l.now().Add(d), fn)
}

// At arms fn to run on the loop goroutine at time at. Loop goroutine only.
func (l *Loop) At(at time.Time, fn func()) *Timer {
	l.timerSeq++
	t := &Timer{at: at, seq: l.timerSeq, fn: fn}
	heap.Push(&l.timers, t)
	return t
}

// Stop disarms t and reports whether it was armed. Loop goroutine only.
func (l *Loop) Stop(t *Timer) bool {
	if t == nil || t.idx < 0 || t.idx >= len(l.timers) || l.timers[t.idx] != t {
		return false
	}
	heap.Remove(&l.timers, t.idx)
	return true
}

// StopTimers disarms every timer for which drop returns true. Loop
// goroutine only.
func (l *Loop) StopTimers(drop func(t *Timer) bool) {
	kept := l.timers[:0]
	for _, t := range l.timers {
		if drop(t) {
			t.idx = -1
			continue
		}
		kept = append(kept, t)
	}
	for i := len(kept); i < len(l.timers); i++ {
		l.timers[i] = nil
	}
	l.timers = kept
	for i, t := range l.timers {
		t.idx = i
	}
	heap.Init(&l.timers)
}

// Timers is the number of armed timers. Loop goroutine only.
func (l *Loop) Timers() int { return len(l.timers) }

// NextTimer returns when the earliest armed timer fires. Loop goroutine only.
func (l *Loop) NextTimer() (time.Time, bool) { return l.timers.next() }

// fireTimers runs the callbacks of every timer due now. Timers armed by
// those callbacks for "now" wait for the next round, so a callback that
// re-arms itself with zero delay cannot starve the loop.
func (l *Loop) fireTimers() bool {
	if len(l.timers) == 0 {
		return false
	}
	now := l.now()
	limit := l.timerSeq
	fired := false
	for len(l.timers) > 0 {
		t := l.timers[0]
		if t.at.After(now) || t.seq > limit {
			break
		}
		heap.Pop(&l.timers)
		fired = true
		t.fn()
	}
	return fired
}
