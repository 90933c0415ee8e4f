package stt_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/stt"
)

// need skips a test when a program is not installed, except in CI, where a
// missing program is a broken build.
func need(t testing.TB, program, packages string) {
	t.Helper()
	if _, err := exec.LookPath(program); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (apt-get install %s); CI must run this test", program, packages)
		}
		t.Skipf("%s is not installed (Debian packages %s)", program, packages)
	}
}

func needPocketsphinx(t testing.TB) {
	t.Helper()
	need(t, "pocketsphinx_continuous", "pocketsphinx pocketsphinx-en-us")
	if _, err := os.Stat(stt.DefaultModelDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no model at %s (apt-get install pocketsphinx-en-us); CI must run this test", stt.DefaultModelDir)
		}
		t.Skipf("no model at %s (Debian package pocketsphinx-en-us)", stt.DefaultModelDir)
	}
	need(t, "espeak-ng", "espeak-ng")
}

// speak returns espeak-ng's rendering of text with pad of silence before
// and after it, and where the speech lies in the clip.
func speak(t testing.TB, text string, pad time.Duration) (clip pcm.Clip, from, to time.Duration) {
	t.Helper()
	out, err := exec.Command("espeak-ng", "--stdout", text).Output()
	if err != nil {
		t.Fatalf("espeak-ng %q: %v", text, err)
	}
	c, err := pcm.DecodeWAV(bytes.NewReader(out), 0)
	if err != nil {
		t.Fatalf("espeak-ng's WAV: %v", err)
	}
	// Where espeak-ng's own leading and trailing silence ends.
	first, last := -1, -1
	for i, s := range c.Samples {
		if s > 300 || s < -300 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		t.Fatalf("espeak-ng said %q in silence", text)
	}
	n := int(pad * time.Duration(c.Rate) / time.Second)
	samples := make([]int16, n, 2*n+len(c.Samples))
	samples = append(samples, c.Samples...)
	samples = append(samples, make([]int16, n)...)
	at := func(i int) time.Duration { return time.Duration(n+i) * time.Second / time.Duration(c.Rate) }
	return pcm.Clip{Rate: c.Rate, Samples: samples}, at(first), at(last + 1)
}

// checkTimings fails unless r's words lie within the speech, from to to
// (give or take tolerance), in order and without overlap.
func checkTimings(t *testing.T, r stt.Result, from, to time.Duration) {
	t.Helper()
	const tolerance = 150 * time.Millisecond
	var prev time.Duration
	for i, w := range r.Words {
		if w.Start < prev || w.End <= w.Start {
			t.Errorf("word %d %q from %v to %v: after the previous word's end %v, and not empty, wanted", i, w.Text, w.Start, w.End, prev)
		}
		if w.Start < from-tolerance || w.End > to+tolerance {
			t.Errorf("word %d %q from %v to %v lies outside the speech (%v to %v)", i, w.Text, w.Start, w.End, from, to)
		}
		if w.Confidence < 0 || w.Confidence > 1 {
			t.Errorf("word %d %q: confidence %v", i, w.Text, w.Confidence)
		}
		prev = w.End
	}
	var words []string
	for _, w := range r.Words {
		words = append(words, w.Text)
	}
	if got := strings.Join(words, " "); got != r.Text {
		t.Errorf("text %q, but words %q", r.Text, got)
	}
}

