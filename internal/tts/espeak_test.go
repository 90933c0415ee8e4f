package tts_test

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/tts"
)

// needEspeak skips a test when espeak-ng is not installed, except in CI,
// where a missing engine is a broken build.
func needEspeak(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("espeak-ng is not installed (apt-get install espeak-ng); CI must run this test")
		}
		t.Skip("espeak-ng is not installed (Debian package espeak-ng)")
	}
}

func TestEspeakSpeaks(t *testing.T) {
	needEspeak(t)
	e := tts.Espeak("")
	ctx := context.Background()
	plain, err := e.Synthesize(ctx, tts.Request{Text: "one two three"})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Rate != 22050 {
		t.Errorf("rate %d, want espeak-ng's 22050", plain.Rate)
	}
	if d := plain.Duration(); d < 500*time.Millisecond || d > 5*time.Second {
		t.Errorf("\"one two three\" lasts %v, want 0.5 s to 5 s", d)
	}
	if rms := pcm.RMS(plain.Samples); rms < 0.02 {
		t.Errorf("RMS %.4f: silent", rms)
	}

	paused, err := e.Synthesize(ctx, tts.Request{SSML: `one two <break time="1s"/> three`})
	if err != nil {
		t.Fatal(err)
	}
	if extra := paused.Duration() - plain.Duration(); extra < 700*time.Millisecond || extra > 1500*time.Millisecond {
		t.Errorf("a 1 s break made it %v longer (%v against %v)", extra, paused.Duration(), plain.Duration())
	}
}

func TestEspeakKnowsEveryMappedVoice(t *testing.T) {
	needEspeak(t)
	e := tts.Espeak("")
	for _, req := range []tts.Request{
		{Voice: "susan"}, {Voice: "julie"}, {Voice: "kate"}, {Voice: "ruth"}, {Voice: "paul"}, {Voice: "dave"}, {Voice: "stephen"},
		{Voice: "bridget"}, {Voice: "simon"}, {Voice: "katrin"}, {Voice: "stefan"},
		{Voice: "esperanza"}, {Voice: "violeta"}, {Voice: "jorge"}, {Voice: "rosa"}, {Voice: "lupe"}, {Voice: "pedro"},
		{Voice: "jolie"}, {Voice: "bernard"}, {Voice: "gabrielle"}, {Voice: "liam"},
		{Voice: "paola"}, {Voice: "luca"}, {Voice: "masako"}, {Voice: "kenji"},
		{Voice: "nadiya"}, {Voice: "anatoli"}, {Voice: "zeina"}, {Voice: "zhiyu"},
		{Locale: "pt_BR", Gender: "male"}, {Locale: "nl_NL"}, {Locale: "es_MX"},
	} {
		req.Text = "1"
		clip, err := e.Synthesize(context.Background(), req)
		if err != nil {
			t.Errorf("%+v (%s): %v", req, tts.EspeakVoice(req.Voice, req.Locale, req.Gender), err)
			continue
		}
		if pcm.RMS(clip.Samples) < 0.01 {
			t.Errorf("%+v (%s): silent", req, tts.EspeakVoice(req.Voice, req.Locale, req.Gender))
		}
	}
}
