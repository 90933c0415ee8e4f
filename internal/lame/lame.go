// Package lame encodes recordings as MP3 with the LAME encoder, run as the
// lame program (Debian and Ubuntu: apt-get install lame).
//
// LAME as a program, not a Go module: the Go module proxy serves no
// maintained pure-Go MP3 encoder, and a subprocess keeps the build free of
// cgo and of libmp3lame's headers, while a missing program is found once at
// start (Find) and named in every refusal.
//
// Recordings are encoded at constant bitrate, 32 kbit/s a channel (32 mono,
// 64 stereo), at the rate they were captured at or the next one MPEG-2
// has (16 kHz for a telephone line's 8 kHz: see OutputRate). An Encoder is safe for concurrent use:
// each Encode runs a process of its own.
package lame

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Program is the name Find looks up in PATH when given no path.
const Program = "lame"

// Install says how to get the program, for messages.
const Install = "install LAME (Debian, Ubuntu: apt-get install lame)"

// BitrateMono is the bitrate of a one-channel recording, in kbit/s; a
// two-channel one has twice as much.
const BitrateMono = 32

// ErrMissing is wrapped by Find's error when the program cannot be run.
var ErrMissing = errors.New("the LAME encoder (lame) is not installed")

// Encoder runs the lame program at Path.
type Encoder struct {
	Path string
}

// Find returns the Encoder of the program at path, or of "lame" in PATH
// when path is "". Its error wraps ErrMissing and says what to install.
func Find(path string) (*Encoder, error) {
	name := path
	if name == "" {
		name = Program
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("%w (%v): %s", ErrMissing, err, Install)
	}
	return &Encoder{Path: p}, nil
}

// mpegRates are the sample rates an MP3 stream can have from 16 kHz up.
var mpegRates = []int{16000, 22050, 24000, 32000, 44100, 48000}

// OutputRate is the sample rate of the MP3 file Encode makes of audio at
// rate: rate itself when MPEG-1 or MPEG-2 has it, else the next one up
// (16 kHz for a telephone line's 8 kHz). MPEG 2.5, which has the rates
// below 16 kHz, is left out because many decoders (among them the one
// that reads recordings back for transcription) do not read it.
func OutputRate(rate int) int {
	for _, r := range mpegRates {
		if r >= rate {
			return r
		}
	}
	return mpegRates[len(mpegRates)-1]
}

// maxStderr bounds what is kept of the program's complaints.
const maxStderr = 4 << 10

// waitDelay is how long Encode waits for the program once ctx ended.
const waitDelay = 2 * time.Second

// Encode writes the samples, one slice per channel (one or two, of the
// same length), rate samples a second, as an MP3 file at dst, which it
// creates or truncates. The program writes the file itself, so that its
// header (the LAME tag) tells players the exact length. When ctx ends the
// program is stopped. An error says what the program said; the file may
// then hold the frames encoded so far.
func (e *Encoder) Encode(ctx context.Context, dst string, rate int, channels [][]int16) error {
	mode, kbps := "m", BitrateMono
	switch len(channels) {
	case 1:
	case 2:
		if len(channels[0]) != len(channels[1]) {
			return fmt.Errorf("lame: the two channels differ in length (%d and %d samples)", len(channels[0]), len(channels[1]))
		}
		mode, kbps = "s", 2*BitrateMono
	default:
		return fmt.Errorf("lame: %d channels: MP3 holds one or two", len(channels))
	}
	if rate <= 0 {
		return fmt.Errorf("lame: sample rate %d Hz", rate)
	}
	args := []string{"--quiet", "-r", "-s", khz(rate), "--bitwidth", "16", "--signed", "--little-endian",
		"-m", mode, "-b", strconv.Itoa(kbps), "--cbr", "--noreplaygain"}
	args = append(args, "--resample", khz(OutputRate(rate)))
	args = append(args, "-", dst)
	cmd := exec.CommandContext(ctx, e.Path, args...)
	cmd.Stdin = &interleaver{channels: channels}
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{buf: &stderr, n: maxStderr}
	cmd.WaitDelay = waitDelay
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("lame: stopped: %w", context.Cause(ctx))
		}
		return fmt.Errorf("lame: %v%s", err, said(stderr.String()))
	}
	return nil
}

// said is the program's complaint, without the warning this LAME build
// prints on every raw input.
func said(s string) string {
	var keep []string
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" || strings.Contains(line, "libsndfile") {
			continue
		}
		keep = append(keep, line)
	}
	if len(keep) == 0 {
		return ""
	}
	return ": " + strings.Join(keep, "; ")
}

// khz is rate in kHz as LAME's options spell it: 8, 11.025.
func khz(rate int) string {
	return strconv.FormatFloat(float64(rate)/1000, 'f', -1, 64)
}

// interleaver reads channels as interleaved 16-bit little-endian samples.
type interleaver struct {
	channels [][]int16
	i        int // the next frame
}

func (r *interleaver) Read(p []byte) (int, error) {
	frame := 2 * len(r.channels)
	n := 0
	for ; n+frame <= len(p) && r.i < len(r.channels[0]); r.i++ {
		for _, ch := range r.channels {
			binary.LittleEndian.PutUint16(p[n:], uint16(ch[r.i]))
			n += 2
		}
	}
	if n == 0 && r.i >= len(r.channels[0]) {
		return 0, io.EOF
	}
	return n, nil
}

// limitedBuffer keeps the first n bytes written to it.
type limitedBuffer struct {
	buf *bytes.Buffer
	n   int
}

func (w *limitedBuffer) Write(p []byte) (int, error) {
	if room := w.n - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
