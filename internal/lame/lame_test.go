package lame

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/pcm"
)

// encoder is the lame program of this machine. CI installs it, so there a
// missing program fails the test instead of skipping it.
func encoder(t *testing.T) *Encoder {
	t.Helper()
	e, err := Find("")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("needs the lame program: %v", err)
	}
	return e
}

// tone is d of a 440 Hz tone at rate.
func tone(rate int, d time.Duration) []int16 {
	s := make([]int16, int(d*time.Duration(rate)/time.Second))
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
	}
	return s
}

// Tolerance is how much longer a decoded MP3 may be than what was encoded,
// in samples of the file: LAME's delay (576 + 529 samples), the padding of
// the last frame and the frame holding the LAME tag, which decoders that
// ignore it play as silence: at most 4 frames of 576 samples (MPEG-2),
// 144 ms at 16 kHz.
const tolerance = 4 * 576

func TestEncodeDecodesToItsLength(t *testing.T) {
	e := encoder(t)
	for _, c := range []struct {
		name     string
		rate     int
		channels int
	}{{"8 kHz mono", 8000, 1}, {"8 kHz stereo", 8000, 2}, {"16 kHz mono", 16000, 1}} {
		t.Run(c.name, func(t *testing.T) {
			a := tone(c.rate, 3*time.Second)
			chans := [][]int16{a}
			if c.channels == 2 {
				chans = append(chans, make([]int16, len(a)))
			}
			dst := filepath.Join(t.TempDir(), "r.mp3")
			if err := e.Encode(context.Background(), dst, c.rate, chans); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(dst)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			clip, err := pcm.DecodeMP3(f, 0)
			if err != nil {
				t.Fatal(err)
			}
			if clip.Rate != 16000 {
				t.Errorf("rate %d, want 16000", clip.Rate)
			}
			want := len(a) * 16000 / c.rate
			if n := len(clip.Samples); n < want || n > want+tolerance {
				t.Errorf("decoded %d samples, want %d to %d", n, want, want+tolerance)
			}
			t.Logf("%d samples encoded at %d Hz, %d decoded at %d Hz", len(a), c.rate, len(clip.Samples), clip.Rate)
		})
	}
}

func TestEncodeStereoIsStereo(t *testing.T) {
	e := encoder(t)
	a := tone(8000, time.Second)
	dst := filepath.Join(t.TempDir(), "r.mp3")
	if err := e.Encode(context.Background(), dst, 8000, [][]int16{a, make([]int16, len(a))}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	// The channel mode is the top two bits of a frame header's fourth
	// byte: 3 is mono.
	i := 0
	for i+4 <= len(b) && !(b[i] == 0xFF && b[i+1]&0xE0 == 0xE0) {
		i++
	}
	if i+4 > len(b) {
		t.Fatal("no MPEG frame in the file")
	}
	if mode := b[i+3] >> 6; mode == 3 {
		t.Errorf("channel mode %d (mono), want a two-channel mode", mode)
	}
}

func TestFindMissing(t *testing.T) {
	_, err := Find(filepath.Join(t.TempDir(), "lame"))
	if !errors.Is(err, ErrMissing) {
		t.Fatalf("Find of a missing program: %v, want ErrMissing", err)
	}
	if want := "apt-get install lame"; !contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

func TestEncodeFailureSaysWhy(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "lame")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 'disk quota exceeded' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	e, err := Find(script)
	if err != nil {
		t.Fatal(err)
	}
	err = e.Encode(context.Background(), filepath.Join(dir, "r.mp3"), 8000, [][]int16{tone(8000, time.Second)})
	if err == nil || !contains(err.Error(), "disk quota exceeded") || !contains(err.Error(), "exit status 3") {
		t.Errorf("Encode with a failing program: %v, want its exit status and message", err)
	}
}

func TestEncodeRefusesBadInput(t *testing.T) {
	e := &Encoder{Path: "/nonexistent/lame"}
	dst := filepath.Join(t.TempDir(), "r.mp3")
	for name, chans := range map[string][][]int16{
		"three channels":   {{1}, {1}, {1}},
		"uneven channels":  {{1, 2}, {1}},
		"without channels": nil,
	} {
		if err := e.Encode(context.Background(), dst, 8000, chans); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
