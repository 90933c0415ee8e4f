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
)

// The engine's side of a line that carries audio (a SIP call): it waits
// for a playback to end, not for the time it reckons the prompt takes; a
// digit stops a Gather's prompts; a failed prompt ends the call; a
// recording keeps the line's captured audio. audioLine stands in for the
// SIP line here: it notes what the engine asks of it, and the test plays
// the far end. The SIP line itself is tested against real peers in
// internal/phone/sip.

// audioLine is a Line that says it carries audio.
type audioLine struct {
	mu       sync.Mutex
	notify   func(engine.PhoneEvent)
	calls    []string // what the engine asked, in order
	plays    []engine.Playback
	digits   []engine.Digits
	captures []*fakeCapture
}

func (l *audioLine) note(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, fmt.Sprintf(format, args...))
}

func (l *audioLine) Hangup() string {
	l.note("hangup")
	return "→ BYE"
}
func (l *audioLine) Listening() { l.note("listening") }
func (l *audioLine) Answered()  { l.note("answered") }
func (l *audioLine) Recording() { l.note("recording") }
func (l *audioLine) Play(p engine.Playback) bool {
	l.note("play %d", len(p.Prompts))
	l.mu.Lock()
	l.plays = append(l.plays, p)
	l.mu.Unlock()
	return true
}
func (l *audioLine) StopPlaying() { l.note("stop") }
func (l *audioLine) SendDigits(d engine.Digits) {
	l.note("digits %s", d.Keys)
	l.mu.Lock()
	l.digits = append(l.digits, d)
	l.mu.Unlock()
}
func (l *audioLine) Capture(channels int) engine.Capture {
	l.note("capture %d", channels)
	c := &fakeCapture{channels: channels}
	l.mu.Lock()
	l.captures = append(l.captures, c)
	l.mu.Unlock()
	return c
}

// lastPlay is the latest playback the engine started.
func (l *audioLine) lastPlay(t *testing.T) engine.Playback {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.plays) == 0 {
		t.Fatal("nothing was played")
	}
	return l.plays[len(l.plays)-1]
}

func (l *audioLine) asked() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.calls, ", ")
}

// fakeCapture hands back a second of audio per channel.
type fakeCapture struct {
	mu       sync.Mutex
	channels int
	log      []string
}

func (c *fakeCapture) Pause()  { c.mu.Lock(); c.log = append(c.log, "pause"); c.mu.Unlock() }
func (c *fakeCapture) Resume() { c.mu.Lock(); c.log = append(c.log, "resume"); c.mu.Unlock() }
func (c *fakeCapture) Stop() engine.Audio {
	c.mu.Lock()
	c.log = append(c.log, "stop")
	c.mu.Unlock()
	a := engine.Audio{Rate: 8000}
	for range c.channels {
		a.Channels = append(a.Channels, make([]int16, 8000))
	}
	return a
}

