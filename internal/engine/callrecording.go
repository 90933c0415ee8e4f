package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/audio"
)

// <StartRecording> records the call in the background while its BXML goes
// on, until <StopRecording> or the call's end; <PauseRecording> and
// <ResumeRecording> (or PUT /calls/{id}/recording) leave the paused time
// out of the file. One recording at a time: another StartRecording is
// ignored. The far end's speech is on the first channel; with
// multiChannel, what the call plays (SpeakSentence, PlayAudio) is on the
// second, otherwise both are mixed on one.

// callRecording is a <StartRecording> in progress.
type callRecording struct {
	verb    *bxml.StartRecording
	start   time.Time
	paused  time.Time     // when the pause began; zero while recording
	skipped time.Duration // paused time before the current pause
	far     []audio.Segment
	near    []audio.Segment
	said    []string // by the far end
	spoken  []string // by the call (SpeakSentence)
}

// offset is where now falls in the file; ok is false while paused.
func (r *callRecording) offset(now time.Time) (time.Duration, bool) {
	if !r.paused.IsZero() {
		return 0, false
	}
	return now.Sub(r.start) - r.skipped, true
}

// evRecordingState is PUT /calls/{id}/recording.
type evRecordingState struct {
	pause  bool
	result chan<- error
}

func (evRecordingState) isEvent() {}

func (s *callState) startCallRecording(v *bxml.StartRecording, now time.Time) []action {
	if s.callRec != nil {
		return []action{history(s, now, "verb", "a recording is already running: StartRecording ignored", nil)}
	}
	s.applyTag(v.Tag)
	if !s.recorder {
		return s.end(now, callback.CauseApplicationError, "<StartRecording> needs recordings, which this voicehook has no place to keep", 0, false)
	}
	if v.FileFormat == string(callback.MP3) && s.noMP3 != "" {
		return s.end(now, callback.CauseApplicationError, `<StartRecording fileFormat="mp3"> cannot be kept: `+s.noMP3, 0, false)
	}
	s.callRec = &callRecording{verb: v, start: now}
	channels := 1
	if v.MultiChannel {
		channels = 2
	}
	return []action{actRecording{capture: captureCall, channels: channels}}
}

// pauseCallRecording pauses (pause) or resumes the recording.
func (s *callState) pauseCallRecording(pause bool, now time.Time) []action {
	r := s.callRec
	if r == nil {
		return nil
	}
	switch {
	case pause && r.paused.IsZero():
		r.paused = now
		return []action{actPauseCapture{captureCall, true}}
	case !pause && !r.paused.IsZero():
		r.skipped += now.Sub(r.paused)
		r.paused = time.Time{}
		return []action{actPauseCapture{captureCall, false}}
	}
	return nil
}

// The captures of a line (Line.Capture) the engine keeps: a <Record>'s
// and a <StartRecording>'s.
const (
	captureRecord = "record"
	captureCall   = "call"
)

// actPauseCapture pauses or resumes a capture of the line's audio.
type actPauseCapture struct {
	capture string
	pause   bool
}

func (actPauseCapture) isAction() {}

// played notes audio the call plays, for a running recording.
// text is what was said, for SpeakSentence; "" for audio files.
func (s *callState) played(d time.Duration, text string, now time.Time) {
	if r := s.callRec; r != nil {
		if at, ok := r.offset(now); ok {
			r.near = append(r.near, audio.Segment{Start: at, Length: d, Sound: audio.Speech})
			if text != "" {
				r.spoken = append(r.spoken, text)
			}
		}
	}
}

// heardByRecording notes the far end's speech, for a running recording.
func (s *callState) heardByRecording(text string, d time.Duration, now time.Time) {
	if r := s.callRec; r != nil {
		if at, ok := r.offset(now); ok {
			if d > 0 {
				r.far = append(r.far, audio.Segment{Start: at, Length: d, Sound: audio.Speech})
			}
			if text != "" {
				r.said = append(r.said, text)
			}
		}
	}
}

// stopCallRecording ends the recording: it is stored, with its
// recordingAvailable and transcriptionAvailable.
func (s *callState) stopCallRecording(now time.Time) []action {
	r := s.callRec
	if r == nil {
		return nil
	}
	acts := s.pauseCallRecording(false, now) // paused time up to now is not recorded
	s.callRec = nil
	v := r.verb
	length := now.Sub(r.start) - r.skipped
	channels := [][]audio.Segment{append(r.far, r.near...)}
	n := 1
	if v.MultiChannel {
		channels, n = [][]audio.Segment{r.far, r.near}, 2
	}
	rec := s.newRecording(r.start, length, n, v.RecordingName, r.said)
	rec.FileFormat = fileFormat(v.FileFormat)
	if v.MultiChannel {
		rec.SecondSpeech = r.spoken
	} else {
		rec.Speech = append(rec.Speech, r.spoken...)
	}
	save := s.saveRecording(rec, channels, recordingOptions{
		availableURL: v.RecordingAvailableURL, availableMethod: v.RecordingAvailableMethod,
		transcribe: v.Transcribe, transcriptionURL: v.TranscriptionAvailableURL, transcriptionMethod: v.TranscriptionAvailableMethod,
		username: v.Username, password: v.Password}, now)
	save.capture = captureCall
	return append(acts, save, history(s, now, "verb", fmt.Sprintf("recorded the call for %v as %s", length.Round(time.Millisecond), rec.RecordingID), nil))
}

// newRecording is the record of a recording of this call.
func (s *callState) newRecording(start time.Time, length time.Duration, channels int, name string, said []string) *Recording {
	rec := &Recording{
		RecordingID: callback.NewRecordingID(), AccountID: s.call.AccountID, ApplicationID: s.call.ApplicationID,
		CallID: s.call.CallID, ParentCallID: s.call.ParentCallID, To: s.call.To, From: s.call.From, Direction: s.call.Direction,
		StartTime: start, EndTime: start.Add(length), Duration: length, Channels: channels,
		FileFormat: callback.WAV, Status: callback.RecordingStatusComplete, Name: name, Speech: said,
	}
	if s.leg != nil {
		rec.TransferCallerID, rec.TransferTo = s.call.From, s.call.To
	}
	return rec
}

func recordingTransfer(r *Recording) callback.Transfer {
	return callback.Transfer{ParentCallID: r.ParentCallID, TransferCallerID: r.TransferCallerID, TransferTo: r.TransferTo}
}

// recordingState applies PUT /calls/{id}/recording.
func (s *callState) recordingState(ev evRecordingState, now time.Time) []action {
	if s.call.State == StateQueued {
		// A call in the queue can only be cancelled, as for any update.
		return []action{actReply{ev.result, errNotModifiable(s.call.CallID)}}
	}
	if s.callRec == nil {
		return []action{actReply{ev.result, &Error{Code: EConflict, Msg: fmt.Sprintf("Call %s has no recording in progress", s.call.CallID)}}}
	}
	acts := s.pauseCallRecording(ev.pause, now)
	what := "recording resumed over REST"
	if ev.pause {
		what = "recording paused over REST"
	}
	return append(acts, actReply{ev.result, nil}, history(s, now, "verb", what, nil))
}

// UpdateRecordingState pauses or resumes the call's recording.
func (e *Engine) UpdateRecordingState(ctx context.Context, accountID, callID string, pause bool) error {
	return e.request(ctx, accountID, callID, func(result chan<- error) event {
		return evRecordingState{pause: pause, result: result}
	})
}
