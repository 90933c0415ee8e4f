package stt_test

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/stt"
)

// fakeSphinx writes a program standing in for pocketsphinx_continuous into
// a new directory with a model directory beside it: it keeps its stdin,
// arguments and grammar file there, and prints out.
func fakeSphinx(t *testing.T, out string) (p *stt.Pocketsphinx, dir string) {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no /bin/sh to run the stand-in program with")
	}
	dir = t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "model", "en-us"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "out"), []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `d=$(dirname "$0")
cat > "$d/stdin"
printf '%s\n' "$@" > "$d/args"
prev=
for a in "$@"; do
	if [ "$prev" = -jsgf ]; then cp "$a" "$d/grammar"; fi
	prev=$a
done
cat "$d/out"
`
	path := filepath.Join(dir, "pocketsphinx_continuous")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	return &stt.Pocketsphinx{Path: path, ModelDir: filepath.Join(dir, "model")}, dir
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// transcript is pocketsphinx_continuous's output for two utterances, with
// fillers, an alternative pronunciation, a grammar's null transitions and
// a posterior a little above 1, as the real program prints them.
const transcript = `yes read
<s> 0.000 0.120 0.998601
yes 0.130 0.420 0.189855
(NULL) 0.420 0.420 1.000000
<sil> 0.430 0.580 0.984815
read(2) 0.590 0.980 1.000100
[NOISE] 0.990 1.100 0.5
</s> 1.110 1.200 1.000000

four words of hypothesis
<s> 1.400 1.500 1.0
one 1.510 1.990 0.5
</s> 2.000 2.100 1.0
`

