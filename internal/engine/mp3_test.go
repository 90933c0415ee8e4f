package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/audio"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
)

// formatRecorder is a memRecorder that keeps mp3 only when refuse is nil,
// notes the statuses records are stored with before they are saved, and
// lets outcome decide what a save kept.
type formatRecorder struct {
	*memRecorder
	refuse  error
	outcome func(r *engine.Recording) error
	mu      sync.Mutex
	updated []callback.RecordingStatus
}

func (f *formatRecorder) Keeps(ff callback.FileFormat) error {
	if ff == callback.MP3 {
		return f.refuse
	}
	return nil
}

func (f *formatRecorder) Update(_ context.Context, r *engine.Recording) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updated = append(f.updated, r.Status)
	return nil
}

func (f *formatRecorder) Save(ctx context.Context, r *engine.Recording, length time.Duration, channels [][]audio.Segment) error {
	f.memRecorder.Save(ctx, r, length, channels)
	if f.outcome != nil {
		return f.outcome(r)
	}
	return nil
}

var _ engine.FormatChecker = (*formatRecorder)(nil)

func TestMP3WithoutEncoderEndsTheCall(t *testing.T) {
	for _, verb := range []string{`<Record fileFormat="mp3"/>`, `<StartRecording fileFormat="mp3"/><Pause duration="5"/>`} {
		t.Run(verb, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &formatRecorder{memRecorder: &memRecorder{}, refuse: errors.New("the LAME encoder (lame) is not installed: apt-get install lame")}
				h := newHarnessWith(t, nil, replies(map[string]string{"https://app.test/answer": `<Response>` + verb + `</Response>`}),
					func(cfg *engine.Config) { cfg.Recorder = rec })
				defer h.close()
				h.call("+15554446667", nil)
				h.settle(time.Hour)
				got := h.app.events()
				if s := summary(got); s != "answer@1s\ndisconnect@1s cause=application-error\n" {
					t.Fatalf("webhooks:\n%s", s)
				}
				d := got[1].event.(*callback.Disconnect)
				if d.ErrorMessage == nil || !strings.Contains(*d.ErrorMessage, `fileFormat="mp3"`) || !strings.Contains(*d.ErrorMessage, "apt-get install lame") {
					t.Errorf("errorMessage %v, want the verb and what to install", d.ErrorMessage)
				}
				if len(rec.saved) != 0 {
					t.Errorf("%d recordings saved, want none", len(rec.saved))
				}
			})
		})
	}
}

