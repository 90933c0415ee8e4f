package engine

import (
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
)

// <Transfer>: the A-leg dials every target at once; each B-leg is a call of
// its own, with its own actor, and the legs talk only through events. The
// first B-leg to answer wins: it runs its transferAnswer BXML, then is
// bridged with the A-leg. Every B-leg ends with a transferDisconnect; the
// A-leg gets transferComplete, if it is still up, when the winner ends or
// when every leg failed.

// Events between the legs of a transfer.
type (
	// evLegAnswered: a B-leg answered; may it have the call?
	evLegAnswered struct{ leg string }
	// evLegBridged: the winning B-leg ran its BXML and is now bridged.
	evLegBridged struct {
		leg  string
		room Room // where the legs' audio meets (nil without a Mixer)
	}
	// evLegEnded: a B-leg ended.
	evLegEnded struct {
		leg      string
		cause    callback.Cause
		msg      string
		errorID  string // the leg's, with msg
		answered bool
	}
	// evLegWon and evLegLost answer evLegAnswered.
	evLegWon  struct{}
	evLegLost struct{}
	// evParentEnded: the A-leg ended or left the transfer.
	evParentEnded struct{}
)

func (evLegAnswered) isEvent() {}
func (evLegBridged) isEvent()  {}
func (evLegEnded) isEvent()    {}
func (evLegWon) isEvent()      {}
func (evLegLost) isEvent()     {}
func (evParentEnded) isEvent() {}

type (
	// actStartLegs creates and dials the B-legs.
	actStartLegs struct{ legs []*legSpec }
	// actPost sends an event to another call's actor.
	actPost struct {
		to string
		ev event
	}
)

func (actStartLegs) isAction() {}
func (actPost) isAction()      {}

// legSpec is a B-leg to create: its record and its leg settings.
type legSpec struct {
	call Call
	leg  legInfo
}

// legInfo is what a B-leg knows of its transfer.
type legInfo struct {
	parent     string
	answer     Target // transferAnswerUrl and its fallback
	disconnect Target // transferDisconnectUrl
	won        bool
	bridged    bool
}

// transferState is a <Transfer> (or a <Forward>) running on the A-leg.
type transferState struct {
	verb     *bxml.Transfer
	legs     []*legRef
	winner   *legRef
	lastFail *legRef
	// forward is a <Forward>: the one leg takes the call; the app has no
	// more say, and the A-leg ends when either leg does.
	forward bool
	// bridged is set once the winner is bridged with the A-leg.
	bridged bool
}

// startForward forwards an unanswered inbound call to one number: a B-leg
// with no webhooks of its own.
func (s *callState) startForward(v *bxml.Forward, now time.Time) []action {
	if s.call.Direction != callback.Inbound || s.call.State == StateAnswered {
		return s.end(now, callback.CauseApplicationError, "<Forward> is only for unanswered inbound calls", 0, false)
	}
	from := v.From
	if from == "" {
		from = s.call.To
	}
	timeout := v.CallTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	spec := &legSpec{
		call: Call{AccountID: s.call.AccountID, ApplicationID: s.call.ApplicationID, CallID: callback.NewCallID(),
			ParentCallID: s.call.CallID, From: from, To: v.To, Direction: callback.Outbound, State: StateQueued, UUI: v.UUI,
			CallTimeout: timeout, CallbackTimeout: s.call.CallbackTimeout, LastUpdate: now},
		leg: legInfo{parent: s.call.CallID},
	}
	s.transfer = &transferState{forward: true, legs: []*legRef{{id: spec.call.CallID, from: from, to: v.To}}}
	s.wait = waitTransfer
	return []action{actStartLegs{[]*legSpec{spec}}, history(s, now, "verb", "forwarding to "+v.To, nil)}
}

type legRef struct {
	id, from, to string
	ended        bool
	cause        callback.Cause
	msg, errorID string
}

func (t *transferState) leg(id string) *legRef {
	for _, l := range t.legs {
		if l.id == id {
			return l
		}
	}
	return nil
}

