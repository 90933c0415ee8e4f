package stt

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voicehook/voicehook/internal/pcm"
)

// DefaultModelDir is where Debian's pocketsphinx-en-us puts the US English
// model.
const DefaultModelDir = "/usr/share/pocketsphinx/model/en-us"

// PocketsphinxRate is the sample rate the model expects; clips are
// resampled to it.
const PocketsphinxRate = 16000

// DefaultTimeout is the fixed part of a run's time limit when a
// Pocketsphinx or OpenAI has no Timeout: the limit is this plus twice the
// clip's length.
const DefaultTimeout = 30 * time.Second

// Limits on what the program may write.
const (
	maxTranscript = 4 << 20 // a word line is ~30 bytes: hours of speech
	maxErrors     = 4 << 10
)

// Pocketsphinx recognizes speech with CMU pocketsphinx's
// pocketsphinx_continuous (Debian bookworm's 0.8+5prealpha), run once per
// clip: the clip, resampled to 16 kHz, goes to its stdin as raw samples
// (-infile /dev/stdin), the program splits it into utterances at pauses
// (its own voice activity detection) and prints each word with its times
// (-time yes), which are parsed into the Result. Fillers (silence, noise,
// breath) are left out, and alternative pronunciations ("read(2)") are
// written as the word.
//
// Without Options.Phrases the general model decodes (the trigram language
// model en-us.lm.bin), and each word's Confidence is the posterior
// probability pocketsphinx prints for it. With Phrases, a JSGF grammar
// accepting one or more of the phrases in a row replaces the language
// model; pocketsphinx's grammar search prints a posterior of 1 for every
// word it finds, so words then have Confidence 1: the grammar forces
// whatever was heard onto its phrases, so noise can come out as a phrase.
// Every word of the phrases must be in the model's dictionary
// (cmudict-en-us.dict), or Recognize fails naming the word. A Result's
// Confidence is its words' confidences averaged over their durations.
//
// A clip in which pcm.VAD hears no speech (silence, faint line noise) is
// not decoded: its Result is empty. The model is a 16 kHz one: telephone
// audio (8 kHz) is upsampled and decodes, but worse, having nothing above
// 4 kHz (the package tests log the figures).
//
// Each run loads the model afresh: about 0.4 s with the language model,
// a few milliseconds with a grammar, on top of decoding (see
// BenchmarkPocketsphinx5s).
//
// The zero value is ready to use. A Pocketsphinx is safe for concurrent
// use; do not change its fields or copy it while it is in use.
type Pocketsphinx struct {
	// Path is the program; "" looks up pocketsphinx_continuous in PATH
	// at each call, so installing it later works without a restart.
	Path string
	// ModelDir holds the model: en-us/ (the acoustic model),
	// en-us.lm.bin and cmudict-en-us.dict. Default DefaultModelDir.
	ModelDir string
	// Language is the model's language; requests for another primary
	// language fail with ErrLanguage. Default "en-US".
	Language string
	// Args are extra arguments, after voicehook's (such as "-lw", "7").
	Args []string
	// Timeout bounds one run; 0 means DefaultTimeout plus twice the
	// clip's length.
	Timeout time.Duration
	// MaxRuns is how many programs run at once; further calls wait for
	// one to end, or for their context. 0 means GOMAXPROCS.
	MaxRuns int

	once  sync.Once
	slots chan struct{}
}

