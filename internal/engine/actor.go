package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/redact"
)

// inboxSize bounds a call's inbox. A call gets a handful of events at a
// time; a sender blocks when it is full, and gives up when the call ends
// or the engine stops.
const inboxSize = 32

// actor owns one live call: it alone reads and changes the call's state.
type actor struct {
	e      *Engine
	log    *slog.Logger
	dir    callback.Direction // the call's, which never changes: for Stats
	st     callState
	inbox  chan event
	done   chan struct{} // closed when the actor ends
	line   Line
	timers map[int]Timer
	// playing is the Playback the line plays (its timer id), 0 if none.
	playing int
	// captures are the line's captures of audio in progress, by name
	// (captureRecord, captureCall).
	captures map[string]Capture
	// room is the room of the bridge the call is in, confRoom its
	// conference's (Config.Mixer); nil when none.
	room, confRoom Room
	// streams are the call's open media streams, by id; transcribing its
	// real-time transcriptions.
	streams      map[string]*liveStream
	transcribing map[string]*liveTranscription
	// said is the Playback a line that carries no audio is timed
	// playing (its id), for the streams that render it; 0 if none.
	said int
	// attach connects an inbound call's caller (Inbound.Attach).
	attach func(callID string, notify func(PhoneEvent)) (Line, error)
	out    *outbox // the call's asynchronous webhooks, in order
	// slot is the call's place in its account's limits; nil without.
	slot *slot
	// pending holds events the actor raised itself while performing
	// actions; they run before the next inbox event.
	pending  []event
	finished bool
	// The writes of one event, flushed together when it has been handled:
	// one atomic Store.Write instead of one write per action.
	dirty   bool
	entries []HistoryEntry
	notify  []Webhook
}

// post delivers an event to the actor. It reports false if the call has
// ended or the engine has stopped.
func (a *actor) post(ev event) bool {
	select {
	case a.inbox <- ev:
		return true
	case <-a.done:
		return false
	case <-a.e.ctx.Done():
		return false
	}
}

func (a *actor) run(first event) {
	defer a.e.wg.Done()
	defer close(a.done)
	defer a.stopTimers()
	a.handle(first)
	for !a.finished {
		select {
		case ev := <-a.inbox:
			a.handle(ev)
		case <-a.e.ctx.Done():
			// The engine is stopping: leave the call live for the next Start.
			return
		}
	}
}

func (a *actor) handle(ev event) {
	for ev != nil {
		switch e := ev.(type) {
		case evReply:
			a.recordAttempts(e)
		case evStream:
			if a.streamAudio(e.StreamEvent) {
				ev = a.nextPending()
				continue
			}
		case evPhone:
			a.speechToStreams(e.PhoneEvent)
			if e.Kind == PhonePlayed && e.PlayID == a.playing {
				a.playing = 0
			}
			if summary := describePhone(e.PhoneEvent); summary != "" {
				a.record(HistoryEntry{CallID: a.st.call.CallID, Time: a.e.cfg.Clock.Now(), Kind: "phone", Summary: summary})
			}
		}
		for _, act := range next(&a.st, ev, a.e.cfg.Clock.Now()) {
			a.do(act)
		}
		a.leaveRooms(false)
		ev = a.nextPending()
	}
	a.flush()
}

// nextPending takes the next event the actor raised itself, or nil.
func (a *actor) nextPending() event {
	if len(a.pending) == 0 {
		return nil
	}
	ev := a.pending[0]
	a.pending = a.pending[1:]
	return ev
}

