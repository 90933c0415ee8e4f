// Package tts turns the text of a BXML SpeakSentence into audio for real
// calls. A Synthesizer is the port; Command runs a program per sentence
// (espeak-ng by default, or any engine an operator wraps in a script),
// Babble makes a voice-like signal in Go for simulated phones and tests
// when no program is installed, and Cache sits in front of either so that
// a prompt said on many calls is synthesized once.
//
// Command starts one process per request and the goroutines os/exec uses
// to copy its output; all of them have ended when Synthesize returns.
// Babble computes on its caller's goroutine.
// Cache starts no goroutines: the first caller of a sentence synthesizes
// it on its own goroutine while later callers wait. Clips returned by a
// Cache share their samples with it and with every other caller: treat
// them as read-only.
package tts

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/voicehook/voicehook/internal/pcm"
)

// Request is one sentence to say.
type Request struct {
	Text string // plain text, or
	SSML string // SSML markup as BXML carries it (may lack the <speak> root: it is wrapped)
	// The BXML SpeakSentence attributes, as given (empty when absent).
	Voice, Locale, Gender string
}

// Synthesizer turns text into speech. Implementations are safe for
// concurrent use.
type Synthesizer interface {
	Synthesize(ctx context.Context, r Request) (pcm.Clip, error)
}

// ErrNotInstalled means the speech program could not be found.
var ErrNotInstalled = errors.New("speech program not installed")

// Environment variables a Command's program finds the BXML attributes in.
const (
	EnvVoice  = "VOICEHOOK_TTS_VOICE"
	EnvLocale = "VOICEHOOK_TTS_LOCALE"
	EnvGender = "VOICEHOOK_TTS_GENDER"
)

// DefaultTimeout bounds one run of a Command whose Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Limits on what a program may write.
const (
	maxOutput = 64 << 20 // 25 minutes of 22 kHz 16-bit mono
	maxStderr = 4 << 10
)

// Command runs a program for each request. The program reads an SSML
// document on its stdin (always SSML: plain text is escaped and wrapped in
// <speak>), finds the request's voice, locale and gender (the BXML values,
// possibly empty) in VOICEHOOK_TTS_VOICE, VOICEHOOK_TTS_LOCALE and
// VOICEHOOK_TTS_GENDER, and writes a WAV file to stdout, which is decoded
// with pcm.DecodeWAV at whatever rate it has. This is how an operator plugs
// in another engine. A Command is safe for concurrent use; do not change
// its fields while it is in use.
type Command struct {
	Path    string        // the program; "" only for Espeak("")
	Args    []string      // its arguments
	Timeout time.Duration // for one run; 0 means DefaultTimeout

	espeak bool // add -v with EspeakVoice, and find espeak-ng when Path is ""
}

// Espeak is the built-in engine: espeak-ng (Debian package espeak-ng)
// reading SSML (-m) from stdin and writing a WAV (22050 Hz mono) to
// stdout, in the voice EspeakVoice picks for the request. An empty path
// looks up "espeak-ng" in PATH at each call, so installing it later works
// without a restart.
func Espeak(path string) *Command {
	return &Command{Path: path, Args: []string{"-m", "--stdout"}, espeak: true}
}

// Synthesize runs the program once for r.
func (c *Command) Synthesize(ctx context.Context, r Request) (pcm.Clip, error) {
	doc, err := document(r)
	if err != nil {
		return pcm.Clip{}, err
	}
	path, name, err := c.program()
	if err != nil {
		return pcm.Clip{}, err
	}
	args := c.Args
	if c.espeak {
		args = append(args[:len(args):len(args)], "-v", EspeakVoice(r.Voice, r.Locale, r.Gender), "--stdin")
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	cmd := exec.CommandContext(runCtx, path, args...)
	cmd.Stdin = strings.NewReader(doc)
	cmd.Env = append(os.Environ(), EnvVoice+"="+r.Voice, EnvLocale+"="+r.Locale, EnvGender+"="+r.Gender)
	stdout := &capped{max: maxOutput}
	stderr := &capped{max: maxStderr, truncate: true}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// A program killed on timeout may leave children holding its pipes;
	// stop waiting for them soon after.
	cmd.WaitDelay = time.Second

	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		return pcm.Clip{}, fmt.Errorf("tts: %s: %w", name, ctx.Err())
	case runCtx.Err() != nil:
		return pcm.Clip{}, fmt.Errorf("tts: %s timed out after %v: %w", name, timeout, context.DeadlineExceeded)
	case errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist):
		return pcm.Clip{}, notInstalled(name)
	case errors.Is(err, errTooMuch):
		return pcm.Clip{}, fmt.Errorf("tts: %s wrote more than %d MB", name, maxOutput>>20)
	case err != nil:
		return pcm.Clip{}, fmt.Errorf("tts: %s failed: %v%s", name, err, firstLine(stderr.Bytes()))
	case stdout.Len() == 0:
		return pcm.Clip{}, fmt.Errorf("tts: %s wrote no audio%s", name, firstLine(stderr.Bytes()))
	}
	clip, err := pcm.DecodeWAV(bytes.NewReader(stdout.Bytes()), 0)
	if err != nil {
		return pcm.Clip{}, fmt.Errorf("tts: %s output: %w", name, err)
	}
	return clip, nil
}

// Installed reports whether the program can be found now.
func (c *Command) Installed() bool {
	path, _, err := c.program()
	if err != nil {
		return false
	}
	_, err = os.Stat(path)
	return err == nil
}

// program resolves the program to run and the name errors call it by.
func (c *Command) program() (path, name string, err error) {
	path = c.Path
	if path == "" {
		if !c.espeak {
			return "", "", errors.New("tts: no speech program configured")
		}
		path = "espeak-ng"
	}
	name = filepath.Base(path)
	if c.Path == "" || !strings.ContainsRune(path, filepath.Separator) {
		found, err := exec.LookPath(path)
		if err != nil {
			return "", "", notInstalled(name)
		}
		path = found
	}
	return path, name, nil
}

func notInstalled(name string) error {
	return fmt.Errorf("tts: %w: %s not found; install espeak-ng (Debian package espeak-ng) or set --tts-command", ErrNotInstalled, name)
}

// document returns the SSML document for r.
func document(r Request) (string, error) {
	if ssml := strings.TrimSpace(r.SSML); ssml != "" {
		body := ssml
		if strings.HasPrefix(body, "<?xml") {
			if end := strings.Index(body, "?>"); end >= 0 {
				body = strings.TrimSpace(body[end+2:])
			}
		}
		if strings.HasPrefix(body, "<speak") && len(body) > 6 && strings.ContainsRune(" \t\r\n>/", rune(body[6])) {
			return ssml, nil
		}
		return "<speak>" + ssml + "</speak>", nil
	}
	if strings.TrimSpace(r.Text) == "" {
		return "", errors.New("tts: nothing to say: the sentence is empty")
	}
	var b strings.Builder
	b.WriteString("<speak>")
	xml.EscapeText(&b, []byte(r.Text))
	b.WriteString("</speak>")
	return b.String(), nil
}

// firstLine returns ": " and the first non-blank line of b, or "".
func firstLine(b []byte) string {
	for line := range strings.SplitSeq(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return ": " + line
		}
	}
	return ""
}

var errTooMuch = errors.New("output too large")

// capped is a buffer that holds at most max bytes: past that it fails the
// write, or with truncate drops the rest.
type capped struct {
	bytes.Buffer
	max      int
	truncate bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); len(p) > room {
		if !c.truncate {
			return 0, errTooMuch
		}
		c.Buffer.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return c.Buffer.Write(p)
}
