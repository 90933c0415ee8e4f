package pcm_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/pcm"
)

// wavFile builds a WAV file chunk by chunk.
type wavFile struct {
	riffSize *uint32 // nil: the true size
	chunks   [][]byte
}

func chunk(id string, body []byte) []byte {
	return sizedChunk(id, uint32(len(body)), body)
}

// sizedChunk is a chunk whose header declares size, whatever body holds;
// an odd body gets its pad byte.
func sizedChunk(id string, size uint32, body []byte) []byte {
	b := append([]byte(id), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[4:], size)
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func (w wavFile) bytes() []byte {
	var body []byte
	for _, c := range w.chunks {
		body = append(body, c...)
	}
	out := []byte("RIFF\x00\x00\x00\x00WAVE")
	size := uint32(4 + len(body))
	if w.riffSize != nil {
		size = *w.riffSize
	}
	binary.LittleEndian.PutUint32(out[4:], size)
	return append(out, body...)
}

// fmtBody is a plain 16-byte fmt chunk body.
func fmtBody(tag, channels, rate, bits int) []byte {
	b := make([]byte, 16)
	le := binary.LittleEndian
	le.PutUint16(b[0:], uint16(tag))
	le.PutUint16(b[2:], uint16(channels))
	le.PutUint32(b[4:], uint32(rate))
	le.PutUint32(b[8:], uint32(rate*channels*bits/8))
	le.PutUint16(b[12:], uint16(channels*bits/8))
	le.PutUint16(b[14:], uint16(bits))
	return b
}

// extensibleBody is a 40-byte WAVE_FORMAT_EXTENSIBLE fmt body.
func extensibleBody(sub, channels, rate, bits, valid int) []byte {
	b := fmtBody(0xFFFE, channels, rate, bits)
	b = binary.LittleEndian.AppendUint16(b, 22)
	b = binary.LittleEndian.AppendUint16(b, uint16(valid))
	b = binary.LittleEndian.AppendUint32(b, 0) // channel mask
	b = binary.LittleEndian.AppendUint16(b, uint16(sub))
	return append(b, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71)
}

// ref is the mono signal every variant encodes; its values are multiples of
// 256 so that even 8-bit PCM carries them exactly.
var ref = []int16{0, 256, -256, 32512, -32768, 1024, -4096, 12800, 0, -256}

// interleave encodes ref on every channel with enc, channel c offset by
// off(c) (offsets average to zero, so the downmix is exact) except near
// full scale, where all channels carry the same sample.
func interleave(channels int, off func(c int) int16, enc func(s int16) []byte) []byte {
	var out []byte
	for _, s := range ref {
		for c := range channels {
			v := s
			if s > -32000 && s < 32000 {
				v += off(c)
			}
			out = append(out, enc(v)...)
		}
	}
	return out
}

func none(int) int16 { return 0 }

func le16(s int16) []byte { return binary.LittleEndian.AppendUint16(nil, uint16(s)) }

var encoders = map[string]func(s int16) []byte{
	"u8":  func(s int16) []byte { return []byte{byte(int(s)>>8 + 128)} },
	"s16": le16,
	// 24- and 32-bit samples carry extra low bits, which the decoder drops.
	"s24": func(s int16) []byte { return []byte{0x7F, byte(s), byte(uint16(s) >> 8)} },
	"s32": func(s int16) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(int32(s)<<16|0x1234)) },
	"f32": func(s int16) []byte {
		return binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(s)/32768))
	},
	"f64": func(s int16) []byte {
		return binary.LittleEndian.AppendUint64(nil, math.Float64bits(float64(s)/32768))
	},
	"ulaw": func(s int16) []byte { return pcm.EncodeULaw(nil, []int16{s}) },
	"alaw": func(s int16) []byte { return pcm.EncodeALaw(nil, []int16{s}) },
}

