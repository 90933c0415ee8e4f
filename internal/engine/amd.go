package engine

import (
	"time"

	"github.com/voicehook/voicehook/callback"
)

// Answering-machine detection (createCall machineDetection). The far end's
// line reports what it says on answering — a Greeting: when speech starts,
// how long it lasts, whether a tone ends it — and detect applies the
// configured thresholds to that timing the way the real detector applies
// them to audio: no speech within silenceTimeout is silence; speech that
// ends (speechEndThreshold of quiet) shorter than speechThreshold is a
// human; speech as long as speechThreshold, or a tone, is a machine; no
// answer within detectionTimeout is a timeout.

// MachineDetection is the machineDetection object of createCall, defaults
// filled in.
type MachineDetection struct {
	// Sync puts the result in the answer webhook (mode sync); otherwise
	// the answer goes at once and machineDetectionComplete follows.
	Sync                      bool
	DetectionTimeout          time.Duration
	SilenceTimeout            time.Duration
	SpeechThreshold           time.Duration
	SpeechEndThreshold        time.Duration
	MachineSpeechEndThreshold time.Duration
	DelayResult               bool
	// Callback receives machineDetectionComplete (async mode).
	Callback Target
}

// DefaultMachineDetection has the documented defaults: async, 15 s
// detection, 10 s silence, 10 s speech threshold, 5 s speech end.
func DefaultMachineDetection() MachineDetection {
	return MachineDetection{DetectionTimeout: 15 * time.Second, SilenceTimeout: 10 * time.Second,
		SpeechThreshold: 10 * time.Second, SpeechEndThreshold: 5 * time.Second, MachineSpeechEndThreshold: 5 * time.Second}
}

// Greeting is what the far end says when it answers, as a detector hears
// it.
type Greeting struct {
	// Delay is the silence before speech starts.
	Delay time.Duration
	// Length is how long the speech lasts; 0 is silence.
	Length time.Duration
	// Beep is a tone at the end of the speech (an answering machine's).
	Beep bool
}

// detect returns the result and how long after the answer it is known.
func detect(md MachineDetection, g Greeting) (callback.MachineDetectionValue, time.Duration) {
	limit := md.DetectionTimeout
	within := func(v callback.MachineDetectionValue, at time.Duration) (callback.MachineDetectionValue, time.Duration) {
		if at > limit {
			return callback.DetectionTimeout, limit
		}
		return v, at
	}
	if g.Length == 0 || g.Delay >= md.SilenceTimeout {
		return within(callback.Silence, md.SilenceTimeout)
	}
	end := g.Delay + g.Length
	machine := g.Length >= md.SpeechThreshold
	if !machine && !g.Beep {
		return within(callback.Human, end+md.SpeechEndThreshold)
	}
	// A machine: known once its speech has lasted speechThreshold, or at
	// its tone, whichever is first.
	known := end
	if machine {
		known = min(known, g.Delay+md.SpeechThreshold)
	}
	if !md.DelayResult {
		return within(callback.AnsweringMachine, known)
	}
	if known > limit {
		return callback.DetectionTimeout, limit
	}
	// delayResult: wait for the greeting to end — the tone, or
	// machineSpeechEndThreshold of quiet — but no longer than
	// detectionTimeout.
	done := end
	if !g.Beep {
		done += md.MachineSpeechEndThreshold
	}
	return callback.AnsweringMachine, min(done, limit)
}
