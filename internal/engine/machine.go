package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/redact"
)

// This file is the call state machine: next(state, event, now) decides
// what happens and returns the actions to perform; the actor performs them.
// next touches nothing outside the state, so tests drive it directly.

// event is something that happened to a call.
type event interface{ isEvent() }

type (
	// evStart begins an outbound call: dial it. at, when set, is when an
	// account's limits let it start (limits.go): its startTime.
	evStart struct{ at time.Time }
	// evPhone is a report from the network.
	evPhone struct{ PhoneEvent }
	// evTimer is a timer the machine started.
	evTimer struct{ id int }
	// evReply is the outcome of a synchronous webhook.
	evReply struct {
		id    int
		reply Reply
		err   error
	}
	// evUpdate is a REST update of the call.
	evUpdate struct {
		complete bool   // state=completed
		redirect Target // with complete false: where to get new BXML
		tag      *string
		setTag   bool
		result   chan<- error
	}
	// evUpdateBXML replaces the running document (PUT …/bxml).
	evUpdateBXML struct {
		verbs  []bxml.Verb
		result chan<- error
	}
	// evRecover ends a call that was live when the engine last stopped,
	// or that it adopted from a node that died; why says which, for the
	// disconnect's errorMessage.
	evRecover struct{ why string }
	// evIncoming begins an inbound call: connect the caller, send initiate.
	evIncoming struct{ in Inbound }
	// evDrained ends a call still live when the engine drained.
	evDrained struct{}
	// evCapacity ends a new call the engine has no room for.
	evCapacity struct{ max int }
	// evMeasured is the length of the audio files of actMeasure.
	evMeasured struct {
		id     int
		length time.Duration
		err    error
	}
)

func (evStart) isEvent()      {}
func (evPhone) isEvent()      {}
func (evTimer) isEvent()      {}
func (evReply) isEvent()      {}
func (evUpdate) isEvent()     {}
func (evUpdateBXML) isEvent() {}
func (evRecover) isEvent()    {}
func (evIncoming) isEvent()   {}
func (evMeasured) isEvent()   {}
func (evCapacity) isEvent()   {}
func (evDrained) isEvent()    {}

// action is something the actor must do.
type action interface{ isAction() }

type (
	actDial struct{}
	// actIncoming connects the caller of an inbound call.
	actIncoming   struct{}
	actAnswerLine struct{}
	actHangupLine struct{}
	actListening  struct{}
	// actSend delivers a synchronous webhook; its outcome comes back as
	// evReply with the same id.
	actSend struct {
		id int
		w  Webhook
	}
	// actNotify delivers an asynchronous webhook.
	actNotify struct{ w Webhook }
	// actTimer starts a timer that comes back as evTimer with the id.
	actTimer struct {
		id int
		d  time.Duration
	}
	actCancelTimer struct{ id int }
	// actSave stores the call record.
	actSave struct{}
	// actHistory appends to the call's history.
	actHistory struct{ e HistoryEntry }
	// actReply answers a REST request.
	actReply struct {
		to  chan<- error
		err error
	}
	// actDone ends the actor.
	actDone struct{}
	// actRaise handles ev next, before the inbox's next event.
	actRaise struct{ ev event }
	// actMeasure measures audio files; the total comes back as evMeasured.
	actMeasure struct {
		id    int
		files []*bxml.PlayAudio
	}
	// actVerbRan and actInvalidBXML are counted (Config.Metrics).
	actVerbRan     struct{ name string }
	actInvalidBXML struct{ event callback.EventType }
)

func (actDial) isAction()        {}
func (actIncoming) isAction()    {}
func (actAnswerLine) isAction()  {}
func (actHangupLine) isAction()  {}
func (actListening) isAction()   {}
func (actSend) isAction()        {}
func (actNotify) isAction()      {}
func (actTimer) isAction()       {}
func (actCancelTimer) isAction() {}
func (actSave) isAction()        {}
func (actHistory) isAction()     {}
func (actReply) isAction()       {}
func (actRaise) isAction()       {}
func (actDone) isAction()        {}
func (actMeasure) isAction()     {}
func (actVerbRan) isAction()     {}
func (actInvalidBXML) isAction() {}

// waitKind is what a call is waiting for.
type waitKind int

