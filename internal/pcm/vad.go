package pcm

import (
	"math"
	"time"
)

// VAD settings. Levels are in dB relative to full scale.
const (
	vadMargin   = 10.0  // a frame is loud when this far above the noise floor
	vadGate     = -50.0 // and above this, however quiet the line
	vadStartDB  = -50.0 // the floor assumed until the line has been heard for vadWindow
	vadAttack   = 60 * time.Millisecond
	vadHang     = 300 * time.Millisecond
	vadWindow   = 2 * time.Second // the floor is the quietest frame heard in this long
	vadSegments = 8               // the window is tracked as this many minima
)

// VAD tells speech from silence on the far end's audio, for silence
// timeouts and answering-machine detection. A frame is loud when its level
// is well above the line's noise floor, which is the quietest level heard
// over the last two seconds, so steady hum or hiss stops counting as
// speech within about two seconds of starting. Speech starts after 60 ms
// of loud frames and ends after 300 ms without one, so pauses between
// words do not end it. The zero value is not usable; a VAD is not safe for
// concurrent use.
type VAD struct {
	rate      int
	speaking  bool
	loudFor   time.Duration // consecutive loud audio while not speaking
	quietFor  time.Duration // consecutive quiet audio while speaking
	segLen    time.Duration // length of one floor segment
	segFilled time.Duration // audio in the current segment
	segMin    [vadSegments]float64
	seg       int // current segment
}

// NewVAD returns a detector for audio at rate samples a second.
func NewVAD(rate int) *VAD {
	v := &VAD{rate: max(rate, 1), segLen: vadWindow / vadSegments}
	for i := range v.segMin {
		v.segMin[i] = vadStartDB
	}
	return v
}

// Feed takes the next frame of audio (any length; 10 to 30 ms is usual) and
// reports whether speech is active at its end.
func (v *VAD) Feed(frame []int16) bool {
	if len(frame) == 0 {
		return v.speaking
	}
	d := time.Duration(len(frame)) * time.Second / time.Duration(v.rate)
	var sum float64
	for _, s := range frame {
		sum += float64(s) * float64(s)
	}
	level := 10 * math.Log10(sum/float64(len(frame))/(fullScale*fullScale)+1e-12)

	floor := v.segMin[0]
	for _, m := range v.segMin[1:] {
		floor = math.Min(floor, m)
	}
	floor = math.Min(floor, level)
	v.track(level, d)

	loud := level > floor+vadMargin && level > vadGate
	switch {
	case loud && v.speaking:
		v.quietFor = 0
	case loud:
		v.loudFor += d
		if v.loudFor >= vadAttack {
			v.speaking, v.quietFor = true, 0
		}
	case v.speaking:
		v.quietFor += d
		if v.quietFor >= vadHang {
			v.speaking, v.loudFor = false, 0
		}
	default:
		v.loudFor = 0
	}
	return v.speaking
}

// track records level in the floor window, starting a new segment (and
// forgetting the oldest) every segLen of audio.
func (v *VAD) track(level float64, d time.Duration) {
	if v.segFilled >= v.segLen {
		v.seg = (v.seg + 1) % vadSegments
		v.segMin[v.seg] = level
		v.segFilled = 0
	} else {
		v.segMin[v.seg] = math.Min(v.segMin[v.seg], level)
	}
	v.segFilled += d
}
