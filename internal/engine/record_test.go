package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
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

// memRecorder keeps recordings in memory: the engine's side of recording
// is tested here; the files are tested with the real keeper end to end.
type memRecorder struct {
	mu       sync.Mutex
	saved    []*engine.Recording
	speech   [][]audio.Segment // the first channel of each
	channels [][][]audio.Segment
	audio    []engine.Audio // real audio, for recordings of lines that carry it
}

func (m *memRecorder) SaveAudio(_ context.Context, r *engine.Recording, a engine.Audio) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saved = append(m.saved, r)
	m.audio = append(m.audio, a)
	return nil
}

func (m *memRecorder) Save(_ context.Context, r *engine.Recording, _ time.Duration, channels [][]audio.Segment) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saved = append(m.saved, r)
	m.speech = append(m.speech, channels[0])
	m.channels = append(m.channels, channels)
	return nil
}
func (m *memRecorder) Get(context.Context, string, string) (*engine.Recording, error) {
	return nil, engine.ErrNotFound
}
func (m *memRecorder) List(context.Context, engine.RecordingFilter) ([]*engine.Recording, error) {
	return nil, nil
}
func (m *memRecorder) Delete(context.Context, string, string) error      { return nil }
func (m *memRecorder) Update(context.Context, *engine.Recording) error   { return nil }
func (m *memRecorder) DeleteMedia(context.Context, string, string) error { return nil }
func (m *memRecorder) Audio(context.Context, string, string) (engine.Audio, error) {
	return engine.Audio{}, errors.New("memRecorder keeps no audio")
}
func (m *memRecorder) Media(context.Context, string, string) (io.ReadSeekCloser, error) {
	return nil, engine.ErrNotFound
}

func TestRecordScenarios(t *testing.T) {
	// The callee says its 30-character line (2 s) half a second into the
	// recording.
	const callee = "+15554446666"
	scripts := map[string]sim.Script{callee: {Says: "Please call me back tomorrow."}}
	cases := []struct {
		name    string
		record  string
		scripts map[string]sim.Script
		want    string
		length  time.Duration // of the saved recording; 0: none saved
	}{
		{name: "silenceTimeout after the speech",
			record: `<Record silenceTimeout="3" recordCompleteUrl="https://app.test/rc" recordingAvailableUrl="https://app.test/ra"/>`,
			want:   "answer@1s\nrecordComplete@6.433333333s 5.433333333s\nrecordingAvailable@6.433333333s 5.433333333s\ndisconnect@6.433333333s cause=hangup\n",
			length: 5433333333},
		{name: "maxDuration", record: `<Record maxDuration="2" recordCompleteUrl="https://app.test/rc"/>`,
			want: "answer@1s\nrecordComplete@3s 2s\ndisconnect@3s cause=hangup\n", length: 2 * time.Second},
		{name: "without recordCompleteUrl the next verb runs",
			record: `<Record maxDuration="2"/><SpeakSentence>Thank you, bye.</SpeakSentence>`,
			want:   "answer@1s\ndisconnect@4s cause=hangup\n", length: 2 * time.Second},
		{name: "a hangup: no recordComplete, but recordingAvailable",
			scripts: map[string]sim.Script{callee: {Says: "Please call me back tomorrow.", HangupAfter: 4 * time.Second}},
			record:  `<Record recordCompleteUrl="https://app.test/rc" recordingAvailableUrl="https://app.test/ra"/>`,
			want:    "answer@1s\nrecordingAvailable@5s 4s\ndisconnect@5s cause=hangup\n", length: 4 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &memRecorder{}
				sc := scripts
				if c.scripts != nil {
					sc = c.scripts
				}
				h := newHarnessWith(t, sc, replies(map[string]string{
					"https://app.test/answer": `<Response>` + c.record + `</Response>`,
					"https://app.test/rc":     hangup}), func(cfg *engine.Config) { cfg.Recorder = rec })
				defer h.close()
				h.call(callee, nil)
				h.settle(time.Hour)
				// recordComplete and recordingAvailable leave at the same
				// moment by different paths: within an instant, webhooks are
				// sorted by name, but the disconnect stays last.
				events := h.app.events()
				slices.SortStableFunc(events, func(x, y delivered) int {
					if x.at != y.at {
						return int(x.at - y.at)
					}
					xd, yd := x.event.Type() == callback.EventDisconnect, y.event.Type() == callback.EventDisconnect
					if xd != yd {
						if xd {
							return 1
						}
						return -1
					}
					return strings.Compare(string(x.event.Type()), string(y.event.Type()))
				})
				var b strings.Builder
				for _, d := range events {
					fmt.Fprintf(&b, "%s@%gs", d.event.Type(), d.at.Seconds())
					switch ev := d.event.(type) {
					case *callback.RecordComplete:
						fmt.Fprintf(&b, " %gs", time.Duration(ev.Duration).Seconds())
					case *callback.RecordingAvailable:
						fmt.Fprintf(&b, " %gs", time.Duration(ev.Duration).Seconds())
					case *callback.Disconnect:
						fmt.Fprintf(&b, " cause=%s", ev.Cause)
					}
					b.WriteString("\n")
				}
				if got := b.String(); got != c.want {
					t.Errorf("webhooks:\n%s\nwant:\n%s", got, c.want)
				}
				if len(rec.saved) != 1 || rec.saved[0].Duration != c.length {
					t.Fatalf("saved %+v, want one recording of %v", rec.saved, c.length)
				}
				speech := rec.speech[0]
				if len(speech) != 1 || speech[0].Start != 500*time.Millisecond || rec.saved[0].Speech[0] != "Please call me back tomorrow." {
					t.Errorf("the recording's speech: %+v %q, want the callee's line at 0.5 s", speech, rec.saved[0].Speech)
				}
			})
		})
	}
}

