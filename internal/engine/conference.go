package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/audio"
)

// <Conference>: calls meet in a conference, created the first time an
// account uses its name and completed when its last member leaves, when it
// is completed over REST, or after 24 hours. Like a call, a conference has
// one owner, its actor: it alone changes the conference, sends its events —
// conferenceCreated, conferenceMemberJoin, conferenceMemberExit and
// conferenceRedirect one at a time, in order, each reply being conference
// BXML; conferenceCompleted last — and plays its BXML to the members, one
// verb after another. The event URL, credentials and tag of the call that
// created the conference apply to all its events.
//
// Calls reach their conference through the engine: a member's joins and
// leaves go straight into the conference's inbox, in the order the call
// made them; the conference tells a call by posting it an event, never
// waiting for it.
//
// When the store is also a ConferenceStore, conferences outlive the engine
// that ran them: see conferencestore.go.

const (
	// MaxConferenceMembers is how many calls a conference holds at once.
	MaxConferenceMembers = 20
	// ConferenceLifetime is how long a conference may last.
	ConferenceLifetime = 24 * time.Hour
)

// Conference is a conference's record, as the REST API shows it.
type Conference struct {
	ID          string
	Name        string
	AccountID   string
	CreatedTime time.Time
	// CompletedTime is zero while the conference is active.
	CompletedTime time.Time
	EventURL      string
	EventMethod   string
	Tag           *string
	// CreatorCallID is the call whose <Conference> created it: the node
	// that owns that call runs the conference.
	CreatorCallID string
	// Members are the calls in the conference now, in joining order.
	Members []ConferenceMember
	// Joined are every call that joined, in order, including those that
	// left (the console shows them as the conference's legs).
	Joined []string
}

// ConferenceMember is a call in a conference.
type ConferenceMember struct {
	CallID         string
	Mute, Hold     bool
	CallIDsToCoach []string
	// From and To are the call's numbers, as its conferenceMemberExit
	// tells them.
	From, To string
}

// ConferenceFilter selects conferences for a listing.
type ConferenceFilter struct {
	AccountID              string
	Name                   string    // "" for any
	MinCreated, MaxCreated time.Time // zero for no bound
	After                  string    // list conferences after this id (paging)
	Limit                  int       // 0 for no limit
}

// ConferenceUpdate is POST /conferences/{id}: complete the conference, or
// fetch conference BXML from Redirect (conferenceRedirect).
type ConferenceUpdate struct {
	Complete bool
	Redirect Target
}

// MemberUpdate is PUT /conferences/{id}/members/{callId}; nil fields stay.
type MemberUpdate struct {
	Mute, Hold     *bool
	CallIDsToCoach []string
	SetCoach       bool
}

// Events between calls and conferences.
type (
	// evConfRouted tells a call which conference its <Conference> joins.
	evConfRouted struct{ id string }
	// evConfJoined: the conference took the call; room is where the
	// members' audio meets (nil without a Mixer), member how the call is
	// in it.
	evConfJoined struct {
		id     string
		room   Room
		member Member
	}
	// evConfRefused: the conference could not take the call.
	evConfRefused struct {
		id  string
		msg string
	}
	// evConfEnded: the conference ended while the call was in it.
	evConfEnded struct{ id string }
)

func (evConfRouted) isEvent()  {}
func (evConfJoined) isEvent()  {}
func (evConfRefused) isEvent() {}
func (evConfEnded) isEvent()   {}

// Actions of a call in a conference.
type (
	// actJoinConference routes the call to its conference; the id comes
	// back as evConfRouted.
	actJoinConference struct{ verb *bxml.Conference }
	// actLeaveConference takes the call out of its conference.
	actLeaveConference struct{ id string }
	// actConfSpeech hands the far end's speech to the conference.
	actConfSpeech struct {
		id     string
		text   string
		length time.Duration
	}
)

func (actJoinConference) isAction()  {}
func (actLeaveConference) isAction() {}
func (actConfSpeech) isAction()      {}

// confRef is a call's part in a conference.
type confRef struct {
	name string
	id   string // set once routed
}

// startConference joins the conference the verb names.
func (s *callState) startConference(v *bxml.Conference, now time.Time) []action {
	s.conf = &confRef{name: v.Name}
	s.wait = waitConference
	return []action{actJoinConference{v}, history(s, now, "verb", "joining conference "+v.Name, nil)}
}

