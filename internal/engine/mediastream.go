package engine

import (
	"fmt"
	"slices"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
)

// <StartStream> sends the call's audio to a WebSocket while the BXML goes
// on; <StopStream> or the call's end stops it. The machine keeps the
// streams' names, tracks and times and sends their webhooks
// (mediaStreamStarted, Rejected, Stopped to streamEventUrl); the actor
// opens them (Config.Streamer) and carries the audio: a line that carries
// audio feeds them (Tapper), a simulated phone's speech and what the call
// plays to it are rendered by the stream (Stream.Say).

// maxStreamTracks is how many tracks a call's streams may carry at once:
// a stream of both tracks counts two.
const maxStreamTracks = 4

// streamState is a stream opened by <StartStream>.
type streamState struct {
	id, name    string
	destination string
	tracks      []string
	target      Target    // streamEventUrl
	started     time.Time // zero until the destination accepted it
}

// evStream is a report from a stream.
type evStream struct{ StreamEvent }

func (evStream) isEvent() {}

type (
	// actOpenStream opens a stream.
	actOpenStream struct{ spec StreamSpec }
	// actStopStream stops one.
	actStopStream struct{ id string }
)

func (actOpenStream) isAction() {}
func (actStopStream) isAction() {}

// streamTracks are the tracks of a StartStream's tracks attribute.
func streamTracks(tracks string) []string {
	switch tracks {
	case "outbound":
		return []string{TrackOutbound}
	case "both":
		return []string{TrackInbound, TrackOutbound}
	}
	return []string{TrackInbound}
}

func (s *callState) startStream(v *bxml.StartStream, now time.Time) []action {
	st := &streamState{
		id: callback.NewStreamID(), name: v.Name, destination: v.Destination, tracks: streamTracks(v.Tracks),
		target: Target{URL: v.StreamEventURL, Method: v.StreamEventMethod, Username: v.Username, Password: v.Password},
	}
	if st.name == "" {
		st.name = st.id
	}
	used := 0
	for _, o := range s.streams {
		if o.name == st.name {
			return s.streamRejected(st, o, callback.StreamDuplicate, fmt.Sprintf("a stream named %q is already running on this call", st.name), now)
		}
		used += len(o.tracks)
	}
	if used+len(st.tracks) > maxStreamTracks {
		return s.streamRejected(st, nil, callback.StreamTrackLimit,
			fmt.Sprintf("a call streams %d tracks at most; %d are in use and this stream asks for %d", maxStreamTracks, used, len(st.tracks)), now)
	}
	if !s.streamer {
		return s.streamRejected(st, nil, callback.StreamError, "this voicehook has no stream client", now)
	}
	s.streams = append(s.streams, st)
	spec := StreamSpec{
		ID: st.id, Name: st.name, AccountID: s.call.AccountID, CallID: s.call.CallID, Destination: v.Destination,
		Username: v.DestinationUsername, Password: v.DestinationPassword, Tracks: st.tracks,
		Bidirectional: v.Mode == "bidirectional",
	}
	for _, p := range v.Params {
		spec.Params = append(spec.Params, StreamParam{Name: p.Name, Value: p.Value})
	}
	return []action{actOpenStream{spec}}
}

// stopStream is <StopStream>: the stream stops now.
func (s *callState) stopStream(name string, now time.Time) []action {
	for _, st := range s.streams {
		if st.name == name {
			return s.streamEnded(st, callback.StreamClosed, "", now)
		}
	}
	return []action{history(s, now, "verb", fmt.Sprintf("no stream named %q is running: StopStream ignored", name), nil)}
}

// stopStreams stops every stream: the call ended.
func (s *callState) stopStreams(now time.Time) []action {
	var acts []action
	for len(s.streams) > 0 {
		acts = append(acts, s.streamEnded(s.streams[0], callback.StreamClosed, "", now)...)
	}
	return acts
}