func TestRecordWithoutRecorder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil, replies(map[string]string{"https://app.test/answer": `<Response><Record/></Response>`}))
		defer h.close()
		h.call("+15554446667", nil)
		h.settle(time.Hour)
		if got := summary(h.app.events()); got != "answer@1s\ndisconnect@1s cause=application-error\n" {
			t.Errorf("webhooks:\n%s", got)
		}
	})
}

func TestStartRecording(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &memRecorder{}
		h := newHarnessWith(t, map[string]sim.Script{"+15554446668": {Says: "Please call me back tomorrow.", HangupAfter: 10 * time.Second}},
			replies(map[string]string{"https://app.test/answer": `<Response>` +
				`<StartRecording multiChannel="true" recordingAvailableUrl="https://app.test/ra"/>` +
				`<SpeakSentence>Fifteen chars..</SpeakSentence>` + // 1 s
				`<PauseRecording/><Pause duration="2"/><ResumeRecording/><Pause duration="1"/><StopRecording/>` +
				`<StartRecording/><Pause duration="30"/></Response>`}),
			func(cfg *engine.Config) { cfg.Recorder = rec })
		defer h.close()
		id := h.call("+15554446668", nil)
		time.Sleep(8 * time.Second)
		if err := h.eng.UpdateRecordingState(context.Background(), "9900000", id, true); err != nil {
			t.Errorf("pause over REST: %v", err)
		}
		h.settle(time.Hour)
		if err := h.eng.UpdateRecordingState(context.Background(), "9900000", id, false); engine.ErrorCode(err) != engine.EConflict {
			t.Errorf("resume after the call ended: %v, want conflict", err)
		}
		got := summary(h.app.events())
		if got != "answer@1s\nrecordingAvailable@5s\ndisconnect@11s cause=hangup\n" {
			t.Errorf("webhooks:\n%s", got)
		}
		if len(rec.saved) != 2 {
			t.Fatalf("%d recordings saved, want 2", len(rec.saved))
		}
		// The first: 4 s with 2 s paused; the callee on channel 0, the
		// prompt on channel 1.
		first := rec.saved[0]
		if first.Duration != 2*time.Second || first.Channels != 2 || len(rec.speech[0]) != 1 || rec.speech[0][0].Start != 500*time.Millisecond {
			t.Errorf("first recording %+v, far end %+v", first, rec.speech[0])
		}
		if near := rec.channels[0][1]; len(near) != 1 || near[0].Start != 0 || near[0].Length != time.Second {
			t.Errorf("the prompt channel %+v, want the 1 s SpeakSentence at 0", near)
		}
		// The second ran from 4 s to the hangup at 10 s, paused over REST
		// at 7 s (8 s after the call was placed).
		if second := rec.saved[1]; second.Duration != 3*time.Second || second.Channels != 1 {
			t.Errorf("second recording %+v, want 3 s mono", second)
		}
	})
}