const (
	waitNothing    waitKind = iota
	waitRing                // dialled; waiting for the far end
	waitWebhook             // a synchronous webhook is out
	waitTimer               // a verb takes time: Pause, Ring, SpeakSentence, PlayAudio, SendDtmf
	waitGather              // a Gather: prompts, then digits
	waitMedia               // audio files are being measured
	waitTransfer            // an A-leg: its <Transfer> is ringing or bridged
	waitWin                 // a B-leg answered: has it won the transfer?
	waitBridged             // a B-leg bridged with its A-leg
	waitBridge              // in a <Bridge>, or asking to be
	waitConference          // in a <Conference>
	waitDetect              // answered; sync machine detection runs before the answer webhook
	waitRecord              // a <Record>
	waitFinished            // the call has ended
)

// callState is everything the machine knows about one call.
type callState struct {
	call    Call
	callURL string

	wait  waitKind
	seq   int // ids of timers and webhooks
	timer int // the pending timer, 0 if none
	amd   int // the timer of async machine detection, 0 if none
	// detected is the result of machine detection once known.
	detected *callback.MachineDetectionResult
	// listening is set while a line hears the greeting for machine
	// detection (PhoneAnswered with GreetingFollows).
	listening bool
	webhook   int // the pending webhook, 0 if none
	// sent is the type of the last synchronous webhook sent.
	sent callback.EventType
	// sipCallID is the Call-ID of the call's SIP dialog, once known.
	sipCallID string

	// The running document.
	doc  []bxml.Verb
	pc   int
	base string // the URL that served it

	gather      *gatherState
	startGather *bxml.StartGather // digits are reported while set
	// media is set when audio files are measured (Config.Media); without
	// it a playable file counts as defaultAudioLength.
	media   bool
	measure int // the pending measurement, 0 if none
	// files are the audio files being measured, to play once measured.
	files []*bxml.PlayAudio

	transfer *transferState // an A-leg's running <Transfer>
	leg      *legInfo       // set on the B-leg of a <Transfer>
	bridge   *bridgeState   // the call's part in a <Bridge>
	conf     *confRef       // the call's part in a <Conference>
	rec      *recordState   // a <Record> in progress
	callRec  *callRecording // a <StartRecording> in progress
	recorder bool           // recordings can be kept (Config.Recorder)
	noMP3    string         // why mp3 recordings cannot be kept; "" if they can
	streams  []*streamState // <StartStream>s open or opening, in order
	streamer bool           // streams can be opened (Config.Streamer)
	// transcriptions are the <StartTranscription>s running, in order;
	// utterances are simulated words to transcribe once said.
	transcriptions []*transcriptionState
	utterances     []pendingTranscript
	sockets        bool // transcriptions' sockets can be opened (Config.TranscriptionSockets)
	transcriber    bool // real speech can be recognized (Config.Transcriber)
	// audible is set by the actor when the call's line carries audio (a
	// real call): its speech needs the Transcriber.
	audible bool
}

// gatherState is a Gather in progress.
type gatherState struct {
	verb       *bxml.Gather
	digits     strings.Builder
	terminator string
	prompting  bool // the prompts are still playing
}

func (s *callState) nextID() int { s.seq++; return s.seq }

// forwarded reports whether the call was forwarded: the app has no more say.
func (s *callState) forwarded() bool { return s.transfer != nil && s.transfer.forward }

