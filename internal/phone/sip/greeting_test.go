package sip

import (
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
)

// A greeting as a line hears it: stretches of speech, quiet and tone, in
// order, then quiet.
type stretch struct {
	what string // "speech", "quiet" or "tone"
	d    time.Duration
}

func TestGreeterHearsWhatTheDetectorNeeds(t *testing.T) {
	s := func(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }
	md := engine.MachineDetection{DetectionTimeout: s(15), SilenceTimeout: s(10), SpeechThreshold: s(3),
		SpeechEndThreshold: s(1), MachineSpeechEndThreshold: s(2)}
	delayed := md
	delayed.DelayResult = true
	cases := []struct {
		name    string
		md      engine.MachineDetection
		heard   []stretch
		want    engine.Greeting
		knownAt time.Duration
	}{
		{name: "a person says hello", md: md, heard: []stretch{{"quiet", s(0.5)}, {"speech", s(1)}},
			want: engine.Greeting{Delay: s(0.5), Length: s(1)}, knownAt: s(2.5)},
		{name: "a machine's long greeting is known at speechThreshold", md: md, heard: []stretch{{"quiet", s(0.4)}, {"speech", s(8)}},
			want: engine.Greeting{Delay: s(0.4), Length: s(3)}, knownAt: s(3.4)},
		{name: "delayResult waits for the greeting's end", md: delayed, heard: []stretch{{"speech", s(5)}},
			want: engine.Greeting{Length: s(5)}, knownAt: s(7)},
		{name: "delayResult ends at the beep", md: delayed, heard: []stretch{{"speech", s(4)}, {"quiet", s(0.3)}, {"tone", s(0.5)}},
			want: engine.Greeting{Length: s(4), Beep: true}, knownAt: s(4.5)},
		{name: "a pause inside a person's sentence does not end it", md: md, heard: []stretch{{"speech", s(1)}, {"quiet", s(0.6)}, {"speech", s(1)}},
			want: engine.Greeting{Length: s(2.6)}, knownAt: s(3.6)},
		{name: "nobody speaks", md: md, heard: nil, want: engine.Greeting{Delay: s(10)}, knownAt: s(10)},
		{name: "still talking at detectionTimeout", md: engine.MachineDetection{DetectionTimeout: s(4), SilenceTimeout: s(10), SpeechThreshold: s(10), SpeechEndThreshold: s(1)},
			heard: []stretch{{"quiet", s(1)}, {"speech", s(9)}}, want: engine.Greeting{Delay: s(1), Length: s(3)}, knownAt: s(4)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := &greeter{md: c.md}
			var frames []stretch
			for _, st := range c.heard {
				for range st.d / frameLength {
					frames = append(frames, stretch{what: st.what})
				}
			}
			for i := 0; i < 2000; i++ { // 40 s at most
				what := "quiet"
				if i < len(frames) {
					what = frames[i].what
				}
				got, ok := g.feed(what == "speech", what == "tone")
				if !ok {
					continue
				}
				at := time.Duration(i+1) * frameLength
				if got != c.want || at != c.knownAt {
					t.Errorf("heard %+v at %v, want %+v at %v", got, at, c.want, c.knownAt)
				}
				if _, again := g.feed(true, false); again {
					t.Error("the greeting was reported twice")
				}
				return
			}
			t.Error("the greeter never reported")
		})
	}
}

// A beep is a pure tone; speech, noise and silence are not.
func TestPureTone(t *testing.T) {
	if !pureTone(pcm.Tone(1000, rate, frameLength, 0.3)) {
		t.Error("a 1 kHz beep is not a pure tone")
	}
	if pureTone(make([]int16, frame)) {
		t.Error("silence is a pure tone")
	}
	chord := pcm.Mix(nil, pcm.Tone(440, rate, frameLength, 0.3), pcm.Tone(1330, rate, frameLength, 0.3))
	if pureTone(chord) {
		t.Error("two tones at once are a pure tone")
	}
}
