package tts_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/audio"
	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/tts"
)

func babble(t testing.TB, r tts.Request) pcm.Clip {
	t.Helper()
	clip, err := tts.Babble{}.Synthesize(context.Background(), r)
	if err != nil {
		t.Fatalf("Babble(%+v): %v", r, err)
	}
	return clip
}

// TestBabbleLasts: a clip lasts what the engine times the sentence at,
// audio.SpeechLength, within 10%, at 8 kHz.
func TestBabbleLasts(t *testing.T) {
	for _, text := range []string{
		"Hi",
		"Hello.",
		"Your call is important to us, please stay on the line.",
		"Press 1 for sales. Press 2 for support! Or hold for an operator?",
		"One... two... three.",
		"Ünïcödé wörds, and 日本語のテキスト。",
		strings.Repeat("This sentence is said again and again. ", 40),
		"?!",
	} {
		clip := babble(t, tts.Request{Text: text})
		want := audio.SpeechLength(text)
		if clip.Rate != 8000 {
			t.Errorf("%q: rate %d, want 8000", text, clip.Rate)
		}
		if got := clip.Duration(); math.Abs(float64(got-want)) > 0.1*float64(want) {
			t.Errorf("%q lasts %v, want %v ± 10%%", text, got, want)
		}
	}
}

// TestBabbleIsDeterministic: the same request gives the same samples; a
// different text or voice gives others.
func TestBabbleIsDeterministic(t *testing.T) {
	r := tts.Request{Text: "Thank you for calling. Goodbye."}
	a, b := babble(t, r), babble(t, r)
	if !slices.Equal(a.Samples, b.Samples) {
		t.Error("two clips of one request differ")
	}
	for _, other := range []tts.Request{
		{Text: "Thank you for calling. Goodbye!"},
		{Text: r.Text, Gender: "male"},
		{Text: r.Text, Voice: "julie"},
	} {
		if slices.Equal(a.Samples, babble(t, other).Samples) {
			t.Errorf("%+v sounds the same as %+v", other, r)
		}
	}
}

// TestBabbleSpeaksInWordsAndSentences: a VAD hears speech in each
// sentence, the pauses between sentences are silent, words have a speech
// level, and nothing clips.
func TestBabbleSpeaksInWordsAndSentences(t *testing.T) {
	text := "Welcome to the support line. Please say your account number. Thank you!"
	clip := babble(t, tts.Request{Text: text})
	const frame = 160 // 20 ms

	// Silences of 300 ms or more: the two pauses between sentences, and
	// no pause between words is that long.
	type span struct{ from, to int }
	var silences []span
	quiet := -1
	for i := 0; i+frame <= len(clip.Samples); i += frame {
		silent := pcm.RMS(clip.Samples[i:i+frame]) < 0.003 // −50 dBFS
		switch {
		case silent && quiet < 0:
			quiet = i
		case !silent && quiet >= 0:
			if i-quiet >= 300*8 {
				silences = append(silences, span{quiet, i})
			}
			quiet = -1
		}
	}
	if len(silences) != 2 {
		t.Fatalf("silences of 300 ms or more at %v (samples), want the 2 between the 3 sentences", silences)
	}
	sentences := []span{{0, silences[0].from}, {silences[0].to, silences[1].from}, {silences[1].to, len(clip.Samples)}}
	for i, s := range sentences {
		if s.to-s.from < 8000/2 {
			t.Errorf("sentence %d lasts %d samples, want at least half a second", i+1, s.to-s.from)
		}
	}

	// The VAD hears speech in each sentence and none in the pauses.
	vad := pcm.NewVAD(8000)
	heard := make([]bool, 3)
	for i := 0; i+frame <= len(clip.Samples); i += frame {
		speaking := vad.Feed(clip.Samples[i : i+frame])
		for k, s := range sentences {
			if speaking && i >= s.from && i+frame <= s.to {
				heard[k] = true
			}
		}
		for _, s := range silences {
			if speaking && i >= s.from+320*8 && i+frame <= s.to { // after the VAD's hang-over
				t.Errorf("the VAD hears speech at %v, in a pause between sentences", time.Duration(i)*time.Second/8000)
			}
		}
	}
	for k, ok := range heard {
		if !ok {
			t.Errorf("the VAD hears no speech in sentence %d", k+1)
		}
	}

	// Speech level over the words: about −20 dBFS; peaks below full scale.
	var words []int16
	for _, s := range sentences {
		words = append(words, clip.Samples[s.from:s.to]...)
	}
	if db := 20 * math.Log10(pcm.RMS(words)); db < -23 || db > -17 {
		t.Errorf("speech level %.1f dBFS, want about -20", db)
	}
	peak := 0
	for _, v := range clip.Samples {
		peak = max(peak, int(math.Abs(float64(v))))
	}
	if peak >= 32000 {
		t.Errorf("peak %d: at full scale", peak)
	}
}

