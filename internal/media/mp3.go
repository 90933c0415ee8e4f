package media

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// MPEG audio frame header tables (MPEG-1, -2 and -2.5, layer III).
var (
	// bitrates in kbit/s by [MPEG-1?][index].
	mp3Bitrates = [2][16]int{
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},     // MPEG-2 and 2.5
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0}, // MPEG-1
	}
	// sample rates by [version bits][index]; version bits 0 = 2.5, 2 = 2, 3 = 1.
	mp3Rates = [4][3]int{{11025, 12000, 8000}, {}, {22050, 24000, 16000}, {44100, 48000, 32000}}
)

// mp3Length reads the first MPEG frame after any ID3v2 tag. A Xing or Info
// header there gives the frame count; otherwise the stream is taken as
// constant bitrate and its size (the Content-Length, or the bytes read)
// gives the length.
func mp3Length(r *bufio.Reader, contentLength int64) (time.Duration, error) {
	skipped := int64(0)
	if head, err := r.Peek(10); err == nil && string(head[:3]) == "ID3" {
		size := int64(head[6]&0x7f)<<21 | int64(head[7]&0x7f)<<14 | int64(head[8]&0x7f)<<7 | int64(head[9]&0x7f)
		n, err := r.Discard(int(10 + size))
		skipped += int64(n)
		if err != nil {
			return 0, fmt.Errorf("%w: truncated ID3 tag", ErrUnsupported)
		}
	}
	// Find the first frame sync within the first 64 KB.
	for i := 0; ; i++ {
		if i > 64<<10 {
			return 0, fmt.Errorf("%w: no MPEG audio frame", ErrUnsupported)
		}
		b, err := r.Peek(4)
		if err != nil {
			return 0, fmt.Errorf("%w: no MPEG audio frame", ErrUnsupported)
		}
		if b[0] == 0xFF && b[1]&0xE0 == 0xE0 && b[1]>>1&3 == 1 && b[2]>>4 != 0 && b[2]>>4 != 15 && b[2]>>2&3 != 3 && b[1]>>3&3 != 1 {
			break
		}
		r.Discard(1)
		skipped++
	}
	frame, err := r.Peek(4)
	if err != nil {
		return 0, fmt.Errorf("%w: no MPEG audio frame", ErrUnsupported)
	}
	versionBits := frame[1] >> 3 & 3
	mpeg1 := versionBits == 3
	bitrate := mp3Bitrates[b2i(mpeg1)][frame[2]>>4] * 1000
	rate := mp3Rates[versionBits][frame[2]>>2&3]
	samples := 1152
	if !mpeg1 {
		samples = 576
	}
	mono := frame[3]>>6 == 3
	// The Xing/Info header sits after the side information.
	side := map[[2]bool]int{{true, false}: 32, {true, true}: 17, {false, false}: 17, {false, true}: 9}[[2]bool{mpeg1, mono}]
	if hdr, err := r.Peek(4 + side + 12); err == nil {
		tag := string(hdr[4+side : 8+side])
		flags := binary.BigEndian.Uint32(hdr[8+side:])
		if (tag == "Xing" || tag == "Info") && flags&1 != 0 {
			frames := binary.BigEndian.Uint32(hdr[12+side:])
			return time.Duration(float64(frames) * float64(samples) / float64(rate) * float64(time.Second)), nil
		}
	}
	size := contentLength - skipped
	if contentLength <= 0 {
		n, err := io.Copy(io.Discard, r)
		if err != nil {
			return 0, fmt.Errorf("read mp3: %w", err)
		}
		size = n
	}
	return time.Duration(float64(size) * 8 / float64(bitrate) * float64(time.Second)), nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