func TestMP3RecordingStatus(t *testing.T) {
	cases := []struct {
		name    string
		outcome func(r *engine.Recording) error
		want    callback.RecordingStatus
		// duration is what recordingAvailable says; transcription the
		// status of its transcriptionAvailable.
		duration      time.Duration
		transcription callback.TranscriptionStatus
	}{
		{"complete", func(r *engine.Recording) error { r.Status = callback.RecordingStatusComplete; return nil },
			callback.RecordingStatusComplete, 4 * time.Second, callback.TranscriptionStatusAvailable},
		{"partial", func(r *engine.Recording) error {
			r.Status, r.Duration = callback.RecordingStatusPartial, 1500*time.Millisecond
			r.EndTime = r.StartTime.Add(r.Duration)
			return errors.New("lame: exit status 1")
		}, callback.RecordingStatusPartial, 1500 * time.Millisecond, callback.TranscriptionStatusAvailable},
		{"error", func(r *engine.Recording) error {
			r.Status = callback.RecordingStatusError
			return errors.New("lame: exit status 1")
		},
			callback.RecordingStatusError, 4 * time.Second, callback.TranscriptionStatusError},
		{"a recorder that sets no status", func(*engine.Recording) error { return errors.New("disk full") },
			callback.RecordingStatusError, 4 * time.Second, callback.TranscriptionStatusError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &formatRecorder{memRecorder: &memRecorder{}, outcome: c.outcome}
				h := newHarnessWith(t, map[string]sim.Script{"+15554446668": {Says: "Please call me back tomorrow.", HangupAfter: 10 * time.Second}},
					replies(map[string]string{
						"https://app.test/answer": `<Response><Record fileFormat="mp3" maxDuration="4" recordCompleteUrl="https://app.test/rc" ` +
							`recordingAvailableUrl="https://app.test/ra" transcribe="true" transcriptionAvailableUrl="https://app.test/ta"/></Response>`,
						"https://app.test/rc": hangup}),
					func(cfg *engine.Config) { cfg.Recorder = rec })
				defer h.close()
				h.call("+15554446668", nil)
				h.settle(time.Hour)
				var rc *callback.RecordComplete
				var ra *callback.RecordingAvailable
				var ta *callback.TranscriptionAvailable
				for _, d := range h.app.events() {
					switch ev := d.event.(type) {
					case *callback.RecordComplete:
						rc = ev
					case *callback.RecordingAvailable:
						ra = ev
					case *callback.TranscriptionAvailable:
						ta = ev
					}
				}
				if rc == nil || ra == nil || ta == nil {
					t.Fatalf("webhooks:\n%s", summary(h.app.events()))
				}
				if rc.FileFormat != callback.MP3 || ra.FileFormat != callback.MP3 {
					t.Errorf("fileFormat: recordComplete %q, recordingAvailable %q, want mp3", rc.FileFormat, ra.FileFormat)
				}
				if ra.Status != c.want || time.Duration(ra.Duration) != c.duration {
					t.Errorf("recordingAvailable status %q duration %v, want %q %v", ra.Status, time.Duration(ra.Duration), c.want, c.duration)
				}
				if ta.Transcription.Status != c.transcription {
					t.Errorf("transcriptionAvailable status %q, want %q", ta.Transcription.Status, c.transcription)
				}
				// The record says processing while the file is encoded.
				rec.mu.Lock()
				defer rec.mu.Unlock()
				if len(rec.updated) != 1 || rec.updated[0] != callback.RecordingStatusProcessing {
					t.Errorf("records stored before the file: %v, want one, processing", rec.updated)
				}
				if len(rec.saved) != 1 || rec.saved[0].FileFormat != callback.MP3 {
					t.Fatalf("saved %+v, want one mp3 recording", rec.saved)
				}
			})
		})
	}
}

func TestStartRecordingMP3(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &formatRecorder{memRecorder: &memRecorder{}}
		h := newHarnessWith(t, map[string]sim.Script{"+15554446668": {Says: "Please call me back tomorrow.", HangupAfter: 10 * time.Second}},
			replies(map[string]string{"https://app.test/answer": `<Response>` +
				`<StartRecording fileFormat="mp3" multiChannel="true" recordingAvailableUrl="https://app.test/ra"/>` +
				`<Pause duration="3"/><StopRecording/><Pause duration="30"/></Response>`}),
			func(cfg *engine.Config) { cfg.Recorder = rec })
		defer h.close()
		h.call("+15554446668", nil)
		h.settle(time.Hour)
		if got := summary(h.app.events()); got != "answer@1s\nrecordingAvailable@4s\ndisconnect@11s cause=hangup\n" {
			t.Errorf("webhooks:\n%s", got)
		}
		ra := h.app.events()[1].event.(*callback.RecordingAvailable)
		if ra.FileFormat != callback.MP3 || ra.Channels != 2 || ra.Status != callback.RecordingStatusComplete || time.Duration(ra.Duration) != 3*time.Second {
			t.Errorf("recordingAvailable %+v", ra)
		}
		if len(rec.saved) != 1 || rec.saved[0].FileFormat != callback.MP3 || rec.saved[0].Channels != 2 {
			t.Errorf("saved %+v, want one two-channel mp3 recording", rec.saved)
		}
		// The webhook sent in the background is in the call's history.
		hist, _ := h.eng.History(context.Background(), "9900000", ra.CallID)
		found := false
		for _, e := range hist {
			found = found || e.Kind == "webhook" && strings.HasPrefix(e.Summary, "recordingAvailable → POST https://app.test/ra")
		}
		if !found {
			t.Errorf("the call's history has no recordingAvailable: %+v", hist)
		}
	})
}

