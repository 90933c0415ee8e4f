package sip

import (
	"time"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
)

// greeter hears the far end's greeting for machine detection
// (engine.Dial.Detect): frame by frame, from the answer, it notes when
// speech starts and how long it lasts, and whether a beep ends it, and
// says when it has heard enough for the engine's detector to decide:
//
//   - no speech within silenceTimeout: silence;
//   - speech that stops for speechEndThreshold: its length;
//   - speech as long as speechThreshold: a machine's, known now, or with
//     delayResult once it ends (machineSpeechEndThreshold of quiet) or
//     beeps;
//   - a beep after speech: a machine's tone;
//   - detectionTimeout: whatever was heard.
//
// It is pure: the media sender feeds it, on its own goroutine.
type greeter struct {
	md     engine.MachineDetection
	at     time.Duration // heard so far
	spoke  bool
	start  time.Duration // when speech started
	last   time.Duration // the end of the latest speech
	tone   time.Duration // how long a pure tone has lasted
	beeped bool
	done   bool
}

// frameLength is the audio of one frame fed to the greeter.
const frameLength = 20 * time.Millisecond

// minBeep is how long a pure tone must last to be a machine's beep.
const minBeep = 200 * time.Millisecond

// feed takes one frame: whether voice activity detection hears speech,
// and whether the frame is a pure tone. It returns the greeting once it
// is known, once.
func (g *greeter) feed(speaking, tone bool) (engine.Greeting, bool) {
	if g.done {
		return engine.Greeting{}, false
	}
	g.at += frameLength
	if tone {
		g.tone += frameLength
	} else {
		g.tone = 0
	}
	switch {
	case g.tone >= minBeep && g.spoke:
		// A tone after speech: the machine's beep ends its greeting.
		g.beeped = true
		return g.finish()
	case speaking && !tone:
		if !g.spoke {
			g.spoke, g.start = true, g.at-frameLength
		}
		g.last = g.at
	}
	md := g.md
	switch {
	case g.at >= md.DetectionTimeout:
		if g.spoke && g.last == g.at {
			g.last = md.DetectionTimeout // still talking
		}
		return g.finish()
	case !g.spoke:
		if g.at >= md.SilenceTimeout {
			return g.finish()
		}
	case g.last-g.start >= md.SpeechThreshold:
		quiet := g.at - g.last
		if !md.DelayResult || quiet >= md.MachineSpeechEndThreshold {
			return g.finish()
		}
	case g.at-g.last >= md.SpeechEndThreshold:
		return g.finish()
	}
	return engine.Greeting{}, false
}

func (g *greeter) finish() (engine.Greeting, bool) {
	g.done = true
	if !g.spoke {
		return engine.Greeting{Delay: g.at}, true
	}
	return engine.Greeting{Delay: g.start, Length: g.last - g.start, Beep: g.beeped}, true
}

// pureTone reports whether a frame is a clear single tone, as a beep is:
// loud enough, and nearly all its energy at its dominant frequency.
func pureTone(frame []int16) bool {
	if pcm.RMS(frame) < 0.01 {
		return false
	}
	f := pcm.Frequency(frame, rate)
	return f >= 300 && f <= 3400 && pcm.Power(frame, rate, f) >= 0.8
}