// TestBabblePitchFollowsTheVoice: a male voice speaks lower than a female
// one, near 120 and 210 Hz.
func TestBabblePitchFollowsTheVoice(t *testing.T) {
	text := "Hello, how are you doing today, my friend?"
	for _, c := range []struct {
		r      tts.Request
		lo, hi float64
	}{
		{tts.Request{Text: text, Gender: "male"}, 90, 150},
		{tts.Request{Text: text, Voice: "paul"}, 90, 150},
		{tts.Request{Text: text}, 160, 270},
		{tts.Request{Text: text, Gender: "female"}, 160, 270},
		{tts.Request{Text: text, Voice: "susan", Gender: "male"}, 160, 270}, // the voice wins, as in Bandwidth
	} {
		if f := pitch(babble(t, c.r).Samples, 8000); f < c.lo || f > c.hi {
			t.Errorf("%+v: pitch %.0f Hz, want %.0f to %.0f", c.r, f, c.lo, c.hi)
		}
	}
}

// pitch is the median over the loud 40 ms frames of s of the fundamental
// found by autocorrelation between 70 and 400 Hz.
func pitch(s []int16, rate int) float64 {
	const frame = 320
	var found []float64
	for i := 0; i+frame <= len(s); i += frame / 2 {
		f := s[i : i+frame]
		if pcm.RMS(f) < 0.05 {
			continue
		}
		energy := 0.0
		for _, v := range f {
			energy += float64(v) * float64(v)
		}
		best, bestLag := 0.0, 0
		for lag := rate / 400; lag <= rate/70; lag++ {
			sum := 0.0
			for j := lag; j < frame; j++ {
				sum += float64(f[j]) * float64(f[j-lag])
			}
			if sum /= energy * float64(frame-lag) / frame; sum > best {
				best, bestLag = sum, lag
			}
		}
		if bestLag > 0 && best > 0.3 {
			found = append(found, float64(rate)/float64(bestLag))
		}
	}
	if len(found) == 0 {
		return 0
	}
	slices.Sort(found)
	return found[len(found)/2]
}

// TestBabbleSaysSSMLText: SSML is said as its text without the tags, and
// its entities as the characters they stand for.
func TestBabbleSaysSSMLText(t *testing.T) {
	plain := babble(t, tts.Request{Text: "Hello there, friend."})
	for _, ssml := range []string{
		`Hello <emphasis level="strong">there</emphasis>, friend.`,
		`<speak>Hello there, friend.</speak>`,
		`<?xml version="1.0"?><speak version="1.0">Hello <prosody rate="slow">there</prosody>, friend.</speak>`,
	} {
		if got := babble(t, tts.Request{SSML: ssml}); !slices.Equal(got.Samples, plain.Samples) {
			t.Errorf("SSML %s sounds unlike its text (%d samples against %d)", ssml, len(got.Samples), len(plain.Samples))
		}
	}
	amp := babble(t, tts.Request{SSML: "Tom &amp; Jerry"})
	if want := audio.SpeechLength("Tom &amp; Jerry"); amp.Duration() != want {
		t.Errorf("an entity: %v, want %v as the engine times it", amp.Duration(), want)
	}
}

func TestBabbleEmptyAndRefused(t *testing.T) {
	for _, r := range []tts.Request{{}, {Text: "  \n"}, {SSML: "<speak> </speak>"}, {SSML: `<break time="1s"/>`}} {
		clip, err := tts.Babble{}.Synthesize(context.Background(), r)
		if err != nil || len(clip.Samples) != 0 {
			t.Errorf("%+v: %d samples, %v; want an empty clip and no error", r, len(clip.Samples), err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (tts.Babble{}).Synthesize(ctx, tts.Request{Text: "hello"}); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled context: %v", err)
	}
	long := strings.Repeat("a", int(tts.MaxBabble/time.Second)*audio.SpeechRate+1)
	if _, err := (tts.Babble{}).Synthesize(context.Background(), tts.Request{Text: long}); err == nil || !strings.Contains(err.Error(), "longer than 10m0s") {
		t.Errorf("text of more than 30 minutes: %v", err)
	}
}

// BenchmarkBabble reports the cost of a second of speech (ns/audio-s).
func BenchmarkBabble(b *testing.B) {
	r := tts.Request{Text: "Thank you for calling voicehook. Your call is important to us; please stay on the line, and an agent will answer shortly."}
	var seconds float64
	for b.Loop() {
		clip, _ := tts.Babble{}.Synthesize(context.Background(), r)
		seconds += clip.Duration().Seconds()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/seconds, "ns/audio-s")
}