func TestDecodeWAVVariants(t *testing.T) {
	g711 := func(enc func([]byte, []int16) []byte, dec func([]int16, []byte) []int16) []int16 {
		return dec(nil, enc(nil, ref))
	}
	threeWay := func(c int) int16 { return []int16{0, 3, -3}[c] } // averages to 0
	data := func(channels int, off func(int) int16, enc string) []byte {
		return interleave(channels, off, encoders[enc])
	}
	cases := []struct {
		name string
		file wavFile
		rate int
		want []int16 // nil: ref
	}{
		{"8-bit", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(1, 1, 8000, 8)), chunk("data", data(1, none, "u8"))}}, 8000, nil},
		{"16-bit", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(1, 1, 8000, 16)), chunk("data", data(1, none, "s16"))}}, 8000, nil},
		{"24-bit", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(1, 1, 48000, 24)), chunk("data", data(1, none, "s24"))}}, 48000, nil},
		{"32-bit", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(1, 1, 96000, 32)), chunk("data", data(1, none, "s32"))}}, 96000, nil},
		{"float32", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(3, 1, 44100, 32)), chunk("data", data(1, none, "f32"))}}, 44100, nil},
		{"float64", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(3, 1, 22050, 64)), chunk("data", data(1, none, "f64"))}}, 22050, nil},
		{"mu-law", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(7, 1, 8000, 8)), chunk("data", data(1, none, "ulaw"))}}, 8000, g711(pcm.EncodeULaw, pcm.DecodeULaw)},
		{"A-law", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(6, 1, 8000, 8)), chunk("data", data(1, none, "alaw"))}}, 8000, g711(pcm.EncodeALaw, pcm.DecodeALaw)},
		{"stereo 16-bit", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(1, 2, 16000, 16)), chunk("data", interleave(2, func(c int) int16 { return []int16{0, 0}[c] }, le16))}}, 16000, nil},
		{"3 channels 24-bit", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(1, 3, 8000, 24)), chunk("data", data(3, func(c int) int16 {
			return []int16{0, 256, -256}[c] // whole 16-bit steps survive 24-bit exactly
		}, "s24"))}}, 8000, nil},
		{"32 channels float", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(3, 32, 8000, 32)), chunk("data", data(32, none, "f32"))}}, 8000, nil},
		{"extensible 16-bit stereo", wavFile{chunks: [][]byte{chunk("fmt ", extensibleBody(1, 2, 48000, 16, 16)), chunk("data", data(2, none, "s16"))}}, 48000, nil},
		{"extensible 24 in 32", wavFile{chunks: [][]byte{chunk("fmt ", extensibleBody(1, 1, 48000, 32, 24)), chunk("data", data(1, none, "s32"))}}, 48000, nil},
		{"extensible float 3 channels", wavFile{chunks: [][]byte{chunk("fmt ", extensibleBody(3, 3, 44100, 32, 32)), chunk("data", data(3, threeWay, "f32"))}}, 44100, nil},
		{"extensible mu-law", wavFile{chunks: [][]byte{chunk("fmt ", extensibleBody(7, 1, 8000, 8, 8)), chunk("data", data(1, none, "ulaw"))}}, 8000, g711(pcm.EncodeULaw, pcm.DecodeULaw)},
		{"rate 1 kHz", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(1, 1, 1000, 16)), chunk("data", data(1, none, "s16"))}}, 1000, nil},
		{"rate 384 kHz", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(1, 1, 384000, 16)), chunk("data", data(1, none, "s16"))}}, 384000, nil},
		{"LIST, fact and odd junk chunks", wavFile{chunks: [][]byte{
			chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00sox!\x00")),
			chunk("fmt ", fmtBody(1, 1, 8000, 16)),
			chunk("fact", []byte{10, 0, 0, 0}),
			chunk("junk", []byte{1, 2, 3}), // odd: a pad byte follows
			chunk("data", data(1, none, "s16")),
			chunk("LIST", []byte("after the data")),
		}}, 8000, nil},
		{"fmt chunk of 18 bytes", wavFile{chunks: [][]byte{chunk("fmt ", append(fmtBody(1, 1, 8000, 16), 0, 0)), chunk("data", data(1, none, "s16"))}}, 8000, nil},
		{"odd data chunk, 8-bit", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(1, 1, 8000, 8)), chunk("data", append(data(1, none, "u8"), 128))}}, 8000, append(slices.Clone(ref), 0)},
		{"streaming data size 0xFFFFFFFF", wavFile{riffSize: new(uint32(0xFFFFFFFF)), chunks: [][]byte{chunk("fmt ", fmtBody(1, 1, 8000, 16)), append([]byte("data\xff\xff\xff\xff"), data(1, none, "s16")...)}}, 8000, nil},
		{"streaming data size 0", wavFile{riffSize: new(uint32(0)), chunks: [][]byte{chunk("fmt ", fmtBody(1, 1, 8000, 16)), append([]byte("data\x00\x00\x00\x00"), data(1, none, "s16")...)}}, 8000, nil},
		{"espeak-ng's streaming data size 0x7FFFF000", wavFile{riffSize: new(uint32(0x7FFFF024)), chunks: [][]byte{chunk("fmt ", fmtBody(1, 1, 22050, 16)), append([]byte("data\x00\xf0\xff\x7f"), data(1, none, "s16")...)}}, 22050, nil},
		{"streaming, trailing partial frame", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(1, 2, 8000, 16)), append([]byte("data\xff\xff\xff\xff"), append(data(2, none, "s16"), 1, 2, 3)...)}}, 8000, nil},
		{"declared size not a whole frame", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(1, 1, 8000, 16)), sizedChunk("data", uint32(2*len(ref)+1), append(data(1, none, "s16"), 9))}}, 8000, nil},
		{"empty data", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(1, 1, 8000, 16)), chunk("data", nil)}}, 8000, []int16{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == nil {
				want = ref
			}
			for _, via := range []string{"DecodeWAV", "Decode"} {
				decode := pcm.DecodeWAV
				if via == "Decode" {
					decode = pcm.Decode
				}
				clip, err := decode(bytes.NewReader(tc.file.bytes()), 0)
				if err != nil {
					t.Fatalf("%s: %v", via, err)
				}
				if clip.Rate != tc.rate {
					t.Errorf("%s: rate %d, want %d", via, clip.Rate, tc.rate)
				}
				if !slices.Equal(clip.Samples, want) && !(len(clip.Samples) == 0 && len(want) == 0) {
					t.Errorf("%s: samples\n got %v\nwant %v", via, clip.Samples, want)
				}
			}
		})
	}
}

