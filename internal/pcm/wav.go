package pcm

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// WAV format tags.
const (
	wavePCM        = 1
	waveFloat      = 3
	waveALaw       = 6
	waveULaw       = 7
	waveExtensible = 0xFFFE
)

// Bounds on what DecodeWAV accepts.
const (
	minRate = 1000
	maxRate = 384000
	// maxPrealloc bounds the samples allocated before they are read.
	maxPrealloc = 1 << 20
	maxChannels = 32
	maxFmtSize  = 1 << 10 // a fmt chunk is 16 to 40 bytes; anything larger is hostile
	// Data sizes from here up are streaming placeholders, not lengths.
	streamingSize = 0x7FFF0000
)

// extensibleTail is the part of every KSDATAFORMAT_SUBTYPE GUID after the
// format tag in its first two bytes.
var extensibleTail = [14]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// wavFormat is what a fmt chunk says.
type wavFormat struct {
	tag      int // after resolving WAVE_FORMAT_EXTENSIBLE
	channels int
	rate     int
	bits     int // container bits per sample
}

func (f wavFormat) frameSize() int { return f.channels * f.bits / 8 }

// DecodeWAV reads a RIFF/WAVE file: integer PCM of 8, 16, 24 or 32 bits,
// IEEE float of 32 or 64 bits, G.711 mu-law (format 7) and A-law (format
// 6), and WAVE_FORMAT_EXTENSIBLE with any of those as its subformat; at any
// rate from 1 kHz to 384 kHz and with 1 to 32 channels, which are averaged
// to one. Chunks other than fmt and data are skipped, odd-sized chunks are
// followed by their pad byte, and a data size of 0, or of 0x7FFF0000 and
// more (the placeholders streaming encoders write when they cannot seek
// back: 0xFFFFFFFF, and espeak-ng's 0x7FFFF000), means "to the end of the
// file". Any other data chunk shorter than its declared size is an error,
// as is audio longer than max (0 means DefaultMax).
func DecodeWAV(r io.Reader, max time.Duration) (Clip, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	var riff [12]byte
	if _, err := io.ReadFull(br, riff[:]); err != nil {
		return Clip{}, fmt.Errorf("%w: WAV header truncated", ErrFormat)
	}
	if string(riff[:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return Clip{}, fmt.Errorf("%w: not a RIFF/WAVE file", ErrFormat)
	}
	var format *wavFormat
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if format == nil {
				return Clip{}, fmt.Errorf("%w: WAV file has no fmt chunk", ErrFormat)
			}
			return Clip{}, fmt.Errorf("%w: WAV file has no data chunk", ErrFormat)
		}
		id, size := string(hdr[:4]), binary.LittleEndian.Uint32(hdr[4:])
		switch id {
		case "fmt ":
			if format != nil {
				return Clip{}, fmt.Errorf("%w: WAV file has two fmt chunks", ErrFormat)
			}
			f, err := readFmt(br, size)
			if err != nil {
				return Clip{}, err
			}
			format = &f
		case "data":
			if format == nil {
				return Clip{}, fmt.Errorf("%w: WAV data chunk comes before its fmt chunk", ErrFormat)
			}
			return readData(br, *format, size, max)
		default:
			if err := skip(br, int64(size)+int64(size&1)); err != nil {
				return Clip{}, fmt.Errorf("%w: WAV chunk %q truncated", ErrFormat, sanitize(id))
			}
		}
	}
}

// sanitize makes a chunk id printable for an error message.
func sanitize(id string) string {
	b := []byte(id)
	for i, c := range b {
		if c < 0x20 || c > 0x7E {
			b[i] = '?'
		}
	}
	return string(b)
}

