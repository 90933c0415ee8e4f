package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
)

// <StartTranscription> transcribes the call in real time while its BXML
// goes on, until <StopTranscription> or the call's end. What the far end
// says (inbound) is recognized: a simulated phone's words are known
// exactly, and are transcribed when it has said them, with confidence 1;
// a line that carries audio is heard by the Transcriber. What the call
// plays (outbound) is transcribed from what the engine said (its
// SpeakSentences), exactly, on every kind of line. Transcripts go to the
// destination socket, if any, and are kept when the transcription ends:
// realTimeTranscriptionAvailable then gives their URL.

// transcriptionState is a transcription of the call.
type transcriptionState struct {
	id, name    string
	tracks      []string
	target      Target // transcriptionEventUrl
	destination string
	stabilized  bool
	start       time.Time
	// started is set once realTimeTranscriptionStarted has gone: at once
	// without a destination, when the socket opened with one.
	started     bool
	transcripts []Transcript
}

func (t *transcriptionState) has(track string) bool { return slices.Contains(t.tracks, track) }

// pendingTranscript is a simulated phone's utterance, transcribed once it
// has been said (its timer).
type pendingTranscript struct {
	timer int
	t     Transcript
	at    time.Time // when it began
}

type (
	// actStartTranscription has the actor hear the line (a line that
	// carries audio) and open the destination socket, if any.
	actStartTranscription struct {
		spec   TranscriptionSpec
		socket *TranscriptionSocketSpec
	}
	// actTranscript sends a transcript to a transcription's socket.
	actTranscript struct {
		id string
		t  Transcript
	}
	// actStopTranscription stops the listener and the socket.
	actStopTranscription struct{ id string }
	// actSaveTranscription keeps an ended transcription, then sends its
	// realTimeTranscriptionAvailable (when set) with the outcome.
	actSaveTranscription struct {
		t         *LiveTranscription
		available *Webhook
	}
	// evTranscript is an utterance a Transcriber recognized.
	evTranscript struct {
		id string
		t  Transcript
	}
)

func (actStartTranscription) isAction() {}
func (actTranscript) isAction()         {}
func (actStopTranscription) isAction()  {}
func (actSaveTranscription) isAction()  {}
func (evTranscript) isEvent()           {}

func (s *callState) startTranscription(v *bxml.StartTranscription, now time.Time) []action {
	t := &transcriptionState{
		id: callback.NewTranscriptionID(), name: v.Name, tracks: streamTracks(v.Tracks), destination: v.Destination,
		target:     Target{URL: v.TranscriptionEventURL, Method: v.TranscriptionEventMethod, Username: v.Username, Password: v.Password},
		stabilized: v.Stabilized == nil || *v.Stabilized, start: now,
	}
	if t.name == "" {
		t.name = t.id
	}
	used := 0
	for _, o := range s.transcriptions {
		if o.name == t.name {
			return s.transcriptionRejected(t, o, callback.StreamDuplicate, fmt.Sprintf("a transcription named %q is already running on this call", t.name), now)
		}
		used += len(o.tracks)
	}
	if used+len(t.tracks) > maxStreamTracks {
		return s.transcriptionRejected(t, nil, callback.StreamTrackLimit,
			fmt.Sprintf("a call transcribes %d tracks at most; %d are in use and this transcription asks for %d", maxStreamTracks, used, len(t.tracks)), now)
	}
	if t.destination != "" && !s.sockets {
		return s.transcriptionRejected(t, nil, callback.StreamError, "this voicehook has no stream client for the destination", now)
	}
	if s.audible && !s.transcriber && t.has(TrackInbound) {
		return s.transcriptionRejected(t, nil, callback.StreamError, "this voicehook has no speech recognizer for real calls", now)
	}
	s.transcriptions = append(s.transcriptions, t)
	spec := TranscriptionSpec{ID: t.id, Name: t.name, AccountID: s.call.AccountID, CallID: s.call.CallID, Tracks: t.tracks, Language: "en-US"}
	act := actStartTranscription{spec: spec}
	var acts []action
	if t.destination != "" {
		sock := &TranscriptionSocketSpec{TranscriptionSpec: spec, Destination: t.destination, Stabilized: t.stabilized}
		for _, p := range v.Params {
			sock.Params = append(sock.Params, StreamParam{Name: p.Name, Value: p.Value})
		}
		act.socket = sock
		return append(acts, act)
	}
	return append(append(acts, act), s.transcriptionStarted(t, now)...)
}

func (s *callState) transcriptionStarted(t *transcriptionState, now time.Time) []action {
	t.started = true
	acts := []action{history(s, now, "verb", fmt.Sprintf("transcription %s started", t.name), nil)}
	if t.target.URL == "" {
		return acts
	}
	e := &callback.RealTimeTranscriptionStarted{Call: s.eventCall(), RealTimeTranscription: t.wire(now, false)}
	e.EventTime = callback.TimeOf(now)
	return append(acts, s.streamWebhook(e, t.target))
}