// next applies an event to the state and returns the actions to take.
func next(s *callState, ev event, now time.Time) []action {
	if s.wait == waitFinished {
		// Late news about an ended call: answer REST requests, drop the rest.
		switch ev := ev.(type) {
		case evBridgeRequest:
			return []action{actPost{ev.from, evBridgeFailed{callback.CauseUnknown, fmt.Sprintf("Call %s has ended", s.call.CallID)}}}
		case evUpdate:
			return []action{actReply{ev.result, errNotModifiable(s.call.CallID)}}
		case evUpdateBXML:
			return []action{actReply{ev.result, errNotModifiable(s.call.CallID)}}
		case evRecordingState:
			return []action{actReply{ev.result, errNotModifiable(s.call.CallID)}}
		}
		return nil
	}
	switch ev := ev.(type) {
	case evStart:
		s.call.State = StateInitiated
		s.call.StartTime = now
		if !ev.at.IsZero() {
			s.call.StartTime = ev.at
		}
		s.call.LastUpdate = now
		s.wait = waitRing
		return []action{actSave{}, actDial{}, history(s, now, "state", "initiated: dialling "+s.call.To, nil)}
	case evRecover:
		return s.end(now, callback.CauseError, ev.why, 0, false)
	case evDrained:
		return s.end(now, callback.CauseError, "voicehook was stopped while the call was live: it waited for the call to end, then ended it (--drain-timeout)", 0, false)
	case evQueued:
		return s.queued(now)
	case evAccountLimit:
		return s.accountLimit(now)
	case evCapacity:
		return s.end(now, callback.CauseNodeCapacityExceeded,
			fmt.Sprintf("this voicehook node carries %d calls, as many as it may (--max-calls)", ev.max), 0, false)
	case evIncoming:
		s.call.State = StateInitiated
		s.call.StartTime = now
		s.call.LastUpdate = now
		in := ev.in
		init := &callback.Initiate{Leg: s.eventCall().Leg, Diversion: in.Diversion, StirShaken: in.StirShaken,
			UUI: in.UUI, SIPHeaders: in.SIPHeaders, SIPCallID: in.SIPCallID}
		init.EventTime = callback.TimeOf(now)
		acts := []action{actSave{}, actIncoming{}, history(s, now, "state", "initiated: "+s.call.From+" calls "+s.call.To, nil)}
		if len(in.BXML) > 0 {
			// A document of voicehook's own: it runs as the initiate
			// event's reply, and no application is asked.
			s.webhook = s.nextID()
			s.sent = callback.EventInitiate
			s.wait = waitWebhook
			return append(acts, actRaise{evReply{id: s.webhook, reply: Reply{Body: in.BXML}}})
		}
		return append(acts, s.send(init, in.Initiate, now)...)
	case evPhone:
		return s.phone(ev.PhoneEvent, now)
	case evTimer:
		if acts, ok := s.saidTimer(ev.id, now); ok {
			return acts
		}
		if ev.id != 0 && ev.id == s.amd {
			s.amd = 0
			s.greetingLost()
			return s.detectedAsync(now)
		}
		if s.rec != nil && ev.id != 0 && ev.id == s.rec.silence {
			s.rec.silence = 0
			return s.finishRecord(now, true)
		}
		if ev.id != s.timer {
			return nil // stale
		}
		s.timer = 0
		return s.timerFired(now)
	case evReply:
		if ev.id != s.webhook {
			return nil // the call moved on
		}
		s.webhook = 0
		return s.replied(ev.reply, ev.err, now)
	case evMeasured:
		if ev.id != s.measure {
			return nil
		}
		s.measure = 0
		return s.measured(ev.length, ev.err, now)
	case evLegAnswered, evLegBridged, evLegEnded:
		return s.transferEvent(ev, now)
	case evBridgeRequest, evBridgeAccepted, evBridgeFailed, evBridgePeerLeft:
		return s.bridgeEvent(ev, now)
	case evPeerDigit:
		return s.peerDigit(ev)
	case evConfRouted, evConfJoined, evConfRefused, evConfEnded:
		return s.confEvent(ev, now)
	case evLegWon, evLegLost, evParentEnded:
		if s.leg == nil {
			return nil
		}
		return s.legEvent(ev, now)
	case evUpdate:
		return s.update(ev, now)
	case evRecordingState:
		return s.recordingState(ev, now)
	case evStream:
		return s.streamEvent(ev.StreamEvent, now)
	case evTranscript:
		return s.transcribed(ev.id, ev.t, time.Time{}, now)
	case evUpdateBXML:
		if s.call.State != StateAnswered || s.forwarded() {
			return []action{actReply{ev.result, errNotModifiable(s.call.CallID)}}
		}
		acts := s.stopVerb(now)
		acts = append(acts, actReply{ev.result, nil}, history(s, now, "verb", "BXML replaced over REST", nil))
		return append(acts, s.runDocument(ev.verbs, "", now)...)
	}
	return nil
}

