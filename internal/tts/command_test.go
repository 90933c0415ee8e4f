package tts_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/tts"
)

// script writes an executable shell script into dir and returns its path.
func script(t *testing.T, dir, body string) string {
	t.Helper()
	path := filepath.Join(dir, "engine.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCommandContract(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no /bin/sh to run the test engine with")
	}
	dir := t.TempDir()
	want := []int16{0, 1000, -1000, 32767, -32768}
	var wav bytes.Buffer
	if err := pcm.WriteWAV(&wav, 16000, want); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "out.wav"), wav.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// The engine records its stdin, arguments and environment, and
	// answers with out.wav.
	path := script(t, dir, `d=$(dirname "$0")
cat > "$d/stdin"
printf '%s\n' "$@" > "$d/args"
printf 'voice=%s\nlocale=%s\ngender=%s\n' "$VOICEHOOK_TTS_VOICE" "$VOICEHOOK_TTS_LOCALE" "$VOICEHOOK_TTS_GENDER" > "$d/env"
cat "$d/out.wav"
`)
	cmd := &tts.Command{Path: path, Args: []string{"--fast", "two words"}}
	cases := []struct {
		name  string
		req   tts.Request
		stdin string
	}{
		{"plain text is escaped and wrapped",
			tts.Request{Text: `Press 1 if x < 2 & "y" > 3`, Voice: "julie", Locale: "en_US", Gender: "female"},
			`<speak>Press 1 if x &lt; 2 &amp; &#34;y&#34; &gt; 3</speak>`},
		{"SSML without a root is wrapped",
			tts.Request{SSML: `Hello <break time="1s"/> <emphasis>world</emphasis>`, Locale: "fr_FR"},
			`<speak>Hello <break time="1s"/> <emphasis>world</emphasis></speak>`},
		{"SSML with a root is kept",
			tts.Request{SSML: `<speak version="1.0">Hi</speak>`, Gender: "male"},
			`<speak version="1.0">Hi</speak>`},
		{"SSML with a declaration and root is kept",
			tts.Request{SSML: `<?xml version="1.0"?><speak>Hi</speak>`},
			`<?xml version="1.0"?><speak>Hi</speak>`},
		{"SSML beginning with another element is wrapped",
			tts.Request{SSML: `<speaker>Hi</speaker>`},
			`<speak><speaker>Hi</speaker></speak>`},
		{"SSML wins over text",
			tts.Request{SSML: `<s>one</s>`, Text: "two"},
			`<speak><s>one</s></speak>`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clip, err := cmd.Synthesize(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if clip.Rate != 16000 || !slices.Equal(clip.Samples, want) {
				t.Errorf("clip %v at %d Hz, want %v at 16000 Hz", clip.Samples, clip.Rate, want)
			}
			read := func(name string) string {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
			if got := read("stdin"); got != tc.stdin {
				t.Errorf("stdin %q, want %q", got, tc.stdin)
			}
			if got := read("args"); got != "--fast\ntwo words\n" {
				t.Errorf("args %q", got)
			}
			wantEnv := "voice=" + tc.req.Voice + "\nlocale=" + tc.req.Locale + "\ngender=" + tc.req.Gender + "\n"
			if got := read("env"); got != wantEnv {
				t.Errorf("environment %q, want %q", got, wantEnv)
			}
		})
	}
}

func TestCommandFailures(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no /bin/sh to run the test engine with")
	}
	say := tts.Request{Text: "hello"}
	cases := []struct {
		name    string
		cmd     *tts.Command
		req     tts.Request
		want    []string // in the error
		notWant string
		is      error
	}{
		{name: "program missing",
			cmd:  &tts.Command{Path: filepath.Join(t.TempDir(), "no-such-engine")},
			want: []string{"no-such-engine not found", "install espeak-ng (Debian package espeak-ng)", "--tts-command"},
			is:   tts.ErrNotInstalled},
		{name: "program missing from PATH",
			cmd:  &tts.Command{Path: "no-such-engine-in-path"},
			want: []string{"no-such-engine-in-path not found", "espeak-ng", "--tts-command"},
			is:   tts.ErrNotInstalled},
		{name: "no program configured",
			cmd:  &tts.Command{},
			want: []string{"no speech program"}},
		{name: "program fails",
			cmd:     &tts.Command{Path: script(t, t.TempDir(), "echo >&2\necho 'engine: voice not found' >&2\necho 'second line' >&2\nexit 3\n")},
			want:    []string{"engine.sh failed", "exit status 3", "engine: voice not found"},
			notWant: "second line"},
		{name: "program writes nothing",
			cmd:  &tts.Command{Path: script(t, t.TempDir(), "cat >/dev/null\necho 'warning: nothing to do' >&2\n")},
			want: []string{"wrote no audio", "nothing to do"}},
		{name: "program writes something else",
			cmd:  &tts.Command{Path: script(t, t.TempDir(), "echo 'this is not a WAV file'\n")},
			want: []string{"engine.sh output", "not a RIFF/WAVE file"},
			is:   pcm.ErrFormat},
		{name: "program times out",
			cmd:  &tts.Command{Path: script(t, t.TempDir(), "sleep 20\n"), Timeout: 100 * time.Millisecond},
			want: []string{"timed out after 100ms"},
			is:   context.DeadlineExceeded},
		{name: "nothing to say",
			cmd:  &tts.Command{Path: "/bin/true"},
			req:  tts.Request{Text: "  ", Voice: "paul"},
			want: []string{"nothing to say"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			if req == (tts.Request{}) {
				req = say
			}
			start := time.Now()
			_, err := tc.cmd.Synthesize(context.Background(), req)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tc.notWant != "" && strings.Contains(err.Error(), tc.notWant) {
				t.Errorf("error %q says %q", err, tc.notWant)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestCommandHonoursContext(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no /bin/sh to run the test engine with")
	}
	cmd := &tts.Command{Path: script(t, t.TempDir(), "sleep 20\n")}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := cmd.Synthesize(ctx, tts.Request{Text: "hello"})
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Synthesize still running 10 s after its context was cancelled")
	}
}

func TestEspeakMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := tts.Espeak("").Synthesize(context.Background(), tts.Request{Text: "hello"})
	if !errors.Is(err, tts.ErrNotInstalled) || !strings.Contains(err.Error(), "install espeak-ng (Debian package espeak-ng) or set --tts-command") {
		t.Errorf("error %v, want ErrNotInstalled with how to install espeak-ng", err)
	}
}
