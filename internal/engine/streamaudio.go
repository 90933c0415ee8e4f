package engine

import (
	"context"
	"fmt"

	"github.com/voicehook/voicehook/callback"
	"slices"
	"time"
)

// This file is the actor's side of media streams: it opens and closes
// them (Config.Streamer) and carries their audio. A line that carries
// audio (Tapper) feeds each stream its frames and plays what a
// bidirectional stream sends back; on a simulated line the streams pace
// themselves, rendering what the phone says and what the call plays
// (Stream.Say), and the phone hears the stream's audio (Hearer).

// liveStream is a stream the actor opened.
type liveStream struct {
	s      Stream
	name   string
	tracks []string
	paced  bool
	untap  func() // nil on a paced stream
	// until is when the audio it sent back has played, on a line that
	// carries none; zero if none is playing.
	until time.Time
}

func (ls *liveStream) has(track string) bool { return slices.Contains(ls.tracks, track) }

func (a *actor) openStream(spec StreamSpec) {
	id := spec.ID
	tapper, audible := a.line.(Tapper)
	spec.Paced = !audible
	ls := &liveStream{name: spec.Name, tracks: spec.Tracks, paced: spec.Paced}
	ls.s = a.e.cfg.Streamer.Open(spec, func(ev StreamEvent) {
		ev.StreamID = id
		a.post(evStream{ev})
	})
	if audible {
		in, out := ls.has(TrackInbound), ls.has(TrackOutbound)
		s := ls.s
		ls.untap = tapper.Tap(func(heard, sent []int16) {
			if in {
				s.Feed(TrackInbound, heard)
			}
			if out {
				s.Feed(TrackOutbound, sent)
			}
		})
	}
	a.streams[id] = ls
	if !audible && ls.has(TrackInbound) && a.line != nil {
		// A scripted phone says what it has to say to whatever listens:
		// a recording, or a stream.
		a.line.Recording()
	}
}

func (a *actor) stopStream(id string) {
	ls := a.streams[id]
	if ls == nil {
		return
	}
	delete(a.streams, id)
	if ls.untap != nil {
		ls.untap()
	}
	if !ls.until.IsZero() {
		a.hear(ls, time.Time{})
	}
	ls.s.Stop()
}

// streamAudio handles what a stream sends back, and its warnings; it
// reports whether ev was one of those (the machine has no part in them).
func (a *actor) streamAudio(ev StreamEvent) bool {
	switch ev.Kind {
	case StreamAudio, StreamClear, StreamWarning:
	default:
		return false
	}
	ls := a.streams[ev.StreamID]
	now := a.e.cfg.Clock.Now()
	if ls == nil {
		if _, ok := a.transcribing[ev.StreamID]; ok && ev.Kind == StreamWarning {
			a.record(HistoryEntry{CallID: a.st.call.CallID, Time: now, Kind: "verb", Summary: "transcription socket: " + ev.Reason})
		}
		return true // stopped, or not a stream's
	}
	switch ev.Kind {
	case StreamWarning:
		a.record(HistoryEntry{CallID: a.st.call.CallID, Time: now, Kind: "verb", Summary: fmt.Sprintf("stream %s: %s", ls.name, ev.Reason)})
	case StreamAudio:
		length := time.Duration(len(ev.Audio)) * time.Second / 8000
		if length == 0 {
			return true
		}
		if tapper, ok := a.line.(Tapper); ok {
			tapper.Inject(ev.Audio)
			return true
		}
		start := now
		if ls.until.After(now) {
			start = ls.until
		} else {
			a.record(HistoryEntry{CallID: a.st.call.CallID, Time: now, Kind: "phone", Summary: fmt.Sprintf("hears stream %s's audio", ls.name)})
		}
		a.hear(ls, start.Add(length))
	case StreamClear:
		if tapper, ok := a.line.(Tapper); ok {
			tapper.ClearInjected()
		}
		if ls.until.After(now) {
			a.record(HistoryEntry{CallID: a.st.call.CallID, Time: now, Kind: "phone",
				Summary: fmt.Sprintf("stream %s cleared its audio: %v not heard", ls.name, ls.until.Sub(now).Round(time.Millisecond))})
			a.hear(ls, now)
		}
	}
	return true
}

// hear tells a simulated phone it hears ls's audio until until (zero or
// past: it stops hearing it).
func (a *actor) hear(ls *liveStream, until time.Time) {
	now := a.e.cfg.Clock.Now()
	if until.Before(now) {
		until = now
	}
	ls.until = until
	if !until.After(now) {
		ls.until = time.Time{}
	}
	// The phone hears the streams' audio as one: until the last of them.
	last := until
	for _, o := range a.streams {
		if o.until.After(last) {
			last = o.until
		}
	}
	if h, ok := a.line.(Hearer); ok {
		h.Hear(last)
	}
}

// speechToStreams renders what a simulated phone says on the inbound
// track of the paced streams.
func (a *actor) speechToStreams(pe PhoneEvent) {
	if pe.Kind != PhoneSpeech || pe.Text == "" || pe.Length <= 0 {
		return
	}
	for _, ls := range a.streams {
		if ls.paced && ls.has(TrackInbound) {
			ls.s.Say(TrackInbound, Playback{Prompts: []Prompt{{Text: pe.Text}}, What: pe.Text, Length: pe.Length})
		}
	}
}