// flush writes what the last event changed — the call record, its history,
// its asynchronous webhooks — in one write, then hands the webhooks to the
// outbox: nothing leaves before the state it reports is stored.
func (a *actor) flush() {
	if !a.dirty && len(a.entries) == 0 && len(a.notify) == 0 {
		return
	}
	var w Write
	if a.dirty {
		c := a.st.call
		w.Call = &c
	}
	w.History = a.entries
	var sent []Webhook
	w.Enqueue, sent = encodeNotify(a.notify, a.log)
	ids, err := a.e.cfg.Store.Write(a.e.ctx, w)
	if err != nil {
		a.log.Error("store the call's changes", "err", err)
	} else {
		a.e.changed(a.st.call.CallID)
		items := make([]queued, 0, len(ids))
		for i, id := range ids {
			items = append(items, queued{id: id, w: sent[i]})
		}
		a.out.push(items...)
	}
	a.dirty = false
	a.entries = a.entries[:0]
	a.notify = a.notify[:0]
}

// encodeNotify encodes the webhooks to queue. One that cannot be encoded
// is logged and left out of both results, so that enc[i] stays the
// encoding of sent[i] and the store's row ids pair with sent.
func encodeNotify(ws []Webhook, log *slog.Logger) (enc []QueuedWebhook, sent []Webhook) {
	for _, w := range ws {
		q, err := encodeQueued(w)
		if err != nil {
			log.Error("encode webhook", "event", w.Event.Type(), "err", err)
			continue
		}
		enc = append(enc, q)
		sent = append(sent, w)
	}
	return enc, sent
}

// record queues a history entry for the next flush, and logs it, with
// the passwords of URLs hidden.
func (a *actor) record(entries ...HistoryEntry) {
	for _, e := range entries {
		e = redacted(e)
		// A call that ended with any cause but hangup is a problem worth
		// seeing with -q: it is logged at Warn, with its cause and message.
		if c := a.st.call; e.Kind == "state" && c.State == StateDisconnected && strings.HasPrefix(e.Summary, "disconnected: ") &&
			c.DisconnectCause != callback.CauseHangup {
			a.log.Warn(e.Summary, "kind", e.Kind, "cause", c.DisconnectCause, "message", c.ErrorMessage)
		} else {
			a.log.Info(e.Summary, "kind", e.Kind)
		}
		a.entries = append(a.entries, e)
	}
}

// redacted is e with the password of every URL in it hidden: the history
// and the log show URLs as "http://user:*****@host/…" (package redact).
func redacted(e HistoryEntry) HistoryEntry {
	e.Summary = redact.Text(e.Summary)
	e.Detail = redact.Bytes(e.Detail)
	return e
}

