package sip

import (
	"slices"
	"sync"

	"github.com/voicehook/voicehook/internal/engine"
)

// A room is where the audio of calls meets (engine.Room): the two calls of
// a bridge, the members of a conference.
//
// The pacer ticks a room beside the senders, while a member carries audio.
// A member's sender and the room never wait on each other: each audio
// member has a link, two small queues under their own mutex. Every tick
// the sender puts in what its far end said and takes out what the room
// mixed for it (added to what it sends); every tick the room takes one
// frame from each member, mixes, and puts each member's mix out. Senders
// and rooms sit on shards that tick at their own phase, so a queue holds
// one frame or two; beyond a few frames (a late shard), the oldest are
// dropped, so the room adds 20 to 40 ms each way and never more than 80.

const (
	// qMax is what a link's queue holds at most; a queue beyond it is cut
	// to qKeep, dropping the oldest frames.
	qMax  = 4 * frame
	qKeep = 2 * frame
)

// fq is a queue of frames.
type fq struct{ buf []int16 }

func (q *fq) push(f []int16) {
	q.buf = append(q.buf, f...)
	if len(q.buf) > qMax {
		q.buf = append(q.buf[:0], q.buf[len(q.buf)-qKeep:]...)
	}
}

// pop moves the oldest frame into dst; false when none is whole.
func (q *fq) pop(dst []int16) bool {
	if len(q.buf) < frame {
		return false
	}
	copy(dst, q.buf[:frame])
	q.buf = append(q.buf[:0], q.buf[frame:]...)
	return true
}

// link joins a line's sender to a room: in is what its far end says, out
// what the room mixed for it. Once gone (the member left), the sender
// drops it.
type link struct {
	l    *line
	mu   sync.Mutex
	in   fq
	out  fq
	gone bool
}

func (k *link) putHeard(f []int16) {
	k.mu.Lock()
	if !k.gone {
		k.in.push(f)
	}
	k.mu.Unlock()
}

func (k *link) takeHeard(dst []int16) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.in.pop(dst)
}

func (k *link) putMix(f []int16) {
	k.mu.Lock()
	if !k.gone {
		k.out.push(f)
	}
	k.mu.Unlock()
}

func (k *link) takeMix(dst []int16) (ok, gone bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.gone {
		return false, true
	}
	return k.out.pop(dst), false
}

func (k *link) leave() {
	k.mu.Lock()
	k.gone = true
	k.in.buf, k.out.buf = nil, nil
	k.mu.Unlock()
}

// ended reports whether the line has finished (hung up, media stopped).
func (k *link) ended() bool {
	select {
	case <-k.l.done:
		return true
	default:
		return false
	}
}

// pullMix takes this tick's frame of the room's mix into s.mix, and drops
// the link once its member left.
func (s *sender) pullMix() bool {
	ok, gone := s.link.takeMix(s.mix[:])
	if gone {
		s.link = nil
	}
	return ok
}

// addFrame adds src to dst, clipping at full scale.
func addFrame(dst, src []int16) {
	for i, v := range src {
		dst[i] = clip16(int32(dst[i]) + int32(v))
	}
}

func clip16(v int32) int16 { return int16(max(-32768, min(32767, v))) }

// member is a call in a room. lk is nil for a member that carries no
// audio (heard only through Say).
type member struct {
	m     engine.Member
	lk    *link
	say   *playing
	voice [frame]int16 // what it says this tick
	loud  bool         // voice holds something this tick
}

// heardByAll: every member not on hold hears it.
func (mb *member) heardByAll() bool { return !mb.m.Mute && !mb.m.Hold && len(mb.m.Coach) == 0 }

// coaching: it whispers to the calls in its Coach list.
func (mb *member) coaching() bool { return !mb.m.Mute && !mb.m.Hold && len(mb.m.Coach) > 0 }

// room is the engine.Room of a Network; mu guards everything but the
// event queue.
type room struct {
	n      *Network
	notify func(engine.PhoneEvent)

	mu      sync.Mutex
	closed  bool
	members []*member
	// early are Sets for calls not in the room yet (a conference member
	// muted before its call joined): Join applies them.
	early    map[string]engine.Member
	audio    int    // members with a link
	shard    *shard // the pacer's shard ticking the room, nil while audio is 0
	play     *playing
	captures []*capture
	// scratch for tick
	all, acc [frame]int32
	tmp      [frame]int16
	coaches  []*member

	evMu     sync.Mutex
	evQ      []engine.PhoneEvent
	evBusy   bool // a goroutine delivers evQ
	evClosed bool
}