// confEvent handles the news a conference sends its member.
func (s *callState) confEvent(ev event, now time.Time) []action {
	c := s.conf
	switch ev := ev.(type) {
	case evConfRouted:
		if c != nil && c.id == "" {
			c.id = ev.id
		}
		return nil
	case evConfJoined:
		if c == nil || c.id != ev.id {
			return nil
		}
		return []action{actJoinRoom{room: ev.room, conf: true, member: ev.member},
			history(s, now, "state", fmt.Sprintf("in conference %s (%s)", c.name, c.id), nil)}
	case evConfRefused:
		if c == nil || c.id != ev.id {
			return nil
		}
		s.conf = nil
		return append([]action{history(s, now, "verb", "conference "+c.name+": "+ev.msg, nil)}, s.advance(now)...)
	case evConfEnded:
		if c == nil || c.id != ev.id {
			return nil
		}
		// Members of a conference ended over REST go on with the next verb.
		s.conf = nil
		return append([]action{history(s, now, "state", "conference "+c.name+" ended", nil)}, s.advance(now)...)
	}
	return nil
}

// leaveConference takes the call out of its conference.
func (s *callState) leaveConference() []action {
	c := s.conf
	s.conf = nil
	if c == nil || c.id == "" {
		return nil
	}
	return []action{actLeaveConference{c.id}}
}

// Conference actor events.
type (
	confEvent interface{ isConfEvent() }
	cJoin     struct {
		callID, from, to string
		timeout          time.Duration // the call's callbackTimeout
		verb             *bxml.Conference
	}
	cLeave struct{ callID string }
	cReply struct {
		event callback.EventType // the event replied to
		reply Reply
		err   error
	}
	cPlayed struct {
		id     int
		reason string // why the room could not play it
	}
	cMeasured struct {
		id      int
		prompts []Prompt
		length  time.Duration
		err     error
	}
	cExpired struct{}
	// cSpeech is a member speaking.
	cSpeech struct {
		callID string
		text   string
		length time.Duration
	}
	cUpdate struct {
		u      ConferenceUpdate
		result chan<- error
	}
	cBXML struct {
		verbs  []bxml.Verb
		result chan<- error
	}
	cMember struct {
		callID string
		u      MemberUpdate
		result chan<- error
	}
)

func (cJoin) isConfEvent()     {}
func (cLeave) isConfEvent()    {}
func (cReply) isConfEvent()    {}
func (cPlayed) isConfEvent()   {}
func (cMeasured) isConfEvent() {}
func (cExpired) isConfEvent()  {}
func (cSpeech) isConfEvent()   {}
func (cUpdate) isConfEvent()   {}
func (cBXML) isConfEvent()     {}
func (cMember) isConfEvent()   {}

// conference is the actor that owns one conference.
type conference struct {
	e     *Engine
	log   *slog.Logger
	inbox chan confEvent
	done  chan struct{}

	// Guarded by e.mu: joins routed here and not yet handled, and whether
	// the conference takes no more.
	joining int
	closing bool

	// Owned by the actor.
	st       Conference
	app      string // the application of the call that created it: its webhooks are that application's
	target   Target
	timeout  time.Duration
	hooks    []pendingHook // synchronous events waiting their turn
	sending  bool
	verbs    []bxml.Verb // conference BXML waiting to play
	playing  int         // id of the verb playing, 0 if none
	seq      int
	timer    Timer
	lifetime Timer
	started  bool // the creating call has joined
	rec      *confRecording
	ended    bool
	// room is where the members' audio meets (Config.Mixer), nil without
	// one; roomPlays is set while the room plays the verb playing.
	room      Room
	roomPlays bool
	// dirty is set when the conference's record changed since it was last
	// stored (Config.Store as a ConferenceStore).
	dirty bool

	mu   sync.Mutex
	snap Conference // what readers see
}

// joinConference routes a call to the account's active conference of that
// name, creating it if there is none, and queues the join.
func (e *Engine) joinConference(call *Call, v *bxml.Conference) string {
	key := call.AccountID + "\x00" + v.Name
	e.mu.Lock()
	c := e.confNames[key]
	if c == nil {
		now := e.cfg.Clock.Now()
		c = &conference{
			e: e, inbox: make(chan confEvent, inboxSize), done: make(chan struct{}),
			st:  Conference{ID: callback.NewConferenceID(), Name: v.Name, AccountID: call.AccountID, CreatedTime: now},
			app: call.ApplicationID,
		}
		c.log = e.log.With("conference_id", c.st.ID)
		c.snap = c.st
		e.confNames[key] = c
		e.confs[c.st.ID] = c
		e.confOrder = append(e.confOrder, c)
		e.wg.Add(1)
		go c.run()
	}
	c.joining++
	e.mu.Unlock()
	c.post(cJoin{callID: call.CallID, from: call.From, to: call.To, timeout: call.CallbackTimeout, verb: v})
	return c.st.ID
}