func (a *actor) do(act action) {
	ctx := a.e.ctx
	switch act := act.(type) {
	case actDial:
		c := &a.st.call
		line, err := a.e.cfg.Network.Dial(Dial{CallID: c.CallID, AccountID: c.AccountID, From: c.From, To: c.To,
			DisplayName: c.DisplayName, Privacy: c.Privacy != nil && *c.Privacy, UUI: c.UUI, Detect: c.MachineDetection},
			func(pe PhoneEvent) { a.post(evPhone{pe}) })
		if err != nil {
			a.log.Warn("dial failed", "err", err)
			a.pending = append(a.pending, evPhone{PhoneEvent{Kind: PhoneFailed, Reason: err.Error()}})
			return
		}
		a.setLine(line)
	case actIncoming:
		notify := func(pe PhoneEvent) { a.post(evPhone{pe}) }
		var line Line
		var err error
		if a.attach != nil {
			line, err = a.attach(a.st.call.CallID, notify)
		} else {
			line, err = a.e.cfg.Network.Incoming(Dial{CallID: a.st.call.CallID, AccountID: a.st.call.AccountID, From: a.st.call.From, To: a.st.call.To}, notify)
		}
		if err != nil {
			a.log.Warn("connect the caller", "err", err)
			a.pending = append(a.pending, evPhone{PhoneEvent{Kind: PhoneFailed, Reason: err.Error()}})
			return
		}
		a.setLine(line)
	case actAnswerLine:
		if a.line != nil {
			a.line.Answered()
		}
	case actHangupLine:
		if a.line != nil {
			c := &a.st.call
			var msg string
			if d, ok := a.line.(Decliner); ok && c.Direction == callback.Inbound && c.AnswerTime.IsZero() {
				msg = d.Decline(c.DisconnectCause)
			} else {
				msg = a.line.Hangup()
			}
			if msg != "" {
				a.record(HistoryEntry{CallID: a.st.call.CallID, Time: a.e.cfg.Clock.Now(), Kind: "phone", Summary: msg})
			}
		}
	case actListening:
		if a.line != nil {
			a.line.Listening()
		}
	case actSend:
		act.w = stamp(act.w, a.st.call.AccountID, a.st.call.ApplicationID)
		a.history("webhook", fmt.Sprintf("%s → %s %s", act.w.Event.Type(), method(act.w.Target.Method), act.w.Target.URL), act.w.Event)
		a.e.wg.Add(1)
		go func() {
			defer a.e.wg.Done()
			reply, err := a.e.cfg.Sender.Send(ctx, act.w)
			attempts := reply.Attempts
			if de := (*DeliveryError)(nil); errors.As(err, &de) {
				attempts = de.Attempts
			}
			a.e.attempted(act.w.Event.Type(), attempts)
			a.post(evReply{id: act.id, reply: reply, err: err})
		}()
	case actNotify:
		act.w = stamp(act.w, a.st.call.AccountID, a.st.call.ApplicationID)
		a.history("webhook", fmt.Sprintf("%s → %s %s", act.w.Event.Type(), method(act.w.Target.Method), act.w.Target.URL), act.w.Event)
		a.notify = append(a.notify, act.w)
	case actMeasure:
		media := a.e.cfg.Media
		a.e.wg.Add(1)
		go func() {
			defer a.e.wg.Done()
			var total time.Duration
			for _, f := range act.files {
				d, err := media.AudioLength(ctx, f.URL, f.Username, f.Password)
				if err != nil {
					a.post(evMeasured{id: act.id, err: err})
					return
				}
				total += d
			}
			a.post(evMeasured{id: act.id, length: total})
		}()
	case actStartLegs:
		a.startLegs(act.legs)
	case actPost:
		a.e.postTo(a.st.call.CallID, act.to, act.ev)
	case actPlay:
		if a.playing != 0 {
			a.line.StopPlaying()
			a.playing = 0
		}
		if a.line != nil && a.line.Play(act.p) {
			a.playing = act.p.ID
			return
		}
		a.sayToStreams(act.p)
		a.do(actTimer{act.p.ID, act.p.Length})
	case actSendDigits:
		if a.line != nil {
			a.line.SendDigits(act.d)
		}
	case actRecording:
		if a.line != nil {
			a.line.Recording()
			if c := a.line.Capture(act.channels); c != nil {
				if old := a.captures[act.capture]; old != nil {
					old.Stop()
				}
				a.captures[act.capture] = c
			}
		}
	case actPauseCapture:
		if c := a.captures[act.capture]; c != nil {
			if act.pause {
				c.Pause()
			} else {
				c.Resume()
			}
		}
	case actSaveRecording:
		a.keepRecording(ctx, act)
	case actRaise:
		a.pending = append(a.pending, act.ev)
	case actOpenRoom:
		ev := event(act.ev)
		if a.e.cfg.Mixer != nil && a.line != nil {
			if a.room != nil {
				a.room.Leave(a.st.call.CallID)
			}
			a.room = a.e.cfg.Mixer.Room(nil)
			a.room.Join(a.line, Member{CallID: a.st.call.CallID})
			ev = act.ev.withRoom(a.room)
		}
		a.e.postTo(a.st.call.CallID, act.to, ev)
	case actJoinRoom:
		if act.room == nil || a.line == nil {
			return
		}
		m := act.member
		m.CallID = a.st.call.CallID
		if act.conf {
			if a.confRoom != nil && a.confRoom != act.room {
				a.confRoom.Leave(m.CallID)
			}
			a.confRoom = act.room
		} else {
			if a.room != nil && a.room != act.room {
				a.room.Leave(m.CallID)
			}
			a.room = act.room
		}
		act.room.Join(a.line, m)
	case actSay:
		if a.room != nil {
			a.room.Say(a.st.call.CallID, Playback{Prompts: []Prompt{{Text: act.text}}, What: act.text, Length: act.length})
		}
	case actJoinConference:
		id := a.e.joinConference(&a.st.call, act.verb)
		a.pending = append(a.pending, evConfRouted{id})
	case actConfSpeech:
		a.e.confSpeech(act.id, a.st.call.CallID, act.text, act.length)
	case actLeaveConference:
		a.e.leaveConference(act.id, a.st.call.CallID)
	case actTimer:
		id := act.id
		a.timers[id] = a.e.cfg.Clock.AfterFunc(act.d, func() { a.post(evTimer{id}) })
	case actCancelTimer:
		if act.id != 0 && act.id == a.playing {
			a.line.StopPlaying()
			a.playing = 0
		}
		if act.id != 0 && act.id == a.said {
			a.unsay()
		}
		if t := a.timers[act.id]; t != nil {
			t.Stop()
			delete(a.timers, act.id)
		}
	case actSave:
		a.dirty = true
	case actHistory:
		a.record(act.e)
	case actVerbRan:
		a.e.metrics.VerbRan(act.name)
	case actInvalidBXML:
		a.e.metrics.InvalidBXML(act.event)
	case actReply:
		act.to <- act.err
	case actOpenStream:
		a.openStream(act.spec)
	case actStopStream:
		a.stopStream(act.id)
	case actStartTranscription:
		a.startTranscription(act)
	case actTranscript:
		if lt := a.transcribing[act.id]; lt != nil && lt.socket != nil {
			lt.socket.Send(act.t)
		}
	case actStopTranscription:
		a.stopTranscription(act.id)
	case actSaveTranscription:
		a.saveTranscription(act)
	case actDone:
		for id := range a.streams {
			a.stopStream(id)
		}
		for id := range a.transcribing {
			a.stopTranscription(id)
		}
		a.leaveRooms(true)
		for name, c := range a.captures {
			c.Stop() // a capture not saved (the recording was not kept)
			delete(a.captures, name)
		}
		// The call's last writes land before anyone can see it gone.
		a.flush()
		a.finished = true
		a.e.metrics.CallEnded(a.st.call.Direction, a.st.call.DisconnectCause)
		a.e.mu.Lock()
		delete(a.e.live, a.st.call.CallID)
		a.e.mu.Unlock()
		if a.slot != nil {
			a.slot.release()
		}
		a.e.release(a.out)
	}
}

