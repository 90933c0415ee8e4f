package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/audio"
)

// <Record>: the call records what the far end says until a terminating
// digit, maxDuration, silenceTimeout of quiet after speech, or a hangup.
// The recording is stored (Config.Recorder) — its audio is the far end's
// speech as the simulated phone reported it — then recordComplete goes to
// recordCompleteUrl (not after a hangup) and recordingAvailable to
// recordingAvailableUrl.

// Recording is a call recording's record.
type Recording struct {
	RecordingID string
	AccountID   string
	// ConferenceID is set on a conference recording, which has no call.
	ConferenceID string
	// ConferenceName is the conference's name.
	ConferenceName   string
	ApplicationID    string
	CallID           string
	ParentCallID     string
	To, From         string
	Direction        callback.Direction
	TransferCallerID string
	TransferTo       string
	StartTime        time.Time
	EndTime          time.Time
	Duration         time.Duration
	Channels         int
	FileFormat       callback.FileFormat
	Status           callback.RecordingStatus
	Name             string
	// MediaDeleted is set once the audio was deleted; the record stays.
	MediaDeleted bool
	// Heard is set when the audio was captured from a line that carries
	// audio (a real call): a transcription recognizes it (Recognizer)
	// rather than reading Speech.
	Heard bool
	// Speech is what was said on the first channel during the recording,
	// for transcription (the far end's, and on a mono call recording the
	// call's prompts too).
	Speech []string
	// SecondSpeech is what the call said, on the second channel of a
	// multi-channel recording.
	SecondSpeech []string
	// Transcription is nil until the recording is transcribed.
	Transcription *Transcription
}

// Transcription is a recording's transcription. voicehook's "speech
// recognition" is exact: the text is what the simulated phone said.
type Transcription struct {
	ID            string
	Status        callback.TranscriptionStatus
	CompletedTime time.Time
	// Texts are the transcripts, one per channel.
	Texts []string
}

// transcribe gives r its transcription.
func transcribe(r *Recording, now time.Time) {
	r.Transcription = &Transcription{ID: "t-" + uuid.NewString(), Status: callback.TranscriptionStatusAvailable,
		CompletedTime: now, Texts: []string{strings.Join(r.Speech, " ")}}
	if r.Channels == 2 {
		r.Transcription.Texts = append(r.Transcription.Texts, strings.Join(r.SecondSpeech, " "))
	}
}

// transcriptionEvent is the transcriptionAvailable of a recording.
func transcriptionEvent(r *Recording, leg callback.Leg, recordingURL string, now time.Time) *callback.TranscriptionAvailable {
	leg.StartTime = callback.TimeOf(r.StartTime)
	t := r.Transcription
	ev := &callback.TranscriptionAvailable{Leg: leg, Recording: recordingFields(r, recordingURL),
		Transcription: &callback.Transcription{ID: t.ID, URL: recordingURL + "/transcription", Status: t.Status,
			CompletedTime: callback.TimeOf(t.CompletedTime), Text: t.text(), Confidence: t.confidence()},
		Transfer: recordingTransfer(r)}
	ev.EventTime = callback.TimeOf(now)
	return ev
}

// recordingFields are the recording fields of the events about r.
func recordingFields(r *Recording, recordingURL string) callback.Recording {
	return callback.Recording{RecordingID: r.RecordingID, MediaURL: recordingURL + "/media",
		EndTime: callback.TimeOf(r.EndTime), Duration: callback.Duration(r.Duration), FileFormat: r.FileFormat}
}

// RecordingFilter selects recordings for a listing.
type RecordingFilter struct {
	AccountID string
	CallID    string // "" for any
	// ConferenceID lists that conference's recordings; "" lists call
	// recordings.
	ConferenceID               string
	To, From                   string
	MinStartTime, MaxStartTime time.Time
	Limit                      int
}