// stopTranscription is <StopTranscription>: the one named, or all.
func (s *callState) stopTranscription(name string, now time.Time) []action {
	if name == "" {
		return s.stopTranscriptions(now)
	}
	for _, t := range s.transcriptions {
		if t.name == name {
			return s.transcriptionEnded(t, callback.StreamClosed, "", now)
		}
	}
	return []action{history(s, now, "verb", fmt.Sprintf("no transcription named %q is running: StopTranscription ignored", name), nil)}
}

// stopTranscriptions stops every transcription: the call ended, or
// <StopTranscription> named none.
func (s *callState) stopTranscriptions(now time.Time) []action {
	var acts []action
	for len(s.transcriptions) > 0 {
		acts = append(acts, s.transcriptionEnded(s.transcriptions[0], callback.StreamClosed, "", now)...)
	}
	return acts
}

// transcriptionSocket is news from a transcription's destination socket;
// it reports false when no transcription has that id.
func (s *callState) transcriptionSocket(ev StreamEvent, now time.Time) ([]action, bool) {
	t := s.transcription(ev.StreamID)
	if t == nil {
		return nil, false
	}
	switch ev.Kind {
	case StreamStarted:
		if !t.started {
			return s.transcriptionStarted(t, now), true
		}
	case StreamRejected:
		s.dropTranscription(t)
		acts := []action{actStopTranscription{t.id}}
		return append(acts, s.transcriptionRejected(t, nil, orStreamCause(ev.Cause, callback.StreamConnectionError), ev.Reason, now)...), true
	case StreamStopped:
		return s.transcriptionEnded(t, orStreamCause(ev.Cause, callback.StreamConnectionError), ev.Reason, now), true
	}
	return nil, true
}

func (s *callState) transcription(id string) *transcriptionState {
	for _, t := range s.transcriptions {
		if t.id == id {
			return t
		}
	}
	return nil
}

func (s *callState) dropTranscription(t *transcriptionState) {
	s.transcriptions = slices.DeleteFunc(s.transcriptions, func(o *transcriptionState) bool { return o == t })
}

// transcriptionRejected reports a transcription that did not start.
func (s *callState) transcriptionRejected(t, orig *transcriptionState, cause callback.StreamCause, msg string, now time.Time) []action {
	acts := []action{history(s, now, "verb", fmt.Sprintf("transcription %s rejected (%s): %s", t.name, cause, msg), nil)}
	if t.target.URL == "" {
		return acts
	}
	e := &callback.RealTimeTranscriptionRejected{Call: s.eventCall(), RealTimeTranscription: t.wire(now, false), Cause: cause, ErrorMessage: &msg}
	e.RealTimeTranscription.ID = ""
	if orig != nil {
		e.OriginalTranscription = orig.wire(now, false)
	}
	e.EventTime = callback.TimeOf(now)
	return append(acts, s.streamWebhook(e, t.target))
}

// transcriptionEnded takes t off the call: realTimeTranscriptionStopped
// (or Rejected, when its socket never opened), then, once its transcripts
// are kept, realTimeTranscriptionAvailable.
func (s *callState) transcriptionEnded(t *transcriptionState, cause callback.StreamCause, msg string, now time.Time) []action {
	s.dropTranscription(t)
	acts := []action{actStopTranscription{t.id}}
	if !t.started {
		return append(acts, s.transcriptionRejected(t, nil, callback.StreamError, "the transcription was stopped before its destination accepted it", now)...)
	}
	what := fmt.Sprintf("transcription %s stopped (%s) after %v: %d utterances", t.name, cause, now.Sub(t.start).Round(time.Millisecond), len(t.transcripts))
	acts = append(acts, history(s, now, "verb", what+suffix(msg), nil))
	save := actSaveTranscription{t: &LiveTranscription{ID: t.id, Name: t.name, AccountID: s.call.AccountID, CallID: s.call.CallID,
		Tracks: t.tracks, StartTime: t.start, CompletedTime: now, Transcripts: t.transcripts}}
	if t.target.URL != "" {
		e := &callback.RealTimeTranscriptionStopped{Call: s.eventCall(), RealTimeTranscription: t.wire(now, true), Cause: cause}
		if msg != "" {
			e.ErrorMessage = &msg
		}
		e.EventTime = callback.TimeOf(now)
		acts = append(acts, s.streamWebhook(e, t.target))
		avail := &callback.RealTimeTranscriptionAvailable{Call: s.eventCall(), RealTimeTranscription: t.wire(now, true)}
		avail.RealTimeTranscription.Status = callback.TranscriptionStatusAvailable
		avail.RealTimeTranscription.URL = s.callURL + "/transcriptions/" + t.id
		avail.RealTimeTranscription.CompletedTime = callback.TimeOf(now)
		avail.EventTime = callback.TimeOf(now)
		w := s.streamWebhook(avail, t.target).(actNotify).w
		save.available = &w
	}
	return append(acts, save)
}