// setLine takes the call's line, and tells the machine whether it
// carries audio.
func (a *actor) setLine(line Line) {
	a.line = line
	_, a.st.audible = line.(Tapper)
}

// leaveRooms takes the call out of the rooms it no longer belongs in: a
// bridge's once it is not bridged, a conference's once it is not in one;
// with all set, out of both.
func (a *actor) leaveRooms(all bool) {
	id := a.st.call.CallID
	if a.room != nil && (all || a.st.bridgedWith() == "") {
		a.room.Leave(id)
		a.room = nil
	}
	if a.confRoom != nil && (all || a.st.conf == nil) {
		a.confRoom.Leave(id)
		a.confRoom = nil
	}
}

func (a *actor) stopTimers() {
	for id, t := range a.timers {
		t.Stop()
		delete(a.timers, id)
	}
}

func (a *actor) history(kind, summary string, ev callback.Event) {
	var detail []byte
	if ev != nil {
		detail, _ = callback.Encode(ev)
	}
	a.record(HistoryEntry{CallID: a.st.call.CallID, Time: a.e.cfg.Clock.Now(), Kind: kind, Summary: summary, Detail: detail})
}

func (a *actor) recordAttempts(r evReply) {
	attempts := r.reply.Attempts
	var de *DeliveryError
	if errors.As(r.err, &de) {
		attempts = de.Attempts
	}
	if len(attempts) == 0 {
		return
	}
	if r.err == nil && len(attempts) > 0 {
		// The last attempt answered: keep what it said, for the console,
		// without the passwords of its verbs (those of URLs go when the
		// entry is recorded).
		attempts = slices.Clone(attempts)
		last := &attempts[len(attempts)-1]
		last.Reply = r.reply.Body
		if hidden := redact.BXMLPasswords(string(last.Reply)); hidden != string(last.Reply) {
			last.Reply = []byte(hidden)
		}
		if len(last.Reply) > maxKeptReply {
			last.Reply = last.Reply[:maxKeptReply]
		}
		if last.Reply == nil {
			last.Reply = []byte{}
		}
	}
	a.record(attemptEntries(a.st.call.CallID, attempts)...)
}

