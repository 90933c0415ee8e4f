package streamer

import (
	"sync"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
)

// maxEvents bounds the events waiting for notify: some 5 s of a
// destination's audio in 20 ms messages.
const maxEvents = 256

// maxEarly bounds the warnings held until StreamStarted.
const maxEarly = 16

// events is a stream's event queue and the state of its terminal event.
// Its goroutine (deliver) calls notify, in order, one event at a time.
type events struct {
	notify   func(engine.StreamEvent)
	streamID string
	evWake   chan struct{} // cap 1

	evMu     sync.Mutex
	evQ      []engine.StreamEvent
	stopped  bool // Stop was called: nothing more is delivered
	closed   bool // the stream's goroutines are done: deliver ends once the queue is empty
	terminal bool // StreamRejected or StreamStopped is queued
	begun    bool // StreamStarted is queued
	// early are warnings raised before StreamStarted (a Say that could not
	// be rendered while dialling): they follow it, or go with a rejection.
	early []engine.StreamEvent
	shed  int // events dropped from a full queue since the last log
}

func (e *events) init(notify func(engine.StreamEvent), streamID string) {
	e.notify, e.streamID = notify, streamID
	e.evWake = make(chan struct{}, 1)
}

func (e *events) signal() {
	select {
	case e.evWake <- struct{}{}:
	default:
	}
}

// emit queues ev. After the terminal event, and after Stop, nothing is
// queued; StreamAudio and StreamWarning are dropped from a full queue.
func (e *events) emit(ev engine.StreamEvent) {
	ev.StreamID = e.streamID
	e.evMu.Lock()
	defer e.evMu.Unlock()
	if e.stopped || e.terminal || e.closed {
		return
	}
	switch ev.Kind {
	case engine.StreamStarted:
		e.begun = true
		e.evQ = append(append(e.evQ, ev), e.early...)
		e.early = nil
		e.signal()
		return
	case engine.StreamRejected, engine.StreamStopped:
		e.terminal = true
		e.early = nil
	case engine.StreamAudio, engine.StreamWarning:
		if !e.begun {
			if len(e.early) < maxEarly {
				e.early = append(e.early, ev)
			}
			return
		}
		if len(e.evQ) >= maxEvents {
			e.shed++
			return
		}
	}
	e.evQ = append(e.evQ, ev)
	e.signal()
}

// stop drops what is queued: no event is delivered from now on.
func (e *events) stop() {
	e.evMu.Lock()
	e.stopped = true
	e.evQ = nil
	e.evMu.Unlock()
	e.signal()
}

// closeEvents lets deliver end once it has delivered what is queued.
func (e *events) closeEvents() {
	e.evMu.Lock()
	e.closed = true
	e.evMu.Unlock()
	e.signal()
}

// deliver is the event goroutine.
func (st *stream) deliver() {
	defer st.s.wg.Done()
	for {
		st.evMu.Lock()
		if st.shed > 0 {
			st.log.Warn("stream: notify is slow, events dropped", "dropped", st.shed)
			st.shed = 0
		}
		if st.stopped || st.closed && len(st.evQ) == 0 {
			st.evMu.Unlock()
			return
		}
		if len(st.evQ) == 0 {
			st.evMu.Unlock()
			<-st.evWake
			continue
		}
		ev := st.evQ[0]
		st.evQ[0] = engine.StreamEvent{}
		st.evQ = st.evQ[1:]
		st.evMu.Unlock()
		st.notify(ev)
	}
}

// limiter lets a report through at most once a second and counts the
// ones held back.
type limiter struct {
	last time.Time
	held int // notes since the last report, this one included
}

// note records one occurrence; ok says whether to report now, n how many
// occurrences the report covers.
func (l *limiter) note(now time.Time) (ok bool, n int) {
	l.held++
	if !l.last.IsZero() && now.Sub(l.last) < time.Second {
		return false, 0
	}
	l.last, n, l.held = now, l.held, 0
	return true, n
}

// frame is one 20 ms frame of a track waiting for the writer.
type frame struct {
	track int
	seq   uint64
	pcm   [frameSamples]int16
}

// ring is a bounded queue of frames that drops its oldest when full. Its
// slots are allocated once.
type ring struct {
	buf     []frame
	head, n int
}

func (r *ring) init(size int) { r.buf = make([]frame, size) }

// push returns the slot of a new last frame; dropped reports that the
// oldest frame made room for it.
func (r *ring) push() (f *frame, dropped bool) {
	if r.n == len(r.buf) {
		r.head = (r.head + 1) % len(r.buf)
		r.n--
		dropped = true
	}
	f = &r.buf[(r.head+r.n)%len(r.buf)]
	r.n++
	return f, dropped
}

// pop copies the first frame into f and removes it.
func (r *ring) pop(f *frame) bool {
	if r.n == 0 {
		return false
	}
	*f = r.buf[r.head]
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return true
}
