package engine

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/voicehook/voicehook/callback"
)

// Account limits, as Bandwidth enforces them: a rate of call starts and a
// number of live calls per account. Calls created beyond the rate wait in
// the account's queue (state queued) and start, highest priority first,
// when the rate allows; a queue holding CallsPerSecond × 300 calls refuses
// more (an ELimit error, which the API answers 429). Each engine counts
// its own calls: in a cluster the limits are per node.
//
// Lock order: an account's limiter has a mutex of its own, never taken
// while holding Engine.mu or another limiter's, and nothing else is
// locked while it is held (posts to actors wait until it is released).
// An account without limits has no limiter: its calls take no lock and
// allocate nothing for the limits.

// Limits bound one account's calls. The zero value is no limit.
type Limits struct {
	// CallsPerSecond bounds the calls of the account that start (an
	// outbound call dialled, an inbound call taken, a <Transfer> or
	// <Forward> leg placed) in any one second; 0 is no bound.
	CallsPerSecond int
	// ConcurrentCalls bounds the account's live calls; 0 is no bound.
	ConcurrentCalls int
}

// QueueCapacity is how many calls may wait in the queue: five minutes of
// starts at the rate (Bandwidth's rule), 0 without a rate.
func (l Limits) QueueCapacity() int { return l.CallsPerSecond * queueSeconds }

// queueSeconds is how many seconds of starts the queue holds.
const queueSeconds = 300

// The descriptions of Bandwidth's 429s, also the errorMessage of a call
// or a transfer refused by a limit.
const (
	msgRateLimit       = "Account call creation rate limit exceeded"
	msgConcurrentLimit = "Account concurrent call limit exceeded"
)

// ErrAccountLimit refuses an inbound call to an account that has as many
// live calls as its ConcurrentCalls allow: a SIP network answers it 503
// with Retry-After, as it does ErrAtCapacity.
var ErrAccountLimit = &Error{Code: ELimit, Msg: msgConcurrentLimit, RetryAfter: time.Second}

// evAccountLimit ends a queued call whose account has no room for it when
// its turn comes.
type evAccountLimit struct{}

// evQueued begins a call that waits in its account's queue.
type evQueued struct{}

func (evAccountLimit) isEvent() {}
func (evQueued) isEvent()       {}

// limiter is one account's limits on this engine: its window of starts,
// its live calls and its queue. mu guards everything but lim and e.
type limiter struct {
	e   *Engine
	lim Limits

	mu sync.Mutex
	// starts[head:] are the times of the starts in the last second, oldest
	// first (more than CallsPerSecond when inbound calls came in beyond
	// it); those before head have left the window.
	starts []time.Time
	head   int
	// live counts the account's calls that started and have not ended.
	live int
	// queue holds the calls waiting to start; reserved counts those being
	// stored before they join it. Both count in the queue's size.
	queue    slotHeap
	reserved int
	seq      uint64
	// timer dispatches the queue when the window next has room; nil when
	// none is set.
	timer Timer
	// closed is set when the engine drains: nothing more leaves the queue.
	closed bool
}

// slot is a call's place in its account's limits, owned by its actor: it
// says whether the call waits in the queue and whether it counts as live.
// The limiter's mu guards its fields.
type slot struct {
	l        *limiter
	a        *actor
	priority int
	enqueued time.Time
	seq      uint64
	index    int  // in the queue; -1 when not in it
	counted  bool // counts in live
	ended    bool
}

// limiterFor returns the account's limiter, or nil if it has no limits.
func (e *Engine) limiterFor(accountID string) *limiter {
	if e.cfg.Limits == nil {
		return nil
	}
	lim := e.cfg.Limits(accountID)
	if lim == (Limits{}) {
		return nil
	}
	if l, ok := e.limiters.Load(accountID); ok {
		return l.(*limiter)
	}
	l, _ := e.limiters.LoadOrStore(accountID, &limiter{e: e, lim: lim})
	return l.(*limiter)
}