// Recorder keeps recordings: their audio and their records, in the
// record's FileFormat. Save and SaveAudio set the record's Status to what
// was kept: complete, partial (a playable prefix; Duration and EndTime
// shortened to it) or error (nothing). A Recorder that leaves Status as it
// was is taken to have kept everything when it returns nil, nothing
// otherwise. A Recorder that keeps some formats only is a FormatChecker.
type Recorder interface {
	// Save stores a finished recording: its record, and its audio, length
	// long, one list of sound segments per channel.
	Save(ctx context.Context, r *Recording, length time.Duration, channels [][]audio.Segment) error
	Get(ctx context.Context, accountID, recordingID string) (*Recording, error)
	List(ctx context.Context, f RecordingFilter) ([]*Recording, error)
	// Delete removes the recording: record and audio.
	Delete(ctx context.Context, accountID, recordingID string) error
	// DeleteMedia removes the audio only.
	DeleteMedia(ctx context.Context, accountID, recordingID string) error
	// SaveAudio stores a finished recording whose audio was captured from
	// a line that carries audio: its record, and the samples as a WAV file.
	SaveAudio(ctx context.Context, r *Recording, a Audio) error
	// Media opens the audio.
	Media(ctx context.Context, accountID, recordingID string) (io.ReadSeekCloser, error)
	// Update replaces a recording's record (its transcription changed).
	Update(ctx context.Context, r *Recording) error
	// Audio reads a recording's audio back, its channels mixed in one.
	Audio(ctx context.Context, accountID, recordingID string) (Audio, error)
}

// recordState is a <Record> in progress.
type recordState struct {
	verb    *bxml.Record
	start   time.Time
	speech  []audio.Segment // relative to start
	said    []string
	silence int // the silence timer, 0 if none
}

// actSaveRecording stores a recording, then queues its recordingAvailable
// (when set) with the outcome as status.
type actSaveRecording struct {
	rec       *Recording
	length    time.Duration
	channels  [][]audio.Segment
	available *Webhook
	// transcribed is the transcriptionAvailable, when asked for.
	transcribed *Webhook
	// capture names the line's capture that holds the recording's real
	// audio, if the line carries audio.
	capture string
}

func (actSaveRecording) isAction() {}

// actRecording tells the far end it is being recorded, and captures the
// line's audio (channels of it) if it carries any.
type actRecording struct {
	capture  string
	channels int
}

func (actRecording) isAction() {}

func (s *callState) startRecord(v *bxml.Record, now time.Time) []action {
	s.applyTag(v.Tag)
	if !s.recorder {
		return s.end(now, callback.CauseApplicationError, "<Record> needs recordings, which this voicehook has no place to keep", 0, false)
	}
	if v.FileFormat == string(callback.MP3) && s.noMP3 != "" {
		return s.end(now, callback.CauseApplicationError, `<Record fileFormat="mp3"> cannot be kept: `+s.noMP3, 0, false)
	}
	s.rec = &recordState{verb: v, start: now}
	s.timer = s.nextID()
	s.wait = waitRecord
	acts := []action{actTimer{s.timer, v.MaxDuration}, actRecording{capture: captureRecord, channels: 1}}
	if v.SilenceTimeout > 0 {
		s.rec.silence = s.nextID()
		acts = append(acts, actTimer{s.rec.silence, v.SilenceTimeout})
	}
	return acts
}

// heard takes speech from the far end into the recording.
func (s *callState) heard(text string, length time.Duration, now time.Time) []action {
	r := s.rec
	if r == nil {
		return nil
	}
	if length > 0 {
		r.speech = append(r.speech, audio.Segment{Start: now.Sub(r.start), Length: length, Sound: audio.Speech})
	}
	if text != "" {
		r.said = append(r.said, text)
	}
	if r.silence == 0 {
		return nil
	}
	// Quiet is counted from the end of the speech.
	acts := []action{actCancelTimer{r.silence}}
	r.silence = s.nextID()
	return append(acts, actTimer{r.silence, length + r.verb.SilenceTimeout})
}

// recordDigit ends the recording on a terminating digit.
func (s *callState) recordDigit(d byte, now time.Time) ([]action, bool) {
	r := s.rec
	if r == nil || s.wait != waitRecord {
		return nil, false
	}
	term := "#"
	if r.verb.TerminatingDigits != nil {
		term = *r.verb.TerminatingDigits
	}
	if term == "" || !strings.ContainsRune(term, rune(d)) {
		return nil, true // other digits are part of the recording
	}
	return s.finishRecord(now, true), true
}