func TestDecodeWAVDownmixAverages(t *testing.T) {
	left := []int16{1000, -1000, 32767, -32768}
	right := []int16{3000, 1000, 32767, -32768}
	var buf bytes.Buffer
	if err := pcm.WriteWAV(&buf, 8000, left, right); err != nil {
		t.Fatal(err)
	}
	clip, err := pcm.DecodeWAV(&buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int16{2000, 0, 32767, -32768}; !slices.Equal(clip.Samples, want) {
		t.Errorf("downmix %v, want %v", clip.Samples, want)
	}
}

func TestDecodeWAVRejects(t *testing.T) {
	good := func() [][]byte {
		return [][]byte{chunk("fmt ", fmtBody(1, 1, 8000, 16)), chunk("data", le16(1))}
	}
	fmtOnly := func(body []byte) []byte {
		return wavFile{chunks: [][]byte{chunk("fmt ", body), chunk("data", le16(1))}}.bytes()
	}
	badGUID := extensibleBody(1, 1, 8000, 16, 16)
	badGUID[39] ^= 0xFF
	cases := []struct {
		name string
		data []byte
		want string // in the error
		is   error
	}{
		{"empty", nil, "empty", pcm.ErrFormat},
		{"garbage", []byte("hello, this is not audio at all"), "not a WAV or MP3", pcm.ErrFormat},
		{"RIFF but not WAVE", []byte("RIFF\x10\x00\x00\x00AVI LIST"), "not a WAV or MP3", pcm.ErrFormat},
		{"RF64", []byte("RF64\xff\xff\xff\xffWAVEds64"), "RF64", pcm.ErrFormat},
		{"header only", []byte("RIFF\x04\x00\x00\x00WAVE"), "no fmt chunk", pcm.ErrFormat},
		{"no data chunk", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(1, 1, 8000, 16))}}.bytes(), "no data chunk", pcm.ErrFormat},
		{"fmt after data", wavFile{chunks: [][]byte{chunk("data", le16(1)), chunk("fmt ", fmtBody(1, 1, 8000, 16))}}.bytes(), "before its fmt", pcm.ErrFormat},
		{"two fmt chunks", wavFile{chunks: append([][]byte{chunk("fmt ", fmtBody(1, 1, 8000, 16))}, good()...)}.bytes(), "two fmt", pcm.ErrFormat},
		{"zero channels", fmtOnly(fmtBody(1, 0, 8000, 16)), "0 channels", pcm.ErrFormat},
		{"33 channels", fmtOnly(fmtBody(1, 33, 8000, 16)), "33 channels", pcm.ErrFormat},
		{"rate 0", fmtOnly(fmtBody(1, 1, 0, 16)), "sample rate 0", pcm.ErrFormat},
		{"rate 999", fmtOnly(fmtBody(1, 1, 999, 16)), "sample rate 999", pcm.ErrFormat},
		{"rate 384001", fmtOnly(fmtBody(1, 1, 384001, 16)), "sample rate 384001", pcm.ErrFormat},
		{"rate 2^32-1", fmtOnly(fmtBody(1, 1, -1, 16)), "sample rate", pcm.ErrFormat},
		{"12-bit PCM", fmtOnly(fmtBody(1, 1, 8000, 12)), "12-bit integer", pcm.ErrFormat},
		{"0-bit PCM", fmtOnly(fmtBody(1, 1, 8000, 0)), "0-bit integer", pcm.ErrFormat},
		{"16-bit float", fmtOnly(fmtBody(3, 1, 8000, 16)), "16-bit float", pcm.ErrFormat},
		{"16-bit mu-law", fmtOnly(fmtBody(7, 1, 8000, 16)), "16-bit G.711", pcm.ErrFormat},
		{"ADPCM", fmtOnly(fmtBody(2, 1, 8000, 4)), "format tag 0x2", pcm.ErrFormat},
		{"fmt too short", fmtOnly(fmtBody(1, 1, 8000, 16)[:14]), "fmt chunk of 14 bytes", pcm.ErrFormat},
		{"fmt huge", wavFile{chunks: [][]byte{sizedChunk("fmt ", 0xFFFFFFF0, fmtBody(1, 1, 8000, 16))}}.bytes(), "fmt chunk of 4294967280 bytes", pcm.ErrFormat},
		{"fmt truncated", []byte("RIFF\x20\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00"), "fmt chunk truncated", pcm.ErrFormat},
		{"extensible too short", fmtOnly(fmtBody(0xFFFE, 1, 8000, 16)), "EXTENSIBLE fmt chunk too short", pcm.ErrFormat},
		{"extensible bad GUID", fmtOnly(badGUID), "GUID", pcm.ErrFormat},
		{"extensible valid bits above container", fmtOnly(extensibleBody(1, 1, 8000, 16, 24)), "24 valid bits in a 16-bit", pcm.ErrFormat},
		{"extensible of extensible", fmtOnly(extensibleBody(0xFFFE, 1, 8000, 16, 16)), "itself extensible", pcm.ErrFormat},
		{"huge LIST chunk", wavFile{chunks: [][]byte{sizedChunk("LIST", 0xFFFFFFFE, []byte("abcd"))}}.bytes(), `chunk "LIST" truncated`, pcm.ErrFormat},
		{"data truncated", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(1, 1, 8000, 16)), sizedChunk("data", 1000, le16(1))}}.bytes(), "998 bytes missing of 1000", pcm.ErrFormat},
		{"data size of hours", wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(1, 1, 8000, 16)), sizedChunk("data", 0x40000000, le16(1))}}.bytes(), "longer than 1h0m0s", pcm.ErrTooLong},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clip, err := pcm.Decode(bytes.NewReader(tc.data), 0)
			if err == nil {
				t.Fatalf("decoded %d samples at %d Hz, want an error", len(clip.Samples), clip.Rate)
			}
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %v saying %q", err, tc.is, tc.want)
			}
		})
	}
}