// confByID returns the account's conference with that id.
func (e *Engine) confByID(accountID, id string) (*conference, error) {
	e.mu.Lock()
	c := e.confs[id]
	e.mu.Unlock()
	if c == nil || c.snapshot().AccountID != accountID {
		return nil, &Error{Code: ENotFound, Msg: fmt.Sprintf("Conference %s not found", id)}
	}
	return c, nil
}

// leaveConference hands a member's leave to its conference.
func (e *Engine) leaveConference(id, callID string) {
	e.mu.Lock()
	c := e.confs[id]
	e.mu.Unlock()
	if c != nil {
		c.post(cLeave{callID})
	}
}

// tell posts an event to a live call without waiting for it.
func (e *Engine) tell(callID string, ev event) {
	e.mu.Lock()
	a := e.live[callID]
	e.mu.Unlock()
	if a == nil {
		return
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		a.post(ev)
	}()
}

// post delivers an event to the conference; it reports false if the
// conference has ended or the engine is stopping. The actor never waits on
// anyone, so a sender waits at most for it to read its inbox.
func (c *conference) post(ev confEvent) bool {
	select {
	case c.inbox <- ev:
		return true
	case <-c.done:
		return false
	case <-c.e.ctx.Done():
		return false
	}
}

func (c *conference) snapshot() Conference {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.snap
	s.Members = slices.Clone(s.Members)
	s.Joined = slices.Clone(s.Joined)
	return s
}

func (c *conference) publish() {
	s := c.st
	s.Joined = slices.Clone(c.st.Joined)
	s.Members = make([]ConferenceMember, len(c.st.Members))
	for i, m := range c.st.Members {
		m.CallIDsToCoach = slices.Clone(m.CallIDsToCoach)
		s.Members[i] = m
	}
	c.mu.Lock()
	c.snap = s
	c.mu.Unlock()
}

func (c *conference) run() {
	defer c.e.wg.Done()
	defer close(c.done)
	c.lifetime = c.e.cfg.Clock.AfterFunc(ConferenceLifetime, func() { c.post(cExpired{}) })
	defer c.lifetime.Stop()
	for {
		select {
		case ev := <-c.inbox:
			c.handle(ev)
			c.publish()
			// As a call's do, the conference's events leave once the
			// state they report is stored.
			c.save()
			c.sendNext()
			if c.ended && !c.sending && len(c.hooks) == 0 {
				c.finish()
				c.forget()
				return
			}
		case <-c.e.ctx.Done():
			return
		}
	}
}

func (c *conference) handle(ev confEvent) {
	now := c.e.cfg.Clock.Now()
	switch ev := ev.(type) {
	case cJoin:
		c.e.mu.Lock()
		c.joining--
		c.e.mu.Unlock()
		c.join(ev, now)
	case cLeave:
		if i := c.member(ev.callID); i >= 0 {
			c.remove(i, now)
			c.closeIfEmpty(now)
		}
	case cReply:
		c.sending = false
		c.replied(ev.event, ev.reply, ev.err)
	case cPlayed:
		if ev.reason != "" {
			c.log.Warn("conference audio could not be played", "err", ev.reason)
		}
		if ev.id == c.playing {
			c.roomPlays = false
			c.playing = 0
			c.playNext()
		}
	case cMeasured:
		if ev.id != c.playing {
			return
		}
		if ev.err != nil {
			c.log.Warn("conference audio skipped", "err", ev.err)
			c.playing = 0
			c.playNext()
			return
		}
		c.rec.add(c.e.cfg.Clock.Now(), ev.length, "")
		c.play(ev.id, Playback{ID: ev.id, Prompts: ev.prompts, What: "(an audio file)", Length: ev.length})
	case cSpeech:
		c.rec.add(now, ev.length, ev.text)
		if c.room != nil && ev.text != "" {
			// A simulated member speaks: members with real audio hear it.
			c.room.Say(ev.callID, Playback{Prompts: []Prompt{{Text: ev.text}}, What: ev.text, Length: ev.length})
		}
	case cExpired:
		if !c.ended {
			c.log.Info("conference reached its lifetime", "lifetime", ConferenceLifetime)
			c.end(now)
		}
	case cUpdate:
		switch {
		case c.ended:
			ev.result <- c.errCompleted()
		case ev.u.Complete:
			ev.result <- nil
			c.end(now)
		default:
			ev.result <- nil
			r := &callback.ConferenceRedirect{Conference: c.fields(), Tag: c.st.Tag}
			r.EventTime = callback.TimeOf(now)
			c.queue(r, ev.u.Redirect)
		}
	case cBXML:
		if c.ended {
			ev.result <- c.errCompleted()
			return
		}
		// The new document replaces what was playing or waiting.
		ev.result <- nil
		c.stopPlaying()
		c.verbs = nil
		c.enqueue(ev.verbs)
	case cMember:
		ev.result <- c.updateMember(ev.callID, ev.u)
	}
}