var _ engine.Mixer = (*Network)(nil)

// Room opens an empty room whose audio members meet on the network's
// pacer.
func (n *Network) Room(notify func(engine.PhoneEvent)) engine.Room {
	return &room{n: n, notify: notify}
}

func (r *room) find(callID string) int {
	return slices.IndexFunc(r.members, func(mb *member) bool { return mb.m.CallID == callID })
}

func cloneMember(m engine.Member) engine.Member {
	m.Coach = slices.Clone(m.Coach)
	return m
}

// Join puts a call in the room: a SIP line of this network that has not
// ended as an audio member, any other line as a silent one.
func (r *room) Join(ln engine.Line, m engine.Member) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if e, ok := r.early[m.CallID]; ok {
		m = e // set since the call was told how it joins
		delete(r.early, m.CallID)
	}
	if i := r.find(m.CallID); i >= 0 {
		r.members[i].m = cloneMember(m)
		return
	}
	mb := &member{m: cloneMember(m)}
	// A line of ours whose media has not started yet (the ACK of its 200
	// still on its way) is an audio member too: its sender takes the link
	// with its first tick.
	if l, ok := ln.(*line); ok && l.n == r.n {
		mb.lk = &link{l: l}
		if mb.lk.ended() {
			mb.lk = nil
		}
	}
	r.members = append(r.members, mb)
	if mb.lk != nil {
		mb.lk.l.cmds.push(cmd{link: mb.lk})
		r.audio++
		if r.shard == nil {
			r.shard = r.n.pacer.addRoom(r)
		}
	}
}

// Set changes how a member hears and is heard.
func (r *room) Set(m engine.Member) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i := r.find(m.CallID); i >= 0 {
		r.members[i].m = cloneMember(m)
		return
	}
	if !r.closed {
		if r.early == nil {
			r.early = map[string]engine.Member{}
		}
		r.early[m.CallID] = cloneMember(m)
	}
}

// Leave takes a call out of the room.
func (r *room) Leave(callID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.early, callID)
	if i := r.find(callID); i >= 0 {
		r.drop(i)
	}
}

// drop takes member i out, under mu. The last audio member to leave takes
// the room off the pacer and ends its playback (PhonePlayed with a
// reason: nobody is left to hear the rest).
func (r *room) drop(i int) {
	mb := r.members[i]
	r.members = slices.Delete(r.members, i, i+1)
	if mb.say != nil {
		mb.say.cancel()
		mb.say = nil
	}
	if mb.lk == nil {
		return
	}
	mb.lk.leave()
	r.audio--
	if r.audio > 0 {
		return
	}
	if r.shard != nil {
		r.shard.removeRoom(r)
		r.shard = nil
	}
	for _, o := range r.members {
		if o.say != nil {
			o.say.cancel()
			o.say = nil
		}
	}
	if pl := r.play; pl != nil {
		pl.cancel()
		r.play = nil
		r.emit(engine.PhoneEvent{Kind: engine.PhonePlayed, PlayID: pl.p.ID, Reason: "no call in the room carries audio"})
	}
}

// netClosed: the network is closed (its pacer stopped), so nothing more
// may start.
func (r *room) netClosed() bool {
	r.n.mu.Lock()
	defer r.n.mu.Unlock()
	return r.n.closed
}

// Say mixes p into the room as member callID's voice.
func (r *room) Say(callID string, p engine.Playback) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.find(callID)
	if r.closed || r.audio == 0 || i < 0 || r.netClosed() {
		return
	}
	mb := r.members[i]
	if mb.say != nil {
		mb.say.cancel()
	}
	mb.say = r.n.startPlaying(p)
}

// Audible reports whether a member carries audio.
func (r *room) Audible() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.closed && r.audio > 0
}

// Play plays p to every member not on hold.
func (r *room) Play(p engine.Playback) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.audio == 0 || r.netClosed() {
		return false
	}
	if r.play != nil {
		r.play.cancel()
	}
	r.play = r.n.startPlaying(p)
	return true
}

// StopPlaying ends what Play started, without PhonePlayed.
func (r *room) StopPlaying() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.play != nil {
		r.play.cancel()
		r.play = nil
	}
}

// Capture records the room in one channel.
func (r *room) Capture() engine.Capture {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.audio == 0 {
		return nil
	}
	c := &capture{channels: 1, full: func() {
		r.n.log.Warn("sip: room capture reached its limit: what follows is not recorded", "limit", maxCapture)
	}}
	r.captures = append(r.captures, c)
	return c
}