// wire is the realTimeTranscription object of its webhooks.
func (t *transcriptionState) wire(now time.Time, ended bool) *callback.RealTimeTranscription {
	r := &callback.RealTimeTranscription{ID: t.id, Name: t.name, StartTime: callback.TimeOf(t.start), Destination: t.destination}
	for _, x := range t.tracks {
		r.Tracks = append(r.Tracks, callback.Track(x))
	}
	if t.destination != "" {
		r.Stabilized = fmt.Sprint(t.stabilized)
	}
	if ended {
		r.Duration = callback.Duration(now.Sub(t.start))
	}
	return r
}

// said transcribes words the engine knows were said on a track — a
// simulated phone's (inbound), the call's SpeakSentence (outbound) — once
// they have been said, length from now.
func (s *callState) said(track, text string, length time.Duration, now time.Time) []action {
	return s.saidAfter(track, text, 0, length, now)
}

// saidAfter is said for words said from delay on: a Gather's later
// prompts.
func (s *callState) saidAfter(track, text string, delay, length time.Duration, now time.Time) []action {
	text = strings.TrimSpace(text)
	if text == "" || length <= 0 || len(s.transcriptions) == 0 {
		return nil
	}
	p := pendingTranscript{timer: s.nextID(), at: now.Add(delay), t: Transcript{Track: track, Text: text, Confidence: 1}}
	words := strings.Fields(text)
	at := func(i int) time.Duration { return time.Duration(int64(length) * int64(i) / int64(len(words))) }
	for i, w := range words {
		p.t.Words = append(p.t.Words, TranscriptWord{Text: w, Start: at(i), End: at(i + 1), Confidence: 1})
	}
	p.t.End = length
	s.utterances = append(s.utterances, p)
	return []action{actTimer{p.timer, delay + length}}
}

// saidTimer delivers a pending transcript whose timer fired; it reports
// false for any other timer.
func (s *callState) saidTimer(id int, now time.Time) ([]action, bool) {
	for i, p := range s.utterances {
		if p.timer == id {
			s.utterances = append(s.utterances[:i], s.utterances[i+1:]...)
			return s.transcribed("", p.t, p.at, now), true
		}
	}
	return nil, false
}

// transcribed hands an utterance to the transcriptions of its track: to
// transcription id only, when id is set (a Transcriber's result). t's
// times are counted from at, when the utterance began (zero: they are
// counted from the transcription's start already).
func (s *callState) transcribed(id string, t Transcript, at time.Time, now time.Time) []action {
	var acts []action
	for _, x := range s.transcriptions {
		if id != "" && x.id != id || !x.has(t.Track) {
			continue
		}
		u := t
		if !at.IsZero() {
			shift := at.Sub(x.start)
			u.Start, u.End = t.Start+shift, t.End+shift
			u.Words = make([]TranscriptWord, len(t.Words))
			for i, w := range t.Words {
				w.Start, w.End = w.Start+shift, w.End+shift
				u.Words[i] = w
			}
		}
		x.transcripts = append(x.transcripts, u)
		if u.Err != "" {
			acts = append(acts, history(s, now, "verb", fmt.Sprintf("transcription %s: %s", x.name, u.Err), nil))
			continue
		}
		if x.destination != "" {
			// The socket sends what it is given while it connects after
			// its start.
			acts = append(acts, actTranscript{x.id, u})
		}
	}
	return acts
}

// ListLiveTranscriptions returns a call's real-time transcriptions that have
// ended, oldest first.
func (e *Engine) ListLiveTranscriptions(ctx context.Context, accountID, callID string) ([]*LiveTranscription, error) {
	if _, err := e.GetCall(ctx, accountID, callID); err != nil {
		return nil, err
	}
	if e.cfg.Transcripts == nil {
		return nil, nil
	}
	return e.cfg.Transcripts.Transcriptions(ctx, accountID, callID)
}

// GetLiveTranscription returns a call's transcription.
func (e *Engine) GetLiveTranscription(ctx context.Context, accountID, callID, id string) (*LiveTranscription, error) {
	if _, err := e.GetCall(ctx, accountID, callID); err != nil {
		return nil, err
	}
	if e.cfg.Transcripts == nil {
		return nil, errNoLiveTranscription(id)
	}
	t, err := e.cfg.Transcripts.Transcription(ctx, accountID, callID, id)
	if errors.Is(err, ErrNotFound) {
		return nil, errNoLiveTranscription(id)
	}
	return t, err
}

// DeleteLiveTranscription removes a call's transcription.
func (e *Engine) DeleteLiveTranscription(ctx context.Context, accountID, callID, id string) error {
	if _, err := e.GetLiveTranscription(ctx, accountID, callID, id); err != nil {
		return err
	}
	err := e.cfg.Transcripts.DeleteTranscription(ctx, accountID, callID, id)
	if errors.Is(err, ErrNotFound) {
		return errNoLiveTranscription(id)
	}
	return err
}

func errNoLiveTranscription(id string) error {
	return &Error{Code: ENotFound, Msg: fmt.Sprintf("Transcription %s not found", id)}
}