func (c *conference) errCompleted() error { return errCompleted(c.st.ID) }

// errCompleted is the error of a request to change a completed conference.
func errCompleted(id string) error {
	return &Error{Code: EConflict, Msg: fmt.Sprintf("Conference %s has completed and cannot be modified", id)}
}

func (c *conference) fields() callback.Conference {
	return callback.Conference{ConferenceID: c.st.ID, Name: c.st.Name}
}

func (c *conference) member(callID string) int {
	return slices.IndexFunc(c.st.Members, func(m ConferenceMember) bool { return m.CallID == callID })
}

func (c *conference) join(j cJoin, now time.Time) {
	switch {
	case c.ended:
		c.e.tell(j.callID, evConfRefused{c.st.ID, "the conference has completed"})
		return
	case len(c.st.Members) >= MaxConferenceMembers:
		c.e.tell(j.callID, evConfRefused{c.st.ID, fmt.Sprintf("the conference is full (%d members)", MaxConferenceMembers)})
		return
	}
	v := j.verb
	if !c.started {
		c.started = true
		// The creating call: its settings apply to every event.
		c.target = Target{URL: v.ConferenceEventURL, Method: v.ConferenceEventMethod, Username: v.Username, Password: v.Password,
			FallbackURL: v.ConferenceEventFallbackURL, FallbackMethod: v.ConferenceEventFallbackMethod,
			FallbackUsername: v.FallbackUsername, FallbackPassword: v.FallbackPassword}
		c.timeout = v.CallbackTimeout
		if c.timeout == 0 {
			c.timeout = j.timeout
		}
		c.st.CreatorCallID = j.callID
		c.st.EventURL, c.st.EventMethod = v.ConferenceEventURL, method(v.ConferenceEventMethod)
		if v.Tag != nil && *v.Tag != "" {
			tag := *v.Tag
			c.st.Tag = &tag
		}
		created := &callback.ConferenceCreated{Conference: c.fields(), Tag: c.st.Tag}
		created.EventTime = callback.TimeOf(now)
		c.queue(created, c.target)
	}
	m := ConferenceMember{CallID: j.callID, Mute: v.Mute, Hold: v.Hold, From: j.from, To: j.to}
	if v.CallIDsToCoach != "" {
		m.CallIDsToCoach = c.coachable(j.callID, splitIDs(v.CallIDsToCoach))
	}
	c.st.Members = append(c.st.Members, m)
	c.st.Joined = append(c.st.Joined, j.callID)
	c.dirty = true
	c.log.Info("member joined", "call_id", j.callID, "members", len(c.st.Members))
	if c.room == nil && c.e.cfg.Mixer != nil {
		c.room = c.e.cfg.Mixer.Room(func(pe PhoneEvent) {
			if pe.Kind == PhonePlayed {
				c.post(cPlayed{pe.PlayID, pe.Reason})
			}
		})
	}
	c.e.tell(j.callID, evConfJoined{c.st.ID, c.room, m.roomMember()})
	join := &callback.ConferenceMemberJoin{Conference: c.fields(), From: j.from, To: j.to, CallID: j.callID, Tag: c.st.Tag}
	join.EventTime = callback.TimeOf(now)
	c.queue(join, c.target)
}

// roomMember is how the member is in the conference's room.
func (m ConferenceMember) roomMember() Member {
	return Member{CallID: m.CallID, Mute: m.Mute, Hold: m.Hold, Coach: slices.Clone(m.CallIDsToCoach)}
}

// coachable returns the ids the member may coach: a conference has one
// coach at most.
func (c *conference) coachable(callID string, ids []string) []string {
	for _, m := range c.st.Members {
		if m.CallID != callID && len(m.CallIDsToCoach) > 0 {
			c.log.Warn("a conference has one coach: callIdsToCoach ignored", "call_id", callID, "coach", m.CallID)
			return nil
		}
	}
	return ids
}