func TestPocketsphinxContract(t *testing.T) {
	p, dir := fakeSphinx(t, transcript)
	clip := speechLike(8000, time.Second) // 2 s at 8 kHz
	r, err := p.Recognize(context.Background(), clip, stt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := stt.Result{Text: "yes read one", Words: []stt.Word{
		{Text: "yes", Start: 130 * time.Millisecond, End: 430 * time.Millisecond, Confidence: 0.189855},
		{Text: "read", Start: 590 * time.Millisecond, End: 990 * time.Millisecond, Confidence: 1},
		{Text: "one", Start: 1510 * time.Millisecond, End: 2000 * time.Millisecond, Confidence: 0.5},
	}}
	want.Confidence = (0.3*0.189855 + 0.4*1 + 0.49*0.5) / (0.3 + 0.4 + 0.49)
	if !sameResult(r, want) {
		t.Errorf("got  %+v\nwant %+v", r, want)
	}

	// The audio goes to stdin as raw 16-bit little-endian samples at 16 kHz.
	raw := []byte(read(t, filepath.Join(dir, "stdin")))
	if len(raw) != 2*2*len(clip.Samples) {
		t.Errorf("stdin has %d bytes, want %d (2 s at 16 kHz)", len(raw), 2*2*len(clip.Samples))
	}
	up := pcm.Resample(clip, 16000)
	for i := 0; i+1 < len(raw) && i/2 < len(up.Samples); i += 2 {
		if got := int16(binary.LittleEndian.Uint16(raw[i:])); got != up.Samples[i/2] {
			t.Fatalf("stdin sample %d is %d, want %d", i/2, got, up.Samples[i/2])
		}
	}
	args := strings.Fields(read(t, filepath.Join(dir, "args")))
	for _, pair := range [][2]string{
		{"-infile", "/dev/stdin"}, {"-samprate", "16000"}, {"-time", "yes"},
		{"-hmm", filepath.Join(dir, "model", "en-us")},
		{"-lm", filepath.Join(dir, "model", "en-us.lm.bin")},
		{"-dict", filepath.Join(dir, "model", "cmudict-en-us.dict")},
	} {
		if i := slices.Index(args, pair[0]); i < 0 || i+1 >= len(args) || args[i+1] != pair[1] {
			t.Errorf("arguments %q lack %s %s", args, pair[0], pair[1])
		}
	}
	if slices.Contains(args, "-jsgf") {
		t.Errorf("arguments %q have a grammar without phrases", args)
	}
}

func TestPocketsphinxGrammar(t *testing.T) {
	p, dir := fakeSphinx(t, "")
	p.Args = []string{"-lw", "7"}
	clip := speechLike(16000, 500*time.Millisecond)
	r, err := p.Recognize(context.Background(), clip, stt.Options{Phrases: []string{"Yes", "no", "NO!", "Press 12", "  ", "don't know"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Text != "" || r.Words != nil {
		t.Errorf("an empty transcript gave %+v", r)
	}
	want := "#JSGF V1.0;\ngrammar voicehook;\npublic <input> = <phrase>+;\n" +
		"<phrase> = ( don't know ) | ( no ) | ( press one two ) | ( yes );\n"
	if got := read(t, filepath.Join(dir, "grammar")); got != want {
		t.Errorf("grammar\n%s\nwant\n%s", got, want)
	}
	args := strings.Fields(read(t, filepath.Join(dir, "args")))
	if slices.Contains(args, "-lm") {
		t.Errorf("arguments %q have the language model beside a grammar", args)
	}
	if n := len(args); n < 2 || args[n-2] != "-lw" || args[n-1] != "7" {
		t.Errorf("arguments %q do not end with Args", args)
	}
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), "voicehook-stt-*.gram"))
	for _, m := range matches {
		t.Errorf("grammar file %s left behind", m)
	}

	if _, err := p.Recognize(context.Background(), clip, stt.Options{Phrases: []string{"?", ""}}); err == nil {
		t.Error("phrases without words were accepted")
	}
}

func TestPocketsphinxErrors(t *testing.T) {
	clip := speechLike(8000, 500*time.Millisecond)
	ctx := context.Background()
	t.Run("no program", func(t *testing.T) {
		for _, path := range []string{"pocketsphinx_nowhere", filepath.Join(t.TempDir(), "pocketsphinx_continuous")} {
			p := &stt.Pocketsphinx{Path: path}
			_, err := p.Recognize(ctx, clip, stt.Options{})
			if !errors.Is(err, stt.ErrNotInstalled) || !strings.Contains(err.Error(), "pocketsphinx-en-us") {
				t.Errorf("%s: got %v, want ErrNotInstalled naming the packages", path, err)
			}
		}
	})
	t.Run("no model", func(t *testing.T) {
		p, _ := fakeSphinx(t, "")
		p.ModelDir = t.TempDir()
		_, err := p.Recognize(ctx, clip, stt.Options{})
		if !errors.Is(err, stt.ErrNotInstalled) || !strings.Contains(err.Error(), "pocketsphinx-en-us") {
			t.Errorf("got %v, want ErrNotInstalled naming pocketsphinx-en-us", err)
		}
	})
	t.Run("another language", func(t *testing.T) {
		p, _ := fakeSphinx(t, "")
		for _, lang := range []string{"", "en-US", "en_GB", "EN"} {
			if _, err := p.Recognize(ctx, clip, stt.Options{Language: lang}); err != nil {
				t.Errorf("%q: %v", lang, err)
			}
		}
		if _, err := p.Recognize(ctx, clip, stt.Options{Language: "fr-FR"}); !errors.Is(err, stt.ErrLanguage) {
			t.Errorf("fr-FR: got %v, want ErrLanguage", err)
		}
	})
	t.Run("the program fails", func(t *testing.T) {
		p, _ := fakeSphinx(t, "")
		script := "#!/bin/sh\ncat >/dev/null\necho 'INFO: lots of log' >&2\necho 'ERROR: \"fsg_search.c\", line 141: The word '\\''xyzzy'\\'' is missing in the dictionary' >&2\nexit 1\n"
		if err := os.WriteFile(p.Path, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := p.Recognize(ctx, clip, stt.Options{})
		if err == nil || !strings.Contains(err.Error(), "'xyzzy' is missing in the dictionary") || strings.Contains(err.Error(), "INFO") {
			t.Errorf("got %v, want the program's error line only", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		p, _ := fakeSphinx(t, "")
		if err := os.WriteFile(p.Path, []byte("#!/bin/sh\nexec sleep 10\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		p.Timeout = 100 * time.Millisecond
		begin := time.Now()
		_, err := p.Recognize(ctx, clip, stt.Options{})
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out") {
			t.Errorf("got %v, want a timeout", err)
		}
		if d := time.Since(begin); d > 5*time.Second {
			t.Errorf("a 100 ms timeout took %v", d)
		}
	})
	t.Run("a clip without a rate", func(t *testing.T) {
		p, _ := fakeSphinx(t, "")
		if _, err := p.Recognize(ctx, pcm.Clip{Samples: clip.Samples}, stt.Options{}); err == nil {
			t.Error("no error")
		}
	})
}

func TestPocketsphinxWaitsForAFreeRun(t *testing.T) {
	p, dir := fakeSphinx(t, "")
	// The first run holds the only slot until the test lets it go.
	script := "#!/bin/sh\nd=$(dirname \"$0\")\ncat >/dev/null\ntouch \"$d/started\"\nwhile [ ! -e \"$d/go\" ]; do sleep 0.02; done\n"
	if err := os.WriteFile(p.Path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p.MaxRuns = 1
	p.Timeout = 10 * time.Second
	clip := speechLike(8000, 500*time.Millisecond)
	first := make(chan error, 1)
	go func() {
		_, err := p.Recognize(context.Background(), clip, stt.Options{})
		first <- err
	}()
	// Poll until the first run has started.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first run did not start within 5 s")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := p.Recognize(ctx, clip, stt.Options{})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for a free run") {
		t.Errorf("second run: got %v, want to wait for the first and give up with its context", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Errorf("first run: %v", err)
	}
}
