// Package stt turns speech into text for real audio: the real-time
// transcription of SIP calls (StartTranscription) and the transcription
// of recordings (transcribe="true"). A Recognizer is the port; this
// package has two engines:
//
//   - Pocketsphinx, built in and offline: it runs CMU pocketsphinx's
//     pocketsphinx_continuous (Debian packages pocketsphinx and
//     pocketsphinx-en-us) once per clip. Its general English model gets
//     most words of synthetic speech wrong (a word error rate, WER, near
//     0.95 on espeak-ng sentences, measured by the package tests); given
//     Options.Phrases it decodes against a grammar of those phrases
//     instead, which makes IVR-style input (yes/no, digits, menu words)
//     reliable on clear wideband speech. Its model is a 16 kHz one: on
//     telephone audio (8 kHz) it gets yes/no and single digits right, but
//     not strings of digits (measured by the package tests).
//   - OpenAI posts the clip to an OpenAI-compatible
//     /v1/audio/transcriptions endpoint, what hosted providers and local
//     Whisper servers speak, for operators who need accuracy.
//
// Transcriber puts a Recognizer behind engine.Transcriber for real-time
// transcription: each Listener cuts its line's 8 kHz frames into
// utterances with pcm.VAD (from 200 ms before speech starts to 600 ms of
// silence after it, 15 s at most) and recognizes them one at a time, in
// order. Its timings count frames (20 ms each) from a track's first.
//
// The exact words of simulated phones need no recognizer: the engine
// knows them.
//
// # Goroutines and ownership
//
// Recognize runs on its caller's goroutine. Pocketsphinx starts one
// process per call and the goroutines os/exec uses to feed it the audio
// and copy its output; all of them have ended when Recognize returns. At
// most MaxRuns programs run at once (GOMAXPROCS by default); further calls
// wait for a free run or for their context, so a burst of transcriptions
// queues instead of loading the model many times over. OpenAI makes one
// HTTP request per call through its client, whose connections belong to
// the client's owner. Neither keeps a reference to the clip it was given;
// a Result belongs to the caller.
//
// A Transcriber's Listener runs two goroutines from Listen until Stop:
// one cuts the frames that Feed queues into utterances, the other
// recognizes them and calls notify. Feed runs on the line's media
// goroutine: it copies the frame under a mutex and never waits; when 2 s
// of frames wait, the oldest is dropped. When more than five utterances
// wait for the recognizer, the oldest is dropped and reported. Stop
// cancels a recognition under way and does not wait for the goroutines;
// Transcriber.Close stops the listeners left and waits for all of them.
// A Listener does not touch a clip once it has given it to Recognize.
//
// # Dependencies
//
// None beyond the standard library and voicehook's own pcm, egress and
// engine (for the Transcriber port it implements) packages; the
// recognizers are a program and an HTTP endpoint.
package stt

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/voicehook/voicehook/internal/pcm"
)

// Word is one recognised word.
type Word struct {
	Text       string
	Start, End time.Duration // from the start of the clip
	Confidence float64       // 0 to 1; 0 when the engine gave none
}

// Result is what a recognizer heard in a clip. A clip without speech gives
// the zero Result: no text, no words.
type Result struct {
	Text       string // the words, space-separated as the engine wrote them
	Words      []Word // in order of time; may be empty when Text is not (an engine without word timings)
	Confidence float64
}

// Options shape one recognition.
type Options struct {
	// Language is a BCP 47 tag; "" means "en-US".
	Language string
	// Phrases, when set, restrict recognition to these words and phrases
	// (IVR input: digits, yes/no, menu words), spoken one or more in a
	// row: a grammar for Pocketsphinx, a prompt for OpenAI. Numerals are
	// read digit by digit ("12" is "one two"); Digits is the ten digits.
	Phrases []string
}

// Digits are the phrases of digit input: with them as Options.Phrases any
// sequence of digits is recognised, "one two three four five" included.
var Digits = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

// Recognizer turns speech into text. Implementations are safe for
// concurrent use.
type Recognizer interface {
	Recognize(ctx context.Context, clip pcm.Clip, o Options) (Result, error)
}

// Errors callers branch on; the errors returned wrap them and say more.
var (
	// ErrNotInstalled means the recognizer's program or model is missing;
	// the error names the packages to install.
	ErrNotInstalled = errors.New("speech recognizer not installed")
	// ErrLanguage means the recognizer has no model for the language asked.
	ErrLanguage = errors.New("language not supported")
	// ErrResponse means a recognition service answered with something that
	// is not a transcription.
	ErrResponse = errors.New("malformed transcription response")
)

// DefaultLanguage is the language of an Options without one.
const DefaultLanguage = "en-US"

// primaryLanguage returns the lower-case primary subtag of a BCP 47 tag
// ("en" for "en-US" or "en_GB"), DefaultLanguage's for "".
func primaryLanguage(tag string) string {
	if tag = strings.TrimSpace(tag); tag == "" {
		tag = DefaultLanguage
	}
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return strings.ToLower(tag)
}

// normalize returns the words of s as recognizers write them: lower case,
// letters and apostrophes only, numerals read digit by digit ("Press 12"
// is "press one two"). Anything else separates words.
func normalize(s string) []string {
	var words []string
	var cur strings.Builder
	flush := func() {
		if w := strings.Trim(cur.String(), "'"); w != "" {
			words = append(words, w)
		}
		cur.Reset()
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r == '\'':
			cur.WriteRune(r)
		case r >= '0' && r <= '9':
			flush()
			words = append(words, Digits[r-'0'])
		default:
			flush()
		}
	}
	flush()
	return words
}

// WER is the word error rate of hyp against the reference ref: the least
// number of words substituted, deleted or inserted to turn ref into hyp,
// divided by the number of words in ref. Both are compared as normalize
// reads them, so case, punctuation and numerals do not count ("Number 12."
// and "number one two" agree). It is 0 for two empty texts and 1 for a
// non-empty hyp against an empty ref (every word inserted, counted against
// a reference of one); it can exceed 1 when hyp is longer than ref.
func WER(ref, hyp string) float64 {
	r, h := normalize(ref), normalize(hyp)
	if len(r) == 0 {
		if len(h) == 0 {
			return 0
		}
		return 1
	}
	// prev[j] is the distance between r[:i] and h[:j].
	prev := make([]int, len(h)+1)
	cur := make([]int, len(h)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(r); i++ {
		cur[0] = i
		for j := 1; j <= len(h); j++ {
			sub := prev[j-1]
			if r[i-1] != h[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return float64(prev[len(h)]) / float64(len(r))
}

// hasSpeech reports whether pcm.VAD hears speech anywhere in clip. Silence
// and faint line noise give a recognizer nothing to find, and one forced
// onto a grammar, or Whisper, can find words in them all the same.
func hasSpeech(clip pcm.Clip) bool {
	if clip.Rate <= 0 || len(clip.Samples) == 0 {
		return false
	}
	v := pcm.NewVAD(clip.Rate)
	step := max(clip.Rate/50, 1) // 20 ms frames
	for i := 0; i < len(clip.Samples); i += step {
		if v.Feed(clip.Samples[i:min(i+step, len(clip.Samples))]) {
			return true
		}
	}
	return false
}