// streamEvent is news from a stream the call opened.
func (s *callState) streamEvent(ev StreamEvent, now time.Time) []action {
	var st *streamState
	for _, o := range s.streams {
		if o.id == ev.StreamID {
			st = o
		}
	}
	if st == nil {
		acts, _ := s.transcriptionSocket(ev, now) // a transcription's socket, or one stopped already
		return acts
	}
	switch ev.Kind {
	case StreamStarted:
		st.started = now
		acts := []action{history(s, now, "verb", fmt.Sprintf("stream %s started: %s", st.name, st.destination), nil)}
		if st.target.URL == "" {
			return acts
		}
		e := &callback.MediaStreamStarted{Call: s.eventCall(), MediaStream: st.wire(now, false)}
		e.EventTime = callback.TimeOf(now)
		return append(acts, s.streamWebhook(e, st.target))
	case StreamRejected:
		s.dropStream(st)
		acts := []action{actStopStream{st.id}} // the actor lets it go
		return append(acts, s.streamRejected(st, nil, orStreamCause(ev.Cause, callback.StreamConnectionError), ev.Reason, now)...)
	case StreamStopped:
		return s.streamEnded(st, orStreamCause(ev.Cause, callback.StreamConnectionError), ev.Reason, now)
	}
	return nil
}

func orStreamCause(c, def callback.StreamCause) callback.StreamCause {
	if c == "" {
		return def
	}
	return c
}

// streamRejected reports a stream that did not start; orig is the stream
// a duplicate name clashed with.
func (s *callState) streamRejected(st, orig *streamState, cause callback.StreamCause, msg string, now time.Time) []action {
	acts := []action{history(s, now, "verb", fmt.Sprintf("stream %s rejected (%s): %s", st.name, cause, msg), nil)}
	if st.target.URL == "" {
		return acts
	}
	e := &callback.MediaStreamRejected{Call: s.eventCall(), MediaStream: st.wire(now, false), Cause: cause, ErrorMessage: &msg}
	e.MediaStream.ID = "" // it never existed
	if orig != nil {
		e.OriginalMediaStream = orig.wire(now, false)
	}
	e.EventTime = callback.TimeOf(now)
	return append(acts, s.streamWebhook(e, st.target))
}

// streamEnded takes st off the call and has the actor release it:
// mediaStreamStopped when it had started, mediaStreamRejected when it was
// still connecting.
func (s *callState) streamEnded(st *streamState, cause callback.StreamCause, msg string, now time.Time) []action {
	s.dropStream(st)
	acts := []action{actStopStream{st.id}}
	if st.started.IsZero() {
		return append(acts, s.streamRejected(st, nil, callback.StreamError, "the stream was stopped before its destination accepted it", now)...)
	}
	what := fmt.Sprintf("stream %s stopped (%s) after %v", st.name, cause, now.Sub(st.started).Round(time.Millisecond))
	acts = append(acts, history(s, now, "verb", what+suffix(msg), nil))
	if st.target.URL == "" {
		return acts
	}
	e := &callback.MediaStreamStopped{Call: s.eventCall(), MediaStream: st.wire(now, true), Cause: cause}
	if msg != "" {
		e.ErrorMessage = &msg
	}
	e.EventTime = callback.TimeOf(now)
	return append(acts, s.streamWebhook(e, st.target))
}

func (s *callState) dropStream(st *streamState) {
	s.streams = slices.DeleteFunc(s.streams, func(o *streamState) bool { return o == st })
}

// streamWebhook is a stream's or a transcription's webhook, to t.
func (s *callState) streamWebhook(e callback.Event, t Target) action {
	return actNotify{Webhook{CallID: s.call.CallID, Event: e, Target: t, Timeout: s.call.CallbackTimeout}}
}

// wire is the mediaStream object of the stream's webhooks; with ended,
// its duration so far.
func (st *streamState) wire(now time.Time, ended bool) *callback.MediaStream {
	m := &callback.MediaStream{ID: st.id, Name: st.name, Destination: st.destination, Type: "WebSocket"}
	for _, t := range st.tracks {
		m.Tracks = append(m.Tracks, callback.Track(t))
	}
	if !st.started.IsZero() {
		m.StartTime = callback.TimeOf(st.started)
		if ended {
			m.Duration = callback.Duration(now.Sub(st.started))
		}
	}
	return m
}