// maxKeptReply bounds the reply kept in an attempt's history detail.
const maxKeptReply = 64 << 10

// describePhone says what the far end did, for the history.
func describePhone(pe PhoneEvent) string {
	switch pe.Kind {
	case PhoneRinging:
		return "ringing"
	case PhoneAnswered:
		return "answered"
	case PhoneBusy:
		return fmt.Sprintf("busy (%d)", pe.SIPCode)
	case PhoneRejected:
		return fmt.Sprintf("declined (%d)", pe.SIPCode)
	case PhoneHungUp:
		return "hung up"
	case PhoneDigit:
		return fmt.Sprintf("pressed %c", pe.Digit)
	case PhoneFailed:
		return fmt.Sprintf("could not be reached (%d)", pe.SIPCode)
	case PhoneUnexplained:
		return fmt.Sprintf("failed, no known reason (%d)", pe.SIPCode)
	case PhoneHeard:
		return "heard " + pe.Digits
	case PhoneNoAnswer:
		return fmt.Sprintf("no answer (%d)", pe.SIPCode)
	case PhoneSignal:
		return pe.Message
	case PhoneGreeting:
		g := pe.Greeting
		if g.Length == 0 {
			return fmt.Sprintf("greeting: silence for %v", g.Delay.Round(time.Millisecond))
		}
		beep := ""
		if g.Beep {
			beep = ", then a beep"
		}
		return fmt.Sprintf("greeting: %v of speech after %v%s", g.Length.Round(time.Millisecond), g.Delay.Round(time.Millisecond), beep)
	case PhonePlayed:
		if pe.Reason == "" {
			return "" // a playback ended: the verb's history says enough
		}
		return "could not play: " + pe.Reason
	case PhoneSpeech:
		if pe.Text == "" && pe.Length == 0 {
			return "" // real audio: the far end is speaking (reported again and again)
		}
		if pe.Text == "" {
			return fmt.Sprintf("spoke for %v", pe.Length.Round(time.Millisecond))
		}
		return fmt.Sprintf("said %q", clip(pe.Text, 80))
	}
	return fmt.Sprintf("phone event %d", pe.Kind)
}

// attemptEntries describes delivery attempts as history.
func attemptEntries(callID string, attempts []Attempt) []HistoryEntry {
	out := make([]HistoryEntry, 0, len(attempts))
	for _, at := range attempts {
		outcome := fmt.Sprintf("%d", at.Status)
		if at.Err != "" {
			outcome = at.Err
		}
		which := ""
		if at.Fallback {
			which = "fallback "
		}
		d := map[string]any{
			"url": at.URL, "method": method(at.Method), "fallback": at.Fallback, "status": at.Status,
			"latencyMs": float64(at.Latency) / float64(time.Millisecond), "error": at.Err,
		}
		if at.Reply != nil {
			d["reply"] = string(at.Reply)
		}
		if at.Outcome != "" {
			d["outcome"] = at.Outcome
		}
		detail, _ := json.Marshal(d)
		out = append(out, HistoryEntry{CallID: callID, Time: at.Time, Kind: "attempt",
			Summary: fmt.Sprintf("%s%s %s: %s in %v", which, method(at.Method), at.URL, outcome, at.Latency.Round(time.Microsecond)),
			Detail:  detail})
	}
	return out
}

func method(m string) string {
	if m == "" {
		return "POST"
	}
	return m
}
