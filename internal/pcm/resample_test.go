package pcm_test

import (
	"math"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/pcm"
)

func TestResampleKeepsFrequencyAndDuration(t *testing.T) {
	cases := []struct {
		from, to int
		freq     float64
	}{
		{44100, 8000, 440},
		{48000, 8000, 1000},
		{22050, 8000, 3000},
		{16000, 8000, 300},
		{8000, 16000, 440},
		{8000, 44100, 1000},
		{8000, 48000, 3400},
		{11025, 8000, 700},
		{44100, 48000, 440},
		{8000, 8001, 440}, // a ratio with more phases than are kept
	}
	for _, tc := range cases {
		in := pcm.Clip{Rate: tc.from, Samples: pcm.Tone(tc.freq, tc.from, time.Second, 0.5)}
		out := pcm.Resample(in, tc.to)
		if out.Rate != tc.to {
			t.Errorf("%d→%d: rate %d", tc.from, tc.to, out.Rate)
		}
		if want := tc.to; absInt(len(out.Samples)-want) > 1 {
			t.Errorf("%d→%d: %d samples, want %d±1", tc.from, tc.to, len(out.Samples), want)
		}
		if f := pcm.Frequency(out.Samples, out.Rate); math.Abs(f-tc.freq) > tc.freq*0.01 {
			t.Errorf("%d→%d: %.0f Hz came out as %.1f Hz", tc.from, tc.to, tc.freq, f)
		}
		// Away from the edges, the level is that of the input.
		mid := out.Samples[len(out.Samples)/4 : 3*len(out.Samples)/4]
		if rms := pcm.RMS(mid); math.Abs(rms-0.5/math.Sqrt2) > 0.01 {
			t.Errorf("%d→%d: RMS %.3f, want %.3f", tc.from, tc.to, rms, 0.5/math.Sqrt2)
		}
	}
}

func TestResampleSuppressesAliases(t *testing.T) {
	cases := []struct {
		from  int
		freq  float64
		alias float64 // where the tone would fold to at 8 kHz
	}{
		{44100, 6000, 2000},
		{48000, 5000, 3000},
		{22050, 7000, 1000},
		{16000, 4500, 3500},
		{44100, 12000, 4000},
	}
	for _, tc := range cases {
		in := pcm.Clip{Rate: tc.from, Samples: pcm.Tone(tc.freq, tc.from, time.Second, 0.9)}
		out := pcm.Resample(in, 8000)
		mid := out.Samples[len(out.Samples)/10 : 9*len(out.Samples)/10]
		if rms := pcm.RMS(mid); rms > 0.9/math.Sqrt2/10000 { // 80 dB down
			t.Errorf("%.0f Hz at %d Hz came out at RMS %.5f (%.0f dB): it aliased to %.0f Hz",
				tc.freq, tc.from, rms, 20*math.Log10(rms/(0.9/math.Sqrt2)), tc.alias)
		}
	}
}

func TestResampleSameRate(t *testing.T) {
	in := pcm.Clip{Rate: 8000, Samples: []int16{1, 2, 3}}
	out := pcm.Resample(in, 8000)
	if &out.Samples[0] != &in.Samples[0] || out.Rate != 8000 {
		t.Error("same rate did not return the clip unchanged")
	}
	if out := pcm.Resample(pcm.Clip{Rate: 44100}, 8000); len(out.Samples) != 0 || out.Rate != 8000 {
		t.Errorf("empty clip: %d samples at %d Hz", len(out.Samples), out.Rate)
	}
}

func TestResampleFullScaleDoesNotWrap(t *testing.T) {
	square := make([]int16, 4410)
	for i := range square {
		square[i] = 32767
		if i/50%2 == 1 {
			square[i] = -32768
		}
	}
	out := pcm.Resample(pcm.Clip{Rate: 44100, Samples: square}, 8000)
	// The filter rings past full scale at the edges of a square wave; the
	// samples must clip there, not wrap to the other sign.
	for i, s := range out.Samples[20 : len(out.Samples)-20] {
		if want := square[(i+20)*44100/8000]; (s < 0) != (want < 0) && abs(int(s)) > 16000 {
			t.Fatalf("sample %d is %d where the input is %d", i+20, s, want)
		}
	}
}

func absInt(x int) int { return max(x, -x) }
func abs(x int) int    { return absInt(x) }

func BenchmarkResample(b *testing.B) {
	in := pcm.Clip{Rate: 44100, Samples: pcm.Tone(440, 44100, time.Second, 0.5)}
	pcm.Resample(in, 8000) // build the filter outside the loop
	b.SetBytes(int64(2 * len(in.Samples)))
	for b.Loop() {
		pcm.Resample(in, 8000)
	}
}