// audioInbound takes an inbound call whose caller is line, as a SIP
// network does.
func (h *harness) audioInbound(line *audioLine) string {
	c, err := h.eng.InboundCall(context.Background(), engine.Inbound{
		AccountID: "9900000", ApplicationID: "04e88489-df02-4e34-a0ee-27a91849555f", From: "+15557770000", To: "+15550001000",
		Initiate: engine.Target{URL: "https://app.test/initiate"}, StatusURL: "https://app.test/status",
		SIPCallID: "a84b4c76e66710@127.0.0.9",
		Attach: func(callID string, notify func(engine.PhoneEvent)) (engine.Line, error) {
			line.mu.Lock()
			line.notify = notify
			line.mu.Unlock()
			return line, nil
		},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return c.CallID
}

func (l *audioLine) far(pe engine.PhoneEvent) {
	l.mu.Lock()
	notify := l.notify
	l.mu.Unlock()
	notify(pe)
}

func TestAudioLineWaitsForPlaybackAndDigitsBargeIn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil, replies(map[string]string{
			"https://app.test/initiate": `<Response><SpeakSentence voice="julie" locale="en_US">Welcome to the bank.</SpeakSentence>` +
				`<Gather gatherUrl="/menu" maxDigits="2" repeatCount="2" firstDigitTimeout="4"><SpeakSentence>Press one.</SpeakSentence>` +
				`<PlayAudio>https://app.test/music.wav</PlayAudio></Gather></Response>`,
			"https://app.test/menu": hangup,
		}))
		defer h.close()
		line := &audioLine{}
		h.audioInbound(line)
		synctest.Wait()
		// The sentence would take 1.4 s to say by the engine's reckoning;
		// a real line takes as long as it takes: the call waits for it.
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if got := line.asked(); got != "answered, play 1" {
			t.Fatalf("the line was asked: %s", got)
		}
		welcome := line.lastPlay(t)
		if p := welcome.Prompts[0]; p.Text != "Welcome to the bank." || p.Voice != "julie" || p.Locale != "en_US" {
			t.Errorf("the sentence played: %+v", p)
		}
		line.far(engine.PhoneEvent{Kind: engine.PhonePlayed, PlayID: welcome.ID})
		synctest.Wait()
		prompts := line.lastPlay(t)
		if len(prompts.Prompts) != 2 || prompts.Prompts[0].Text != "Press one." || prompts.Prompts[1].URL != "https://app.test/music.wav" ||
			prompts.Repeat != 2 || prompts.Gap != 4*time.Second {
			t.Errorf("the Gather's prompts: %+v", prompts)
		}
		// A late report of the first playback changes nothing.
		line.far(engine.PhoneEvent{Kind: engine.PhonePlayed, PlayID: welcome.ID})
		line.far(engine.PhoneEvent{Kind: engine.PhoneDigit, Digit: '4'})
		synctest.Wait()
		line.far(engine.PhoneEvent{Kind: engine.PhoneDigit, Digit: '2'})
		h.settle(time.Hour)
		if got := line.asked(); got != "answered, play 1, listening, play 2, stop, hangup" {
			t.Errorf("the line was asked: %s", got)
		}
		events := h.app.events()
		if got := summary(events); got != "initiate@0s\ngather@30s digits=\"42\" term=\"\"\ndisconnect@30s cause=hangup\n" {
			t.Errorf("webhooks:\n%s", got)
		}
		for _, d := range events {
			switch ev := d.event.(type) {
			case *callback.Initiate:
				if ev.SIPCallID != "a84b4c76e66710@127.0.0.9" {
					t.Errorf("initiate sipCallId %q", ev.SIPCallID)
				}
			case *callback.Disconnect:
				if ev.SIPCallID != "a84b4c76e66710@127.0.0.9" {
					t.Errorf("disconnect sipCallId %q", ev.SIPCallID)
				}
			}
		}
	})
}

func TestAudioLinePromptThatCannotPlay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil, replies(map[string]string{
			"https://app.test/initiate": `<Response><PlayAudio>https://app.test/gone.wav</PlayAudio></Response>`,
		}))
		defer h.close()
		line := &audioLine{}
		h.audioInbound(line)
		synctest.Wait()
		p := line.lastPlay(t)
		if len(p.Prompts) != 1 || p.Prompts[0].URL != "https://app.test/gone.wav" {
			t.Fatalf("played %+v", p)
		}
		line.far(engine.PhoneEvent{Kind: engine.PhonePlayed, PlayID: p.ID, Reason: "GET https://app.test/gone.wav: 404 Not Found"})
		h.settle(time.Hour)
		var disc *callback.Disconnect
		for _, d := range h.app.events() {
			if ev, ok := d.event.(*callback.Disconnect); ok {
				disc = ev
			}
		}
		if disc == nil || disc.Cause != callback.CauseApplicationError || disc.ErrorMessage == nil || !strings.Contains(*disc.ErrorMessage, "404 Not Found") {
			t.Errorf("disconnect %+v", disc)
		}
	})
}

