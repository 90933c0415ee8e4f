package pcm

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hajimehoshi/go-mp3"
)

// maxID3 bounds the ID3v2 tags skipped before the first MPEG frame; the
// format allows 256 MB, which no prompt needs.
const maxID3 = 16 << 20

// DecodeMP3 decodes an MPEG-1 or MPEG-2 layer III stream (optionally
// behind ID3v2 tags; go-mp3 refuses MPEG 2.5, whose rates are those below
// 16 kHz) with github.com/hajimehoshi/go-mp3, which yields stereo
// 16-bit samples; they are averaged to mono at the stream's own rate.
// Audio longer than max (0 means DefaultMax) is refused with ErrTooLong.
func DecodeMP3(r io.Reader, max time.Duration) (clip Clip, err error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	// go-mp3 allocates an ID3 tag's declared size in one piece; skip tags
	// here without allocating, and refuse absurd ones.
	for {
		head, _ := br.Peek(10)
		if len(head) < 10 || string(head[:3]) != "ID3" {
			break
		}
		if head[6]|head[7]|head[8]|head[9] >= 0x80 {
			return Clip{}, fmt.Errorf("%w: malformed ID3 tag size", ErrFormat)
		}
		size := int64(head[6])<<21 | int64(head[7])<<14 | int64(head[8])<<7 | int64(head[9])
		if head[5]&0x10 != 0 { // footer present
			size += 10
		}
		if size > maxID3 {
			return Clip{}, fmt.Errorf("%w: ID3 tag of %d bytes", ErrFormat, size)
		}
		if err := skip(br, 10+size); err != nil {
			return Clip{}, fmt.Errorf("%w: ID3 tag truncated", ErrFormat)
		}
	}
	// go-mp3 is not hardened against hostile streams; a panic inside it is
	// a malformed file, not a crash of the call it was meant for.
	defer func() {
		if p := recover(); p != nil {
			clip, err = Clip{}, fmt.Errorf("%w: malformed MP3 stream (%v)", ErrFormat, p)
		}
	}()
	d, err := mp3.NewDecoder(br)
	if err != nil {
		return Clip{}, fmt.Errorf("%w: no MP3 audio: %v", ErrFormat, err)
	}
	rate := d.SampleRate()
	if rate < minRate || rate > maxRate {
		return Clip{}, fmt.Errorf("%w: MP3 sample rate %d Hz", ErrFormat, rate)
	}
	limit := limitFor(max, rate)
	clip.Rate = rate
	buf := make([]byte, 4*1152*4)
	for {
		n, err := io.ReadFull(d, buf)
		n -= n % 4
		if int64(len(clip.Samples))+int64(n/4) > limit {
			return Clip{}, tooLong(max)
		}
		for i := 0; i < n; i += 4 {
			l := int32(int16(binary.LittleEndian.Uint16(buf[i:])))
			r := int32(int16(binary.LittleEndian.Uint16(buf[i+2:])))
			clip.Samples = append(clip.Samples, int16((l+r)/2))
		}
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return Clip{}, fmt.Errorf("%w: MP3 stream: %v", ErrFormat, err)
		}
	}
	if len(clip.Samples) == 0 {
		return Clip{}, fmt.Errorf("%w: MP3 stream has no audio frames", ErrFormat)
	}
	return clip, nil
}
