package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
)

// Real-time transcription of a simulated call: the engine knows the words,
// so the transcripts are exact, timed when they were said, with confidence
// 1; they go to the destination socket and are kept when the transcription
// ends. fakeSockets and fakeTranscripts note what the engine asks.

type fakeSockets struct {
	mu   sync.Mutex
	sent []string
	ops  []string
	// hold, when set, keeps the sockets connecting until it is closed.
	hold chan struct{}
}

func (f *fakeSockets) OpenTranscription(s engine.TranscriptionSocketSpec, notify func(engine.StreamEvent)) engine.TranscriptionSocket {
	f.mu.Lock()
	f.ops = append(f.ops, fmt.Sprintf("open %s %s %v stabilized=%v %v", s.Name, s.Destination, s.Tracks, s.Stabilized, s.Params))
	f.mu.Unlock()
	hold := f.hold
	go func() {
		if hold != nil {
			<-hold
		}
		notify(engine.StreamEvent{Kind: engine.StreamStarted})
	}()
	return &fakeSocket{f: f, name: s.Name}
}

type fakeSocket struct {
	f    *fakeSockets
	name string
}

func (s *fakeSocket) Send(t engine.Transcript) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.sent = append(s.f.sent, fmt.Sprintf("%s %s %v-%v %q %d words", s.name, t.Track, t.Start, t.End, t.Text, len(t.Words)))
}

func (s *fakeSocket) Stop() {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.ops = append(s.f.ops, "stop "+s.name)
}

type fakeTranscripts struct {
	mu   sync.Mutex
	kept []*engine.LiveTranscription
}

func (f *fakeTranscripts) SaveTranscription(_ context.Context, t *engine.LiveTranscription) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kept = append(f.kept, t)
	return nil
}

func (f *fakeTranscripts) Transcriptions(_ context.Context, account, call string) ([]*engine.LiveTranscription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*engine.LiveTranscription
	for _, t := range f.kept {
		if t.AccountID == account && t.CallID == call {
			out = append(out, t)
		}
	}
	return out, nil
}

func (f *fakeTranscripts) Transcription(ctx context.Context, account, call, id string) (*engine.LiveTranscription, error) {
	all, _ := f.Transcriptions(ctx, account, call)
	for _, t := range all {
		if t.ID == id {
			return t, nil
		}
	}
	return nil, engine.ErrNotFound
}

func (f *fakeTranscripts) DeleteTranscription(context.Context, string, string, string) error {
	return nil
}

func TestTranscriptionOfASimulatedCallIsExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		socks, kept := &fakeSockets{}, &fakeTranscripts{}
		h := newHarnessWith(t, nil, replies(map[string]string{
			"https://app.test/answer": `<Response>
				<StartTranscription name="live" tracks="both" destination="wss://bot.test/t" transcriptionEventUrl="https://app.test/tx">
					<CustomParam name="order" value="42"/></StartTranscription>
				<SpeakSentence>Welcome to the shop</SpeakSentence>
				<Pause duration="4"/>
				<StopTranscription/>
				<Pause duration="1"/>
			</Response>`,
		}), func(c *engine.Config) { c.TranscriptionSockets, c.Transcripts = socks, kept })
		defer h.close()
		id := h.call("+15553330010", nil)
		time.Sleep(2 * time.Second)
		if err := h.net.Speak(id, "I want to cancel my order", 2*time.Second); err != nil {
			t.Fatal(err)
		}
		h.settle(time.Minute)

		var got []string
		for _, d := range h.app.events() {
			switch e := d.event.(type) {
			case *callback.RealTimeTranscriptionStarted, *callback.RealTimeTranscriptionStopped:
				got = append(got, fmt.Sprintf("%s@%gs", e.Type(), d.at.Seconds()))
			case *callback.RealTimeTranscriptionAvailable:
				r := e.RealTimeTranscription
				got = append(got, fmt.Sprintf("%s@%gs %s", e.Type(), d.at.Seconds(), r.Status))
				if want := "http://voicehook.test/api/v2/accounts/9900000/calls/" + id + "/transcriptions/" + r.ID; r.URL != want || r.CompletedTime.IsZero() {
					t.Errorf("available: url %q completed %v, want %q", r.URL, r.CompletedTime, want)
				}
			case *callback.Disconnect:
				got = append(got, fmt.Sprintf("disconnect@%gs", d.at.Seconds()))
			}
		}
		want := "[realTimeTranscriptionStarted@1s realTimeTranscriptionStopped@6.266666666s realTimeTranscriptionAvailable@6.266666666s available disconnect@7.266666666s]"
		if fmt.Sprint(got) != want {
			t.Errorf("webhooks %v\nwant %s", got, want)
		}
		socks.mu.Lock()
		sent, ops := socks.sent, socks.ops
		socks.mu.Unlock()
		wantSent := []string{`live outbound 0s-1.266666666s "Welcome to the shop" 4 words`, `live inbound 1s-3s "I want to cancel my order" 6 words`}
		if fmt.Sprint(sent) != fmt.Sprint(wantSent) {
			t.Errorf("socket got %q\nwant %q", sent, wantSent)
		}
		if want := "[open live wss://bot.test/t [inbound outbound] stabilized=true [{order 42}] stop live]"; fmt.Sprint(ops) != want {
			t.Errorf("socket ops %v, want %s", ops, want)
		}
		list, err := h.eng.ListLiveTranscriptions(context.Background(), "9900000", id)
		if err != nil || len(list) != 1 {
			t.Fatalf("kept %d transcriptions, %v", len(list), err)
		}
		tr := list[0].Transcripts
		if len(tr) != 2 || tr[1].Confidence != 1 || tr[1].Words[5].Text != "order" || tr[1].Words[5].End != 3*time.Second ||
			tr[1].Words[0].Start != time.Second {
			t.Errorf("kept %+v", tr)
		}
	})
}

