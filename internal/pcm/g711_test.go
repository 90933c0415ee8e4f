package pcm_test

import (
	"math"
	"testing"

	"github.com/voicehook/voicehook/internal/pcm"
)

func TestG711CodePoints(t *testing.T) {
	cases := []struct {
		s          int16
		ulaw, alaw byte
	}{
		{0, 0xFF, 0xD5},
		{-1, 0x7E, 0x55}, // tiny negatives keep their sign
		{32767, 0x80, 0xAA},
		{-32768, 0x00, 0x2A},
		{1000, 0xCE, 0xFA},
		{-1000, 0x4E, 0x7A},
	}
	for _, tc := range cases {
		if got := pcm.EncodeULaw(nil, []int16{tc.s})[0]; got != tc.ulaw {
			t.Errorf("mu-law of %d: %#02x, want %#02x", tc.s, got, tc.ulaw)
		}
		if got := pcm.EncodeALaw(nil, []int16{tc.s})[0]; got != tc.alaw {
			t.Errorf("A-law of %d: %#02x, want %#02x", tc.s, got, tc.alaw)
		}
	}
	// Decoded values agree with sox 14.4 (-t ul / -t al to -t s16) for all 256 codes.
	decoded := []struct {
		code       byte
		ulaw, alaw int16
	}{
		{0xFF, 0, 848}, {0x7F, 0, -848}, {0x80, 32124, 5504}, {0x00, -32124, -5504},
		{0xD5, 716, 8}, {0x55, -716, -8}, {0xAA, 5372, 32256}, {0x2A, -5372, -32256},
		{0x01, -31100, -5248}, {0xFE, 8, 880},
	}
	for _, tc := range decoded {
		if got := pcm.DecodeULaw(nil, []byte{tc.code})[0]; got != tc.ulaw {
			t.Errorf("mu-law code %#02x: %d, want %d", tc.code, got, tc.ulaw)
		}
		if got := pcm.DecodeALaw(nil, []byte{tc.code})[0]; got != tc.alaw {
			t.Errorf("A-law code %#02x: %d, want %d", tc.code, got, tc.alaw)
		}
	}
}

func TestG711EveryCodeRoundTrips(t *testing.T) {
	for c := range 256 {
		code := []byte{byte(c)}
		if c != 0x7F { // mu-law has two zeros; 0 encodes as 0xFF
			if got := pcm.EncodeULaw(nil, pcm.DecodeULaw(nil, code)); got[0] != byte(c) {
				t.Errorf("mu-law %#02x decodes and re-encodes as %#02x", c, got[0])
			}
		}
		if got := pcm.EncodeALaw(nil, pcm.DecodeALaw(nil, code)); got[0] != byte(c) {
			t.Errorf("A-law %#02x decodes and re-encodes as %#02x", c, got[0])
		}
	}
}

func TestG711ErrorBounds(t *testing.T) {
	all := make([]int16, 0, 65536)
	for s := -32768; s <= 32767; s++ {
		all = append(all, int16(s))
	}
	for _, codec := range []struct {
		name string
		enc  func([]byte, []int16) []byte
		dec  func([]int16, []byte) []int16
		clip int // largest magnitude kept
	}{
		{"mu-law", pcm.EncodeULaw, pcm.DecodeULaw, 32124},
		{"A-law", pcm.EncodeALaw, pcm.DecodeALaw, 32256},
	} {
		back := codec.dec(nil, codec.enc(nil, all))
		if len(back) != len(all) {
			t.Fatalf("%s: %d samples back from %d", codec.name, len(back), len(all))
		}
		prev := math.MinInt
		for i, s := range all {
			got := int(back[i])
			// Companding keeps about 4 bits of mantissa: the error is at
			// most 1/32 of the value, plus the step near zero.
			want := max(-codec.clip, min(codec.clip, int(s)))
			if limit := 16 + abs(int(s))/32; abs(got-want) > limit {
				t.Fatalf("%s: %d comes back as %d (error %d, limit %d)", codec.name, s, got, got-want, limit)
			}
			if got < prev {
				t.Fatalf("%s: not monotonic: %d → %d after %d → %d", codec.name, s, got, s-1, prev)
			}
			prev = got
		}
	}
}

func TestG711Appends(t *testing.T) {
	dst := []byte{1, 2}
	dst = pcm.EncodeULaw(dst, []int16{0, 0})
	if string(dst) != "\x01\x02\xff\xff" {
		t.Errorf("EncodeULaw appended to make % x", dst)
	}
	s := pcm.DecodeALaw([]int16{7}, []byte{0xD5})
	if len(s) != 2 || s[0] != 7 || s[1] != 8 {
		t.Errorf("DecodeALaw appended to make %v", s)
	}
}

func BenchmarkEncodeULaw(b *testing.B) {
	frame := pcm.Tone(1000, 8000, 20e6, 0.5) // 20 ms, 160 samples
	dst := make([]byte, 0, len(frame))
	b.SetBytes(int64(2 * len(frame)))
	for b.Loop() {
		dst = pcm.EncodeULaw(dst[:0], frame)
	}
}

func BenchmarkDecodeULaw(b *testing.B) {
	codes := pcm.EncodeULaw(nil, pcm.Tone(1000, 8000, 20e6, 0.5))
	dst := make([]int16, 0, len(codes))
	b.SetBytes(int64(len(codes)))
	for b.Loop() {
		dst = pcm.DecodeULaw(dst[:0], codes)
	}
}