// QueueStats reports the account's queue: how many calls wait in it and
// how many it may hold (GET /statistics). Both are 0 without a rate limit.
func (e *Engine) QueueStats(accountID string) (current, capacity int) {
	l := e.limiterFor(accountID)
	if l == nil {
		return 0, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue) + l.reserved, l.lim.QueueCapacity()
}

// prune drops the starts that left the window: they are skipped, and
// the slice is compacted once most of it is skipped, so that a start
// costs O(1) however high the rate.
func (l *limiter) prune(now time.Time) {
	cut := now.Add(-time.Second)
	for l.head < len(l.starts) && !l.starts[l.head].After(cut) {
		l.head++
	}
	switch {
	case l.head == len(l.starts):
		l.starts, l.head = l.starts[:0], 0
	case l.head >= 64 && 2*l.head >= len(l.starts):
		n := copy(l.starts, l.starts[l.head:])
		l.starts, l.head = l.starts[:n], 0
	}
}

// roomIn is how long until the window has room for a start: 0 if it has
// room now (or there is no rate).
func (l *limiter) roomIn(now time.Time) time.Duration {
	cps := l.lim.CallsPerSecond
	if cps == 0 {
		return 0
	}
	l.prune(now)
	if len(l.starts)-l.head < cps {
		return 0
	}
	return l.starts[len(l.starts)-cps].Add(time.Second).Sub(now)
}

// took notes a start in the window (without a rate, there is none).
func (l *limiter) took(now time.Time) {
	if l.lim.CallsPerSecond == 0 {
		return
	}
	l.prune(now)
	l.starts = append(l.starts, now)
}

// full reports whether the account has as many live calls as it may.
func (l *limiter) full() bool {
	return l.lim.ConcurrentCalls > 0 && l.live >= l.lim.ConcurrentCalls
}

// admission is what createCall decides for a call: start now, or queue.
type admission int

const (
	admitStart admission = iota
	admitQueue
)

// admitCreated decides the fate of a created call: it starts now (it takes
// a start and counts as live), or it is queued (its place is reserved), or
// a limit refuses it.
func (l *limiter) admitCreated(now time.Time) (admission, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	waiting := len(l.queue) + l.reserved
	if capacity := l.lim.QueueCapacity(); capacity > 0 && waiting >= capacity {
		wait := l.roomIn(now)
		secs := max(int64((wait+time.Second-1)/time.Second), 1)
		return 0, &Error{Code: ELimit, Msg: msgRateLimit, RetryAfter: time.Duration(secs) * time.Second}
	}
	if waiting == 0 && l.roomIn(now) == 0 {
		if l.full() {
			return 0, &Error{Code: ELimit, Msg: msgConcurrentLimit, RetryAfter: time.Second}
		}
		l.took(now)
		l.live++
		return admitStart, nil
	}
	l.reserved++
	return admitQueue, nil
}

// admitLeg decides whether a transfer leg may be placed now; a forwarded
// call's leg always is. A leg placed takes a start and counts as live.
// It returns why a leg is refused, "" if it is placed.
func (l *limiter) admitLeg(now time.Time, force bool) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !force {
		if l.roomIn(now) > 0 {
			return msgRateLimit
		}
		if l.full() {
			return msgConcurrentLimit
		}
	}
	l.took(now)
	l.live++
	return ""
}

// admitInbound takes an inbound call unless the account is at its
// concurrent limit; the rate never refuses one, but it takes a start.
func (l *limiter) admitInbound(now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.full() {
		return ErrAccountLimit
	}
	l.took(now)
	l.live++
	return nil
}

// unreserve gives back a queue place reserved for a call that could not
// be stored.
func (l *limiter) unreserve() {
	l.mu.Lock()
	l.reserved--
	l.mu.Unlock()
}

// unlive gives back the live count of a started call that could not be
// stored.
func (l *limiter) unlive() {
	l.mu.Lock()
	l.live--
	l.mu.Unlock()
}

