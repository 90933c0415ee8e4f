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

// The engine's side of media streams (Config.Streamer): <StartStream> does
// not block, its webhooks go to streamEventUrl in order, names are unique
// and tracks limited, <StopStream> and the call's end stop streams, and on
// a simulated phone the streams are paced and told what the phone says
// and what the call plays. fakeStreamer notes what the engine asks and
// answers as a test tells it; the sockets are tested in internal/streamer
// and end to end in internal/server.

type fakeStreamer struct {
	mu      sync.Mutex
	refuse  map[string]string // destination → reason
	streams []*fakeStream
}

func (f *fakeStreamer) Open(spec engine.StreamSpec, notify func(engine.StreamEvent)) engine.Stream {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := &fakeStream{f: f, spec: spec, notify: notify}
	f.streams = append(f.streams, s)
	if reason, ok := f.refuse[spec.Destination]; ok {
		go notify(engine.StreamEvent{Kind: engine.StreamRejected, Cause: callback.StreamConnectionError, Reason: reason})
	} else {
		go notify(engine.StreamEvent{Kind: engine.StreamStarted})
	}
	return s
}

func (f *fakeStreamer) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.streams {
		out = append(out, s.ops...)
	}
	return out
}

type fakeStream struct {
	f      *fakeStreamer
	spec   engine.StreamSpec
	notify func(engine.StreamEvent)
	ops    []string
}

func (s *fakeStream) note(format string, args ...any) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.ops = append(s.ops, s.spec.Name+" "+fmt.Sprintf(format, args...))
}

func (s *fakeStream) Feed(track string, frame []int16) { s.note("feed %s", track) }
func (s *fakeStream) Say(track string, p engine.Playback) {
	s.note("say %s %q %v", track, p.What, p.Length)
}
func (s *fakeStream) StopSaying(track string) { s.note("unsay %s", track) }
func (s *fakeStream) Stop()                   { s.note("stop") }

func streamHarness(t *testing.T, f *fakeStreamer, scripts map[string]sim.Script, byURL map[string]string) *harness {
	return newHarnessWith(t, scripts, replies(byURL), func(c *engine.Config) { c.Streamer = f })
}

// streamSummary is the stream webhooks and the disconnect, one a line.
func streamSummary(got []delivered) string {
	var b strings.Builder
	for _, d := range got {
		switch ev := d.event.(type) {
		case *callback.MediaStreamStarted:
			fmt.Fprintf(&b, "started %s %v@%gs\n", ev.MediaStream.Name, ev.MediaStream.Tracks, d.at.Seconds())
		case *callback.MediaStreamRejected:
			fmt.Fprintf(&b, "rejected %s %s@%gs\n", ev.MediaStream.Name, ev.Cause, d.at.Seconds())
		case *callback.MediaStreamStopped:
			fmt.Fprintf(&b, "stopped %s %s %v@%gs\n", ev.MediaStream.Name, ev.Cause, time.Duration(ev.MediaStream.Duration), d.at.Seconds())
		case *callback.Disconnect:
			fmt.Fprintf(&b, "disconnect %s@%gs\n", ev.Cause, d.at.Seconds())
		}
	}
	return b.String()
}

