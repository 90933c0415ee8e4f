package pcm

// G.711 (ITU-T G.711) companding, by table. The encoders index a table by
// the top 14 (mu-law) or 13 (A-law) bits of the sample, which is all the
// precision G.711 keeps; the tables are built once from the standard's
// segment rules.

var (
	ulawDecode [256]int16
	alawDecode [256]int16
	ulawEncode [1 << 14]byte
	alawEncode [1 << 13]byte
)

func init() {
	for i := range 256 {
		ulawDecode[i] = ulawToLinear(byte(i))
		alawDecode[i] = alawToLinear(byte(i))
	}
	for i := range 1 << 14 {
		ulawEncode[i] = linearToULaw(int16(uint16(i) << 2))
	}
	for i := range 1 << 13 {
		alawEncode[i] = linearToALaw(int16(uint16(i) << 3))
	}
}

// EncodeULaw appends the mu-law codes of src to dst.
func EncodeULaw(dst []byte, src []int16) []byte {
	dst = grow(dst, len(src))
	for _, s := range src {
		dst = append(dst, ulawEncode[uint16(s)>>2])
	}
	return dst
}

// DecodeULaw appends the samples of the mu-law codes in src to dst.
func DecodeULaw(dst []int16, src []byte) []int16 {
	dst = grow(dst, len(src))
	for _, c := range src {
		dst = append(dst, ulawDecode[c])
	}
	return dst
}

// EncodeALaw appends the A-law codes of src to dst.
func EncodeALaw(dst []byte, src []int16) []byte {
	dst = grow(dst, len(src))
	for _, s := range src {
		dst = append(dst, alawEncode[uint16(s)>>3])
	}
	return dst
}

// DecodeALaw appends the samples of the A-law codes in src to dst.
func DecodeALaw(dst []int16, src []byte) []int16 {
	dst = grow(dst, len(src))
	for _, c := range src {
		dst = append(dst, alawDecode[c])
	}
	return dst
}

func grow[T any](s []T, n int) []T {
	if cap(s)-len(s) < n {
		s = append(make([]T, 0, len(s)+n), s...)
	}
	return s
}

// segment returns the index of the first end in ends at or above v, or
// len(ends).
func segment(v int, ends *[8]int) int {
	for i, e := range ends {
		if v <= e {
			return i
		}
	}
	return len(ends)
}

var (
	ulawEnds = [8]int{0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF}
	alawEnds = [8]int{0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF}
)

const (
	ulawBias = 0x84
	ulawClip = 8159 // in 14-bit units
)

func linearToULaw(s int16) byte {
	v := int(s) >> 2
	mask := byte(0xFF)
	if v < 0 {
		v, mask = -v, 0x7F
	}
	v = min(v, ulawClip) + ulawBias>>2
	seg := segment(v, &ulawEnds)
	if seg >= 8 {
		return 0x7F ^ mask
	}
	return byte(seg<<4|(v>>(seg+1))&0xF) ^ mask
}

func ulawToLinear(c byte) int16 {
	c = ^c
	t := (int(c&0x0F)<<3 + ulawBias) << (c & 0x70 >> 4)
	if c&0x80 != 0 {
		return int16(ulawBias - t)
	}
	return int16(t - ulawBias)
}

func linearToALaw(s int16) byte {
	v := int(s) >> 3
	mask := byte(0xD5)
	if v < 0 {
		v, mask = -v-1, 0x55
	}
	seg := segment(v, &alawEnds)
	if seg >= 8 {
		return 0x7F ^ mask
	}
	a := seg << 4
	if seg < 2 {
		a |= v >> 1 & 0xF
	} else {
		a |= v >> seg & 0xF
	}
	return byte(a) ^ mask
}

func alawToLinear(c byte) int16 {
	c ^= 0x55
	t := int(c&0x0F) << 4
	switch seg := int(c & 0x70 >> 4); seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t = (t + 0x108) << (seg - 1)
	}
	if c&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}