// Names are unique, four tracks at most; a transcription with a
// destination and no stream client is rejected.
func TestTranscriptionsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarnessWith(t, map[string]sim.Script{}, replies(map[string]string{
			"https://app.test/answer": `<Response>
				<StartTranscription name="a" tracks="both" transcriptionEventUrl="https://app.test/tx"/>
				<StartTranscription name="a" transcriptionEventUrl="https://app.test/tx"/>
				<StartTranscription name="d" destination="wss://bot.test/t" transcriptionEventUrl="https://app.test/tx"/>
				<StartTranscription name="b" tracks="both" transcriptionEventUrl="https://app.test/tx"/>
				<StartTranscription name="c" transcriptionEventUrl="https://app.test/tx"/>
				<Pause duration="1"/>
			</Response>`,
		}), func(c *engine.Config) { c.Transcripts = &fakeTranscripts{} })
		defer h.close()
		h.call("+15553330011", nil)
		h.settle(time.Minute)
		var got []string
		for _, d := range h.app.events() {
			switch e := d.event.(type) {
			case *callback.RealTimeTranscriptionRejected:
				got = append(got, "rejected "+e.RealTimeTranscription.Name+" "+string(e.Cause))
				if e.Cause == callback.StreamDuplicate && (e.OriginalTranscription == nil || e.OriginalTranscription.Name != "a") {
					t.Errorf("duplicate without the original: %+v", e.OriginalTranscription)
				}
			case *callback.RealTimeTranscriptionStarted:
				got = append(got, "started "+e.RealTimeTranscription.Name)
			}
		}
		want := "[started a rejected a duplicate rejected d error started b rejected c track-limit]"
		if fmt.Sprint(got) != want {
			t.Errorf("got %v\nwant %s", got, want)
		}
	})
}

// A scripted phone says its line to a transcription alone, a Gather's
// prompt is transcribed on the outbound track, and what is transcribed
// while the destination still connects is sent (the socket sends it
// after start).
func TestTranscriptionWhileTheSocketConnects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		socks := &fakeSockets{hold: make(chan struct{})}
		h := newHarnessWith(t, map[string]sim.Script{"+15553330012": {Says: "I want to cancel my order"}}, replies(map[string]string{
			"https://app.test/answer": `<Response>
				<StartTranscription name="live" tracks="both" destination="wss://bot.test/t" transcriptionEventUrl="https://app.test/tx"/>
				<Gather maxDigits="1" firstDigitTimeout="3"><SpeakSentence>Press one for sales</SpeakSentence></Gather>
			</Response>`,
			"https://app.test/tx": "",
		}), func(c *engine.Config) { c.TranscriptionSockets, c.Transcripts = socks, &fakeTranscripts{} })
		defer h.close()
		h.call("+15553330012", nil)
		time.Sleep(5 * time.Second)
		var started bool
		for _, d := range h.app.events() {
			if _, ok := d.event.(*callback.RealTimeTranscriptionStarted); ok {
				started = true
			}
		}
		if started {
			t.Error("realTimeTranscriptionStarted went before the socket opened")
		}
		close(socks.hold)
		h.settle(time.Minute)
		socks.mu.Lock()
		sent := fmt.Sprint(socks.sent)
		socks.mu.Unlock()
		for _, want := range []string{`live outbound 0s-1.266666666s "Press one for sales" 4 words`, `"I want to cancel my order" 6 words`} {
			if !strings.Contains(sent, want) {
				t.Errorf("the socket got %s\nwant %s among them", sent, want)
			}
		}
	})
}