// Close ends the room; closing twice is harmless.
func (r *room) Close() {
	r.evMu.Lock()
	r.evClosed = true
	r.evQ = nil
	r.evMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	for _, mb := range r.members {
		if mb.lk != nil {
			mb.lk.leave()
		}
		if mb.say != nil {
			mb.say.cancel()
		}
	}
	r.members, r.audio, r.captures = nil, 0, nil
	if r.shard != nil {
		r.shard.removeRoom(r)
		r.shard = nil
	}
	if r.play != nil {
		r.play.cancel()
		r.play = nil
	}
}

// tick mixes one frame, on shard sh's goroutine.
func (r *room) tick(sh *shard) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.shard != sh {
		return // closed, or moved off sh since the shard's list was taken
	}
	for i := 0; i < len(r.members); {
		if lk := r.members[i].lk; lk != nil && lk.ended() {
			r.drop(i) // a line that hung up leaves by itself
			continue
		}
		i++
	}
	if r.audio == 0 {
		return
	}

	// What every member hears: the playback and the members heard by all.
	clear(r.all[:])
	r.coaches = r.coaches[:0]
	for _, mb := range r.members {
		mb.loud = false
		if mb.lk != nil {
			mb.loud = mb.lk.takeHeard(mb.voice[:])
		}
		if !mb.loud {
			clear(mb.voice[:])
		}
		if mb.say != nil {
			clear(r.tmp[:])
			done, err := mb.say.fill(r.tmp[:])
			addFrame(mb.voice[:], r.tmp[:])
			mb.loud = true
			if done {
				if err != nil {
					r.n.log.Warn("sip: room: a member's speech failed", "call_id", mb.m.CallID, "err", err)
				}
				mb.say.cancel()
				mb.say = nil
			}
		}
		switch {
		case !mb.loud:
		case mb.heardByAll():
			add32(&r.all, mb.voice[:])
		case mb.coaching():
			r.coaches = append(r.coaches, mb)
		}
	}
	if pl := r.play; pl != nil {
		clear(r.tmp[:])
		done, err := pl.fill(r.tmp[:])
		add32(&r.all, r.tmp[:])
		if done {
			pl.cancel()
			r.play = nil
			e := engine.PhoneEvent{Kind: engine.PhonePlayed, PlayID: pl.p.ID}
			if err != nil {
				e.Reason = err.Error()
			}
			r.emit(e)
		}
	}

	if len(r.captures) > 0 {
		r.acc = r.all
		for _, c := range r.coaches {
			add32(&r.acc, c.voice[:])
		}
		for i := range r.tmp {
			r.tmp[i] = clip16(r.acc[i])
		}
		r.captures = slices.DeleteFunc(r.captures, func(c *capture) bool { return !c.add(r.tmp[:], nil) })
	}

	for _, mb := range r.members {
		if mb.lk == nil || mb.m.Hold {
			continue
		}
		r.acc = r.all
		if mb.loud && mb.heardByAll() {
			for i, v := range mb.voice {
				r.acc[i] -= int32(v)
			}
		}
		for _, c := range r.coaches {
			if c != mb && slices.Contains(c.m.Coach, mb.m.CallID) {
				add32(&r.acc, c.voice[:])
			}
		}
		for i := range r.tmp {
			r.tmp[i] = clip16(r.acc[i])
		}
		mb.lk.putMix(r.tmp[:])
	}
}

func add32(acc *[frame]int32, f []int16) {
	for i, v := range f {
		acc[i] += int32(v)
	}
}

// emit queues an event for notify; a goroutine delivers the queue, in
// order, while it is not empty.
func (r *room) emit(e engine.PhoneEvent) {
	r.evMu.Lock()
	defer r.evMu.Unlock()
	if r.evClosed {
		return
	}
	r.evQ = append(r.evQ, e)
	if r.evBusy {
		return
	}
	n := r.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		r.evQ = nil
		return
	}
	r.evBusy = true
	n.wg.Add(1)
	go r.deliver()
}

func (r *room) deliver() {
	defer r.n.wg.Done()
	for {
		r.evMu.Lock()
		q := r.evQ
		r.evQ = nil
		if len(q) == 0 || r.evClosed {
			r.evBusy = false
			r.evMu.Unlock()
			return
		}
		r.evMu.Unlock()
		for _, e := range q {
			r.evMu.Lock()
			closed := r.evClosed
			r.evMu.Unlock()
			if closed {
				break
			}
			r.notify(e)
		}
	}
}
