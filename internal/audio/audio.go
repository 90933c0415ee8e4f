// Package audio writes and reads the WAV files of simulated calls. A
// simulated phone has no microphone, so what it says becomes a synthetic
// voice: a buzzing vowel whose loudness rises and falls with the syllables,
// and a beep is a 1 kHz tone. Anything else is silence. Files are 8 kHz,
// 16-bit PCM, one channel per party; any player opens them.
//
// The WAV format is a 44-byte header and the samples; writing it needs no
// library, and reading it is shared with the PlayAudio measurer.
package audio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
	"unicode/utf8"
)

// SampleRate is the rate of the files written, in samples per second.
const SampleRate = 8000

// Sound is what a segment of a channel holds.
type Sound int

// Sounds.
const (
	Speech Sound = iota + 1 // a voice
	Tone                    // a 1 kHz beep
)

// Segment is a stretch of sound on a channel, from Start for Length.
type Segment struct {
	Start, Length time.Duration
	Sound         Sound
}

// SpeechRate is how fast simulated voices speak, in characters a second.
const SpeechRate = 15

// SpeechLength is how long saying text takes.
func SpeechLength(text string) time.Duration {
	return time.Duration(utf8.RuneCountInString(text)) * time.Second / SpeechRate
}

// Samples returns how many samples d lasts.
func Samples(d time.Duration) int { return int(d * SampleRate / time.Second) }

// WriteWAV writes a WAV file of the given length with one channel per
// list of segments; outside its segments a channel is silent.
func WriteWAV(w io.Writer, length time.Duration, channels ...[]Segment) error {
	if len(channels) == 0 || len(channels) > 2 {
		return fmt.Errorf("audio: %d channels: want 1 or 2", len(channels))
	}
	if length < 0 {
		return fmt.Errorf("audio: negative length %v", length)
	}
	n := Samples(length)
	nch := len(channels)
	bw := bufio.NewWriter(w)
	if err := writeHeader(bw, SampleRate, nch, n); err != nil {
		return err
	}
	var frame [4]byte
	for i := range n {
		for c, segs := range channels {
			binary.LittleEndian.PutUint16(frame[c*2:], uint16(sample(segs, i)))
		}
		if _, err := bw.Write(frame[:nch*2]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeHeader writes the 44-byte header of a 16-bit PCM WAV file of n
// samples on each of nch channels.
func writeHeader(bw *bufio.Writer, rate, nch, n int) error {
	dataSize := int64(n) * int64(nch) * 2
	if dataSize > math.MaxUint32-36 {
		return fmt.Errorf("audio: %d samples are too many for a WAV file", n)
	}
	hdr := make([]byte, 44)
	copy(hdr[0:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(36+dataSize))
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], 1) // PCM
	binary.LittleEndian.PutUint16(hdr[22:], uint16(nch))
	binary.LittleEndian.PutUint32(hdr[24:], uint32(rate))
	binary.LittleEndian.PutUint32(hdr[28:], uint32(rate*nch*2))
	binary.LittleEndian.PutUint16(hdr[32:], uint16(nch*2))
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], uint32(dataSize))
	_, err := bw.Write(hdr)
	return err
}

// sample is the value of sample i of a channel.
func sample(segs []Segment, i int) int16 {
	for _, s := range segs {
		from := Samples(s.Start)
		if i < from || i >= from+Samples(s.Length) {
			continue
		}
		t := float64(i-from) / SampleRate
		switch s.Sound {
		case Tone:
			return int16(8000 * math.Sin(2*math.Pi*1000*t))
		case Speech:
			// A 120 Hz voice with its first harmonics, its loudness
			// following four syllables a second.
			v := math.Sin(2*math.Pi*120*t) + 0.5*math.Sin(2*math.Pi*240*t) + 0.25*math.Sin(2*math.Pi*360*t)
			env := 0.55 + 0.45*math.Sin(2*math.Pi*4*t)
			return int16(5000 * v * env)
		}
	}
	return 0
}

// Header is what a WAV file's header says.
type Header struct {
	Format        uint16 // 1 PCM, 6 A-law, 7 µ-law
	Channels      int
	SampleRate    int
	ByteRate      int
	BitsPerSample int
	// DataSize is the size of the samples in bytes; 0xFFFFFFFF for a
	// stream whose size was unknown when it was written.
	DataSize uint32
	// DataOffset is where the samples start.
	DataOffset int64
}

// Length is how long the samples play.
func (h Header) Length() time.Duration {
	if h.ByteRate == 0 {
		return 0
	}
	return time.Duration(float64(h.DataSize) / float64(h.ByteRate) * float64(time.Second))
}

// ErrUnsupported is the cause of errors for audio that cannot be played.
var ErrUnsupported = errors.New("unsupported audio format")

// ReadHeader reads a RIFF/WAVE header up to the start of the samples. PCM,
// A-law and µ-law are accepted.
func ReadHeader(r *bufio.Reader) (Header, error) {
	var h Header
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil || string(riff[:4]) != "RIFF" || string(riff[8:]) != "WAVE" {
		return h, fmt.Errorf("%w: not a RIFF/WAVE file", ErrUnsupported)
	}
	h.DataOffset = 12
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return h, fmt.Errorf("%w: no data chunk", ErrUnsupported)
		}
		h.DataOffset += 8
		id, size := string(ch[:4]), binary.LittleEndian.Uint32(ch[4:])
		switch id {
		case "fmt ":
			if size < 16 || size > 1<<10 {
				return h, fmt.Errorf("%w: bad fmt chunk", ErrUnsupported)
			}
			f := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, f); err != nil {
				return h, fmt.Errorf("%w: short fmt chunk", ErrUnsupported)
			}
			h.DataOffset += int64(len(f))
			h.Format = binary.LittleEndian.Uint16(f[0:])
			if h.Format == 0xFFFE && size >= 26 { // WAVE_FORMAT_EXTENSIBLE: the sub-format decides
				h.Format = binary.LittleEndian.Uint16(f[24:])
			}
			if h.Format != 1 && h.Format != 6 && h.Format != 7 {
				return h, fmt.Errorf("%w: WAVE encoding %#x (want PCM, A-law or µ-law)", ErrUnsupported, h.Format)
			}
			h.Channels = int(binary.LittleEndian.Uint16(f[2:]))
			h.SampleRate = int(binary.LittleEndian.Uint32(f[4:]))
			h.ByteRate = int(binary.LittleEndian.Uint32(f[8:]))
			h.BitsPerSample = int(binary.LittleEndian.Uint16(f[14:]))
		case "data":
			if h.ByteRate == 0 {
				return h, fmt.Errorf("%w: data before fmt", ErrUnsupported)
			}
			h.DataSize = size
			return h, nil
		default:
			if _, err := r.Discard(int(size + size%2)); err != nil {
				return h, fmt.Errorf("%w: short %q chunk", ErrUnsupported, id)
			}
			h.DataOffset += int64(size + size%2)
		}
	}
}