func TestStartStreamRunsAlongsideTheBXML(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeStreamer{}
		h := streamHarness(t, f, map[string]sim.Script{"+15553330001": {Ring: time.Second}}, map[string]string{
			"https://app.test/answer": `<Response>
				<StartStream name="bot" tracks="both" mode="bidirectional" destination="wss://bot.test/s" destinationUsername="u" destinationPassword="p"
					streamEventUrl="https://app.test/stream"><StreamParam name="order" value="42"/><StreamParam name="lang" value="en"/></StartStream>
				<SpeakSentence>Hello there</SpeakSentence>
				<Pause duration="3"/>
			</Response>`,
		})
		defer h.close()
		id := h.call("+15553330001", nil)
		time.Sleep(2 * time.Second)
		if err := h.net.Speak(id, "I want to cancel my order", 2*time.Second); err != nil {
			t.Fatal(err)
		}
		h.settle(time.Minute)

		want := "started bot [inbound outbound]@1s\nstopped bot closed 3.733333333s@4.733333333s\ndisconnect hangup@4.733333333s\n"
		if got := streamSummary(h.app.events()); got != want {
			t.Errorf("webhooks:\n%s\nwant:\n%s", got, want)
		}
		f.mu.Lock()
		spec := f.streams[0].spec
		f.mu.Unlock()
		if spec.Destination != "wss://bot.test/s" || spec.Username != "u" || spec.Password != "p" || !spec.Bidirectional || !spec.Paced ||
			spec.CallID != id || spec.AccountID != "9900000" || !strings.HasPrefix(spec.ID, "s-") ||
			fmt.Sprint(spec.Params) != "[{order 42} {lang en}]" {
			t.Errorf("spec %+v", spec)
		}
		wantOps := []string{`bot say outbound "Hello there" 733.333333ms`, `bot say inbound "I want to cancel my order" 2s`, "bot stop"}
		if got := f.log(); fmt.Sprint(got) != fmt.Sprint(wantOps) {
			t.Errorf("stream told %q, want %q", got, wantOps)
		}
		for _, d := range h.app.events() {
			if e, ok := d.event.(*callback.MediaStreamStarted); ok {
				m := e.MediaStream
				if m.ID != spec.ID || m.Destination != "wss://bot.test/s" || m.Type != "WebSocket" || m.StartTime.IsZero() ||
					d.target.URL != "https://app.test/stream" || e.CallID != id {
					t.Errorf("mediaStreamStarted %+v to %s", m, d.target.URL)
				}
			}
		}
	})
}

func TestStreamsRefusedAndLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeStreamer{refuse: map[string]string{"wss://down.test/s": "connect wss://down.test/s: connection refused"}}
		h := streamHarness(t, f, nil, map[string]string{
			"https://app.test/answer": `<Response>
				<StartStream name="down" destination="wss://down.test/s" streamEventUrl="https://app.test/stream"/>
				<StartStream name="a" tracks="both" destination="wss://bot.test/a" streamEventUrl="https://app.test/stream"/>
				<StartStream name="a" destination="wss://bot.test/again" streamEventUrl="https://app.test/stream"/>
				<StartStream name="b" destination="wss://bot.test/b" streamEventUrl="https://app.test/stream"/>
				<StartStream name="c" tracks="both" destination="wss://bot.test/c" streamEventUrl="https://app.test/stream"/>
				<Pause duration="1"/>
				<StopStream name="a"/>
				<StopStream name="nobody"/>
				<Pause duration="1"/>
			</Response>`,
		})
		defer h.close()
		h.call("+15553330002", nil)
		h.settle(time.Minute)
		got := streamSummary(h.app.events())
		for _, want := range []string{"rejected down connection-error@1s", "rejected a duplicate@1s", "rejected c track-limit@1s",
			"started a [inbound outbound]@1s", "started b [inbound]@1s", "stopped a closed 1s@2s", "stopped b closed 2s@3s", "disconnect hangup@3s"} {
			if !strings.Contains(got, want+"\n") {
				t.Errorf("no %q in:\n%s", want, got)
			}
		}
		if n := strings.Count(got, "\n"); n != 8 {
			t.Errorf("%d webhooks:\n%s", n, got)
		}
		for _, d := range h.app.events() {
			switch e := d.event.(type) {
			case *callback.MediaStreamRejected:
				if e.ErrorMessage == nil || *e.ErrorMessage == "" || e.MediaStream.ID != "" {
					t.Errorf("rejected %s: message %v, id %q", e.MediaStream.Name, e.ErrorMessage, e.MediaStream.ID)
				}
				if e.Cause == callback.StreamDuplicate && (e.OriginalMediaStream == nil || e.OriginalMediaStream.Destination != "wss://bot.test/a") {
					t.Errorf("duplicate without the original: %+v", e.OriginalMediaStream)
				}
				if e.Cause == callback.StreamConnectionError && !strings.Contains(*e.ErrorMessage, "connection refused") {
					t.Errorf("refusal says %q", *e.ErrorMessage)
				}
			}
		}
	})
}