func (s *callState) phone(pe PhoneEvent, now time.Time) []action {
	if pe.SIPCallID != "" {
		s.sipCallID = pe.SIPCallID
	}
	switch pe.Kind {
	case PhoneSignal:
		return nil // history only
	case PhoneDialog:
		// Kept with the call, for a node that adopts it to end the dialog.
		if s.call.State == StateDisconnected {
			return nil
		}
		s.call.Dialog = pe.Dialog
		return []action{actSave{}}
	case PhonePlayed:
		if pe.PlayID == 0 || pe.PlayID != s.timer {
			return nil // stopped, or stale
		}
		s.timer = 0
		if pe.Reason != "" {
			return s.end(now, callback.CauseApplicationError, pe.Reason, 0, false)
		}
		return s.timerFired(now)
	case PhoneNoAnswer:
		return s.end(now, callback.CauseTimeout, "Call was not answered", pe.SIPCode, true)
	case PhoneRinging:
		if s.wait != waitRing || s.timer != 0 {
			return nil
		}
		s.timer = s.nextID()
		return []action{actTimer{s.timer, s.call.CallTimeout}, history(s, now, "state", "ringing", nil)}
	case PhoneAnswered:
		if s.wait != waitRing {
			return nil
		}
		if s.leg != nil {
			// A B-leg asks its A-leg whether it won.
			acts := s.cancelTimer()
			s.wait = waitWin
			return append(acts, actPost{s.leg.parent, evLegAnswered{s.call.CallID}}, history(s, now, "state", "answered", nil))
		}
		acts := s.cancelTimer()
		s.call.State = StateAnswered
		s.call.AnswerTime = now
		s.call.LastUpdate = now
		acts = append(acts, actSave{}, history(s, now, "state", "answered", nil))
		if md := s.call.MachineDetection; md != nil && pe.GreetingFollows {
			// The line hears the greeting first: the result waits for it
			// (PhoneGreeting), the answer too in sync mode.
			s.listening = true
			if md.Sync {
				s.timer = s.nextID()
				s.wait = waitDetect
				// The line reports within detectionTimeout; should it not,
				// the result is a timeout.
				return append(acts, actTimer{s.timer, md.DetectionTimeout + greetingGrace}, history(s, now, "verb", "machine detection (sync): listening", nil))
			}
			s.amd = s.nextID()
			acts = append(acts, actTimer{s.amd, md.DetectionTimeout + greetingGrace}, history(s, now, "verb", "machine detection (async): listening", nil))
			return append(acts, s.sendAnswer(now)...)
		}
		if md := s.call.MachineDetection; md != nil {
			value, after := detect(*md, pe.Greeting)
			s.detected = &callback.MachineDetectionResult{Value: value, Duration: callback.Duration(after)}
			if md.Sync {
				// The answer waits for the result.
				s.timer = s.nextID()
				s.wait = waitDetect
				return append(acts, actTimer{s.timer, after}, history(s, now, "verb", "machine detection (sync)", nil))
			}
			s.amd = s.nextID()
			acts = append(acts, actTimer{s.amd, after}, history(s, now, "verb", "machine detection (async)", nil))
		}
		return append(acts, s.sendAnswer(now)...)
	case PhoneGreeting:
		return s.greeting(pe.Greeting, now)
	case PhoneBusy:
		return s.end(now, callback.CauseBusy, "Callee is busy", orCode(pe.SIPCode, 486), true)
	case PhoneRejected:
		return s.end(now, callback.CauseRejected, "Call was rejected by the callee", orCode(pe.SIPCode, 603), true)
	case PhoneFailed:
		msg := "The call could not be placed"
		if pe.Reason != "" {
			msg += ": " + pe.Reason
		}
		return s.end(now, callback.CauseError, msg, pe.SIPCode, true)
	case PhoneUnexplained:
		return s.end(now, callback.CauseUnknown, unexplained(pe.Reason), pe.SIPCode, true)
	case PhoneHungUp:
		if s.call.State != StateAnswered {
			if s.call.Direction == callback.Inbound {
				// The caller gave up while it rang.
				return s.end(now, callback.CauseCancel, "", 0, true)
			}
			// The far end gave up before answering: it declined.
			return s.end(now, callback.CauseRejected, "Call was rejected by the callee", 0, true)
		}
		// A line that ends the call itself (the far end's silence) says why.
		return s.end(now, callback.CauseHangup, pe.Reason, 0, true)
	case PhoneDigit:
		relay := s.relayDigit(pe.Digit)
		if acts, taken := s.recordDigit(pe.Digit, now); taken {
			return append(relay, acts...)
		}
		return append(relay, s.digit(pe.Digit, now)...)
	case PhoneSpeech:
		s.heardByRecording(pe.Text, pe.Length, now)
		said := s.said(TrackInbound, pe.Text, pe.Length, now)
		if c := s.conf; c != nil && c.id != "" && pe.Length > 0 {
			return append(said, actConfSpeech{c.id, pe.Text, pe.Length})
		}
		acts := append(said, s.heard(pe.Text, pe.Length, now)...)
		if pe.Text != "" && s.bridgedWith() != "" {
			// A simulated phone speaks to the call it is bridged with.
			acts = append(acts, actSay{pe.Text, pe.Length})
		}
		return acts
	}
	return nil
}

