package pcm_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/pcm"
)

func TestTone(t *testing.T) {
	s := pcm.Tone(1000, 8000, 20*time.Millisecond, 1)
	if len(s) != 160 {
		t.Fatalf("20 ms at 8 kHz: %d samples", len(s))
	}
	// 1 kHz at 8 kHz repeats every 8 samples: 0, +peak/√2, +peak, …
	want := []int16{0, 23170, 32767, 23170, 0, -23170, -32767, -23170}
	if !slices.Equal(s[:8], want) || !slices.Equal(s[8:16], want) {
		t.Errorf("samples %v, want %v repeating", s[:16], want)
	}
	if rms := pcm.RMS(pcm.Tone(440, 8000, time.Second, 0.25)); math.Abs(rms-0.25/math.Sqrt2) > 0.001 {
		t.Errorf("quarter-scale sine: RMS %.4f", rms)
	}
	if s := pcm.Tone(440, 8000, 0, 1); len(s) != 0 {
		t.Errorf("zero duration: %d samples", len(s))
	}
}

func TestRMS(t *testing.T) {
	for _, tc := range []struct {
		s    []int16
		want float64
	}{
		{nil, 0},
		{make([]int16, 100), 0},
		{[]int16{-32768, -32768}, 1},
		{[]int16{16384, -16384}, 0.5},
	} {
		if got := pcm.RMS(tc.s); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("RMS(%v) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestPowerFindsTone(t *testing.T) {
	frame := 20 * time.Millisecond
	beep := pcm.Tone(1000, 8000, frame, 0.1)
	noise := whiteNoise(160, 0.1, 1)
	voice := pcm.Tone(300, 8000, frame, 0.3)
	cases := []struct {
		name     string
		s        []int16
		min, max float64
	}{
		{"1 kHz tone", beep, 0.95, 1},
		{"1 kHz tone under speech", pcm.Mix(nil, beep, voice), 0.05, 0.2},
		{"300 Hz tone", voice, 0, 0.02},
		{"white noise", noise, 0, 0.1},
		{"silence", make([]int16, 160), 0, 0},
	}
	for _, tc := range cases {
		if p := pcm.Power(tc.s, 8000, 1000); p < tc.min || p > tc.max {
			t.Errorf("%s: power at 1 kHz %.3f, want %.2f to %.2f", tc.name, p, tc.min, tc.max)
		}
	}
}

func TestFrequency(t *testing.T) {
	for _, rate := range []int{8000, 16000, 44100} {
		for _, f := range []float64{200, 300, 440, 697, 1000, 1633, 2500, 3500} {
			for _, d := range []time.Duration{20 * time.Millisecond, 100 * time.Millisecond, 2 * time.Second} {
				got := pcm.Frequency(pcm.Tone(f, rate, d, 0.5), rate)
				if math.Abs(got-f) > f*0.01 {
					t.Errorf("%v of %.0f Hz at %d Hz: %.1f Hz", d, f, rate, got)
				}
			}
		}
	}
	noisy := pcm.Mix(nil, pcm.Tone(1000, 8000, time.Second, 0.3), whiteNoise(8000, 0.1, 2))
	if got := pcm.Frequency(noisy, 8000); math.Abs(got-1000) > 20 {
		t.Errorf("1 kHz in noise: %.1f Hz", got)
	}
	if got := pcm.Frequency(make([]int16, 800), 8000); got != 0 {
		t.Errorf("silence: %.1f Hz, want 0", got)
	}
	if got := pcm.Frequency(nil, 8000); got != 0 {
		t.Errorf("nothing: %.1f Hz, want 0", got)
	}
}

func TestMix(t *testing.T) {
	a := []int16{1, 30000, -30000, 5}
	b := []int16{2, 30000, -30000}
	got := pcm.Mix([]int16{9}, a, b)
	if want := []int16{9, 3, 32767, -32768, 5}; !slices.Equal(got, want) {
		t.Errorf("Mix = %v, want %v", got, want)
	}
	if got := pcm.Mix(nil, b, a); !slices.Equal(got, []int16{3, 32767, -32768, 5}) {
		t.Errorf("Mix with the longer second = %v", got)
	}
}

// whiteNoise is n samples of uniform noise with the given RMS.
func whiteNoise(n int, rms float64, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, seed))
	out := make([]int16, n)
	peak := rms * math.Sqrt(3) * 32767
	for i := range out {
		out[i] = int16((2*r.Float64() - 1) * peak)
	}
	return out
}