func skip(r io.Reader, n int64) error {
	got, err := io.CopyN(io.Discard, r, n)
	if got == n {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func readFmt(r io.Reader, size uint32) (wavFormat, error) {
	if size < 16 || size > maxFmtSize {
		return wavFormat{}, fmt.Errorf("%w: WAV fmt chunk of %d bytes (want 16 to %d)", ErrFormat, size, maxFmtSize)
	}
	buf := make([]byte, size+size&1)
	if _, err := io.ReadFull(r, buf); err != nil {
		// A missing pad byte after an odd fmt chunk at the end of the
		// buffer is not worth failing over, but a short chunk is.
		return wavFormat{}, fmt.Errorf("%w: WAV fmt chunk truncated", ErrFormat)
	}
	le := binary.LittleEndian
	f := wavFormat{
		tag:      int(le.Uint16(buf[0:])),
		channels: int(le.Uint16(buf[2:])),
		rate:     int(le.Uint32(buf[4:])),
		bits:     int(le.Uint16(buf[14:])),
	}
	if f.tag == waveExtensible {
		if size < 40 || int(le.Uint16(buf[16:])) < 22 {
			return wavFormat{}, fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE fmt chunk too short", ErrFormat)
		}
		valid := int(le.Uint16(buf[18:]))
		if valid > f.bits {
			return wavFormat{}, fmt.Errorf("%w: WAV has %d valid bits in a %d-bit container", ErrFormat, valid, f.bits)
		}
		if [14]byte(buf[26:40]) != extensibleTail {
			return wavFormat{}, fmt.Errorf("%w: WAV subformat GUID is not a standard audio format", ErrFormat)
		}
		f.tag = int(le.Uint16(buf[24:]))
		if f.tag == waveExtensible {
			return wavFormat{}, fmt.Errorf("%w: WAV subformat is itself extensible", ErrFormat)
		}
	}
	switch {
	case f.channels < 1 || f.channels > maxChannels:
		return wavFormat{}, fmt.Errorf("%w: WAV has %d channels (want 1 to %d)", ErrFormat, f.channels, maxChannels)
	case f.rate < minRate || f.rate > maxRate:
		return wavFormat{}, fmt.Errorf("%w: WAV sample rate %d Hz (want %d to %d)", ErrFormat, f.rate, minRate, maxRate)
	}
	switch f.tag {
	case wavePCM:
		if f.bits != 8 && f.bits != 16 && f.bits != 24 && f.bits != 32 {
			return wavFormat{}, fmt.Errorf("%w: %d-bit integer PCM WAV (want 8, 16, 24 or 32)", ErrFormat, f.bits)
		}
	case waveFloat:
		if f.bits != 32 && f.bits != 64 {
			return wavFormat{}, fmt.Errorf("%w: %d-bit float WAV (want 32 or 64)", ErrFormat, f.bits)
		}
	case waveALaw, waveULaw:
		if f.bits != 8 {
			return wavFormat{}, fmt.Errorf("%w: %d-bit G.711 WAV (want 8)", ErrFormat, f.bits)
		}
	default:
		return wavFormat{}, fmt.Errorf("%w: WAV format tag %#x (want PCM, float, mu-law or A-law)", ErrFormat, f.tag)
	}
	return f, nil
}

// readData decodes a data chunk of size bytes (0 or 0xFFFFFFFF: to EOF).
func readData(r io.Reader, f wavFormat, size uint32, max time.Duration) (Clip, error) {
	frame := f.frameSize()
	limit := limitFor(max, f.rate)
	toEOF := size == 0 || size >= streamingSize
	remaining := int64(size)
	if !toEOF {
		if remaining/int64(frame) > limit {
			return Clip{}, tooLong(max)
		}
		remaining -= remaining % int64(frame) // a trailing partial frame is dropped
	}
	clip := Clip{Rate: f.rate}
	if !toEOF {
		// The header's size is a claim: room for a million samples at
		// most is made up front, the rest as the bytes arrive, so a
		// 44-byte file cannot make us allocate what it declares.
		clip.Samples = make([]int16, 0, min(remaining/int64(frame), maxPrealloc))
	}
	buf := make([]byte, frame*1024)
	for toEOF || remaining > 0 {
		want := len(buf)
		if !toEOF && int64(want) > remaining {
			want = int(remaining)
		}
		n, err := io.ReadFull(r, buf[:want])
		n -= n % frame
		if toEOF && int64(len(clip.Samples))+int64(n/frame) > limit {
			return Clip{}, tooLong(max)
		}
		clip.Samples = f.appendMono(clip.Samples, buf[:n])
		remaining -= int64(n)
		if err != nil {
			if toEOF && (err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)) {
				break
			}
			if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
				return Clip{}, fmt.Errorf("%w: WAV data truncated: %d bytes missing of %d", ErrFormat, remaining, size)
			}
			return Clip{}, fmt.Errorf("read WAV data: %w", err)
		}
	}
	return clip, nil
}