// enqueue puts a stored call, whose actor waits, in the queue, and
// dispatches the queue.
func (l *limiter) enqueue(s *slot) {
	l.mu.Lock()
	l.reserved--
	if s.ended {
		// Cancelled before it joined the queue.
		l.mu.Unlock()
		return
	}
	if l.closed {
		// The engine drained while the call was being stored: it ends as
		// the calls drainQueues found did, at once.
		l.mu.Unlock()
		s.a.post(evDrained{})
		return
	}
	l.seq++
	s.seq = l.seq
	heap.Push(&l.queue, s)
	l.e.queued.Add(1)
	l.mu.Unlock()
	l.dispatch()
}

// dispatch starts the queued calls the window has room for, in order, and
// sets a timer for the next when calls are left. It is called when a call
// joins the queue and when the timer fires.
func (l *limiter) dispatch() {
	type post struct {
		a  *actor
		ev event
	}
	var start []post
	l.mu.Lock()
	now := l.e.cfg.Clock.Now()
	for len(l.queue) > 0 && !l.closed && l.e.ctx.Err() == nil {
		wait := l.roomIn(now)
		if wait > 0 {
			if l.timer == nil {
				l.timer = l.e.cfg.Clock.AfterFunc(wait, func() {
					l.mu.Lock()
					l.timer = nil
					l.mu.Unlock()
					l.dispatch()
				})
			}
			break
		}
		s := heap.Pop(&l.queue).(*slot)
		l.e.queued.Add(-1)
		// A dequeued call takes its start whether or not it may go on: the
		// queue drains at the rate.
		l.took(now)
		if l.full() {
			start = append(start, post{s.a, evAccountLimit{}})
			continue
		}
		l.live++
		s.counted = true
		start = append(start, post{s.a, evStart{at: now}})
	}
	l.mu.Unlock()
	if max := l.e.cfg.MaxCalls; max > 0 && len(start) > 0 {
		// The node's bound (--max-calls) holds for them too: those it has
		// no room for end as a createCall beyond it does.
		carried := l.e.Live() - l.e.waiting() - len(start)
		for i := range start {
			if _, ok := start[i].ev.(evStart); ok {
				if carried >= max {
					start[i].ev = evCapacity{max}
				}
				carried++
			}
		}
	}
	// Outside the lock: a post may wait for room in an inbox.
	for _, g := range start {
		g.a.post(g.ev)
	}
}

// release takes an ended call out of its account's limits: out of the
// queue if it waited there, out of the live count if it counted.
func (s *slot) release() {
	l := s.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.ended {
		return
	}
	s.ended = true
	if s.index >= 0 {
		heap.Remove(&l.queue, s.index)
		l.e.queued.Add(-1)
	}
	if s.counted {
		s.counted = false
		l.live--
	}
}

// slotHeap orders queued calls: priority 1 first, then the earliest
// enqueued, then the first created.
type slotHeap []*slot

func (h slotHeap) Len() int { return len(h) }
func (h slotHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.priority != b.priority {
		return a.priority < b.priority
	}
	if !a.enqueued.Equal(b.enqueued) {
		return a.enqueued.Before(b.enqueued)
	}
	return a.seq < b.seq
}
func (h slotHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *slotHeap) Push(x any) {
	s := x.(*slot)
	s.index = len(*h)
	*h = append(*h, s)
}
func (h *slotHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	s.index = -1
	*h = old[:len(old)-1]
	return s
}

// queuePriority is a call's priority in the queue: 1 to 5, 5 when unset.
func queuePriority(p int) int {
	if p < 1 || p > 5 {
		return 5
	}
	return p
}