// sayToStreams renders what the call plays to a line that carries no
// audio on the outbound track of the paced streams.
func (a *actor) sayToStreams(p Playback) {
	a.said = 0
	for _, ls := range a.streams {
		if ls.paced && ls.has(TrackOutbound) {
			ls.s.Say(TrackOutbound, p)
			a.said = p.ID
		}
	}
}

// unsay cuts what sayToStreams rendered: the playback was cut short.
func (a *actor) unsay() {
	a.said = 0
	for _, ls := range a.streams {
		if ls.paced && ls.has(TrackOutbound) {
			ls.s.StopSaying(TrackOutbound)
		}
	}
}

// liveTranscription is a transcription the actor hears and sends.
type liveTranscription struct {
	listener Listener            // nil on a line that carries no audio
	untap    func()              // with listener
	socket   TranscriptionSocket // nil without a destination
}

func (a *actor) startTranscription(act actStartTranscription) {
	id := act.spec.ID
	lt := &liveTranscription{}
	a.transcribing[id] = lt
	if act.socket != nil {
		lt.socket = a.e.cfg.TranscriptionSockets.OpenTranscription(*act.socket, func(ev StreamEvent) {
			ev.StreamID = id
			a.post(evStream{ev})
		})
	}
	tapper, audible := a.line.(Tapper)
	if !slices.Contains(act.spec.Tracks, TrackInbound) {
		return // the engine knows its own words
	}
	if !audible {
		if a.line != nil {
			a.line.Recording() // a scripted phone says its lines to what listens
		}
		return // and the engine knows them
	}
	if a.e.cfg.Transcriber == nil {
		a.pending = append(a.pending, evStream{StreamEvent{Kind: StreamStopped, StreamID: id, Cause: "error",
			Reason: "this voicehook has no speech recognizer for real calls"}})
		return
	}
	spec := act.spec
	spec.Tracks = []string{TrackInbound} // what the call says is known
	lt.listener = a.e.cfg.Transcriber.Listen(spec, func(t Transcript) { a.post(evTranscript{id, t}) })
	l := lt.listener
	lt.untap = tapper.Tap(func(heard, _ []int16) { l.Feed(TrackInbound, heard) })
}

func (a *actor) stopTranscription(id string) {
	lt := a.transcribing[id]
	if lt == nil {
		return
	}
	delete(a.transcribing, id)
	if lt.untap != nil {
		lt.untap()
	}
	if lt.listener != nil {
		lt.listener.Stop()
	}
	if lt.socket != nil {
		lt.socket.Stop()
	}
}

func (a *actor) saveTranscription(act actSaveTranscription) {
	status := callback.TranscriptionStatusAvailable
	if k := a.e.cfg.Transcripts; k == nil {
		status = callback.TranscriptionStatusFailed
	} else if err := k.SaveTranscription(a.e.ctx, act.t); err != nil {
		a.log.Error("save a transcription", "transcription_id", act.t.ID, "err", err)
		status = callback.TranscriptionStatusFailed
	}
	if w := act.available; w != nil {
		ev := w.Event.(*callback.RealTimeTranscriptionAvailable)
		ev.RealTimeTranscription.Status = status
		if status != callback.TranscriptionStatusAvailable {
			ev.RealTimeTranscription.URL = ""
		}
		a.do(actNotify{*w})
	}
}

// recognize transcribes a recording of real audio in the background, one
// text per channel, stores the outcome, then sends its
// transcriptionAvailable (w, when asked for) with the outcome as status.
// The record is read again before it is updated: a recording or a
// transcription deleted meanwhile stays deleted.
func (e *Engine) recognize(rec Recording, heard Audio, w *Webhook) {
	t := *rec.Transcription
	e.wg.Go(func() {
		ctx, cancel := context.WithTimeout(e.ctx, recognizeTimeout(heard.Length()))
		defer cancel()
		t.Status = callback.TranscriptionStatusAvailable
		for _, ch := range heard.Channels {
			text, err := e.cfg.Recognizer.Recognize(ctx, ch, heard.Rate)
			if err != nil {
				e.log.Warn("transcribe a recording", "recording_id", rec.RecordingID, "err", err)
				t.Status, t.Texts = callback.TranscriptionStatusError, nil
				break
			}
			t.Texts = append(t.Texts, text)
		}
		t.CompletedTime = e.cfg.Clock.Now()
		cur, err := e.cfg.Recorder.Get(ctx, rec.AccountID, rec.RecordingID)
		if err != nil || cur.Transcription == nil || cur.Transcription.ID != t.ID || cur.MediaDeleted {
			return // deleted while it was being recognized
		}
		cur.Transcription = &t
		if err := e.cfg.Recorder.Update(ctx, cur); err != nil {
			e.log.Error("store a recording's transcription", "recording_id", rec.RecordingID, "err", err)
			t.Status = callback.TranscriptionStatusError
		}
		if w == nil || e.ctx.Err() != nil {
			return
		}
		ev := w.Event.(*callback.TranscriptionAvailable)
		ev.Transcription.Status = t.Status
		ev.Transcription.CompletedTime = callback.TimeOf(t.CompletedTime)
		ev.EventTime = callback.TimeOf(t.CompletedTime)
		if err := e.notifyOnce(stamp(*w, rec.AccountID, rec.ApplicationID)); err != nil {
			e.log.Warn("send transcriptionAvailable", "recording_id", rec.RecordingID, "err", err)
		}
	})
}

// recognizeTimeout bounds the recognition of a recording of length d.
func recognizeTimeout(d time.Duration) time.Duration { return time.Minute + 2*d }
