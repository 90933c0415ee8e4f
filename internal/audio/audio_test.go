package audio_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/audio"
)

// samples reads the 16-bit samples of a WAV file, channel by channel.
func samples(t *testing.T, data []byte) (audio.Header, [][]int16) {
	t.Helper()
	h, err := audio.ReadHeader(bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatal(err)
	}
	body := data[h.DataOffset:]
	if uint32(len(body)) != h.DataSize {
		t.Fatalf("data chunk says %d bytes, file has %d", h.DataSize, len(body))
	}
	out := make([][]int16, h.Channels)
	for i := 0; i+2*h.Channels <= len(body); i += 2 * h.Channels {
		for c := range h.Channels {
			out[c] = append(out[c], int16(binary.LittleEndian.Uint16(body[i+2*c:])))
		}
	}
	return h, out
}

// rms is the loudness of samples[from:to].
func rms(s []int16, from, to time.Duration) float64 {
	var sum float64
	a, b := audio.Samples(from), audio.Samples(to)
	for _, v := range s[a:b] {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(b-a))
}

func TestWriteWAVStereo(t *testing.T) {
	// The callee speaks from 1 s to 3 s on the first channel; the engine's
	// prompt is on the second, 0–1 s, then a beep at 3.5 s.
	path := filepath.Join(t.TempDir(), "call.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	err = audio.WriteWAV(f, 4500*time.Millisecond,
		[]audio.Segment{{Start: time.Second, Length: 2 * time.Second, Sound: audio.Speech}},
		[]audio.Segment{{Length: time.Second, Sound: audio.Speech}, {Start: 3500 * time.Millisecond, Length: 500 * time.Millisecond, Sound: audio.Tone}})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, ch := samples(t, data)
	if h.Format != 1 || h.Channels != 2 || h.SampleRate != 8000 || h.BitsPerSample != 16 || h.ByteRate != 32000 {
		t.Errorf("header %+v, want PCM, 2 channels, 8 kHz, 16 bits", h)
	}
	if h.Length() != 4500*time.Millisecond || len(ch[0]) != 36000 {
		t.Errorf("length %v (%d samples), want 4.5 s", h.Length(), len(ch[0]))
	}
	for _, c := range []struct {
		name     string
		channel  int
		from, to time.Duration
		loud     bool
	}{
		{"callee before speaking", 0, 0, time.Second, false},
		{"callee speaking", 0, time.Second, 3 * time.Second, true},
		{"callee after speaking", 0, 3 * time.Second, 4500 * time.Millisecond, false},
		{"prompt", 1, 0, time.Second, true},
		{"between prompt and beep", 1, time.Second, 3500 * time.Millisecond, false},
		{"beep", 1, 3500 * time.Millisecond, 4500 * time.Millisecond, true},
	} {
		level := rms(ch[c.channel], c.from, c.to)
		if (level > 500) != c.loud || (!c.loud && level != 0) {
			t.Errorf("%s: level %.0f, want loud %v (silence is exactly 0)", c.name, level, c.loud)
		}
	}
	// The beep is a 1 kHz tone: 2000 zero crossings a second.
	beep := ch[1][audio.Samples(3500*time.Millisecond):]
	crossings := 0
	for i := 1; i < len(beep); i++ {
		if (beep[i-1] < 0) != (beep[i] < 0) {
			crossings++
		}
	}
	if crossings < 950 || crossings > 1050 {
		t.Errorf("%d zero crossings in 0.5 s of beep, want about 1000", crossings)
	}
}

func TestWriteWAVErrors(t *testing.T) {
	var b bytes.Buffer
	for name, err := range map[string]error{
		"no channel":     audio.WriteWAV(&b, time.Second),
		"three channels": audio.WriteWAV(&b, time.Second, nil, nil, nil),
		"negative":       audio.WriteWAV(&b, -time.Second, nil),
		"too long":       audio.WriteWAV(&b, 100*time.Hour, nil, nil),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := audio.WriteWAV(&b, 0, nil); err != nil {
		t.Errorf("an empty recording: %v", err)
	}
}

func TestReadHeaderRefuses(t *testing.T) {
	var ok bytes.Buffer
	if err := audio.WriteWAV(&ok, time.Second, nil); err != nil {
		t.Fatal(err)
	}
	float := bytes.Clone(ok.Bytes())
	binary.LittleEndian.PutUint16(float[20:], 3) // IEEE float
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"empty":     {nil, "not a RIFF/WAVE file"},
		"mp3":       {[]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), "not a RIFF/WAVE file"},
		"float":     {float, "WAVE encoding 0x3"},
		"truncated": {ok.Bytes()[:30], "short fmt chunk"},
		"no data":   {ok.Bytes()[:36], "no data chunk"},
	} {
		_, err := audio.ReadHeader(bufio.NewReader(bytes.NewReader(c.data)))
		if !errors.Is(err, audio.ErrUnsupported) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrUnsupported saying %q", name, err, c.want)
		}
	}
}

func BenchmarkWriteWAV(b *testing.B) {
	speech := []audio.Segment{{Start: time.Second, Length: 20 * time.Second, Sound: audio.Speech}}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := audio.WriteWAV(&buf, 30*time.Second, speech, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}