// finishRecord ends the recording: it is stored, and recordComplete sent
// when complete is set and the verb asks for it; otherwise the next verb
// runs (complete) or nothing (the call is ending or moving on).
func (s *callState) finishRecord(now time.Time, complete bool) []action {
	r := s.rec
	if r == nil {
		return nil
	}
	s.rec = nil
	var acts []action
	if complete {
		acts = append(acts, s.cancelTimer()...)
	}
	if r.silence != 0 {
		acts = append(acts, actCancelTimer{r.silence})
	}
	v := r.verb
	length := min(now.Sub(r.start), v.MaxDuration)
	rec := s.newRecording(r.start, length, 1, v.RecordingName, r.said)
	rec.FileFormat = fileFormat(v.FileFormat)
	fields := recordingFields(rec, s.recordingURL(rec.RecordingID))
	transfer := recordingTransfer(rec)
	save := s.saveRecording(rec, [][]audio.Segment{r.speech}, recordingOptions{
		availableURL: v.RecordingAvailableURL, availableMethod: v.RecordingAvailableMethod,
		transcribe: v.Transcribe, transcriptionURL: v.TranscriptionAvailableURL, transcriptionMethod: v.TranscriptionAvailableMethod,
		username: v.Username, password: v.Password}, now)
	save.capture = captureRecord
	acts = append(acts, save, history(s, now, "verb", fmt.Sprintf("recorded %v as %s", length.Round(time.Millisecond), rec.RecordingID), nil))
	if !complete {
		return acts
	}
	if v.RecordCompleteURL == "" {
		return append(acts, s.advance(now)...)
	}
	call := s.eventCall()
	call.StartTime = callback.TimeOf(r.start)
	ev := &callback.RecordComplete{Call: call, Recording: fields, Channels: 1, Transfer: transfer}
	ev.EventTime = callback.TimeOf(now)
	return append(acts, s.send(ev, Target{URL: v.RecordCompleteURL, Method: v.RecordCompleteMethod, Username: v.Username, Password: v.Password,
		FallbackURL: v.RecordCompleteFallbackURL, FallbackMethod: v.RecordCompleteFallbackMethod,
		FallbackUsername: v.FallbackUsername, FallbackPassword: v.FallbackPassword}, now)...)
}

// recordingOptions are the webhook settings of a recording verb.
type recordingOptions struct {
	availableURL, availableMethod         string
	transcribe                            bool
	transcriptionURL, transcriptionMethod string
	username, password                    string
}

// saveRecording is the action that stores a finished recording of this
// call, with its recordingAvailable and, when asked, its transcription
// and transcriptionAvailable.
func (s *callState) saveRecording(rec *Recording, channels [][]audio.Segment, o recordingOptions, now time.Time) actSaveRecording {
	save := actSaveRecording{rec: rec, length: rec.Duration, channels: channels}
	url := s.recordingURL(rec.RecordingID)
	call := s.eventCall()
	if o.availableURL != "" {
		leg := call.Leg
		leg.StartTime = callback.TimeOf(rec.StartTime)
		ev := &callback.RecordingAvailable{Leg: leg, EnqueuedTime: call.EnqueuedTime, Tag: call.Tag, Recording: recordingFields(rec, url),
			Channels: rec.Channels, Status: callback.RecordingStatusComplete, Transfer: recordingTransfer(rec)}
		ev.EventTime = callback.TimeOf(now)
		save.available = &Webhook{CallID: s.call.CallID, Event: ev, Timeout: s.call.CallbackTimeout,
			Target: Target{URL: o.availableURL, Method: o.availableMethod, Username: o.username, Password: o.password}}
	}
	if o.transcribe {
		transcribe(rec, now)
		if o.transcriptionURL != "" {
			ev := transcriptionEvent(rec, call.Leg, url, now)
			ev.EnqueuedTime, ev.Tag = call.EnqueuedTime, call.Tag
			save.transcribed = &Webhook{CallID: s.call.CallID, Event: ev, Timeout: s.call.CallbackTimeout,
				Target: Target{URL: o.transcriptionURL, Method: o.transcriptionMethod, Username: o.username, Password: o.password}}
		}
	}
	return save
}

func (s *callState) recordingURL(id string) string { return s.callURL + "/recordings/" + id }

// GetRecording returns a recording of the account.
func (e *Engine) GetRecording(ctx context.Context, accountID, recordingID string) (*Recording, error) {
	if e.cfg.Recorder == nil {
		return nil, errNoRecording(recordingID)
	}
	r, err := e.cfg.Recorder.Get(ctx, accountID, recordingID)
	if errors.Is(err, ErrNotFound) {
		return nil, errNoRecording(recordingID)
	}
	return r, err
}

// ListRecordings returns the recordings matching f, oldest first.
func (e *Engine) ListRecordings(ctx context.Context, f RecordingFilter) ([]*Recording, error) {
	if e.cfg.Recorder == nil {
		return nil, nil
	}
	return e.cfg.Recorder.List(ctx, f)
}

// DeleteRecording removes a recording, its audio and its record.
func (e *Engine) DeleteRecording(ctx context.Context, accountID, recordingID string) error {
	if err := e.deletable(ctx, accountID, recordingID); err != nil {
		return err
	}
	return e.cfg.Recorder.Delete(ctx, accountID, recordingID)
}