func TestDecodeWAVMax(t *testing.T) {
	second := pcm.Tone(440, 8000, time.Second, 0.5)
	var buf bytes.Buffer
	if err := pcm.WriteWAV(&buf, 8000, second); err != nil {
		t.Fatal(err)
	}
	declared := buf.Bytes()
	streaming := slices.Clone(declared)
	binary.LittleEndian.PutUint32(streaming[40:], 0xFFFFFFFF)
	for name, data := range map[string][]byte{"declared size": declared, "streaming": streaming} {
		if _, err := pcm.Decode(bytes.NewReader(data), 999*time.Millisecond); !errors.Is(err, pcm.ErrTooLong) {
			t.Errorf("%s: 1 s against a max of 999 ms: %v, want ErrTooLong", name, err)
		}
		clip, err := pcm.Decode(bytes.NewReader(data), time.Second)
		if err != nil || clip.Duration() != time.Second {
			t.Errorf("%s: 1 s against a max of 1 s: %v, %v", name, clip.Duration(), err)
		}
	}
}

func TestDecodeWAVEveryTruncationFails(t *testing.T) {
	file := wavFile{chunks: [][]byte{
		chunk("LIST", []byte("INFOjunk")),
		chunk("fmt ", extensibleBody(1, 2, 8000, 16, 16)),
		chunk("data", interleave(2, none, le16)),
	}}.bytes()
	for n := range len(file) {
		if _, err := pcm.Decode(bytes.NewReader(file[:n]), 0); err == nil {
			t.Errorf("the first %d of %d bytes decoded without an error", n, len(file))
		}
	}
	if _, err := pcm.Decode(bytes.NewReader(file), 0); err != nil {
		t.Errorf("whole file: %v", err)
	}
}

