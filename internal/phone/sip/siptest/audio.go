package siptest

import (
	"github.com/voicehook/voicehook/internal/pcm"
)

// Rate is the sample rate of the audio a Call sends and hears: G.711's
// 8 kHz.
const Rate = 8000

// block is the length, in samples, over which Hears measures a tone: 100
// ms, fine enough to tell tones 10 Hz apart, short enough that a gap in
// the audio (a lost packet) disturbs one block only.
const block = Rate / 10

// quiet is the RMS level (fraction of full scale) under which audio counts
// as silence: G.711's idle noise and the tail of a mix stay below it.
const quiet = 0.01

// Hears reports whether samples (8 kHz) carry a tone of freq Hz: they are
// louder than silence and at least a fifth of their energy lies at freq.
// A fifth leaves room for a mix of up to four voices and for G.711
// quantisation noise, yet rules out a tone that is not there (two tones
// 100 Hz or more apart share nothing over 100 ms blocks).
//
// The share is measured per 100 ms block and averaged by energy, so that
// the phase jumps where received packets were lost do not spoil it.
func Hears(samples []int16, freq float64) bool {
	return Level(samples) >= quiet && Share(samples, freq) >= 0.2
}

// Share is the part (0 to 1) of the energy of samples (8 kHz) that lies at
// freq, measured over 100 ms blocks and averaged by their energy: about 1
// for a pure tone, 1/n for each of n equally loud tones, 0 for silence.
func Share(samples []int16, freq float64) float64 {
	var sum, weight float64
	for len(samples) > 0 {
		b := samples[:min(block, len(samples))]
		samples = samples[len(b):]
		if len(b) < block/2 {
			break
		}
		e := pcm.RMS(b)
		e *= e
		sum += e * pcm.Power(b, Rate, freq)
		weight += e
	}
	if weight == 0 {
		return 0
	}
	return sum / weight
}

// Level is the RMS level of samples as a fraction of full scale: about
// 0.35 for a tone the phone sends (amplitude 0.5), under 0.01 for silence.
func Level(samples []int16) float64 { return pcm.RMS(samples) }

// Dominant is the dominant frequency of samples (8 kHz) in Hz, 0 for
// silence.
func Dominant(samples []int16) float64 { return pcm.Frequency(samples, Rate) }
