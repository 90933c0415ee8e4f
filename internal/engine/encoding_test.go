package engine_test

import (
	"context"
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

// cutRecorder is a slowRecorder whose encoding stops when its context
// ends: it then keeps the first half of the recording, as partial.
type cutRecorder struct{ *slowRecorder }

func (c cutRecorder) Save(ctx context.Context, r *engine.Recording, length time.Duration, channels [][]audio.Segment) error {
	select {
	case <-c.release:
		return c.slowRecorder.Save(ctx, r, length, channels)
	case <-ctx.Done():
		r.Status = callback.RecordingStatusPartial
		r.Duration /= 2
		r.EndTime = r.StartTime.Add(r.Duration)
		if err := c.Update(context.WithoutCancel(ctx), r); err != nil {
			return err
		}
		return context.Cause(ctx)
	}
}

// mp3Harness runs a call that records 2 s in mp3 and hangs up, with rec
// as its Recorder, and returns once the call has ended (its recording
// still being encoded) with the recording's id.
func mp3Harness(t *testing.T, rec engine.Recorder, edit func(*engine.Config)) (*harness, string) {
	h := newHarnessWith(t, map[string]sim.Script{"+15554446668": {Says: "Please call me back tomorrow.", HangupAfter: 20 * time.Second}},
		replies(map[string]string{
			"https://app.test/answer": `<Response><Record fileFormat="mp3" maxDuration="2" recordCompleteUrl="https://app.test/rc" recordingAvailableUrl="https://app.test/ra"/></Response>`,
			"https://app.test/rc":     `<Response><Hangup/></Response>`}),
		func(cfg *engine.Config) {
			cfg.Recorder = rec
			if edit != nil {
				edit(cfg)
			}
		})
	h.call("+15554446668", nil)
	h.settle(time.Hour)
	if got := summary(h.app.events()); got != "answer@1s\nrecordComplete@3s\ndisconnect@3s cause=hangup\n" {
		t.Fatalf("webhooks before the file is made:\n%s", got)
	}
	return h, h.app.events()[1].event.(*callback.RecordComplete).RecordingID
}

// available returns the recordingAvailable webhooks the app got.
func available(h *harness) []*callback.RecordingAvailable {
	var out []*callback.RecordingAvailable
	for _, d := range h.app.events() {
		if ra, ok := d.event.(*callback.RecordingAvailable); ok {
			out = append(out, ra)
		}
	}
	return out
}

// A normal stop (Drain, then Shutdown) waits for a recording still being
// encoded, and its recordingAvailable goes out.
func TestDrainWaitsForEncoding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &slowRecorder{memRecorder: &memRecorder{}, release: make(chan struct{}), records: map[string]*engine.Recording{}}
		h, id := mp3Harness(t, rec, nil)
		var once sync.Once
		release := func() { once.Do(func() { close(rec.release) }) }
		defer release()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		drained := make(chan struct{})
		go func() { h.eng.Drain(ctx); close(drained) }()
		select {
		case <-drained:
			t.Fatal("Drain returned while a recording was still being encoded")
		case <-time.After(time.Minute):
		}
		release()
		select {
		case <-drained:
		case <-time.After(time.Minute):
			t.Fatal("Drain still waits a minute after the encoding finished")
		}
		if ra := available(h); len(ra) != 1 || ra[0].Status != callback.RecordingStatusComplete {
			t.Fatalf("recordingAvailable after Drain: %+v, want one, complete", ra)
		}
		h.close()
		if r, err := h.eng.GetRecording(context.Background(), "9900000", id); err != nil || r.Status != callback.RecordingStatusComplete {
			t.Errorf("recording after the stop: %+v %v, want complete", r, err)
		}
	})
}

// Shutdown waits for an encoding until its ctx ends, then stops it: what
// was written is kept as partial, and the recordingAvailable saying so
// goes out, or stays queued in the store for the next start to deliver.
func TestShutdownCutsEncodingAtItsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := cutRecorder{&slowRecorder{memRecorder: &memRecorder{}, release: make(chan struct{}), records: map[string]*engine.Recording{}}}
		h, id := mp3Harness(t, rec, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		h.eng.Shutdown(ctx)
		if took := time.Since(start); took < 10*time.Second {
			t.Errorf("Shutdown took %v; want it to wait 10s (its ctx) for the encoding", took)
		}
		r, err := h.eng.GetRecording(context.Background(), "9900000", id)
		if err != nil || r.Status != callback.RecordingStatusPartial || r.Duration != time.Second {
			t.Errorf("recording cut by Shutdown: %+v %v, want partial, 1s", r, err)
		}
		// The webhook went out before the engine stopped sending, or it
		// waits in the store for the next start: never lost.
		queued, _ := h.store.Queued(context.Background())
		var found int
		for _, q := range queued {
			s := string(q.Data)
			if strings.Contains(s, `"eventType":"recordingAvailable"`) && strings.Contains(s, `"status":"partial"`) {
				found++
			}
		}
		for _, ra := range available(h) {
			if ra.Status == callback.RecordingStatusPartial {
				found++
			}
		}
		if found == 0 { // twice is possible: delivered as the engine stopped, and queued again
			t.Errorf("recordingAvailable with status partial neither delivered nor queued; queued: %d webhooks, delivered: %+v",
				len(queued), available(h))
		}
	})
}

// A recording's webhooks after its encoding go through the call's durable
// outbox, so --retry-webhooks retries them.
func TestEncodedRecordingWebhookRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &slowRecorder{memRecorder: &memRecorder{}, release: make(chan struct{}), records: map[string]*engine.Recording{}}
		h, _ := mp3Harness(t, rec, func(cfg *engine.Config) { cfg.RetryWebhooks = true })
		defer h.close()
		h.app.mu.Lock()
		h.app.failures = 1
		h.app.mu.Unlock()
		close(rec.release)
		deadline := time.After(time.Minute)
		for len(available(h)) < 2 {
			select {
			case <-deadline:
				t.Fatalf("recordingAvailable deliveries: %d, want 2 (one failed, one retried)", len(available(h)))
			case <-time.After(100 * time.Millisecond):
			}
		}
		if a := available(h); a[0].Status != callback.RecordingStatusComplete || a[1].Status != callback.RecordingStatusComplete {
			t.Errorf("statuses: %s, %s; want complete twice", a[0].Status, a[1].Status)
		}
	})
}