// startTransfer dials every target of a <Transfer> on the A-leg.
func (s *callState) startTransfer(v *bxml.Transfer, now time.Time) []action {
	s.applyTag(v.Tag)
	t := &transferState{verb: v}
	var specs []*legSpec
	for _, target := range v.Targets {
		target = bxml.WithDefaults(target)
		spec := &legSpec{call: Call{
			AccountID: s.call.AccountID, ApplicationID: s.call.ApplicationID, CallID: callback.NewCallID(),
			ParentCallID: s.call.CallID, From: v.TransferCallerID, Direction: callback.Outbound, State: StateQueued,
			CallTimeout: v.CallTimeout, CallbackTimeout: s.call.CallbackTimeout, LastUpdate: now,
		}}
		if spec.call.From == "" {
			spec.call.From = s.call.From // the caller's number passes through
		}
		switch tg := target.(type) {
		case *bxml.PhoneNumber:
			spec.call.To, spec.call.Tag = tg.Number, tg.Tag
			spec.leg = legInfo{parent: s.call.CallID,
				answer: Target{URL: tg.TransferAnswerURL, Method: tg.TransferAnswerMethod, Username: tg.Username, Password: tg.Password,
					FallbackURL: tg.TransferAnswerFallbackURL, FallbackMethod: tg.TransferAnswerFallbackMethod,
					FallbackUsername: tg.FallbackUsername, FallbackPassword: tg.FallbackPassword},
				disconnect: Target{URL: tg.TransferDisconnectURL, Method: tg.TransferDisconnectMethod, Username: tg.Username, Password: tg.Password}}
		case *bxml.SipUri:
			spec.call.To, spec.call.Tag = tg.URI, tg.Tag
			spec.leg = legInfo{parent: s.call.CallID,
				answer: Target{URL: tg.TransferAnswerURL, Method: tg.TransferAnswerMethod, Username: tg.Username, Password: tg.Password,
					FallbackURL: tg.TransferAnswerFallbackURL, FallbackMethod: tg.TransferAnswerFallbackMethod,
					FallbackUsername: tg.FallbackUsername, FallbackPassword: tg.FallbackPassword},
				disconnect: Target{URL: tg.TransferDisconnectURL, Method: tg.TransferDisconnectMethod, Username: tg.Username, Password: tg.Password}}
		}
		if spec.call.CallTimeout == 0 {
			spec.call.CallTimeout = 30 * time.Second
		}
		t.legs = append(t.legs, &legRef{id: spec.call.CallID, from: spec.call.From, to: spec.call.To})
		specs = append(specs, spec)
	}
	s.transfer = t
	s.wait = waitTransfer
	return []action{actStartLegs{specs}, history(s, now, "verb", "transferring to "+legList(t), nil)}
}

func legList(t *transferState) string {
	out := ""
	for i, l := range t.legs {
		if i > 0 {
			out += ", "
		}
		out += l.to
	}
	return out
}

// transferEvent handles the events of the legs on the A-leg.
func (s *callState) transferEvent(ev event, now time.Time) []action {
	t := s.transfer
	switch ev := ev.(type) {
	case evLegAnswered:
		if t == nil || t.winner != nil || t.leg(ev.leg) == nil {
			return []action{actPost{ev.leg, evLegLost{}}}
		}
		t.winner = t.leg(ev.leg)
		acts := []action{actPost{ev.leg, evLegWon{}}, history(s, now, "verb", "transfer answered by "+t.winner.to, nil)}
		if t.forward {
			// The forwarded call is answered when its B-leg is.
			acts = append(acts, s.answerInbound(now)...)
		}
		for _, l := range t.legs {
			if l != t.winner && !l.ended {
				acts = append(acts, actPost{l.id, evLegLost{}})
			}
		}
		return acts
	case evLegBridged:
		if t != nil && t.winner != nil && t.winner.id == ev.leg {
			t.bridged = true
			return []action{actJoinRoom{room: ev.room}, history(s, now, "state", "bridged with "+t.winner.to, nil)}
		}
	case evLegEnded:
		if t == nil {
			return nil
		}
		l := t.leg(ev.leg)
		if l == nil || l.ended {
			return nil
		}
		l.ended, l.cause, l.msg, l.errorID = true, ev.cause, ev.msg, ev.errorID
		if t.forward {
			s.transfer = nil
			if t.winner == l {
				return s.end(now, callback.CauseHangup, "", 0, false)
			}
			return s.end(now, l.cause, l.msg, 0, false)
		}
		if t.winner == l {
			return s.finishTransfer(l, now)
		}
		if t.winner == nil {
			t.lastFail = l
			for _, other := range t.legs {
				if !other.ended {
					return nil
				}
			}
			return s.finishTransfer(l, now)
		}
	}
	return nil
}

