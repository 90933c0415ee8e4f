package engine

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/voicehook/voicehook/callback"
)

// Keeping a finished recording. A WAV file is written where the call's
// owner is (it takes as long as copying the samples); an MP3 file is
// encoded in the background, so that no call waits for the encoder: its
// record says status processing until the file is made, then the final
// status (complete, partial or error: see Recorder) goes into the
// record, the recordingAvailable and the transcriptionAvailable, which
// are then queued in the call's durable outbox (queueLate). Drain and
// Shutdown wait for the encodings (encoding.go).

// FormatChecker is implemented by a Recorder that keeps some file formats
// only; New asks it once. Keeps says why recordings in format f cannot be kept (naming what
// to install), nil if they can; a Recorder without it keeps every format.
// <Record> and <StartRecording> in a format it refuses end the call with
// application-error, as a missing Recorder does, and a conference's
// StartRecording is skipped.
type FormatChecker interface {
	Keeps(f callback.FileFormat) error
}

// refuses is why the Recorder cannot keep recordings in format f; "" if
// it can.
func (e *Engine) refuses(f callback.FileFormat) string {
	if fc, ok := e.cfg.Recorder.(FormatChecker); ok {
		if err := fc.Keeps(f); err != nil {
			return err.Error()
		}
	}
	return ""
}

// MediaType is the Content-Type of the recording's file.
func (r *Recording) MediaType() string {
	if r.FileFormat == callback.MP3 {
		return "audio/mpeg"
	}
	return "audio/vnd.wave"
}

// FileName is the name of the recording's file: its id and the format's
// extension.
func (r *Recording) FileName() string {
	if r.FileFormat == callback.MP3 {
		return r.RecordingID + ".mp3"
	}
	return r.RecordingID + ".wav"
}

// keepRecording performs actSaveRecording.
func (a *actor) keepRecording(ctx context.Context, act actSaveRecording) {
	var heard *Audio
	if c := a.captures[act.capture]; c != nil && act.capture != "" {
		delete(a.captures, act.capture)
		h := c.Stop()
		heard = &h
		act.rec.Heard = true
	}
	if act.rec.FileFormat != callback.MP3 {
		a.e.storeRecording(ctx, a.log, &act, heard)
		for _, w := range []*Webhook{act.available, act.transcribed} {
			if w != nil {
				a.do(actNotify{*w})
			}
		}
		return
	}
	accountID, applicationID, log := a.st.call.AccountID, a.st.call.ApplicationID, a.log
	a.e.encodeLater(ctx, act.rec, log, func(ctx context.Context) {
		a.e.storeRecording(ctx, log, &act, heard)
		for _, w := range []*Webhook{act.available, act.transcribed} {
			if w != nil {
				a.e.queueLate(stamp(*w, accountID, applicationID), log.With("recording_id", act.rec.RecordingID))
			}
		}
	})
}

// encodeLater marks rec processing in the store, then runs keep, which
// encodes and stores it, in the background: an MP3 recording is encoded
// off the goroutine of its call or conference.
func (e *Engine) encodeLater(ctx context.Context, rec *Recording, log *slog.Logger, keep func(context.Context)) {
	processing := *rec
	processing.Status = callback.RecordingStatusProcessing
	if err := e.cfg.Recorder.Update(ctx, &processing); err != nil {
		log.Warn("store a recording as processing", "recording_id", rec.RecordingID, "err", err)
	}
	e.encode(keep)
}

// saveFailed sets the status of a recording the Recorder could not save
// whole: error, unless it kept part of it (partial).
func saveFailed(rec *Recording) {
	if rec.Status != callback.RecordingStatusPartial {
		rec.Status = callback.RecordingStatusError
	}
}

// storeRecording saves act's recording (heard is its real audio, if the
// line carried any), starts recognizing it when asked, and sets the
// outcome in the events act sends.
func (e *Engine) storeRecording(ctx context.Context, log *slog.Logger, act *actSaveRecording, heard *Audio) {
	rec := act.rec
	var err error
	if heard != nil {
		recognize := rec.Transcription != nil && e.cfg.Recognizer != nil
		if recognize {
			// Real audio: what was said is recognized after the call
			// has moved on; its transcriptionAvailable follows then.
			rec.Transcription.Status = callback.TranscriptionStatusProcessing
			rec.Transcription.Texts = nil
		}
		err = e.cfg.Recorder.SaveAudio(ctx, rec, *heard)
		if recognize {
			if err == nil || rec.Status == callback.RecordingStatusPartial {
				e.recognize(*rec, *heard, act.transcribed)
			}
			act.transcribed = nil
		}
	} else {
		err = e.cfg.Recorder.Save(ctx, rec, act.length, act.channels)
	}
	if err != nil {
		log.Error("save a recording", "recording_id", rec.RecordingID, "err", err)
		saveFailed(rec)
	}
	if w := act.available; w != nil {
		ev := w.Event.(*callback.RecordingAvailable)
		ev.Status = rec.Status
		ev.Duration, ev.EndTime = callback.Duration(rec.Duration), callback.TimeOf(rec.EndTime)
	}
	if w := act.transcribed; w != nil && rec.Status == callback.RecordingStatusError {
		w.Event.(*callback.TranscriptionAvailable).Transcription.Status = callback.TranscriptionStatusError
	}
}

// fileFormat is a verb's fileFormat attribute as a recording's format:
// wav unless it says mp3.
func fileFormat(attr string) callback.FileFormat {
	if attr == string(callback.MP3) {
		return callback.MP3
	}
	return callback.WAV
}

// noMedia is the error of a download of r's audio while r has none: it is
// still being encoded, or nothing of it could be kept.
func noMedia(r *Recording) error {
	switch r.Status {
	case callback.RecordingStatusProcessing:
		return &Error{Code: ENotFound, Msg: fmt.Sprintf("Recording %s is still processing: its media is not ready yet", r.RecordingID)}
	case callback.RecordingStatusError:
		return &Error{Code: ENotFound, Msg: fmt.Sprintf("Recording %s has no media: it could not be stored (status error)", r.RecordingID)}
	}
	return nil
}

// deletable is nil when the recording exists and may be deleted: not
// while its file is being made, which would bring the record back.
func (e *Engine) deletable(ctx context.Context, accountID, recordingID string) error {
	r, err := e.GetRecording(ctx, accountID, recordingID)
	if err != nil {
		return err
	}
	if r.Status == callback.RecordingStatusProcessing {
		return &Error{Code: EConflict, Msg: fmt.Sprintf("Recording %s is still processing: delete it once it is complete", recordingID)}
	}
	return nil
}