// A destination that drops the socket ends the stream, not the call; a
// stream stopped before it connected is reported rejected; without a
// stream client, streams are rejected with cause error.
func TestStreamDroppedByItsDestination(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeStreamer{}
		h := streamHarness(t, f, nil, map[string]string{
			"https://app.test/answer": `<Response><StartStream name="bot" destination="wss://bot.test/s" streamEventUrl="https://app.test/stream"/><Pause duration="5"/></Response>`,
		})
		defer h.close()
		h.call("+15553330003", nil)
		time.Sleep(2 * time.Second)
		f.mu.Lock()
		s := f.streams[0]
		f.mu.Unlock()
		s.notify(engine.StreamEvent{Kind: engine.StreamStopped, Cause: callback.StreamClosed, Reason: "the destination closed the socket: 1000 bye"})
		h.settle(time.Minute)
		want := "started bot [inbound]@1s\nstopped bot closed 1s@2s\ndisconnect hangup@6s\n"
		if got := streamSummary(h.app.events()); got != want {
			t.Errorf("webhooks:\n%s\nwant:\n%s", got, want)
		}
		if got := f.log(); fmt.Sprint(got) != "[bot stop]" {
			t.Errorf("a stream its destination closed was told %q, want it released once", got)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil, replies(map[string]string{
			"https://app.test/answer": `<Response><StartStream name="bot" destination="wss://bot.test/s" streamEventUrl="https://app.test/stream"/></Response>`,
		}))
		defer h.close()
		h.call("+15553330004", nil)
		h.settle(time.Minute)
		if got, want := streamSummary(h.app.events()), "rejected bot error@1s\ndisconnect hangup@1s\n"; got != want {
			t.Errorf("without a stream client:\n%s\nwant:\n%s", got, want)
		}
	})
}

// The phone hears what a bidirectional stream sends back: a clear cuts it.
func TestStreamAudioIsHeardByASimulatedPhone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeStreamer{}
		h := streamHarness(t, f, nil, map[string]string{
			"https://app.test/answer": `<Response><StartStream name="bot" mode="bidirectional" destination="wss://bot.test/s"/><Pause duration="5"/></Response>`,
		})
		defer h.close()
		id := h.call("+15553330005", nil)
		time.Sleep(2 * time.Second)
		f.mu.Lock()
		s := f.streams[0]
		f.mu.Unlock()
		s.notify(engine.StreamEvent{Kind: engine.StreamAudio, Audio: make([]int16, 8000)})  // 1 s
		s.notify(engine.StreamEvent{Kind: engine.StreamAudio, Audio: make([]int16, 16000)}) // 2 s more
		time.Sleep(time.Second)
		s.notify(engine.StreamEvent{Kind: engine.StreamClear})
		s.notify(engine.StreamEvent{Kind: engine.StreamWarning, Reason: `playAudio: unknown contentType "audio/ogg"`})
		h.settle(time.Minute)
		hist, err := h.store.History(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, e := range hist {
			if strings.Contains(e.Summary, "stream bot") {
				lines = append(lines, e.Summary)
			}
		}
		want := []string{"stream bot started: wss://bot.test/s", "hears stream bot's audio", "stream bot cleared its audio: 2s not heard",
			`stream bot: playAudio: unknown contentType "audio/ogg"`, "stream bot stopped (closed) after 5s"}
		if fmt.Sprint(lines) != fmt.Sprint(want) {
			t.Errorf("history:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
		}
	})
}