func TestAudioLineHungUpWithAReason(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil, replies(map[string]string{
			"https://app.test/initiate": `<Response><Pause duration="30"/></Response>`,
		}))
		defer h.close()
		line := &audioLine{}
		h.audioInbound(line)
		synctest.Wait()
		line.far(engine.PhoneEvent{Kind: engine.PhoneHungUp, Reason: "no audio from the far end for 60s"})
		h.settle(time.Hour)
		var disc *callback.Disconnect
		for _, d := range h.app.events() {
			if ev, ok := d.event.(*callback.Disconnect); ok {
				disc = ev
			}
		}
		if disc == nil || disc.Cause != callback.CauseHangup || disc.ErrorMessage == nil || *disc.ErrorMessage != "no audio from the far end for 60s" {
			t.Errorf("disconnect %+v", disc)
		}
	})
}

func TestAudioLineRecordsWhatItCaptures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &memRecorder{}
		h := newHarnessWith(t, nil, replies(map[string]string{
			"https://app.test/initiate": `<Response><StartRecording multiChannel="true"/><PauseRecording/><ResumeRecording/>` +
				`<Record silenceTimeout="2" maxDuration="60" recordCompleteUrl="/done"/></Response>`,
			"https://app.test/done": hangup,
		}), func(cfg *engine.Config) { cfg.Recorder = rec })
		defer h.close()
		line := &audioLine{}
		h.audioInbound(line)
		synctest.Wait()
		// The caller speaks for 3 s: the line reports it every half second.
		// Quiet after that ends the recording 2 s later, not earlier.
		for range 6 {
			time.Sleep(500 * time.Millisecond)
			line.far(engine.PhoneEvent{Kind: engine.PhoneSpeech})
		}
		h.settle(time.Hour)
		if got := line.asked(); got != "answered, recording, capture 2, recording, capture 1, hangup" {
			t.Errorf("the line was asked: %s", got)
		}
		line.mu.Lock()
		callLog, recLog := line.captures[0].log, line.captures[1].log
		line.mu.Unlock()
		if strings.Join(callLog, ",") != "pause,resume,stop" || strings.Join(recLog, ",") != "stop" {
			t.Errorf("captures: call %v, record %v", callLog, recLog)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.audio) != 2 || len(rec.channels) != 0 {
			t.Fatalf("saved %d recordings of real audio and %d simulated", len(rec.audio), len(rec.channels))
		}
		if len(rec.audio[0].Channels) != 1 || len(rec.audio[1].Channels) != 2 || rec.audio[0].Length() != time.Second {
			t.Errorf("saved audio: %d and %d channels", len(rec.audio[0].Channels), len(rec.audio[1].Channels))
		}
		var done *callback.RecordComplete
		for _, d := range h.app.events() {
			if ev, ok := d.event.(*callback.RecordComplete); ok {
				done = ev
				if d.at != 5*time.Second {
					t.Errorf("recordComplete at %v, want 5s (3 s of speech, then 2 s of quiet)", d.at)
				}
			}
		}
		if done == nil {
			t.Error("no recordComplete")
		}
	})
}

func TestAudioLineSendsDigitsWithTheirTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil, replies(map[string]string{
			"https://app.test/initiate": `<Response><SendDtmf toneDuration="150" toneInterval="70">12w3</SendDtmf></Response>`,
		}))
		defer h.close()
		line := &audioLine{}
		h.audioInbound(line)
		h.settle(time.Hour)
		line.mu.Lock()
		defer line.mu.Unlock()
		if len(line.digits) != 1 || line.digits[0] != (engine.Digits{Keys: "12w3", Tone: 150 * time.Millisecond, Gap: 70 * time.Millisecond}) {
			t.Errorf("digits sent: %+v", line.digits)
		}
		// Three tones of 220 ms and a half-second pause.
		if got := summary(h.app.events()); got != "initiate@0s\ndisconnect@1.16s cause=hangup\n" {
			t.Errorf("webhooks:\n%s", got)
		}
	})
}

