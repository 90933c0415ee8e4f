// Package pcm holds audio as mono 16-bit samples and the few things a
// telephone media plane does to them: decode a WAV or MP3 prompt, resample
// it to the line's rate, encode and decode G.711, write WAV recordings, mix
// two parties, measure tones, and tell speech from silence.
//
// Everything here is synchronous and starts no goroutines. Functions that
// take a dst slice append to it and return the result, like the standard
// library's append-style encoders; no function keeps a reference to a slice
// it was given or returned. A VAD is owned by one goroutine at a time.
//
// MP3 is decoded with github.com/hajimehoshi/go-mp3 (pure Go, no cgo, the
// only maintained MP3 decoder without C); WAV, G.711 and resampling are
// written here because each is a page of code.
package pcm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// Clip is mono 16-bit PCM at Rate samples a second.
type Clip struct {
	Rate    int
	Samples []int16
}

// Duration is how long the clip plays; zero for a clip without a rate.
func (c Clip) Duration() time.Duration {
	if c.Rate <= 0 {
		return 0
	}
	return time.Duration(int64(len(c.Samples)) * int64(time.Second) / int64(c.Rate))
}

// Errors callers branch on; the errors returned wrap one of them and say
// what exactly was wrong.
var (
	// ErrFormat means the bytes are not audio this package decodes, or
	// their header is malformed.
	ErrFormat = errors.New("unsupported audio")
	// ErrTooLong means the decoded audio would be longer than allowed.
	ErrTooLong = errors.New("audio too long")
)

// DefaultMax is the longest audio Decode accepts when given a max of 0.
const DefaultMax = time.Hour

// limitFor returns the most samples (per channel) a clip at rate may hold.
func limitFor(max time.Duration, rate int) int64 {
	if max <= 0 {
		max = DefaultMax
	}
	return int64(max / time.Millisecond * time.Duration(rate) / 1000)
}

func tooLong(max time.Duration) error {
	if max <= 0 {
		max = DefaultMax
	}
	return fmt.Errorf("%w: longer than %v", ErrTooLong, max)
}

// Decode reads a WAV or an MP3 file, telling them apart by their first
// bytes (RIFF/WAVE; an ID3 tag or an MPEG audio frame sync), downmixes it
// to mono and returns it at its own rate. Anything else is refused with an
// error wrapping ErrFormat that names what was found, and audio longer than
// max (0 means DefaultMax, one hour) with one wrapping ErrTooLong.
func Decode(r io.Reader, max time.Duration) (Clip, error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(12)
	if len(head) == 0 {
		if err == nil || err == io.EOF {
			return Clip{}, fmt.Errorf("%w: empty file", ErrFormat)
		}
		return Clip{}, fmt.Errorf("read audio: %w", err)
	}
	switch {
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WAVE":
		return DecodeWAV(br, max)
	case bytes.HasPrefix(head, []byte("ID3")) || len(head) >= 2 && isFrameSync(head):
		return DecodeMP3(br, max)
	case bytes.HasPrefix(head, []byte("RF64")):
		return Clip{}, fmt.Errorf("%w: RF64 (64-bit WAV) is not supported", ErrFormat)
	}
	return Clip{}, fmt.Errorf("%w: not a WAV or MP3 file (starts with % x)", ErrFormat, head[:min(len(head), 8)])
}

// isFrameSync reports whether b starts with an MPEG audio layer III frame
// header (11 sync bits, a known version, layer III).
func isFrameSync(b []byte) bool {
	return b[0] == 0xFF && b[1]&0xE0 == 0xE0 && b[1]>>3&3 != 1 && b[1]>>1&3 == 1
}