// createLimited is CreateCall for an account with limits: c is ready to
// store. The call starts now, or waits in the queue, or a limit refuses it.
func (e *Engine) createLimited(ctx context.Context, l *limiter, c *Call) (*Call, error) {
	now := c.LastUpdate
	how, err := l.admitCreated(now)
	if err != nil {
		return nil, err
	}
	if how == admitQueue {
		c.EnqueuedTime = now
	}
	if err := e.cfg.Store.SaveCall(ctx, c); err != nil {
		if how == admitQueue {
			l.unreserve()
		} else {
			l.unlive()
		}
		return nil, fmt.Errorf("engine: save new call: %w", err)
	}
	created := *c
	s := &slot{l: l, index: -1, priority: queuePriority(c.Priority), enqueued: now}
	if how == admitStart {
		s.counted = true
		first := event(evStart{at: now})
		if e.full() {
			first = evCapacity{e.cfg.MaxCalls}
		}
		e.spawnWith(c, first, func(a *actor) { a.slot, s.a = s, a })
		return &created, nil
	}
	e.spawnWith(c, evQueued{}, func(a *actor) { a.slot, s.a = s, a })
	l.enqueue(s)
	return &created, nil
}

// queued is the machine's side of evQueued: the call, stored as it was
// created, waits; its history says why.
func (s *callState) queued(now time.Time) []action {
	return []action{history(s, now, "state", fmt.Sprintf("queued: the account's calls per second are taken (priority %d)", queuePriority(s.call.Priority)), nil)}
}

// accountLimit is the machine's side of evAccountLimit.
func (s *callState) accountLimit(now time.Time) []action {
	return s.end(now, callback.CauseAccountLimit, msgConcurrentLimit, 0, false)
}

// legRefused is the machine's side of a transfer leg a limit did not let
// the actor place: the leg ends before it began.
func legRefused(id, msg string) event {
	return evLegEnded{leg: id, cause: callback.CauseAccountLimit, msg: msg}
}

// startLegs places the legs of a <Transfer> or <Forward>. With account
// limits, a transfer leg the window or the concurrent calls have no room
// for is not placed: it ends at once, cause account-limit, the limit in
// its message (so transferComplete reports it); a forwarded call's leg is
// always placed, and counts.
func (a *actor) startLegs(legs []*legSpec) {
	now := a.e.cfg.Clock.Now()
	for _, spec := range legs {
		l := a.e.limiterFor(spec.call.AccountID)
		if l == nil {
			a.e.spawnLeg(a.e.ctx, spec, nil)
			continue
		}
		if why := l.admitLeg(now, a.st.forwarded()); why != "" {
			a.record(HistoryEntry{CallID: a.st.call.CallID, Time: now, Kind: "verb", Summary: "transfer leg to " + spec.call.To + " not placed: " + why})
			a.pending = append(a.pending, legRefused(spec.call.CallID, why))
			continue
		}
		a.e.spawnLeg(a.e.ctx, spec, &slot{l: l, index: -1, counted: true})
	}
}

// waiting counts the calls waiting in the accounts' queues (a reserved
// place is a call still being stored, which Live does not count yet).
func (e *Engine) waiting() int { return int(e.queued.Load()) }

// drainQueues ends the calls waiting in the accounts' queues, as Drain
// ends live calls (cause error): the engine takes no new calls, so they
// will never start. Nothing leaves the queues after.
func (e *Engine) drainQueues() {
	var waiting []*actor
	e.limiters.Range(func(_, v any) bool {
		l := v.(*limiter)
		l.mu.Lock()
		l.closed = true
		for _, s := range l.queue {
			waiting = append(waiting, s.a)
		}
		l.mu.Unlock()
		return true
	})
	for _, a := range waiting {
		a.post(evDrained{})
	}
}

// stopLimiters stops the timers of the accounts' queues: the engine stops.
func (e *Engine) stopLimiters() {
	e.limiters.Range(func(_, v any) bool {
		l := v.(*limiter)
		l.mu.Lock()
		if l.timer != nil {
			l.timer.Stop()
			l.timer = nil
		}
		l.mu.Unlock()
		return true
	})
}