// Recognize runs the program once for clip. A clip in which pcm.VAD hears
// no speech gives the zero Result without running it (once the language,
// the program and the model have been checked).
func (p *Pocketsphinx) Recognize(ctx context.Context, clip pcm.Clip, o Options) (Result, error) {
	if clip.Rate <= 0 && len(clip.Samples) > 0 {
		return Result{}, fmt.Errorf("stt: pocketsphinx: clip has no sample rate (%d)", clip.Rate)
	}
	if want, got := primaryLanguage(p.Language), primaryLanguage(o.Language); want != got {
		return Result{}, fmt.Errorf("stt: pocketsphinx: %w: %q (the model is %s)", ErrLanguage, o.Language, cmp.Or(p.Language, DefaultLanguage))
	}
	path, err := p.program()
	if err != nil {
		return Result{}, err
	}
	dir := cmp.Or(p.ModelDir, DefaultModelDir)
	hmm := filepath.Join(dir, "en-us")
	if _, err := os.Stat(hmm); err != nil {
		return Result{}, fmt.Errorf("stt: %w: no pocketsphinx model at %s; install Debian package pocketsphinx-en-us", ErrNotInstalled, hmm)
	}
	if !hasSpeech(clip) {
		return Result{}, nil
	}
	args := []string{
		"-infile", "/dev/stdin", "-samprate", strconv.Itoa(PocketsphinxRate), "-time", "yes",
		"-hmm", hmm, "-dict", filepath.Join(dir, "cmudict-en-us.dict"),
	}
	if len(o.Phrases) > 0 {
		gram, err := grammar(o.Phrases)
		if err != nil {
			return Result{}, err
		}
		f, err := os.CreateTemp("", "voicehook-stt-*.gram")
		if err != nil {
			return Result{}, fmt.Errorf("stt: pocketsphinx grammar: %w", err)
		}
		defer os.Remove(f.Name())
		_, err = f.WriteString(gram)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return Result{}, fmt.Errorf("stt: pocketsphinx grammar: %w", err)
		}
		// A grammar's search is small: wide beams cost little and keep
		// the path to the grammar's end from being pruned, which would
		// leave an utterance without a result.
		args = append(args, "-jsgf", f.Name(), "-beam", "1e-80", "-pbeam", "1e-80", "-wbeam", "1e-60")
	} else {
		args = append(args, "-lm", filepath.Join(dir, "en-us.lm.bin"))
	}
	args = append(args, p.Args...)

	audio := pcm.Resample(clip, PocketsphinxRate)
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout + 2*clip.Duration()
	}
	if err := p.acquire(ctx); err != nil {
		return Result{}, fmt.Errorf("stt: pocketsphinx: waiting for a free run: %w", err)
	}
	defer p.release()

	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, path, args...)
	cmd.Stdin = &sampleReader{s: audio.Samples}
	stdout := &capped{max: maxTranscript}
	stderr := &errorLines{max: maxErrors}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		return Result{}, fmt.Errorf("stt: pocketsphinx: %w", ctx.Err())
	case runCtx.Err() != nil:
		return Result{}, fmt.Errorf("stt: pocketsphinx timed out after %v: %w", timeout, context.DeadlineExceeded)
	case errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist):
		return Result{}, notInstalled(filepath.Base(path))
	case errors.Is(err, errTooMuch):
		return Result{}, fmt.Errorf("stt: pocketsphinx wrote more than %d MB", maxTranscript>>20)
	case err != nil:
		return Result{}, fmt.Errorf("stt: pocketsphinx failed: %v%s", err, stderr.summary())
	}
	return parseTranscript(stdout.Bytes(), clip.Duration())
}

// program resolves the program to run.
func (p *Pocketsphinx) program() (string, error) {
	path := cmp.Or(p.Path, "pocketsphinx_continuous")
	if strings.ContainsRune(path, filepath.Separator) {
		return path, nil
	}
	found, err := exec.LookPath(path)
	if err != nil {
		return "", notInstalled(path)
	}
	return found, nil
}

func notInstalled(name string) error {
	return fmt.Errorf("stt: %w: %s not found; install Debian packages pocketsphinx and pocketsphinx-en-us", ErrNotInstalled, name)
}

// acquire takes one of MaxRuns slots, waiting for ctx at most.
func (p *Pocketsphinx) acquire(ctx context.Context) error {
	p.once.Do(func() {
		n := p.MaxRuns
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		p.slots = make(chan struct{}, n)
	})
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Pocketsphinx) release() { <-p.slots }

// grammar returns a JSGF grammar accepting one or more of phrases in a
// row, each phrase as normalize reads it.
func grammar(phrases []string) (string, error) {
	var alts []string
	for _, ph := range phrases {
		if words := normalize(ph); len(words) > 0 {
			alts = append(alts, strings.Join(words, " "))
		}
	}
	if len(alts) == 0 {
		return "", fmt.Errorf("stt: phrases %q have no words to recognise", phrases)
	}
	slices.Sort(alts)
	alts = slices.Compact(alts)
	var b strings.Builder
	b.WriteString("#JSGF V1.0;\ngrammar voicehook;\npublic <input> = <phrase>+;\n<phrase> = ")
	for i, a := range alts {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString("( " + a + " )")
	}
	b.WriteString(";\n")
	return b.String(), nil
}

// frame is pocketsphinx's frame length (-frate 100): a word's printed end
// is the start of its last frame.
const frame = 10 * time.Millisecond