func orCode(code, def int) int {
	if code == 0 {
		return def
	}
	return code
}

// sendAnswer sends the answer webhook, with the machine detection result
// in sync mode.
func (s *callState) sendAnswer(now time.Time) []action {
	ev := &callback.Answer{Call: s.eventCall(), SIPCallID: s.sipCallID}
	ev.EventTime = callback.TimeOf(now)
	if md := s.call.MachineDetection; md != nil && md.Sync {
		ev.MachineDetectionResult = s.detected
	}
	return s.send(ev, Target{
		URL: s.call.AnswerURL, Method: s.call.AnswerMethod, Username: s.call.Username, Password: s.call.Password,
		FallbackURL: s.call.AnswerFallbackURL, FallbackMethod: s.call.AnswerFallbackMethod,
		FallbackUsername: s.call.FallbackUsername, FallbackPassword: s.call.FallbackPassword,
	}, now)
}

// detectedAsync sends machineDetectionComplete: its reply is ignored.
func (s *callState) detectedAsync(now time.Time) []action {
	md := s.call.MachineDetection
	acts := []action{history(s, now, "state", "machine detection: "+string(s.detected.Value), nil)}
	if md.Callback.URL == "" {
		return acts
	}
	ev := &callback.MachineDetectionComplete{Call: s.eventCall(), MachineDetectionResult: s.detected}
	ev.EventTime = callback.TimeOf(now)
	return append(acts, actNotify{Webhook{CallID: s.call.CallID, Event: ev, Target: md.Callback, Timeout: s.call.CallbackTimeout}})
}

func (s *callState) timerFired(now time.Time) []action {
	switch s.wait {
	case waitRecord:
		return s.finishRecord(now, true)
	case waitDetect:
		s.greetingLost()
		acts := []action{history(s, now, "state", "machine detection: "+string(s.detected.Value), nil)}
		return append(acts, s.sendAnswer(now)...)
	case waitRing:
		return s.end(now, callback.CauseTimeout, "", 0, false)
	case waitTimer:
		return s.advance(now)
	case waitGather:
		g := s.gather
		if g.prompting {
			g.prompting = false
			if g.digits.Len() == 0 {
				return s.gatherWait(now, firstDigitTimeout(g.verb))
			}
			return s.gatherWait(now, g.verb.InterDigitTimeout)
		}
		return s.finishGather(now)
	}
	return nil
}

func firstDigitTimeout(g *bxml.Gather) time.Duration {
	if g.FirstDigitTimeout == nil {
		return 5 * time.Second
	}
	return *g.FirstDigitTimeout
}

// replied handles the answer to a synchronous webhook: BXML to run.
func (s *callState) replied(r Reply, err error, now time.Time) []action {
	if err != nil {
		return s.end(now, callback.CauseCallbackError, err.Error(), 0, false)
	}
	body := strings.TrimSpace(string(r.Body))
	if body == "" {
		// An empty reply to a call event is taken as <Response/>: hang up.
		return s.runDocument(nil, r.URL, now)
	}
	ctx := bxml.CallContext
	if s.leg != nil {
		ctx = bxml.TransferAnswerContext
	}
	doc, perr := bxml.Parse(r.Body, ctx)
	if perr != nil {
		return append([]action{actInvalidBXML{s.sent}}, s.end(now, callback.CauseInvalidBXML, perr.Error(), 0, false)...)
	}
	if r.URL != "" {
		if err := doc.ResolveURLs(r.URL); err != nil {
			return append([]action{actInvalidBXML{s.sent}}, s.end(now, callback.CauseInvalidBXML, err.Error(), 0, false)...)
		}
	}
	return s.runDocument(doc.Verbs, r.URL, now)
}