func TestWriteWAV(t *testing.T) {
	a := []int16{1, -2, 3, 32767, -32768}
	b := []int16{7, 8}
	var buf bytes.Buffer
	if err := pcm.WriteWAV(&buf, 16000, a, b); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	want := wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(1, 2, 16000, 16)), chunk("data", slices.Concat(
		le16(1), le16(7), le16(-2), le16(8), le16(3), le16(0), le16(32767), le16(0), le16(-32768), le16(0)))}}.bytes()
	if !bytes.Equal(got, want) {
		t.Errorf("stereo WAV\n got % x\nwant % x", got, want)
	}

	buf.Reset()
	if err := pcm.WriteWAV(&buf, 8000, a); err != nil {
		t.Fatal(err)
	}
	clip, err := pcm.Decode(&buf, 0)
	if err != nil || clip.Rate != 8000 || !slices.Equal(clip.Samples, a) {
		t.Errorf("mono round trip: %v at %d Hz, %v; want %v", clip.Samples, clip.Rate, err, a)
	}

	if err := pcm.WriteWAV(&buf, 8000); err == nil {
		t.Error("no channels: no error")
	}
	if err := pcm.WriteWAV(&buf, 0, a); err == nil {
		t.Error("rate 0: no error")
	}
}

func TestClipDuration(t *testing.T) {
	for _, tc := range []struct {
		clip pcm.Clip
		want time.Duration
	}{
		{pcm.Clip{Rate: 8000, Samples: make([]int16, 160)}, 20 * time.Millisecond},
		{pcm.Clip{Rate: 22050, Samples: make([]int16, 22050*3)}, 3 * time.Second},
		{pcm.Clip{Rate: 44100, Samples: make([]int16, 441)}, 10 * time.Millisecond},
		{pcm.Clip{}, 0},
	} {
		if got := tc.clip.Duration(); got != tc.want {
			t.Errorf("%d samples at %d Hz: %v, want %v", len(tc.clip.Samples), tc.clip.Rate, got, tc.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(1, 1, 8000, 16)), chunk("data", interleave(1, none, le16))}}.bytes())
	f.Add(wavFile{chunks: [][]byte{chunk("LIST", []byte("x")), chunk("fmt ", extensibleBody(3, 2, 44100, 32, 32)), chunk("data", interleave(2, none, encoders["f32"]))}}.bytes())
	f.Add(wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(7, 1, 8000, 8)), append([]byte("data\xff\xff\xff\xff"), interleave(1, none, encoders["ulaw"])...)}}.bytes())
	f.Add(wavFile{chunks: [][]byte{chunk("fmt ", fmtBody(1, 3, 48000, 24)), chunk("data", interleave(3, none, encoders["s24"]))}}.bytes())
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEdata\x00\x00\x00\x00"))
	f.Add([]byte("ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00"))
	mp3, err := os.ReadFile(filepath.Join("testdata", "tone440-16k.mp3"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(mp3[:1000]) // the ID3 tag and a few frames: whole files make each run slow
	f.Add(mp3[id3Size(mp3) : id3Size(mp3)+500])
	f.Fuzz(func(t *testing.T, data []byte) {
		const max = 5 * time.Second
		hang := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("Decode still running after 10 s on %x", data)) })
		defer hang.Stop()
		clip, err := pcm.Decode(bytes.NewReader(data), max)
		if err != nil {
			if !errors.Is(err, pcm.ErrFormat) && !errors.Is(err, pcm.ErrTooLong) {
				t.Fatalf("error %v wraps neither ErrFormat nor ErrTooLong", err)
			}
			return
		}
		if clip.Rate < 1000 || clip.Rate > 384000 {
			t.Fatalf("decoded at %d Hz", clip.Rate)
		}
		if clip.Duration() > max {
			t.Fatalf("decoded %v, more than the max of %v", clip.Duration(), max)
		}
	})
}

// A 44-byte WAV that claims 690 MB of 8-bit samples at 384 kHz allocates
// what arrives, not what it claims, and fails as truncated.
func TestDecodeWAVDoesNotTrustTheDeclaredSize(t *testing.T) {
	hdr := make([]byte, 44)
	copy(hdr, "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], 36+345_600_000)
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], 1)
	binary.LittleEndian.PutUint16(hdr[22:], 1)
	binary.LittleEndian.PutUint32(hdr[24:], 384000)
	binary.LittleEndian.PutUint32(hdr[28:], 384000)
	binary.LittleEndian.PutUint16(hdr[32:], 1)
	binary.LittleEndian.PutUint16(hdr[34:], 8)
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], 345_600_000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := pcm.DecodeWAV(bytes.NewReader(hdr), 15*time.Minute)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("a WAV file without its samples decoded")
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 16<<20 {
		t.Errorf("decoding a 44-byte file allocated %d MB", grown>>20)
	}
}