// parseTranscript reads pocketsphinx_continuous's output with -time yes:
// for each utterance, a line with its hypothesis, then one line per word
// or filler, "word start end posterior" with times in seconds. Words end
// no later than length.
func parseTranscript(out []byte, length time.Duration) (Result, error) {
	var r Result
	var weighted, total float64
	var texts []string
	for line := range strings.SplitSeq(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 {
			continue // a hypothesis line
		}
		start, err1 := strconv.ParseFloat(f[1], 64)
		end, err2 := strconv.ParseFloat(f[2], 64)
		post, err3 := strconv.ParseFloat(f[3], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue // a hypothesis of four words
		}
		word := f[0]
		if strings.ContainsAny(word[:1], "<[+(") {
			continue // <s>, </s>, <sil>, [NOISE], ++NOISE++, a grammar's (NULL)
		}
		if i := strings.IndexByte(word, '('); i > 0 {
			word = word[:i] // read(2): the second pronunciation of read
		}
		if !(start >= 0 && end >= start && end <= maxSeconds) {
			return Result{}, fmt.Errorf("stt: pocketsphinx: %w: word %q from %v s to %v s", ErrResponse, word, f[1], f[2])
		}
		w := Word{
			Text:       word,
			Start:      min(seconds(start), length),
			End:        min(seconds(end)+frame, length),
			Confidence: probability(post),
		}
		if n := len(r.Words); n > 0 && w.Start < r.Words[n-1].End {
			w.Start = r.Words[n-1].End // never overlap the word before
			w.End = max(w.End, w.Start)
		}
		r.Words = append(r.Words, w)
		texts = append(texts, word)
		d := (w.End - w.Start).Seconds()
		weighted += d * w.Confidence
		total += d
	}
	r.Text = strings.Join(texts, " ")
	if total > 0 {
		r.Confidence = weighted / total
	} else if len(r.Words) > 0 {
		for _, w := range r.Words {
			r.Confidence += w.Confidence / float64(len(r.Words))
		}
	}
	return r, nil
}

// maxSeconds bounds the times a recognizer may give: longer than any
// clip, and far from overflowing a time.Duration.
const maxSeconds = 1e6

// probability returns p within 0 to 1; 0 for NaN.
func probability(p float64) float64 {
	if !(p > 0) {
		return 0
	}
	return min(p, 1)
}

func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s * float64(time.Second)))
}

// sampleReader reads samples as 16-bit little-endian bytes.
type sampleReader struct {
	s []int16
}

func (r *sampleReader) Read(p []byte) (int, error) {
	if len(r.s) == 0 {
		return 0, io.EOF
	}
	n := min(len(p)/2, len(r.s))
	if n == 0 {
		return 0, io.ErrShortBuffer
	}
	for i, v := range r.s[:n] {
		binary.LittleEndian.PutUint16(p[2*i:], uint16(v))
	}
	r.s = r.s[n:]
	return 2 * n, nil
}

var errTooMuch = errors.New("output too large")

// capped is a buffer that fails writes past max bytes.
type capped struct {
	bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if len(p) > c.max-c.Len() {
		return 0, errTooMuch
	}
	return c.Buffer.Write(p)
}

// errorLines keeps, of what the program logs, the lines that report an
// error (pocketsphinx logs tens of kilobytes of INFO per run), up to max
// bytes.
type errorLines struct {
	partial []byte // the line being written, at most max bytes of it
	lines   []string
	size    int
	max     int
}

func (e *errorLines) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if room := e.max - len(e.partial); room > 0 {
				e.partial = append(e.partial, p[:min(len(p), room)]...)
			}
			break
		}
		if room := e.max - len(e.partial); room > 0 {
			e.partial = append(e.partial, p[:min(i, room)]...)
		}
		e.line(string(e.partial))
		e.partial = e.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

func (e *errorLines) line(s string) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "ERROR") && !strings.HasPrefix(s, "FATAL") {
		return
	}
	if e.size+len(s) > e.max {
		return
	}
	e.lines = append(e.lines, s)
	e.size += len(s)
}

// summary returns ": " and the error lines logged, "; " between, or "".
func (e *errorLines) summary() string {
	if len(e.partial) > 0 {
		e.line(string(e.partial))
		e.partial = nil
	}
	if len(e.lines) == 0 {
		return ""
	}
	return ": " + strings.Join(e.lines, "; ")
}