// update applies POST /calls/{callId}.
func (s *callState) update(u evUpdate, now time.Time) []action {
	if u.complete {
		acts := []action{actReply{u.result, nil}, history(s, now, "state", "completed over REST", nil)}
		switch {
		case s.call.State == StateAnswered:
			return append(acts, s.end(now, callback.CauseHangup, "", 0, false)...)
		case s.call.Direction == callback.Inbound:
			return append(acts, s.end(now, callback.CauseRejected, "", 0, false)...)
		}
		return append(acts, s.end(now, callback.CauseCancel, "", 0, false)...)
	}
	if s.call.State != StateAnswered || s.forwarded() {
		return []action{actReply{u.result, errNotModifiable(s.call.CallID)}}
	}
	acts := s.stopVerb(now)
	if u.setTag {
		s.setTag(u.tag)
	}
	acts = append(acts, actReply{u.result, nil})
	ev := &callback.Redirect{Call: s.eventCall(), Transfer: s.transferFields()}
	ev.EventTime = callback.TimeOf(now)
	return append(acts, s.send(ev, u.redirect, now)...)
}

// stopVerb abandons whatever the call is doing: a verb, a webhook.
func (s *callState) stopVerb(now time.Time) []action {
	acts := append(s.cancelTimer(), s.finishRecord(now, false)...)
	acts = append(acts, s.dropLegs()...)
	acts = append(acts, s.leaveBridge()...)
	acts = append(acts, s.leaveConference()...)
	s.webhook = 0
	s.measure = 0
	s.gather = nil
	s.doc, s.pc = nil, 0
	s.wait = waitNothing
	return acts
}

func (s *callState) cancelTimer() []action {
	if s.timer == 0 {
		return nil
	}
	id := s.timer
	s.timer = 0
	return []action{actCancelTimer{id}}
}

// send issues a synchronous webhook and waits for its reply.
func (s *callState) send(ev callback.Event, t Target, now time.Time) []action {
	s.webhook = s.nextID()
	s.sent = ev.Type()
	s.wait = waitWebhook
	s.call.LastUpdate = now
	return []action{actSend{s.webhook, Webhook{CallID: s.call.CallID, Event: ev, Target: t, Timeout: s.call.CallbackTimeout}}}
}

// end finishes the call: exactly once, whatever ends it, with the
// disconnect as the call's last webhook.
func (s *callState) end(now time.Time, cause callback.Cause, msg string, sipCode int, farEnd bool) []action {
	msg = redact.Text(msg) // it may echo a URL: the call, the disconnect and the A-leg see it
	acts := s.cancelTimer()
	if s.amd != 0 {
		acts = append(acts, actCancelTimer{s.amd})
		s.amd = 0
	}
	acts = append(acts, s.finishRecord(now, false)...)
	acts = append(acts, s.stopCallRecording(now)...)
	acts = append(acts, s.stopStreams(now)...)
	acts = append(acts, s.stopTranscriptions(now)...)
	if !farEnd && s.call.State != StateQueued {
		acts = append(acts, actHangupLine{})
	}
	s.webhook = 0
	s.measure = 0
	s.gather = nil
	s.wait = waitFinished
	s.call.State = StateDisconnected
	s.call.EndTime = now
	s.call.LastUpdate = now
	s.call.DisconnectCause = cause
	s.call.ErrorMessage = msg
	s.call.SIPResponseCode = sipCode
	if msg != "" && s.call.ErrorID == "" {
		s.call.ErrorID = newErrorID()
	}
	acts = append(acts, s.dropLegs()...)
	acts = append(acts, s.leaveBridge()...)
	acts = append(acts, s.leaveConference()...)
	acts = append(acts, actSave{}, history(s, now, "state", "disconnected: "+string(cause)+suffix(msg), nil))
	if s.leg != nil {
		// A B-leg's end is its transferDisconnect, and news for its A-leg.
		acts = append(acts, actPost{s.leg.parent, evLegEnded{leg: s.call.CallID, cause: cause, msg: msg, errorID: s.call.ErrorID, answered: !s.call.AnswerTime.IsZero()}})
		if s.leg.disconnect.URL != "" {
			ev := &callback.TransferDisconnect{Call: s.eventCall(), Transfer: s.transferFields(), EndTime: callback.TimeOf(now), Outcome: s.outcome(cause, msg)}
			ev.EventTime = callback.TimeOf(now)
			acts = append(acts, actNotify{Webhook{CallID: s.call.CallID, Event: ev, Timeout: s.call.CallbackTimeout, Target: s.leg.disconnect}})
		}
		return append(acts, actDone{})
	}
	if s.call.DisconnectURL != "" {
		ev := &callback.Disconnect{Call: s.eventCall(), EndTime: callback.TimeOf(now), SIPResponseCode: sipCode, Outcome: s.outcome(cause, msg), SIPCallID: s.sipCallID}
		ev.EventTime = callback.TimeOf(now)
		acts = append(acts, actNotify{Webhook{CallID: s.call.CallID, Event: ev, Timeout: s.call.CallbackTimeout, Target: Target{
			URL: s.call.DisconnectURL, Method: s.call.DisconnectMethod, Username: s.call.Username, Password: s.call.Password,
		}}})
	}
	return append(acts, actDone{})
}