// DeleteRecordingMedia removes a recording's audio; its record stays.
func (e *Engine) DeleteRecordingMedia(ctx context.Context, accountID, recordingID string) error {
	if err := e.deletable(ctx, accountID, recordingID); err != nil {
		return err
	}
	return e.cfg.Recorder.DeleteMedia(ctx, accountID, recordingID)
}

// RecordingMedia opens a recording's audio.
func (e *Engine) RecordingMedia(ctx context.Context, accountID, recordingID string) (*Recording, io.ReadSeekCloser, error) {
	r, err := e.GetRecording(ctx, accountID, recordingID)
	if err != nil {
		return nil, nil, err
	}
	if r.MediaDeleted {
		return nil, nil, &Error{Code: ENotFound, Msg: fmt.Sprintf("The media of recording %s was deleted", recordingID)}
	}
	if err := noMedia(r); err != nil {
		return nil, nil, err
	}
	f, err := e.cfg.Recorder.Media(ctx, accountID, recordingID)
	if err != nil {
		return nil, nil, err
	}
	return r, f, nil
}

// TranscribeRequest is POST …/recordings/{id}/transcription.
type TranscribeRequest struct {
	Callback Target
	Tag      *string
	Timeout  time.Duration
}

// TranscribeRecording transcribes a recording of the call and sends
// transcriptionAvailable to the request's callback URL.
func (e *Engine) TranscribeRecording(ctx context.Context, accountID, recordingID string, req TranscribeRequest) error {
	r, err := e.GetRecording(ctx, accountID, recordingID)
	if err != nil {
		return err
	}
	if r.MediaDeleted {
		return &Error{Code: EConflict, Msg: fmt.Sprintf("The media of recording %s was deleted: there is nothing to transcribe", recordingID)}
	}
	if err := noMedia(r); err != nil {
		return &Error{Code: EConflict, Msg: err.(*Error).Msg + ": there is nothing to transcribe"}
	}
	now := e.cfg.Clock.Now()
	transcribe(r, now)
	var heard Audio
	if r.Heard && e.cfg.Recognizer != nil {
		// Real audio: recognized in the background, its channels mixed.
		if heard, err = e.cfg.Recorder.Audio(ctx, accountID, recordingID); err != nil {
			return err
		}
		r.Transcription.Status, r.Transcription.Texts = callback.TranscriptionStatusProcessing, nil
	}
	if err := e.cfg.Recorder.Update(ctx, r); err != nil {
		return err
	}
	var w *Webhook
	if req.Callback.URL != "" {
		callURL := fmt.Sprintf("%s/accounts/%s/calls/%s", e.cfg.BaseURL, r.AccountID, r.CallID)
		leg := callback.Leg{AccountID: r.AccountID, ApplicationID: r.ApplicationID, From: r.From, To: r.To,
			Direction: r.Direction, CallID: r.CallID, CallURL: callURL}
		ev := transcriptionEvent(r, leg, callURL+"/recordings/"+r.RecordingID, now)
		ev.Tag = req.Tag
		w = &Webhook{CallID: r.CallID, Event: ev, Target: req.Callback, Timeout: req.Timeout}
	}
	if r.Heard && e.cfg.Recognizer != nil {
		e.recognize(*r, heard, w)
		return nil
	}
	if w == nil {
		return nil
	}
	return e.notifyOnce(stamp(*w, r.AccountID, r.ApplicationID))
}

// DeleteTranscription removes a recording's transcription.
func (e *Engine) DeleteTranscription(ctx context.Context, accountID, recordingID string) error {
	r, err := e.GetRecording(ctx, accountID, recordingID)
	if err != nil {
		return err
	}
	if r.Transcription == nil {
		return errNoTranscription(recordingID)
	}
	r.Transcription = nil
	return e.cfg.Recorder.Update(ctx, r)
}

func errNoTranscription(id string) error {
	return &Error{Code: ENotFound, Msg: fmt.Sprintf("Recording %s has no transcription", id)}
}

// GetTranscription returns a recording and its transcription.
func (e *Engine) GetTranscription(ctx context.Context, accountID, recordingID string) (*Recording, error) {
	r, err := e.GetRecording(ctx, accountID, recordingID)
	if err != nil {
		return nil, err
	}
	if r.Transcription == nil {
		return nil, errNoTranscription(recordingID)
	}
	return r, nil
}

func errNoRecording(id string) error {
	return &Error{Code: ENotFound, Msg: fmt.Sprintf("Recording %s not found", id)}
}
