package engine

import (
	"fmt"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/redact"
)

// <Bridge>: the call running it (the originator) asks the target call, by
// event, to join it. The target abandons its own BXML to do so. When either
// leaves — hangs up, or is redirected — the other gets its event:
// bridgeComplete on the originator when the target leaves, or
// bridgeTargetComplete on the target when the originator leaves; never
// both. Without the event's URL, the originator carries on after <Bridge>
// and the target is hung up. A bridge that cannot start reports on
// bridgeComplete, with cause busy (already bridged), rejected (not
// answered, or forwarded) or unknown (ended, or no such call).

type (
	// evBridgeRequest asks the target to join the originator.
	evBridgeRequest struct {
		from string
		verb *bxml.Bridge
	}
	// evBridgeAccepted: the target joined; room is where their audio
	// meets (nil without a Mixer).
	evBridgeAccepted struct{ room Room }
	evBridgeFailed   struct {
		cause callback.Cause
		msg   string
	}
	// evBridgePeerLeft: the other call left the bridge.
	evBridgePeerLeft struct{}
)

func (evBridgeRequest) isEvent()  {}
func (evBridgeAccepted) isEvent() {}
func (evBridgeFailed) isEvent()   {}
func (evBridgePeerLeft) isEvent() {}

// bridgeState is a call's part in a bridge.
type bridgeState struct {
	peer       string
	verb       *bxml.Bridge // the originator's verb: the URLs of both events
	originator bool
	joined     bool
}

// startBridge asks the target to join.
func (s *callState) startBridge(v *bxml.Bridge, now time.Time) []action {
	s.applyTag(v.Tag)
	if v.TargetCall == s.call.CallID {
		return s.bridgeFailed(v, callback.CauseUnknown, "A call cannot be bridged with itself", now)
	}
	s.bridge = &bridgeState{peer: v.TargetCall, verb: v, originator: true}
	s.wait = waitBridge
	return []action{actPost{v.TargetCall, evBridgeRequest{from: s.call.CallID, verb: v}}, history(s, now, "verb", "bridging with "+v.TargetCall, nil)}
}

// bridgeEvent handles the bridge events on either call.
func (s *callState) bridgeEvent(ev event, now time.Time) []action {
	switch ev := ev.(type) {
	case evBridgeRequest:
		var cause callback.Cause
		var msg string
		switch {
		case s.bridge != nil:
			cause, msg = callback.CauseBusy, fmt.Sprintf("Call %s is already bridged with another call", s.call.CallID)
		case s.call.State != StateAnswered:
			cause, msg = callback.CauseRejected, fmt.Sprintf("Call %s is not answered", s.call.CallID)
		case s.forwarded():
			cause, msg = callback.CauseRejected, fmt.Sprintf("Call %s is being forwarded", s.call.CallID)
		}
		if cause != "" {
			return []action{actPost{ev.from, evBridgeFailed{cause, msg}}}
		}
		// The target's running BXML is cancelled.
		acts := s.stopVerb(now)
		s.bridge = &bridgeState{peer: ev.from, verb: ev.verb, joined: true}
		s.wait = waitBridge
		return append(acts, actOpenRoom{ev.from, evBridgeAccepted{}}, history(s, now, "state", "bridged with "+ev.from, nil))
	case evBridgeAccepted:
		if s.bridge == nil || !s.bridge.originator {
			return nil
		}
		s.bridge.joined = true
		return []action{actJoinRoom{room: ev.room}, history(s, now, "state", "bridged with "+s.bridge.peer, nil)}
	case evBridgeFailed:
		if s.bridge == nil || !s.bridge.originator {
			return nil
		}
		v := s.bridge.verb
		s.bridge = nil
		return s.bridgeFailed(v, ev.cause, ev.msg, now)
	case evBridgePeerLeft:
		b := s.bridge
		if b == nil {
			return nil
		}
		s.bridge = nil
		v := b.verb
		if b.originator {
			// The target left: bridgeComplete, or the next verb.
			if v.BridgeCompleteURL == "" {
				return s.advance(now)
			}
			done := &callback.BridgeComplete{Call: s.eventCall()}
			done.EventTime = callback.TimeOf(now)
			return s.send(done, Target{URL: v.BridgeCompleteURL, Method: v.BridgeCompleteMethod, Username: v.Username, Password: v.Password,
				FallbackURL: v.BridgeCompleteFallbackURL, FallbackMethod: v.BridgeCompleteFallbackMethod,
				FallbackUsername: v.FallbackUsername, FallbackPassword: v.FallbackPassword}, now)
		}
		// The originator left: bridgeTargetComplete, or hang up.
		if v.BridgeTargetCompleteURL == "" {
			return s.end(now, callback.CauseHangup, "", 0, false)
		}
		done := &callback.BridgeTargetComplete{Call: s.eventCall()}
		done.EventTime = callback.TimeOf(now)
		return s.send(done, Target{URL: v.BridgeTargetCompleteURL, Method: v.BridgeTargetCompleteMethod, Username: v.Username, Password: v.Password,
			FallbackURL: v.BridgeTargetCompleteFallbackURL, FallbackMethod: v.BridgeTargetCompleteFallbackMethod,
			FallbackUsername: v.FallbackUsername, FallbackPassword: v.FallbackPassword}, now)
	}
	return nil
}

