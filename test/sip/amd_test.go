package sip_test

import (
	"context"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/tts"
)

// speech is what espeak-ng says, at 8 kHz.
func speech(t *testing.T, text string) []int16 {
	t.Helper()
	require(t, "espeak-ng", "espeak-ng")
	clip, err := tts.Espeak("").Synthesize(context.Background(), tts.Request{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	return pcm.Resample(clip, 8000).Samples
}

// Machine detection on a real call: the softphone answers and speaks —
// a short "Hello?" like a person, or a long greeting and a beep like an
// answering machine — and voicehook's detector tells them apart from the
// audio alone.
func TestBaresipMachineDetection(t *testing.T) {
	greeting := speech(t, "Hi, you have reached the voicemail of Alex Martin. I cannot take your call right now. Please leave a message after the tone.")
	greeting = append(greeting, make([]int16, 2400)...) // 300 ms of quiet, then the beep
	greeting = append(greeting, pcm.Tone(1000, 8000, 600*time.Millisecond, 0.4)...)
	cases := []struct {
		name string
		ip   string
		say  []int16
		want callback.MachineDetectionValue
	}{
		{name: "a person", ip: "127.0.0.121", say: append(make([]int16, 4000), speech(t, "Hello?")...), want: callback.Human},
		{name: "an answering machine", ip: "127.0.0.123", say: greeting, want: callback.AnsweringMachine},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, map[string]string{"/answer": `<Response><Pause duration="20"/></Response>`})
			phone := c.ip[:len(c.ip)-1] + string(c.ip[len(c.ip)-1]+1)
			srv := startVoicehook(t, c.ip+":5060", a, "sip:"+phone+":5060")
			startBaresipSaying(t, phone, "+15553330500", c.say, 25*time.Second)
			time.Sleep(500 * time.Millisecond) // baresip listens
			id := placeCall(t, srv, a, "+15553330500", map[string]any{"machineDetection": map[string]any{
				"mode": "async", "callbackUrl": a.srv.URL + "/amd", "speechThreshold": 3, "speechEndThreshold": 1, "detectionTimeout": 15}})
			ev := a.wait(t, callback.EventMachineDetectionComplete, 20*time.Second).(*callback.MachineDetectionComplete)
			if r := ev.MachineDetectionResult; r == nil || r.Value != c.want {
				t.Errorf("machine detection: %+v, want %s", r, c.want)
			}
			updateCall(t, srv, id, `{"state":"completed"}`)
		})
	}
}