// finishTransfer ends a <Transfer> on the A-leg: transferComplete, or the
// next verb.
func (s *callState) finishTransfer(l *legRef, now time.Time) []action {
	v := s.transfer.verb
	s.transfer = nil
	if v.TransferCompleteURL == "" {
		return s.advance(now)
	}
	ev := &callback.TransferComplete{Call: s.eventCall(), TransferCallerID: l.from, TransferTo: l.to}
	ev.EventTime = callback.TimeOf(now)
	ev.Outcome = transferOutcome(l)
	return s.send(ev, Target{URL: v.TransferCompleteURL, Method: v.TransferCompleteMethod, Username: v.Username, Password: v.Password,
		FallbackURL: v.TransferCompleteFallbackURL, FallbackMethod: v.TransferCompleteFallbackMethod,
		FallbackUsername: v.FallbackUsername, FallbackPassword: v.FallbackPassword}, now)
}

// transferOutcome is how a transfer ended, for transferComplete: a leg that
// ended with an error, or failed to connect, gives its message and error
// id (the leg's own, as its disconnect reported it, when it had one).
func transferOutcome(l *legRef) callback.Outcome {
	o := callback.Outcome{Cause: l.cause}
	msg, id := l.msg, l.errorID
	if msg == "" && l.cause != callback.CauseHangup {
		msg = failedTransfer(l.cause)
	}
	if msg == "" {
		return o
	}
	if id == "" {
		id = newErrorID()
	}
	o.ErrorMessage, o.ErrorID = &msg, &id
	return o
}

// failedTransfer says why a transfer failed when its leg's end had no
// message of its own.
func failedTransfer(cause callback.Cause) string {
	switch cause {
	case callback.CauseTimeout:
		return "Call was not answered"
	case callback.CauseBusy:
		return "Callee is busy"
	case callback.CauseRejected:
		return "Call was rejected by the callee"
	case callback.CauseCancel:
		return "The transfer was cancelled before it was answered"
	}
	return "The transfer failed: " + string(cause)
}

// dropLegs hangs up the legs of a transfer the A-leg leaves.
func (s *callState) dropLegs() []action {
	if s.transfer == nil {
		return nil
	}
	var acts []action
	for _, l := range s.transfer.legs {
		if !l.ended {
			acts = append(acts, actPost{l.id, evParentEnded{}})
		}
	}
	s.transfer = nil
	return acts
}

// legEvent handles the A-leg's answers on a B-leg.
func (s *callState) legEvent(ev event, now time.Time) []action {
	switch ev.(type) {
	case evLegWon:
		if s.wait != waitWin {
			return nil
		}
		s.leg.won = true
		s.call.State = StateAnswered
		s.call.AnswerTime = now
		s.call.LastUpdate = now
		acts := []action{actSave{}, history(s, now, "state", "answered: won the transfer", nil)}
		if s.leg.answer.URL == "" {
			return append(acts, s.bridgeLeg(now)...)
		}
		ev := &callback.TransferAnswer{Call: s.eventCall(), Transfer: s.transferFields()}
		ev.EventTime = callback.TimeOf(now)
		return append(acts, s.send(ev, s.leg.answer, now)...)
	case evLegLost:
		return s.end(now, callback.CauseCancel, "", 0, false)
	case evParentEnded:
		if s.call.State == StateAnswered {
			return s.end(now, callback.CauseHangup, "", 0, false)
		}
		return s.end(now, callback.CauseCancel, "", 0, false)
	}
	return nil
}

// bridgeLeg connects the winning B-leg with the A-leg once its BXML ran out.
func (s *callState) bridgeLeg(now time.Time) []action {
	s.leg.bridged = true
	s.wait = waitBridged
	s.doc, s.pc = nil, 0
	return []action{actOpenRoom{s.leg.parent, evLegBridged{leg: s.call.CallID}}, history(s, now, "state", "bridged with the caller", nil)}
}

// transferFields are the B-leg extras of its events: parentCallId,
// transferCallerId and transferTo. Other calls' events have none.
func (s *callState) transferFields() callback.Transfer {
	if s.leg == nil {
		return callback.Transfer{}
	}
	return callback.Transfer{ParentCallID: s.leg.parent, TransferCallerID: s.call.From, TransferTo: s.call.To}
}