// appendMono decodes whole frames from b, averaging channels, and appends
// them to dst.
func (f wavFormat) appendMono(dst []int16, b []byte) []int16 {
	le := binary.LittleEndian
	width := f.bits / 8
	var sample func(p []byte) int32 // one sample at 16-bit scale
	switch {
	case f.tag == wavePCM && width == 1:
		sample = func(p []byte) int32 { return (int32(p[0]) - 128) << 8 }
	case f.tag == wavePCM && width == 2:
		sample = func(p []byte) int32 { return int32(int16(le.Uint16(p))) }
	case f.tag == wavePCM && width == 3:
		sample = func(p []byte) int32 { return int32(int8(p[2]))<<8 | int32(p[1]) }
	case f.tag == wavePCM && width == 4:
		sample = func(p []byte) int32 { return int32(le.Uint32(p)) >> 16 }
	case f.tag == waveFloat && width == 4:
		sample = func(p []byte) int32 { return fromFloat(float64(math.Float32frombits(le.Uint32(p)))) }
	case f.tag == waveFloat && width == 8:
		sample = func(p []byte) int32 { return fromFloat(math.Float64frombits(le.Uint64(p))) }
	case f.tag == waveULaw:
		sample = func(p []byte) int32 { return int32(ulawDecode[p[0]]) }
	case f.tag == waveALaw:
		sample = func(p []byte) int32 { return int32(alawDecode[p[0]]) }
	}
	frame := f.frameSize()
	if f.channels == 1 {
		for i := 0; i+frame <= len(b); i += frame {
			dst = append(dst, int16(sample(b[i:])))
		}
		return dst
	}
	n := int32(f.channels)
	for i := 0; i+frame <= len(b); i += frame {
		var sum int32
		for c := range f.channels {
			sum += sample(b[i+c*width:])
		}
		dst = append(dst, int16(sum/n))
	}
	return dst
}

// fromFloat scales a float sample (full scale ±1) to 16 bits, clipping;
// NaN is silence.
func fromFloat(x float64) int32 {
	switch {
	case x != x:
		return 0
	case x >= 32767.0/32768:
		return 32767
	case x <= -1:
		return -32768
	}
	return int32(math.Round(x * 32768))
}

// WriteWAV writes a 16-bit PCM WAV file at rate with one channel per slice,
// interleaved; shorter channels are padded with silence to the longest. It
// needs at least one channel and writes through w in one pass (no seeking).
func WriteWAV(w io.Writer, rate int, channels ...[]int16) error {
	if len(channels) == 0 || len(channels) > 0xFFFF {
		return fmt.Errorf("write WAV: %d channels (want 1 to 65535)", len(channels))
	}
	if rate <= 0 {
		return fmt.Errorf("write WAV: sample rate %d", rate)
	}
	frames := 0
	for _, c := range channels {
		frames = max(frames, len(c))
	}
	nch := len(channels)
	dataSize := int64(frames) * int64(nch) * 2
	if dataSize > math.MaxUint32-36 {
		return fmt.Errorf("write WAV: %d bytes of samples do not fit a WAV file", dataSize)
	}
	bw := bufio.NewWriter(w)
	le := binary.LittleEndian
	var h [44]byte
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], uint32(36+dataSize))
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], wavePCM)
	le.PutUint16(h[22:], uint16(nch))
	le.PutUint32(h[24:], uint32(rate))
	le.PutUint32(h[28:], uint32(rate*nch*2))
	le.PutUint16(h[32:], uint16(nch*2))
	le.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	le.PutUint32(h[40:], uint32(dataSize))
	bw.Write(h[:])
	var s [2]byte
	for i := range frames {
		for _, c := range channels {
			var v int16
			if i < len(c) {
				v = c[i]
			}
			le.PutUint16(s[:], uint16(v))
			bw.Write(s[:])
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write WAV: %w", err)
	}
	return nil
}
