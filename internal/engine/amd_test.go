package engine

import (
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
)

func TestDetect(t *testing.T) {
	s := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	person := Greeting{Delay: s(0.5), Length: s(1)}
	machine := Greeting{Delay: s(0.5), Length: s(6)}
	beeping := Greeting{Delay: s(0.5), Length: s(6), Beep: true}
	cases := []struct {
		name string
		edit func(*MachineDetection)
		g    Greeting
		want callback.MachineDetectionValue
		at   float64
	}{
		{"a person with the defaults", nil, person, callback.Human, 6.5},
		{"a shorter speechEndThreshold answers sooner", func(m *MachineDetection) { m.SpeechEndThreshold = s(1) }, person, callback.Human, 2.5},
		{"a 6 s greeting is a person under the default 10 s threshold", nil, machine, callback.Human, 11.5},
		{"…and a machine under a 5 s threshold", func(m *MachineDetection) { m.SpeechThreshold = s(5) }, machine, callback.AnsweringMachine, 5.5},
		{"a tone is a machine whatever the threshold", nil, beeping, callback.AnsweringMachine, 6.5},
		{"delayResult waits for the tone", func(m *MachineDetection) { m.SpeechThreshold = s(3); m.DelayResult = true }, beeping, callback.AnsweringMachine, 6.5},
		{"delayResult without a tone waits machineSpeechEndThreshold", func(m *MachineDetection) {
			m.SpeechThreshold, m.DelayResult, m.MachineSpeechEndThreshold = s(3), true, s(2)
		}, machine, callback.AnsweringMachine, 8.5},
		{"delayResult stops at detectionTimeout", func(m *MachineDetection) {
			m.SpeechThreshold, m.DelayResult, m.DetectionTimeout = s(3), true, s(7)
		}, machine, callback.AnsweringMachine, 7},
		{"silence", nil, Greeting{}, callback.Silence, 10},
		{"speech after silenceTimeout is silence", func(m *MachineDetection) { m.SilenceTimeout = s(2) }, Greeting{Delay: s(3), Length: s(1)}, callback.Silence, 2},
		{"silenceTimeout beyond detectionTimeout is a timeout", func(m *MachineDetection) { m.DetectionTimeout = s(5) }, Greeting{}, callback.DetectionTimeout, 5},
		{"a person still talking at detectionTimeout", func(m *MachineDetection) { m.DetectionTimeout = s(4) }, person, callback.DetectionTimeout, 4},
		{"a long greeting before speechThreshold is reached", func(m *MachineDetection) { m.DetectionTimeout = s(8) }, Greeting{Delay: s(0.5), Length: s(30)}, callback.DetectionTimeout, 8},
	}
	for _, c := range cases {
		md := DefaultMachineDetection()
		if c.edit != nil {
			c.edit(&md)
		}
		got, at := detect(md, c.g)
		if got != c.want || at != s(c.at) {
			t.Errorf("%s: %s after %v, want %s after %vs", c.name, got, at, c.want, c.at)
		}
	}
}