func splitIDs(s string) []string {
	var out []string
	for id := range strings.SplitSeq(s, ",") {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// remove takes the member at i out, with its conferenceMemberExit.
func (c *conference) remove(i int, now time.Time) {
	m := c.st.Members[i]
	c.st.Members = slices.Delete(c.st.Members, i, i+1)
	c.dirty = true
	if c.room != nil {
		c.room.Leave(m.CallID)
	}
	c.log.Info("member left", "call_id", m.CallID, "members", len(c.st.Members))
	exit := &callback.ConferenceMemberExit{Conference: c.fields(), From: m.From, To: m.To, CallID: m.CallID, Tag: c.st.Tag}
	exit.EventTime = callback.TimeOf(now)
	c.queue(exit, c.target)
}

// closeIfEmpty completes the conference when no member is left and no
// call is on its way in.
func (c *conference) closeIfEmpty(now time.Time) {
	if c.ended || len(c.st.Members) > 0 {
		return
	}
	c.e.mu.Lock()
	waiting := c.joining > 0
	if !waiting {
		c.closing = true
		delete(c.e.confNames, c.st.AccountID+"\x00"+c.st.Name)
	}
	c.e.mu.Unlock()
	if !waiting {
		c.complete(now)
	}
}

// end completes the conference now: its members leave it and go on with
// the verb after their <Conference>.
func (c *conference) end(now time.Time) {
	c.e.mu.Lock()
	c.closing = true
	delete(c.e.confNames, c.st.AccountID+"\x00"+c.st.Name)
	c.e.mu.Unlock()
	for len(c.st.Members) > 0 {
		id := c.st.Members[0].CallID
		c.remove(0, now)
		c.e.tell(id, evConfEnded{c.st.ID})
	}
	c.complete(now)
}

func (c *conference) complete(now time.Time) {
	c.stopRecording(now)
	c.ended = true
	c.st.CompletedTime = now
	c.dirty = true
	c.stopPlaying()
	if c.room != nil {
		c.room.Close()
	}
	c.verbs = nil
	c.log.Info("conference completed")
}

// finish sends conferenceCompleted, the conference's last event.
func (c *conference) finish() {
	if c.target.URL == "" {
		return
	}
	ev := &callback.ConferenceCompleted{Conference: c.fields(), Tag: c.st.Tag}
	ev.EventTime = callback.TimeOf(c.st.CompletedTime)
	w := c.webhook(Webhook{CallID: c.st.ID, Event: ev, Target: c.target, Timeout: c.timeout})
	if err := c.e.notifyOnce(w); err != nil {
		c.log.Warn("send conferenceCompleted", "err", err)
	}
}

// webhook gives a conference webhook its id and owner.
func (c *conference) webhook(w Webhook) Webhook { return stamp(w, c.st.AccountID, c.app) }

// queue sends a synchronous event once those before it are answered and
// the event that queued it has been handled and stored (run).
func (c *conference) queue(ev callback.Event, t Target) {
	if t.URL == "" {
		return
	}
	c.hooks = append(c.hooks, pendingHook{ev, t})
}

// pendingHook is a synchronous event waiting its turn.
type pendingHook struct {
	ev     callback.Event
	target Target
}

func (c *conference) sendNext() {
	if c.sending || len(c.hooks) == 0 {
		return
	}
	ev, t := c.hooks[0].ev, c.hooks[0].target
	c.hooks = c.hooks[1:]
	c.sending = true
	c.log.Info("conference webhook", "event", ev.Type(), "url", t.URL)
	w := c.webhook(Webhook{CallID: c.st.ID, Event: ev, Target: t, Timeout: c.timeout})
	ctx := c.e.ctx
	c.e.wg.Add(1)
	go func() {
		defer c.e.wg.Done()
		reply, err := c.e.cfg.Sender.Send(ctx, w)
		attempts := reply.Attempts
		if de := (*DeliveryError)(nil); errors.As(err, &de) {
			attempts = de.Attempts
		}
		c.e.attempted(ev.Type(), attempts)
		c.post(cReply{ev.Type(), reply, err})
	}()
}

// replied queues the conference BXML a reply returned. A reply that is
// not valid conference BXML is dropped, as is a failed delivery: neither
// ends the conference.
func (c *conference) replied(event callback.EventType, r Reply, err error) {
	if err != nil {
		c.log.Warn("conference webhook failed", "err", err)
		return
	}
	if strings.TrimSpace(string(r.Body)) == "" || c.ended {
		return
	}
	doc, err := bxml.Parse(r.Body, bxml.ConferenceContext)
	if err == nil && r.URL != "" {
		err = doc.ResolveURLs(r.URL)
	}
	if err != nil {
		c.e.metrics.InvalidBXML(event)
		c.log.Warn("conference BXML refused", "err", err)
		return
	}
	c.enqueue(doc.Verbs)
}

// enqueue adds verbs to play after those already waiting.
func (c *conference) enqueue(verbs []bxml.Verb) {
	c.verbs = append(c.verbs, verbs...)
	if c.playing == 0 {
		c.playNext()
	}
}

func (c *conference) stopPlaying() {
	if c.roomPlays {
		c.room.StopPlaying()
		c.roomPlays = false
	}
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.playing = 0
}

// playNext plays the next verb to the members. Verbs that fail are
// skipped.
func (c *conference) playNext() {
	for c.playing == 0 && len(c.verbs) > 0 && !c.ended {
		v := bxml.WithDefaults(c.verbs[0])
		c.verbs = c.verbs[1:]
		c.e.metrics.VerbRan(v.VerbName())
		c.seq++
		id := c.seq
		now := c.e.cfg.Clock.Now()
		switch v := v.(type) {
		case *bxml.StartRecording:
			c.startRecording(v, now)
		case *bxml.PauseRecording:
			c.rec.pause(true, now)
		case *bxml.ResumeRecording:
			c.rec.pause(false, now)
		case *bxml.StopRecording:
			c.stopRecording(now)
		case *bxml.SpeakSentence:
			c.rec.add(now, speechLength(v), "")
			c.play(id, Playback{ID: id, Prompts: []Prompt{speechPrompt(v)}, What: v.Text, Length: speechLength(v)})
		case *bxml.PlayAudio:
			if err := checkAudioName(v.URL); err != nil {
				c.log.Warn("conference audio skipped", "err", err)
				continue
			}
			if c.e.cfg.Media == nil {
				c.rec.add(now, defaultAudioLength, "")
				c.play(id, Playback{ID: id, Prompts: audioPrompts([]*bxml.PlayAudio{v}), What: "(an audio file)", Length: defaultAudioLength})
				continue
			}
			c.playing = id
			ctx, media := c.e.ctx, c.e.cfg.Media
			c.e.wg.Add(1)
			go func() {
				defer c.e.wg.Done()
				d, err := media.AudioLength(ctx, v.URL, v.Username, v.Password)
				c.post(cMeasured{id, audioPrompts([]*bxml.PlayAudio{v}), d, err})
			}()
		default:
			c.log.Warn("conference verb not supported by this voicehook version: skipped", "verb", v.VerbName())
		}
	}
}

// play plays verb id to the members: in the room, when a member carries
// audio (the room reports when it has played), else timed by its Length.
func (c *conference) play(id int, p Playback) {
	if c.room != nil && c.room.Play(p) {
		c.playing, c.roomPlays = id, true
		c.log.Info("conference plays", "for", p.Length)
		return
	}
	c.wait(id, p.Length)
}

// wait lets verb id play for d.
func (c *conference) wait(id int, d time.Duration) {
	c.playing = id
	c.log.Info("conference plays", "for", d)
	c.timer = c.e.cfg.Clock.AfterFunc(d, func() { c.post(cPlayed{id: id}) })
}

func (c *conference) updateMember(callID string, u MemberUpdate) error {
	i := c.member(callID)
	if i < 0 {
		return &Error{Code: ENotFound, Msg: fmt.Sprintf("Member %s not found in conference %s", callID, c.st.ID)}
	}
	m := &c.st.Members[i]
	if u.Mute != nil {
		m.Mute = *u.Mute
	}
	if u.Hold != nil {
		m.Hold = *u.Hold
	}
	if u.SetCoach {
		for _, o := range c.st.Members {
			if o.CallID != callID && len(o.CallIDsToCoach) > 0 && len(u.CallIDsToCoach) > 0 {
				return &Error{Code: EInvalid, Msg: fmt.Sprintf("Conference %s already has a coach, %s", c.st.ID, o.CallID)}
			}
		}
		m.CallIDsToCoach = slices.Clone(u.CallIDsToCoach)
	}
	c.dirty = true
	if c.room != nil {
		c.room.Set(m.roomMember())
	}
	return nil
}

// GetConference returns a conference of the account, with its members:
// one this engine runs as it is now, any other as the store has it.
func (e *Engine) GetConference(ctx context.Context, accountID, id string) (*Conference, error) {
	c, err := e.confByID(accountID, id)
	if err != nil {
		return e.storedConference(ctx, accountID, id, err)
	}
	s := c.snapshot()
	return &s, nil
}

// ListConferences returns the account's conferences matching f, oldest
// first. With a ConferenceStore the listing is the store's, in the order
// conferences were first stored, with those this engine runs as they are
// now; one is listed once its first member's join has been stored.
func (e *Engine) ListConferences(ctx context.Context, f ConferenceFilter) []Conference {
	cs := e.confStore()
	if cs == nil {
		return e.liveConferences(f)
	}
	list, err := cs.ListConferences(ctx, f)
	if err != nil {
		e.log.Error("list the stored conferences: listing those in memory only", "err", err)
		return e.liveConferences(f)
	}
	e.overlay(list)
	return list
}

// liveConferences lists the conferences in the engine's memory that match
// f, in creation order.
func (e *Engine) liveConferences(f ConferenceFilter) []Conference {
	e.mu.Lock()
	all := slices.Clone(e.confOrder)
	e.mu.Unlock()
	var out []Conference
	after := f.After == ""
	for _, c := range all {
		s := c.snapshot()
		if !after {
			after = s.ID == f.After
			continue
		}
		switch {
		case s.AccountID != f.AccountID,
			f.Name != "" && s.Name != f.Name,
			!f.MinCreated.IsZero() && s.CreatedTime.Before(f.MinCreated),
			!f.MaxCreated.IsZero() && s.CreatedTime.After(f.MaxCreated):
			continue
		}
		out = append(out, s)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out
}

// confRequest sends a REST request to a conference's actor and waits. A
// conference this engine does not run but the store has is refused: one
// completed as a conflict, an active one (run by another node) with
// EUnavailable.
func (e *Engine) confRequest(ctx context.Context, accountID, id string, mk func(chan<- error) confEvent) error {
	c, err := e.confByID(accountID, id)
	if err != nil {
		s, err := e.storedConference(ctx, accountID, id, err)
		switch {
		case err != nil:
			return err
		case !s.CompletedTime.IsZero():
			return errCompleted(id)
		}
		return &Error{Code: EUnavailable, Msg: fmt.Sprintf("Conference %s is run by another voicehook node", id)}
	}
	result := make(chan error, 1)
	if !c.post(mk(result)) {
		return c.errCompleted()
	}
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		select {
		case err := <-result:
			return err
		default:
			return c.errCompleted()
		}
	}
}

// UpdateConference completes a conference, or redirects it.
func (e *Engine) UpdateConference(ctx context.Context, accountID, id string, u ConferenceUpdate) error {
	return e.confRequest(ctx, accountID, id, func(r chan<- error) confEvent { return cUpdate{u, r} })
}

// UpdateConferenceBXML replaces the conference BXML waiting to play with
// verbs (already validated for the conference context).
func (e *Engine) UpdateConferenceBXML(ctx context.Context, accountID, id string, verbs []bxml.Verb) error {
	return e.confRequest(ctx, accountID, id, func(r chan<- error) confEvent { return cBXML{verbs, r} })
}

// GetConferenceMember returns a member of a conference.
func (e *Engine) GetConferenceMember(ctx context.Context, accountID, id, callID string) (*ConferenceMember, error) {
	conf, err := e.GetConference(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	for _, m := range conf.Members {
		if m.CallID == callID {
			return &m, nil
		}
	}
	return nil, &Error{Code: ENotFound, Msg: fmt.Sprintf("Member %s not found in conference %s", callID, id)}
}

// UpdateConferenceMember mutes, holds or makes a coach of a member.
func (e *Engine) UpdateConferenceMember(ctx context.Context, accountID, id, callID string, u MemberUpdate) error {
	return e.confRequest(ctx, accountID, id, func(r chan<- error) confEvent { return cMember{callID, u, r} })
}

// confRecording is a conference's <StartRecording> in progress: one
// channel, the members' speech and what the conference plays.
type confRecording struct {
	verb    *bxml.StartRecording
	start   time.Time
	paused  time.Time
	skipped time.Duration
	sound   []audio.Segment
	said    []string
	// capture records the room's real mix, when a member carries audio;
	// the segments then go unused.
	capture Capture
}

// add records d of sound from now (nothing while paused or not
// recording); text is what a member said, if that is what it is.
func (r *confRecording) add(now time.Time, d time.Duration, text string) {
	if r == nil || !r.paused.IsZero() {
		return
	}
	r.sound = append(r.sound, audio.Segment{Start: now.Sub(r.start) - r.skipped, Length: d, Sound: audio.Speech})
	if text != "" {
		r.said = append(r.said, text)
	}
}

func (r *confRecording) pause(pause bool, now time.Time) {
	if r != nil && r.capture != nil {
		if pause {
			r.capture.Pause()
		} else {
			r.capture.Resume()
		}
	}
	switch {
	case r == nil:
	case pause && r.paused.IsZero():
		r.paused = now
	case !pause && !r.paused.IsZero():
		r.skipped += now.Sub(r.paused)
		r.paused = time.Time{}
	}
}

func (c *conference) startRecording(v *bxml.StartRecording, now time.Time) {
	switch {
	case c.rec != nil:
		c.log.Info("a conference recording is already running: StartRecording ignored")
	case c.e.cfg.Recorder == nil:
		c.log.Warn("conference StartRecording skipped: this voicehook has no place to keep recordings")
	case v.FileFormat == string(callback.MP3) && c.e.noMP3 != "":
		c.log.Warn(`conference StartRecording skipped: fileFormat="mp3" cannot be kept`, "why", c.e.noMP3)
	default:
		c.rec = &confRecording{verb: v, start: now}
		if c.room != nil && c.room.Audible() {
			c.rec.capture = c.room.Capture()
		}
	}
}

// stopRecording stores the recording and sends conferenceRecordingAvailable.
func (c *conference) stopRecording(now time.Time) {
	r := c.rec
	if r == nil {
		return
	}
	c.rec = nil
	r.pause(false, now)
	length := now.Sub(r.start) - r.skipped
	rec := &Recording{RecordingID: callback.NewRecordingID(), AccountID: c.st.AccountID, ConferenceID: c.st.ID,
		ConferenceName: c.st.Name, StartTime: r.start, EndTime: r.start.Add(length), Duration: length, Channels: 1,
		FileFormat: fileFormat(r.verb.FileFormat), Status: callback.RecordingStatusComplete, Name: r.verb.RecordingName, Speech: r.said}
	var heard *Audio
	if r.capture != nil {
		// The room's audio stops when no member carries audio any more:
		// silence fills the recording to its length.
		h := padTo(r.capture.Stop(), length)
		heard = &h
	}
	var w *Webhook
	if r.verb.RecordingAvailableURL != "" {
		url := fmt.Sprintf("%s/accounts/%s/conferences/%s/recordings/%s", c.e.cfg.BaseURL, c.st.AccountID, c.st.ID, rec.RecordingID)
		ev := &callback.ConferenceRecordingAvailable{Conference: c.fields(), AccountID: c.st.AccountID,
			Recording: recordingFields(rec, url), Channels: 1, StartTime: callback.TimeOf(r.start), Tag: c.st.Tag}
		ev.EventTime = callback.TimeOf(now)
		hook := c.webhook(Webhook{CallID: c.st.ID, Event: ev, Timeout: c.timeout,
			Target: Target{URL: r.verb.RecordingAvailableURL, Method: r.verb.RecordingAvailableMethod, Username: r.verb.Username, Password: r.verb.Password}})
		w = &hook
	}
	log := c.log
	keep := func(ctx context.Context) {
		var err error
		if heard != nil {
			err = c.e.cfg.Recorder.SaveAudio(ctx, rec, *heard)
		} else {
			err = c.e.cfg.Recorder.Save(ctx, rec, length, [][]audio.Segment{r.sound})
		}
		if err != nil {
			log.Error("save a conference recording", "recording_id", rec.RecordingID, "err", err)
			saveFailed(rec)
		}
		log.Info("conference recorded", "recording_id", rec.RecordingID, "for", rec.Duration, "status", rec.Status)
		if w == nil {
			return
		}
		if c.e.ctx.Err() != nil {
			// A conference has no call row for a durable outbox: its
			// webhooks are sent once, while the engine runs.
			log.Warn("conferenceRecordingAvailable not sent: voicehook stopped first", "recording_id", rec.RecordingID)
			return
		}
		ev := w.Event.(*callback.ConferenceRecordingAvailable)
		ev.Status, ev.Duration, ev.EndTime = rec.Status, callback.Duration(rec.Duration), callback.TimeOf(rec.EndTime)
		if err := c.e.notifyOnce(*w); err != nil {
			log.Warn("send conferenceRecordingAvailable", "err", err)
		}
	}
	if rec.FileFormat != callback.MP3 {
		keep(c.e.ctx)
		return
	}
	c.e.encodeLater(c.e.ctx, rec, log, keep)
}

// confSpeech hands a member's speech to its conference.
func (e *Engine) confSpeech(id, callID, text string, length time.Duration) {
	e.mu.Lock()
	c := e.confs[id]
	e.mu.Unlock()
	if c != nil {
		c.post(cSpeech{callID, text, length})
	}
}

// padTo is a with silence added at its end so that it lasts d.
func padTo(a Audio, d time.Duration) Audio {
	want := int(d * time.Duration(a.Rate) / time.Second)
	for i, ch := range a.Channels {
		if len(ch) < want {
			a.Channels[i] = append(ch, make([]int16, want-len(ch))...)
		}
	}
	return a
}