func suffix(msg string) string {
	if msg == "" {
		return ""
	}
	return " (" + msg + ")"
}

// eventCall fills the fields every call event carries.
func (s *callState) eventCall() callback.Call {
	c := &s.call
	var tag *string
	if c.Tag != nil {
		t := *c.Tag
		tag = &t
	}
	return callback.Call{
		Leg: callback.Leg{
			AccountID: c.AccountID, ApplicationID: c.ApplicationID, From: c.From, To: c.To,
			Direction: c.Direction, CallID: c.CallID, CallURL: s.callURL, StartTime: callback.TimeOf(c.StartTime),
		},
		EnqueuedTime: callback.TimeOf(c.EnqueuedTime),
		AnswerTime:   callback.TimeOf(c.AnswerTime),
		Tag:          tag,
	}
}

// setTag sets the call's tag; nil or blank clears it.
func (s *callState) setTag(tag *string) {
	if tag == nil || strings.TrimSpace(*tag) == "" {
		s.call.Tag = nil
		return
	}
	t := *tag
	s.call.Tag = &t
}

// outcome is how the call ended, for its disconnect: the cause, and for an
// error end its message and the call's error id.
func (s *callState) outcome(cause callback.Cause, msg string) callback.Outcome {
	o := callback.Outcome{Cause: cause}
	if msg != "" {
		id := s.call.ErrorID
		o.ErrorMessage, o.ErrorID = &msg, &id
	}
	return o
}

func history(s *callState, now time.Time, kind, summary string, detail []byte) action {
	return actHistory{HistoryEntry{CallID: s.call.CallID, Time: now, Kind: kind, Summary: summary, Detail: detail}}
}

func errNotModifiable(id string) error {
	return &Error{Code: EConflict, Msg: fmt.Sprintf("Call %s cannot be modified in its current state", id)}
}

// greetingGrace is how long past detectionTimeout the engine waits for a
// line's greeting before it takes the result as a timeout.
const greetingGrace = 2 * time.Second

// greeting takes the far end's greeting, heard on the line: the detector
// decides, and its result is known as long after the answer as detect
// says, or now if that time has passed.
func (s *callState) greeting(g Greeting, now time.Time) []action {
	md := s.call.MachineDetection
	if md == nil || !s.listening {
		return nil
	}
	s.listening = false
	value, after := detect(*md, g)
	s.detected = &callback.MachineDetectionResult{Value: value, Duration: callback.Duration(after)}
	wait := max(after-now.Sub(s.call.AnswerTime), 0)
	switch {
	case md.Sync && s.wait == waitDetect:
		acts := s.cancelTimer()
		s.timer = s.nextID()
		return append(acts, actTimer{s.timer, wait})
	case !md.Sync && s.amd != 0:
		acts := []action{actCancelTimer{s.amd}}
		s.amd = s.nextID()
		return append(acts, actTimer{s.amd, wait})
	}
	return nil
}

// greetingLost gives the result of a detection whose greeting never came:
// a timeout.
func (s *callState) greetingLost() {
	if s.listening {
		s.listening = false
		md := s.call.MachineDetection
		s.detected = &callback.MachineDetectionResult{Value: callback.DetectionTimeout, Duration: callback.Duration(md.DetectionTimeout)}
	}
}