// bridgeFailed reports a bridge that could not start on bridgeComplete, or
// goes on with the next verb.
func (s *callState) bridgeFailed(v *bxml.Bridge, cause callback.Cause, msg string, now time.Time) []action {
	msg = redact.Text(msg)
	acts := []action{history(s, now, "verb", "bridge failed: "+msg, nil)}
	if v.BridgeCompleteURL == "" {
		return append(acts, s.advance(now)...)
	}
	ev := &callback.BridgeComplete{Call: s.eventCall()}
	ev.EventTime = callback.TimeOf(now)
	ev.Cause = cause
	ev.ErrorMessage = &msg
	id := newErrorID()
	ev.ErrorID = &id
	return append(acts, s.send(ev, Target{URL: v.BridgeCompleteURL, Method: v.BridgeCompleteMethod, Username: v.Username, Password: v.Password,
		FallbackURL: v.BridgeCompleteFallbackURL, FallbackMethod: v.BridgeCompleteFallbackMethod,
		FallbackUsername: v.FallbackUsername, FallbackPassword: v.FallbackPassword}, now)...)
}

// Digits pressed on a bridged call — by a <Bridge>, or the two legs of a
// <Transfer> or <Forward> once bridged — reach the other call's far end,
// as their tones would over the joined audio, in the order pressed and
// after the news that the calls are bridged (postTo keeps the order): a
// phone scripted with onDigits on one side answers a caller pressing keys
// on the other.

// evPeerDigit is a digit pressed at the far end of the call this one is
// bridged with, from.
type evPeerDigit struct {
	from  string
	digit byte
}

func (evPeerDigit) isEvent() {}

// bridgedWith is the call whose audio this one is joined with, "" if none.
func (s *callState) bridgedWith() string {
	switch {
	case s.bridge != nil && s.bridge.joined:
		return s.bridge.peer
	case s.leg != nil && s.leg.bridged:
		return s.leg.parent
	case s.transfer != nil && s.transfer.winner != nil && s.transfer.bridged:
		return s.transfer.winner.id
	}
	return ""
}

// relayDigit passes a digit pressed on this call to the call it is
// bridged with.
func (s *callState) relayDigit(d byte) []action {
	if peer := s.bridgedWith(); peer != "" {
		return []action{actPost{peer, evPeerDigit{s.call.CallID, d}}}
	}
	return nil
}

// peerDigit plays a digit from the bridged call to this call's far end.
func (s *callState) peerDigit(ev evPeerDigit) []action {
	if s.call.State != StateAnswered || s.bridgedWith() != ev.from {
		return nil
	}
	return []action{actSendDigits{Digits{Keys: string(ev.digit)}}}
}

// leaveBridge tells the peer the call is leaving the bridge.
func (s *callState) leaveBridge() []action {
	b := s.bridge
	if b == nil {
		return nil
	}
	s.bridge = nil
	return []action{actPost{b.peer, evBridgePeerLeft{}}}
}

// The audio of bridged calls meets in a room (Config.Mixer): the call that
// completes a bridge — the target of a <Bridge>, the winning B-leg of a
// <Transfer> — opens it, joins it, and hands it to the other call with the
// news that they are bridged; that call joins it on the news. Each call
// leaves the room once it is no longer bridged (the actor checks after
// every event), and a line that hangs up leaves by itself.
type (
	// actOpenRoom opens a room, joins the call's line to it, and posts ev,
	// carrying the room, to the other call.
	actOpenRoom struct {
		to string
		ev roomEvent
	}
	// actJoinRoom joins the call's line to a room: a bridge's, or with
	// member set (conf) its conference's.
	actJoinRoom struct {
		room   Room
		conf   bool
		member Member
	}
	// actSay speaks a simulated phone's words into its bridge's room, so
	// that a real call bridged with it hears them.
	actSay struct {
		text   string
		length time.Duration
	}
)

func (actOpenRoom) isAction() {}
func (actJoinRoom) isAction() {}
func (actSay) isAction()      {}

// roomEvent is news of a bridge that carries its room.
type roomEvent interface {
	event
	withRoom(Room) event
}

func (e evBridgeAccepted) withRoom(r Room) event { e.room = r; return e }
func (e evLegBridged) withRoom(r Room) event     { e.room = r; return e }
