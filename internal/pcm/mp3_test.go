package pcm_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/pcm"
)

// testdata/tone440-16k.mp3 is one second of a 440 Hz sine at half scale,
// 16 kHz mono, made with sox and LAME 3.100:
//
//	sox -n -r 16000 -c 1 -b 16 tone.wav synth 1 sine 440 vol 0.5
//	lame -b 32 --resample 16 -m m --add-id3v2 --tt "voicehook test tone" tone.wav tone440-16k.mp3
func readMP3(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "tone440-16k.mp3"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// id3Size is the length of the ID3v2 tag the fixture starts with.
func id3Size(b []byte) int {
	return 10 + (int(b[6])<<21 | int(b[7])<<14 | int(b[8])<<7 | int(b[9]))
}

func TestDecodeMP3(t *testing.T) {
	file := readMP3(t)
	for name, data := range map[string][]byte{
		"with ID3 tag":    file,
		"bare frames":     file[id3Size(file):],
		"two ID3 tags":    append([]byte("ID3\x03\x00\x00\x00\x00\x00\x05hello"), file...),
		"ID3 with footer": append([]byte("ID3\x04\x00\x10\x00\x00\x00\x003DI\x04\x00\x10\x00\x00\x00\x00"), file...),
	} {
		t.Run(name, func(t *testing.T) {
			clip, err := pcm.Decode(bytes.NewReader(data), 0)
			if err != nil {
				t.Fatal(err)
			}
			if clip.Rate != 16000 {
				t.Errorf("rate %d, want 16000", clip.Rate)
			}
			// The encoder adds up to two frames of delay and padding.
			if d := clip.Duration(); d < time.Second || d > 1200*time.Millisecond {
				t.Errorf("duration %v, want 1 s to 1.2 s", d)
			}
			if f := pcm.Frequency(clip.Samples, clip.Rate); math.Abs(f-440) > 440*0.02 {
				t.Errorf("frequency %.1f Hz, want 440", f)
			}
			if rms := pcm.RMS(clip.Samples); rms < 0.3 || rms > 0.4 {
				t.Errorf("RMS %.3f, want about 0.35 (a half-scale sine)", rms)
			}
		})
	}
}

func TestDecodeMP3Rejects(t *testing.T) {
	file := readMP3(t)
	cases := []struct {
		name string
		data []byte
		max  time.Duration
		is   error
		want string
	}{
		{"too long", file, 500 * time.Millisecond, pcm.ErrTooLong, "longer than 500ms"},
		{"huge ID3 tag", []byte("ID3\x04\x00\x00\x7f\x7f\x7f\x7f"), 0, pcm.ErrFormat, "ID3 tag of 268435455 bytes"},
		{"bad ID3 size", []byte("ID3\x04\x00\x00\x80\x00\x00\x00"), 0, pcm.ErrFormat, "malformed ID3"},
		{"truncated ID3 tag", []byte("ID3\x04\x00\x00\x00\x00\x01\x00abc"), 0, pcm.ErrFormat, "ID3 tag truncated"},
		{"ID3 tag then nothing", []byte("ID3\x04\x00\x00\x00\x00\x00\x00"), 0, pcm.ErrFormat, "MP3"},
		{"frame header only", file[id3Size(file) : id3Size(file)+4], 0, pcm.ErrFormat, "MP3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pcm.Decode(bytes.NewReader(tc.data), tc.max)
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %v saying %q", err, tc.is, tc.want)
			}
		})
	}
}