// slowRecorder keeps records and holds every Save until release is
// closed: an encoder at work.
type slowRecorder struct {
	*memRecorder
	release chan struct{}
	mu      sync.Mutex
	records map[string]*engine.Recording
}

func (s *slowRecorder) Keeps(callback.FileFormat) error { return nil }

func (s *slowRecorder) Update(_ context.Context, r *engine.Recording) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *r
	s.records[r.RecordingID] = &c
	return nil
}

func (s *slowRecorder) Get(_ context.Context, _, id string) (*engine.Recording, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.records[id]; r != nil {
		c := *r
		return &c, nil
	}
	return nil, engine.ErrNotFound
}

func (s *slowRecorder) Save(ctx context.Context, r *engine.Recording, length time.Duration, channels [][]audio.Segment) error {
	<-s.release
	s.memRecorder.Save(ctx, r, length, channels)
	r.Status = callback.RecordingStatusComplete
	return s.Update(ctx, r)
}

// While an mp3 file is made the call goes on, and the recording is
// processing: no media, no transcription, no deletion yet.
func TestMP3Processing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &slowRecorder{memRecorder: &memRecorder{}, release: make(chan struct{}), records: map[string]*engine.Recording{}}
		h := newHarnessWith(t, map[string]sim.Script{"+15554446668": {Says: "Please call me back tomorrow.", HangupAfter: 20 * time.Second}},
			replies(map[string]string{
				"https://app.test/answer": `<Response><Record fileFormat="mp3" maxDuration="2" recordCompleteUrl="https://app.test/rc" recordingAvailableUrl="https://app.test/ra"/></Response>`,
				"https://app.test/rc":     `<Response><SpeakSentence>Fifteen chars..</SpeakSentence><Hangup/></Response>`}), // 1 s
			func(cfg *engine.Config) { cfg.Recorder = rec })
		defer h.close()
		var once sync.Once
		release := func() { once.Do(func() { close(rec.release) }) }
		defer release() // before the engine shuts down, whatever failed
		h.call("+15554446668", nil)
		h.settle(time.Hour)
		// The call went on and ended while the file was being made.
		if got := summary(h.app.events()); got != "answer@1s\nrecordComplete@3s\ndisconnect@4s cause=hangup\n" {
			t.Fatalf("webhooks before the file is made:\n%s", got)
		}
		id := h.app.events()[1].event.(*callback.RecordComplete).RecordingID
		ctx := context.Background()
		if r, err := h.eng.GetRecording(ctx, "9900000", id); err != nil || r.Status != callback.RecordingStatusProcessing || r.FileFormat != callback.MP3 {
			t.Errorf("recording while encoded: %+v %v, want processing mp3", r, err)
		}
		if _, _, err := h.eng.RecordingMedia(ctx, "9900000", id); engine.ErrorCode(err) != engine.ENotFound || !strings.Contains(err.Error(), "still processing") {
			t.Errorf("media while encoded: %v, want not found, still processing", err)
		}
		if err := h.eng.DeleteRecording(ctx, "9900000", id); engine.ErrorCode(err) != engine.EConflict {
			t.Errorf("delete while encoded: %v, want conflict", err)
		}
		if err := h.eng.TranscribeRecording(ctx, "9900000", id, engine.TranscribeRequest{}); engine.ErrorCode(err) != engine.EConflict {
			t.Errorf("transcribe while encoded: %v, want conflict", err)
		}
		release()
		synctest.Wait()
		got := h.app.events()
		if len(got) != 4 || got[3].event.Type() != callback.EventRecordingAvailable || got[3].event.(*callback.RecordingAvailable).Status != callback.RecordingStatusComplete {
			t.Fatalf("webhooks once the file is made:\n%s", summary(got))
		}
		if r, err := h.eng.GetRecording(ctx, "9900000", id); err != nil || r.Status != callback.RecordingStatusComplete {
			t.Errorf("recording once encoded: %+v %v, want complete", r, err)
		}
	})
}
