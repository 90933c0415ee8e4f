package sip

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/voicehook/voicehook/internal/engine"
)

// A SIP line carries audio that streams tap and inject into.
var _ engine.Tapper = (*line)(nil)

// maxInjected caps the injected audio a line holds: 60 s at 8 kHz. An
// Inject beyond it drops the oldest samples not yet played.
const maxInjected = 60 * rate

// Tap hands sink, every 20 ms tick of the line's media sender from the
// answer to the end of the call, what the far end said in that tick (in)
// and what the line sent it (out), 160 samples at 8 kHz each (the line's
// own rate: G.711 is 8 kHz, so nothing is converted). in is silence when
// no audio came; out is the frame sent (playback, a room's mix, injected
// audio), silence while the call is held or a digit's event packet goes
// in its place. sink runs on a pacer goroutine, which ticks other calls
// too: it must copy what it keeps (the slices are reused at the next
// tick), return at once, and not call Tap or untap (they would wait for
// the tick that calls it). Once untap has returned, sink is not called
// again; untap may be called more than once. A tap made after the call
// ended is never called.
func (l *line) Tap(sink func(in, out []int16)) (untap func()) {
	return l.taps.add(sink)
}

// Inject queues samples (8 kHz) to be sent to the far end after those
// injected before, mixed with the rest of what the line sends (see
// injectQueue). It takes the slice: the caller must not change it.
func (l *line) Inject(samples []int16) {
	if l.inj.push(samples) {
		l.n.log.Warn("sip: more than 60 s of injected audio: the oldest is dropped", "sip_call_id", l.sipCallID)
	}
}

// ClearInjected drops the injected samples not yet sent; the next tick
// sends none of them.
func (l *line) ClearInjected() { l.inj.clear() }

// tapSet is a line's taps. The sender hands them a frame each tick under
// mu, so that removing a tap under mu guarantees it is not called again.
// Lock order: the sender's mutex, then mu.
type tapSet struct {
	n      atomic.Int32 // len(list), read without mu to skip an empty set
	mu     sync.Mutex
	list   []*tap
	closed bool // the call ended: no tap is added
}

type tap struct{ sink func(in, out []int16) }

// add registers sink; the returned func removes it. After close, sink is
// never called.
func (ts *tapSet) add(sink func(in, out []int16)) func() {
	t := &tap{sink: sink}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.closed {
		return func() {}
	}
	ts.list = append(ts.list, t)
	ts.n.Store(int32(len(ts.list)))
	return func() {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		for i, o := range ts.list {
			if o == t {
				ts.list = slices.Delete(ts.list, i, i+1)
				break
			}
		}
		ts.n.Store(int32(len(ts.list)))
	}
}

// hand gives in and out to every tap, in the order they were added.
func (ts *tapSet) hand(in, out []int16) {
	if ts.n.Load() == 0 {
		return
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, t := range ts.list {
		t.sink(in, out)
	}
}

// close removes every tap for good: the call ended.
func (ts *tapSet) close() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	clear(ts.list)
	ts.list, ts.closed = nil, true
	ts.n.Store(0)
}

// injectQueue is the audio injected into a line (a bidirectional
// stream's), waiting to be sent: the chunks as Inject handed them, in
// order, under its own mutex. The sender takes up to a frame every tick
// and adds it, clipping at full scale, to what it sends besides (a
// playback, a room's mix). While digits are being sent it takes nothing:
// injected audio waits, as a playback does, and resumes after the digits.
// Held calls take it as usual (the clock runs, nothing leaves). It holds
// at most maxInjected samples; beyond, the oldest are dropped.
type injectQueue struct {
	mu     sync.Mutex
	chunks [][]int16
	pos    int // samples of chunks[0] already sent
	n      int // samples waiting
	warned bool
}

// push appends s, dropping the oldest samples beyond maxInjected. It
// reports whether samples were dropped for the first time on this queue
// (the caller logs it once).
func (q *injectQueue) push(s []int16) (firstDrop bool) {
	if len(s) == 0 {
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.chunks = append(q.chunks, s)
	q.n += len(s)
	if q.n <= maxInjected {
		return false
	}
	for q.n > maxInjected {
		left := len(q.chunks[0]) - q.pos
		if over := q.n - maxInjected; over < left {
			q.pos += over
			q.n -= over
			break
		}
		q.chunks[0] = nil
		q.chunks = q.chunks[1:]
		q.pos = 0
		q.n -= left
	}
	firstDrop = !q.warned
	q.warned = true
	return firstDrop
}

// mixInto adds up to len(dst) waiting samples to dst, clipping, and
// drops them from the queue.
func (q *injectQueue) mixInto(dst []int16) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(dst) > 0 && len(q.chunks) > 0 {
		c := q.chunks[0][q.pos:]
		k := min(len(c), len(dst))
		addFrame(dst[:k], c[:k])
		dst = dst[k:]
		q.pos += k
		q.n -= k
		if q.pos == len(q.chunks[0]) {
			q.chunks[0] = nil
			q.chunks = q.chunks[1:]
			q.pos = 0
		}
	}
	if len(q.chunks) == 0 {
		q.chunks = nil // let the backing array go
	}
}

// clear drops every waiting sample.
func (q *injectQueue) clear() {
	q.mu.Lock()
	defer q.mu.Unlock()
	clear(q.chunks)
	q.chunks, q.pos, q.n = nil, 0, 0
}

// waiting is the number of samples not yet sent.
func (q *injectQueue) waiting() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}
