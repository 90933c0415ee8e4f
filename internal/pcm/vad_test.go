package pcm_test

import (
	"bytes"
	"math"
	"os/exec"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/pcm"
)

const frameLen = 160 // 20 ms at 8 kHz

// speechLike is a voice-like signal: a buzzing vowel (a 140 Hz pulse train
// with harmonics) whose loudness rises and falls four times a second, as
// syllables do, at a peak level of about -12 dBFS.
func speechLike(d time.Duration) []int16 {
	n := int(d * 8000 / time.Second)
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / 8000
		env := math.Abs(math.Sin(2 * math.Pi * 2 * t)) // 4 syllables a second
		v := 0.0
		for h := 1; h <= 12; h++ {
			v += math.Sin(2*math.Pi*140*float64(h)*t) / float64(h)
		}
		out[i] = int16(env * v * 0.25 * 32767 / 2)
	}
	return out
}

// feed runs s through v frame by frame and returns the time of each
// frame's end with its verdict.
func feed(v *pcm.VAD, s []int16) []bool {
	var out []bool
	for i := 0; i+frameLen <= len(s); i += frameLen {
		out = append(out, v.Feed(s[i:i+frameLen]))
	}
	return out
}

func firstTrue(verdicts []bool) int {
	for i, b := range verdicts {
		if b {
			return i
		}
	}
	return -1
}

func TestVADSilenceIsNotSpeech(t *testing.T) {
	for name, s := range map[string][]int16{
		"digital silence": make([]int16, 8000*3),
		"line noise":      whiteNoise(8000*3, 0.002, 1), // -54 dBFS
		"mu-law idle":     pcm.DecodeULaw(nil, bytes.Repeat([]byte{0xFF, 0xFE, 0x7F, 0x7E}, 6000)),
	} {
		if i := firstTrue(feed(pcm.NewVAD(8000), s)); i >= 0 {
			t.Errorf("%s: speech reported at %v", name, time.Duration(i+1)*20*time.Millisecond)
		}
	}
}

func TestVADSpeechStartsQuickly(t *testing.T) {
	signals := map[string][]int16{
		"speech-like": speechLike(time.Second),
		"over noise":  pcm.Mix(nil, speechLike(time.Second), whiteNoise(8000, 0.01, 2)),
	}
	if path, err := exec.LookPath("espeak-ng"); err == nil {
		out, err := exec.Command(path, "--stdout", "-v", "en-us", "hello").Output()
		if err != nil {
			t.Fatalf("espeak-ng: %v", err)
		}
		clip, err := pcm.DecodeWAV(bytes.NewReader(out), 0)
		if err != nil {
			t.Fatal(err)
		}
		signals["espeak-ng"] = pcm.Resample(clip, 8000).Samples
	} else {
		t.Log("espeak-ng is not installed; testing with synthetic speech only")
	}
	for name, speech := range signals {
		v := pcm.NewVAD(8000)
		lead := feed(v, make([]int16, 8000)) // a second of silence first
		if firstTrue(lead) >= 0 {
			t.Fatalf("%s: speech during the leading silence", name)
		}
		// Speech starts at the first loud frame; it must be reported
		// within 100 ms of that.
		onset := 0
		for onset < len(speech)-frameLen && pcm.RMS(speech[onset:onset+frameLen]) < 0.01 {
			onset += frameLen
		}
		i := firstTrue(feed(v, speech[onset:]))
		if i < 0 || time.Duration(i+1)*20*time.Millisecond > 100*time.Millisecond {
			t.Errorf("%s: speech reported after %v, want within 100 ms", name, time.Duration(i+1)*20*time.Millisecond)
		}
	}
}

func TestVADPausesDoNotEndSpeech(t *testing.T) {
	v := pcm.NewVAD(8000)
	feed(v, make([]int16, 8000))
	var s []int16
	for range 4 {
		s = append(s, speechLike(500*time.Millisecond)...)
		s = append(s, make([]int16, 1600)...) // 200 ms between words
	}
	verdicts := feed(v, s)
	start := firstTrue(verdicts)
	if start < 0 {
		t.Fatal("no speech")
	}
	for i := start; i < len(verdicts); i++ {
		if !verdicts[i] {
			t.Fatalf("speech ended at %v, in a 200 ms pause", time.Duration(i+1)*20*time.Millisecond)
		}
	}
	after := feed(v, make([]int16, 8000)) // a second of silence ends it
	end := -1
	for i, b := range after {
		if !b {
			end = i
			break
		}
	}
	if end < 0 {
		t.Fatal("a second of silence did not end speech")
	}
	// The word ended before its trailing 200 ms pause, so the hangover
	// has 100 ms to run here.
	if got := time.Duration(end+1) * 20 * time.Millisecond; got > 300*time.Millisecond {
		t.Errorf("speech ended %v into the silence, want within 300 ms", got)
	}
	for i := end; i < len(after); i++ {
		if after[i] {
			t.Fatalf("speech again at %v into the silence", time.Duration(i+1)*20*time.Millisecond)
		}
	}
}

func TestVADAdaptsToSteadyNoise(t *testing.T) {
	v := pcm.NewVAD(8000)
	hum := pcm.Tone(60*3, 8000, 5*time.Second, 0.05) // a loud steady hum, -29 dBFS
	verdicts := feed(v, hum)
	for i, b := range verdicts[150:] { // after 3 s
		if b {
			t.Fatalf("steady hum still counts as speech at %v", time.Duration(150+i+1)*20*time.Millisecond)
		}
	}
	// Speech over the hum is still heard.
	over := pcm.Mix(nil, speechLike(time.Second), pcm.Tone(180, 8000, time.Second, 0.05))
	if firstTrue(feed(v, over)) < 0 {
		t.Error("speech over the hum not heard")
	}
}

func BenchmarkVADFeed(b *testing.B) {
	v := pcm.NewVAD(8000)
	s := speechLike(time.Second)
	b.SetBytes(2 * frameLen)
	i := 0
	for b.Loop() {
		v.Feed(s[i : i+frameLen])
		i = (i + frameLen) % (len(s) - frameLen)
	}
}