func TestPocketsphinxTranscribes(t *testing.T) {
	needPocketsphinx(t)
	clip, from, to := speak(t, "I want to cancel my order. My account number is one two three four five.", time.Second)
	var p stt.Pocketsphinx
	r, err := p.Recognize(context.Background(), clip, stt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("heard %q (confidence %.2f), speech from %v to %v", r.Text, r.Confidence, from, to)
	for _, w := range r.Words {
		t.Logf("  %-10s %v–%v %.3f", w.Text, w.Start, w.End, w.Confidence)
	}
	if len(r.Words) < 3 {
		t.Fatalf("%d words heard in 4 s of speech", len(r.Words))
	}
	checkTimings(t, r, from, to)
	if r.Confidence <= 0 || r.Confidence > 1 {
		t.Errorf("confidence %v", r.Confidence)
	}
}

// telephone returns clip as a call carries it: 8 kHz G.711 μ-law.
func telephone(clip pcm.Clip) pcm.Clip {
	c := pcm.Resample(clip, 8000)
	return pcm.Clip{Rate: 8000, Samples: pcm.DecodeULaw(nil, pcm.EncodeULaw(nil, c.Samples))}
}

// TestPocketsphinxPhrases checks that a grammar makes IVR input reliable
// where it is: yes/no and a digit string said clearly. What else it gets
// right on espeak-ng's voice, and on the same audio after a telephone line
// (8 kHz μ-law, outside the 16 kHz model's band), is logged as measured.
func TestPocketsphinxPhrases(t *testing.T) {
	needPocketsphinx(t)
	yesNo := []string{"yes", "no"}
	menu := []string{"sales", "billing", "support", "operator"}
	cases := []struct {
		say     string
		phrases []string
		want    string
		exact   bool // asserted on wideband audio; otherwise measured
	}{
		{"yes", yesNo, "yes", true},
		{"no", yesNo, "no", true},
		{"one two three four five", stt.Digits, "one two three four five", true},
		{"nine eight seven six", stt.Digits, "nine eight seven six", false},
		{"billing", menu, "billing", true},
		{"operator", menu, "operator", true},
		{"Press 4 to speak to an agent", []string{"press 4 to speak to an agent", "goodbye"}, "press four to speak to an agent", true},
	}
	var p stt.Pocketsphinx
	right := map[string]int{}
	for _, tc := range cases {
		clip, from, to := speak(t, tc.say, 500*time.Millisecond)
		for _, line := range []struct {
			name string
			clip pcm.Clip
		}{{"wideband", clip}, {"telephone", telephone(clip)}} {
			r, err := p.Recognize(context.Background(), line.clip, stt.Options{Phrases: tc.phrases})
			if err != nil {
				t.Fatalf("%q %s: %v", tc.say, line.name, err)
			}
			switch {
			case r.Text == tc.want:
				right[line.name]++
			case tc.exact && line.name == "wideband":
				t.Errorf("%q with phrases %q: heard %q", tc.say, tc.phrases, r.Text)
			default:
				t.Logf("%s: %q with phrases %q: heard %q", line.name, tc.say, tc.phrases, r.Text)
			}
			checkTimings(t, r, from, to)
			if r.Text != "" && r.Confidence != 1 {
				t.Errorf("%q %s: confidence %v; pocketsphinx's grammar search gives 1", tc.say, line.name, r.Confidence)
			}
		}
	}
	t.Logf("with a grammar: %d of %d right on wideband audio, %d of %d after a telephone line",
		right["wideband"], len(cases), right["telephone"], len(cases))
}

func TestPocketsphinxSilenceIsNotSpeech(t *testing.T) {
	needPocketsphinx(t)
	var p stt.Pocketsphinx
	silence := pcm.Clip{Rate: 8000, Samples: make([]int16, 3*8000)}
	hiss := pcm.Clip{Rate: 8000, Samples: make([]int16, 3*8000)}
	seed := uint32(1)
	for i := range hiss.Samples {
		seed = seed*1664525 + 1013904223
		hiss.Samples[i] = int16(int32(seed>>16)%61 - 30) // about -60 dBFS
	}
	for _, c := range []struct {
		name string
		clip pcm.Clip
	}{{"silence", silence}, {"faint hiss", hiss}, {"nothing", pcm.Clip{Rate: 8000}}} {
		for _, o := range []stt.Options{{}, {Phrases: stt.Digits}} {
			r, err := p.Recognize(context.Background(), c.clip, o)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if r.Text != "" || len(r.Words) != 0 || r.Confidence != 0 {
				t.Errorf("%s with phrases %q: heard %+v", c.name, o.Phrases, r)
			}
		}
	}
}

// sentences are what the word error rate is measured on: what callers say
// to an IVR or a voice bot.
var sentences = []string{
	"I want to cancel my order.",
	"My account number is one two three four five.",
	"Please transfer me to the billing department.",
	"Yes, that is correct.",
	"I would like to speak to an agent about my bill.",
}

func TestPocketsphinxWordErrorRate(t *testing.T) {
	needPocketsphinx(t)
	var p stt.Pocketsphinx
	for _, line := range []string{"wideband", "telephone"} {
		var errs, words float64
		for _, s := range sentences {
			clip, _, _ := speak(t, s, 300*time.Millisecond)
			if line == "telephone" {
				clip = telephone(clip)
			}
			r, err := p.Recognize(context.Background(), clip, stt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			n := float64(len(strings.Fields(s)))
			wer := stt.WER(s, r.Text)
			errs += wer * n
			words += n
			t.Logf("%s: WER %.2f: %q heard as %q", line, wer, s, r.Text)
		}
		total := errs / words
		t.Logf("%s: WER %.2f over %d sentences (%v words)", line, total, len(sentences), words)
		if total >= 1 {
			t.Errorf("%s: WER %.2f: nothing recognised", line, total)
		}
	}
}

func TestPocketsphinxHearsQuietSpeech(t *testing.T) {
	needPocketsphinx(t)
	clip, from, to := speak(t, "yes", 500*time.Millisecond)
	for i, s := range clip.Samples {
		clip.Samples[i] = s / 10 // 20 dB down
	}
	var p stt.Pocketsphinx
	r, err := p.Recognize(context.Background(), clip, stt.Options{Phrases: []string{"yes", "no"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Text != "yes" {
		t.Errorf("\"yes\" 20 dB down: heard %q", r.Text)
	}
	checkTimings(t, r, from, to)
}

// fiveSeconds returns 5 s of espeak-ng's speech, at 22050 Hz as it speaks.
func fiveSeconds(b *testing.B) pcm.Clip {
	clip, _, _ := speak(b, "I want to cancel my order. My account number is one two three four five.", 0)
	n := 5 * clip.Rate
	for len(clip.Samples) < n {
		clip.Samples = append(clip.Samples, 0)
	}
	clip.Samples = clip.Samples[:n]
	return clip
}

// BenchmarkPocketsphinx5s recognises 5 s of speech, a process per clip as
// in service; rtf is the real-time factor (time taken / 5 s).
func BenchmarkPocketsphinx5s(b *testing.B) {
	needPocketsphinx(b)
	clip := fiveSeconds(b)
	for _, bc := range []struct {
		name string
		o    stt.Options
	}{{"general", stt.Options{}}, {"digits", stt.Options{Phrases: stt.Digits}}} {
		b.Run(bc.name, func(b *testing.B) {
			var p stt.Pocketsphinx
			begin := time.Now()
			for b.Loop() {
				if _, err := p.Recognize(context.Background(), clip, bc.o); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(time.Since(begin).Seconds()/float64(b.N)/5, "rtf")
		})
	}
}

func TestPocketsphinxNamesAnUnknownWord(t *testing.T) {
	needPocketsphinx(t)
	clip, _, _ := speak(t, "yes", 300*time.Millisecond)
	var p stt.Pocketsphinx
	_, err := p.Recognize(context.Background(), clip, stt.Options{Phrases: []string{"yes", "frobnicatorix"}})
	if err == nil || !strings.Contains(err.Error(), "frobnicatorix") {
		t.Errorf("got %v, want an error naming the word not in the dictionary", err)
	}
	t.Log(err)
}
