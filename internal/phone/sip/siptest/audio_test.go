package siptest_test

import (
	"math"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/phone/sip/siptest"
)

// g711 is s through PCMU and back, as a call carries it.
func g711(s []int16) []int16 { return pcm.DecodeULaw(nil, pcm.EncodeULaw(nil, s)) }

func tone(freq float64, amplitude float64) []int16 {
	return pcm.Tone(freq, siptest.Rate, time.Second, amplitude)
}

func TestHears(t *testing.T) {
	// A conference member hears two others mixed, at a quarter of full
	// scale each so that the sum does not clip.
	mix := g711(pcm.Mix(nil, tone(1000, 0.25), tone(1700, 0.25)))
	// Lost packets: every fifth 20 ms frame missing, the rest joined.
	var gappy []int16
	for i, s := 0, g711(tone(440, 0.5)); i+160 <= len(s); i += 160 {
		if i/160%5 != 4 {
			gappy = append(gappy, s[i:i+160]...)
		}
	}
	cases := []struct {
		name    string
		samples []int16
		freq    float64
		want    bool
	}{
		{"the tone", g711(tone(440, 0.5)), 440, true},
		{"a quiet tone", g711(tone(440, 0.05)), 440, true},
		{"another tone", g711(tone(1000, 0.5)), 440, false},
		{"a tone 100 Hz off", g711(tone(540, 0.5)), 440, false},
		{"first of a mix", mix, 1000, true},
		{"second of a mix", mix, 1700, true},
		{"not in a mix", mix, 440, false},
		{"with lost packets", gappy, 440, true},
		{"silence", make([]int16, siptest.Rate), 440, false},
		{"too quiet to count", g711(tone(440, 0.005)), 440, false},
		{"nothing", nil, 440, false},
	}
	for _, c := range cases {
		if got := siptest.Hears(c.samples, c.freq); got != c.want {
			t.Errorf("%s: Hears(%.0f Hz) = %v, want %v (level %.3f, share %.2f)", c.name, c.freq, got, c.want,
				siptest.Level(c.samples), siptest.Share(c.samples, c.freq))
		}
	}
}

func TestDominantAndLevel(t *testing.T) {
	s := g711(tone(1000, 0.5))
	if f := siptest.Dominant(s); math.Abs(f-1000) > 10 {
		t.Errorf("Dominant of 1000 Hz = %.1f", f)
	}
	if l := siptest.Level(s); math.Abs(l-0.354) > 0.02 {
		t.Errorf("Level of a half-scale tone = %.3f, want about 0.354", l)
	}
	if siptest.Dominant(nil) != 0 || siptest.Level(nil) != 0 || siptest.Share(nil, 440) != 0 {
		t.Error("empty audio is not silent")
	}
}
