package sip

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// pacer sends the RTP of every answered call on one 20 ms clock: a few
// shard goroutines (one per CPU) each tick the senders they hold, one
// after the other, instead of a timer goroutine per call. 200 calls then
// cost the scheduler 100 wake-ups a second, not 10 000, and a packet's
// lateness is the work of the senders before it in its shard.
//
// A shard goroutine owns its tick; each sender's state is guarded by its
// own mutex, which the call's media takes to stop it (media.stop), so a
// sender is never ticked after its call stopped.
type pacer struct {
	shards     []*shard
	sent, late *atomic.Int64
}

type shard struct {
	mu      sync.Mutex
	senders []*sender
	// rooms are mixed every tick, after the senders: a room is on a
	// shard only while a member carries audio.
	rooms []*room
}

func newPacer(sent, late *atomic.Int64) *pacer {
	p := &pacer{sent: sent, late: late}
	for range max(runtime.GOMAXPROCS(0), 1) {
		p.shards = append(p.shards, &shard{})
	}
	return p
}

// run starts the shards' goroutines; they end with ctx.
func (p *pacer) run(ctx context.Context, wg *sync.WaitGroup) {
	for _, sh := range p.shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sh.run(ctx, p.sent, p.late)
		}()
	}
}

// add puts s on the shard with the fewest senders: it sends from the next
// tick.
func (p *pacer) add(s *sender) {
	best := p.least(func(sh *shard) int { return len(sh.senders) })
	best.mu.Lock()
	best.senders = append(best.senders, s)
	best.mu.Unlock()
	s.shard = best
}

// addRoom puts r on the shard with the fewest rooms; it returns the shard.
func (p *pacer) addRoom(r *room) *shard {
	best := p.least(func(sh *shard) int { return len(sh.rooms) })
	best.mu.Lock()
	best.rooms = append(best.rooms, r)
	best.mu.Unlock()
	return best
}

// least is the shard with the smallest count (read under its mutex).
func (p *pacer) least(count func(*shard) int) *shard {
	best, bestN := p.shards[0], -1
	for _, sh := range p.shards {
		sh.mu.Lock()
		n := count(sh)
		sh.mu.Unlock()
		if bestN < 0 || n < bestN {
			best, bestN = sh, n
		}
	}
	return best
}

// removeRoom takes r off sh.
func (sh *shard) removeRoom(r *room) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.rooms = without(sh.rooms, r)
}

// remove takes s off its shard.
func (p *pacer) remove(s *sender) {
	sh := s.shard
	if sh == nil {
		return
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.senders = without(sh.senders, s)
}

// without takes x out of list, in place and out of order (the last takes
// its place), clearing the freed slot.
func without[T comparable](list []T, x T) []T {
	for i, o := range list {
		if o == x {
			last := len(list) - 1
			list[i] = list[last]
			var zero T
			list[last] = zero
			return list[:last]
		}
	}
	return list
}

// run ticks the shard's senders every 20 ms, from an absolute schedule so
// that late wake-ups do not add up: a late shard catches up by up to five
// packets, and skips the rest (advancing each sender's RTP timestamp).
func (sh *shard) run(ctx context.Context, sent, late *atomic.Int64) {
	next := time.Now().Add(ptime)
	t := time.NewTimer(ptime)
	defer t.Stop()
	var list []*sender
	var rooms []*room
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sh.mu.Lock()
		list = append(list[:0], sh.senders...)
		rooms = append(rooms[:0], sh.rooms...)
		sh.mu.Unlock()
		now := time.Now()
		var nSent, nLate int64
		for caught := 0; !next.After(now) && caught < 5; caught++ {
			for _, s := range list {
				s.mu.Lock()
				if !s.stopped {
					s.tick()
					nSent++
					if time.Since(next) > lateBy {
						nLate++
					}
				}
				s.mu.Unlock()
			}
			for _, r := range rooms {
				r.tick(sh)
			}
			next = next.Add(ptime)
			now = time.Now()
		}
		if !next.After(now) {
			skip := now.Sub(next)/ptime + 1
			for _, s := range list {
				s.mu.Lock()
				s.ts += uint32(skip) * frame
				s.mu.Unlock()
			}
			next = next.Add(skip * ptime)
		}
		sent.Add(nSent)
		late.Add(nLate)
		clear(list)
		clear(rooms)
		t.Reset(time.Until(next))
	}
}
