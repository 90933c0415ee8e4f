package engine

import (
	"testing"
	"time"
)

// The window counts the starts of the last second exactly, however many
// went by: at 1000 a second, the 1001st start in a second has to wait,
// and it may go once the first is a whole second old.
func TestLimiterWindow(t *testing.T) {
	l := &limiter{lim: Limits{CallsPerSecond: 1000}}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10_000 {
		now := t0.Add(time.Duration(i) * time.Millisecond)
		if wait := l.roomIn(now); wait != 0 {
			t.Fatalf("start %d at %v: wait %v, want none at one a millisecond", i, now.Sub(t0), wait)
		}
		l.took(now)
		if half := now.Add(500 * time.Microsecond); i >= 999 && l.roomIn(half) != 500*time.Microsecond {
			t.Fatalf("after start %d: room in %v, want 500µs", i, l.roomIn(half))
		}
	}
	if n := len(l.starts) - l.head; n != 1000 {
		t.Errorf("%d starts in the window, want 1000", n)
	}
	if cap(l.starts) > 4000 {
		t.Errorf("the window's slice grew to %d for 1000 starts", cap(l.starts))
	}
	// Without a rate nothing is kept.
	free := &limiter{lim: Limits{ConcurrentCalls: 5}}
	for range 100 {
		free.took(t0)
	}
	if len(free.starts) != 0 || free.roomIn(t0) != 0 {
		t.Errorf("a limiter without a rate kept %d starts", len(free.starts))
	}
}

// BenchmarkLimiterStart is the whole cost of the limits for a call that
// is not limited: the check that lets it start, and the release when it
// ends.
func BenchmarkLimiterStart(b *testing.B) {
	l := &limiter{lim: Limits{CallsPerSecond: 1_000_000_000, ConcurrentCalls: 1_000_000_000}}
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := l.admitCreated(now.Add(time.Duration(i) * time.Microsecond)); err != nil {
			b.Fatal(err)
		}
		s := &slot{l: l, index: -1, counted: true}
		s.release()
	}
}
