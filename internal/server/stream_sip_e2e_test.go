package server_test

import (
	"bytes"
	"encoding/base64"
	stdjson "encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/phone/sip/siptest"
	"github.com/voicehook/voicehook/internal/server"
)

// A media stream of a real SIP call: a siptest phone calls voicehook
// (SIP on 127.0.0.234, the phone on 127.0.0.235, RTP 32200–32249) and
// sends a tone; the stream's destination hears it, as μ-law at 50
// messages a second, and what it plays back is heard by the phone.
func TestStreamOfASIPCall(t *testing.T) {
	dest := newDestination(t)
	app := newApp(t, map[string]string{"/initiate": `<Response>
		<StartStream name="bot" mode="bidirectional" tracks="both" destination="` + dest.url() + `" streamEventUrl="/events"/>
		<Pause duration="30"/></Response>`})
	srv := startServerWith(t, server.Config{InitiateURL: app.URL + "/initiate", StatusURL: app.URL + "/status",
		SIP: config.SIP{Addr: "127.0.0.234:0", RTPPorts: [2]int{32200, 32249}}})
	phone := siptest.New(t, "127.0.0.235")
	call, _ := callIn(t, srv, app, phone)
	call.Tone(toneCaller)
	app.waitFor(t, callback.EventMediaStreamStarted, sipWait)

	// The destination hears the caller's tone on the inbound track.
	var in []int16
	deadline := time.Now().Add(hearWithin)
	for time.Now().Before(deadline) {
		msgs, _ := dest.messages()
		in = in[:0]
		for _, m := range msgs {
			if m.EventType == "media" && m.Track == "inbound" {
				b, _ := base64.StdEncoding.DecodeString(m.Payload)
				in = pcm.DecodeULaw(in, b)
			}
		}
		if tail := last(in, 8000); siptest.Hears(tail, toneCaller) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if tail := last(in, 8000); !siptest.Hears(tail, toneCaller) {
		t.Fatalf("the destination does not hear the caller's %d Hz on the inbound track (level %.3f, dominant %.0f Hz over %d samples)",
			toneCaller, siptest.Level(tail), siptest.Dominant(tail), len(tail))
	}

	// What the destination plays, the caller hears.
	bot := pcm.EncodeULaw(nil, pcm.Tone(toneAgent, 8000, 3*time.Second, 0.3))
	dest.send <- fmt.Appendf(nil, `{"eventType":"playAudio","media":{"contentType":"audio/pcmu","payload":%q}}`, base64.StdEncoding.EncodeToString(bot))
	if !call.WaitHears(toneAgent, 500*time.Millisecond, hearWithin) {
		heard := call.Listen(window)
		t.Errorf("the caller does not hear the bot's %d Hz (level %.3f, dominant %.0f Hz)", toneAgent, siptest.Level(heard), siptest.Dominant(heard))
	}
	// The outbound track carries it too: it is what the call plays.
	msgs, at := dest.messages()
	var out []int16
	count := map[string]int{}
	for _, m := range msgs {
		if m.EventType == "media" {
			count[m.Track]++
			if m.Track == "outbound" {
				b, _ := base64.StdEncoding.DecodeString(m.Payload)
				out = pcm.DecodeULaw(out, b)
			}
		}
	}
	if !siptest.Hears(last(out, 4000), toneAgent) {
		t.Errorf("the outbound track does not carry the bot's %d Hz (dominant %.0f Hz)", toneAgent, siptest.Dominant(last(out, 4000)))
	}
	if span := at[len(at)-1].Sub(at[0]).Seconds(); span > 1 {
		for track, n := range count {
			if rate := float64(n) / span; rate < 40 || rate > 60 {
				t.Errorf("%s: %d messages in %.2fs: %.1f a second, want 50", track, n, span, rate)
			}
		}
	}
	// clear cuts the rest of the bot's three seconds.
	dest.send <- []byte(`{"eventType":"clear"}`)
	quiet := func(samples []int16) bool { return !siptest.Hears(samples, toneAgent) }
	if !call.WaitFor(quiet, 300*time.Millisecond, time.Second) {
		t.Errorf("the caller still hears the bot's %d Hz a second after clear", toneAgent)
	}
	call.Silence()
	if err := call.Hangup(); err != nil {
		t.Fatal(err)
	}
	app.waitFor(t, callback.EventMediaStreamStopped, sipWait)
	<-dest.closed
}

// last is the last n samples of s, or all of it.
func last(s []int16, n int) []int16 {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// needSpeech skips a test of speech recognition without espeak-ng (the
// caller's voice) and pocketsphinx (the recognizer), except under CI=true
// where it fails.
func needSpeech(t *testing.T) {
	t.Helper()
	var missing []string
	for prog, pkg := range map[string]string{"espeak-ng": "espeak-ng", "pocketsphinx_continuous": "pocketsphinx"} {
		if _, err := exec.LookPath(prog); err != nil {
			missing = append(missing, pkg)
		}
	}
	if _, err := os.Stat("/usr/share/pocketsphinx/model/en-us"); err != nil {
		missing = append(missing, "pocketsphinx-en-us")
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("speech recognition needs the Debian packages %v in CI", missing)
	}
	t.Skipf("speech recognition needs the Debian packages %v", missing)
}

// said is espeak-ng saying text, at 8 kHz, then a second and a half of
// silence.
func said(t *testing.T, text string) []int16 {
	t.Helper()
	out, err := exec.Command("espeak-ng", "--stdout", text).Output()
	if err != nil {
		t.Fatal(err)
	}
	clip, err := pcm.DecodeWAV(bytes.NewReader(out), 0)
	if err != nil {
		t.Fatal(err)
	}
	clip = pcm.Resample(clip, 8000)
	return append(clip.Samples, make([]int16, 12000)...)
}

// The recording of a real call is recognized from its audio: a caller's
// sentence gives words, silence gives none (never an invented transcript).
func TestRecordingOfASIPCallIsRecognized(t *testing.T) {
	needSpeech(t)
	app := newApp(t, map[string]string{"/initiate": `<Response>
		<Record maxDuration="4" transcribe="true" transcriptionAvailableUrl="/transcribed"/></Response>`})
	srv := startServerWith(t, server.Config{InitiateURL: app.URL + "/initiate", StatusURL: app.URL + "/status",
		SIP: config.SIP{Addr: "127.0.0.234:0", RTPPorts: [2]int{32200, 32249}}})
	for _, tc := range []struct {
		name  string
		voice []int16
		words bool
	}{
		{"a sentence", said(t, "Hello, I would like to speak to an agent about my account, please."), true},
		{"silence", nil, false},
	} {
		phone := siptest.New(t, "127.0.0.235")
		call, callID := callIn(t, srv, app, phone)
		call.Play(tc.voice)
		var got *callback.TranscriptionAvailable
		deadline := time.Now().Add(60 * time.Second)
		for got == nil && time.Now().Before(deadline) {
			for _, h := range app.got() {
				if e, ok := h.event.(*callback.TranscriptionAvailable); ok && e.CallID == callID {
					got = e
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got == nil {
			t.Fatalf("%s: no transcriptionAvailable within a minute; got %s", tc.name, app.types())
		}
		if got.Transcription.Status != callback.TranscriptionStatusAvailable {
			t.Fatalf("%s: transcription status %s", tc.name, got.Transcription.Status)
		}
		status, _, body := rest(t, srv, "GET", "/api/v2/accounts/9900000/calls/"+callID+"/recordings/"+got.RecordingID+"/transcription", "", "")
		var tr struct {
			Transcripts []struct {
				Text string `json:"text"`
			} `json:"transcripts"`
		}
		if status != 200 || stdjson.Unmarshal(body, &tr) != nil || len(tr.Transcripts) != 1 {
			t.Fatalf("%s: GET transcription: %d %s", tc.name, status, body)
		}
		text := strings.TrimSpace(tr.Transcripts[0].Text)
		if tc.words && len(strings.Fields(text)) < 2 {
			t.Errorf("%s: transcript %q: the caller's sentence gave no words", tc.name, text)
		}
		if !tc.words && text != "" {
			t.Errorf("%s: transcript %q of a silent caller: invented", tc.name, text)
		}
		t.Logf("%s: pocketsphinx heard %q", tc.name, text)
		call.Hangup()
	}
}

// Real-time transcription of a real call: the caller's sentence reaches
// the destination as transcription messages made from the audio, timed
// inside the speech, and is kept for REST; pocketsphinx's words are what
// they are (its accuracy is in the README), so the test asserts that
// they exist, not what they are.
func TestTranscriptionOfASIPCall(t *testing.T) {
	needSpeech(t)
	dest := newDestination(t)
	app := newApp(t, map[string]string{"/initiate": `<Response>
		<StartTranscription name="live" destination="` + dest.url() + `" transcriptionEventUrl="/tx"/>
		<Pause duration="30"/></Response>`})
	srv := startServerWith(t, server.Config{InitiateURL: app.URL + "/initiate", StatusURL: app.URL + "/status",
		SIP: config.SIP{Addr: "127.0.0.234:0", RTPPorts: [2]int{32200, 32249}}})
	phone := siptest.New(t, "127.0.0.235")
	call, callID := callIn(t, srv, app, phone)
	voice := said(t, "Hello, I would like to speak to an agent about my account, please.")
	speechLen := float64(len(voice)-12000) / 8000
	app.waitFor(t, callback.EventRealTimeTranscriptionStarted, sipWait)
	call.Play(voice)
	type item struct {
		Content   string  `json:"content"`
		StartTime float64 `json:"startTime"`
		EndTime   float64 `json:"endTime"`
		Type      string  `json:"type"`
	}
	type message struct {
		EventType  string  `json:"eventType"`
		Track      string  `json:"track"`
		Transcript string  `json:"transcript"`
		IsPartial  bool    `json:"isPartial"`
		StartTime  float64 `json:"startTime"`
		EndTime    float64 `json:"endTime"`
		Items      []item  `json:"items"`
	}
	var got *message
	deadline := time.Now().Add(60 * time.Second)
	for got == nil && time.Now().Before(deadline) {
		for _, raw := range dest.rawMessages() {
			var m message
			if stdjson.Unmarshal(raw, &m) == nil && m.EventType == "transcription" && m.Transcript != "" {
				got = &m
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got == nil {
		t.Fatalf("no transcription message within a minute; the destination got %d messages", len(dest.rawMessages()))
	}
	t.Logf("pocketsphinx heard %q from %.2fs to %.2fs", got.Transcript, got.StartTime, got.EndTime)
	// The first utterance starts within the first loop of the sentence
	// and ends within it (pauses may cut it in several).
	if got.Track != "inbound" || got.IsPartial || got.StartTime < 0 || got.EndTime <= got.StartTime || got.EndTime-got.StartTime > speechLen+0.5 ||
		len(got.Items) == 0 {
		t.Errorf("transcription %+v", *got)
	}
	for _, it := range got.Items {
		if it.StartTime < got.StartTime-0.3 || it.EndTime > got.EndTime+0.3 || it.Content == "" {
			t.Errorf("item %+v outside its utterance %.2f–%.2f", it, got.StartTime, got.EndTime)
		}
	}
	call.Silence()
	if err := call.Hangup(); err != nil {
		t.Fatal(err)
	}
	avail := app.waitFor(t, callback.EventRealTimeTranscriptionAvailable, sipWait).event.(*callback.RealTimeTranscriptionAvailable)
	if avail.RealTimeTranscription.Status != callback.TranscriptionStatusAvailable {
		t.Fatalf("realTimeTranscriptionAvailable: %+v", avail.RealTimeTranscription)
	}
	status, _, body := rest(t, srv, "GET", "/api/v2/accounts/9900000/calls/"+callID+"/transcriptions/"+avail.RealTimeTranscription.ID, "", "")
	var kept struct {
		Tracks []struct {
			Track      string  `json:"track"`
			Transcript string  `json:"transcript"`
			Confidence float64 `json:"confidence"`
		} `json:"tracks"`
	}
	if status != 200 || stdjson.Unmarshal(body, &kept) != nil || len(kept.Tracks) != 1 || kept.Tracks[0].Track != "inbound" ||
		!strings.Contains(kept.Tracks[0].Transcript, got.Transcript) {
		t.Errorf("GET the transcription: %d %s; want the inbound track with %q", status, body, got.Transcript)
	}
	conforms(t, "callTranscriptionResponse", body)
}