// audioNet places calls on audioLines, answered at once by the far end.
type audioNet struct {
	line *audioLine
	dial engine.Dial
}

func (n *audioNet) Dial(d engine.Dial, notify func(engine.PhoneEvent)) (engine.Line, error) {
	n.dial = d
	n.line.mu.Lock()
	n.line.notify = notify
	n.line.mu.Unlock()
	go notify(engine.PhoneEvent{Kind: engine.PhoneAnswered, GreetingFollows: d.Detect != nil})
	return n.line, nil
}

func (n *audioNet) Incoming(engine.Dial, func(engine.PhoneEvent)) (engine.Line, error) {
	return nil, fmt.Errorf("no inbound calls here")
}

// Machine detection on a line that carries audio: the line hears the
// greeting and reports it; the engine's detector decides, and the result
// is known as long after the answer as it would be for a simulated phone
// saying the same.
func TestAudioLineMachineDetection(t *testing.T) {
	cases := []struct {
		name     string
		sync     bool
		greeting *engine.Greeting // nil: the line never reports one
		reportAt time.Duration
		want     string
	}{
		// A person says hello for a second after half a second; 1 s of
		// quiet (speechEndThreshold) later the line knows it: 2.5 s.
		{name: "async person", greeting: &engine.Greeting{Delay: 500 * time.Millisecond, Length: time.Second}, reportAt: 2500 * time.Millisecond,
			want: "answer@0s\nmachineDetectionComplete@2.5s human\n"},
		// A machine talks on: at speechThreshold (3 s) it is one. The
		// line reported a little early: the result still comes at 3 s.
		{name: "sync machine", sync: true, greeting: &engine.Greeting{Delay: 0, Length: 3 * time.Second}, reportAt: 2 * time.Second,
			want: "answer@3s answering-machine\n"},
		{name: "sync, the line never reports", sync: true, want: "answer@12s timeout\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				line := &audioLine{}
				net := &audioNet{line: line}
				h := newHarnessWith(t, nil, replies(map[string]string{
					"https://app.test/answer": `<Response><Pause duration="30"/></Response>`,
				}), func(cfg *engine.Config) { cfg.Network = net })
				defer h.close()
				id := h.call("+15553330400", func(call *engine.Call) {
					md := engine.DefaultMachineDetection()
					md.Sync = c.sync
					md.SpeechEndThreshold, md.SpeechThreshold, md.DetectionTimeout = time.Second, 3*time.Second, 10*time.Second
					md.Callback = engine.Target{URL: "https://app.test/amd"}
					call.MachineDetection = &md
				})
				synctest.Wait()
				if net.dial.Detect == nil || net.dial.Detect.SpeechThreshold != 3*time.Second {
					t.Fatalf("the line was not asked to listen: %+v", net.dial.Detect)
				}
				if c.greeting != nil {
					time.Sleep(c.reportAt)
					line.far(engine.PhoneEvent{Kind: engine.PhoneGreeting, Greeting: *c.greeting})
				}
				time.Sleep(20 * time.Second)
				synctest.Wait()
				var b strings.Builder
				for _, d := range h.app.events() {
					switch ev := d.event.(type) {
					case *callback.Answer:
						fmt.Fprintf(&b, "answer@%gs", d.at.Seconds())
						if r := ev.MachineDetectionResult; r != nil {
							fmt.Fprintf(&b, " %s", r.Value)
						}
						b.WriteString("\n")
					case *callback.MachineDetectionComplete:
						fmt.Fprintf(&b, "machineDetectionComplete@%gs %s\n", d.at.Seconds(), ev.MachineDetectionResult.Value)
					}
				}
				if got := b.String(); got != c.want {
					t.Errorf("webhooks:\n%s\nwant:\n%s", got, c.want)
				}
				if err := h.eng.UpdateCall(context.Background(), "9900000", id, engine.Update{Complete: true}); err != nil {
					t.Log(err)
				}
				h.settle(time.Hour)
			})
		})
	}
}
