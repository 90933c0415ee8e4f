package pcm

import (
	"fmt"
	"math"
	"sync"
)

// Resampling is a polyphase windowed-sinc FIR: for a ratio out/in = L/M in
// lowest terms, output sample n sits at input position n·M/L, whose
// fractional part selects one of L precomputed phases of the filter. The
// low-pass cuts at 94% of the lower of the two Nyquist frequencies with a
// Kaiser window (β = 8, 32 zero crossings each side): at 8 kHz, 0–3.4 kHz
// passes flat (within 0.1 dB) and everything from about 4.05 kHz on is more
// than 80 dB down, mostly below the 16-bit floor.
const (
	resampleRolloff   = 0.94
	resampleCrossings = 32
	resampleBeta      = 8.0
	maxPhases         = 1024 // more phases than this are rounded to the nearest of 1024
)

// filter is the set of phases for one rate pair.
type filter struct {
	phases int       // number of phases
	taps   int       // taps per phase
	first  int       // input offset of tap 0 relative to the integer position
	coef   []float64 // phases × taps
}

// filters caches the filters of the few rate pairs a process uses.
var filters struct {
	sync.Mutex
	m map[[2]int]*filter
}

func filterFor(in, out int) *filter {
	key := [2]int{in, out}
	filters.Lock()
	f := filters.m[key]
	filters.Unlock()
	if f != nil {
		return f
	}
	f = newFilter(in, out)
	filters.Lock()
	if filters.m == nil || len(filters.m) >= 32 {
		filters.m = make(map[[2]int]*filter)
	}
	filters.m[key] = f
	filters.Unlock()
	return f
}

func newFilter(in, out int) *filter {
	g := gcd(in, out)
	l := out / g
	phases := min(l, maxPhases)
	// cutoff in cycles per input sample
	cutoff := 0.5 * resampleRolloff * math.Min(1, float64(out)/float64(in))
	half := resampleCrossings / (2 * cutoff) // half-width in input samples
	k := int(math.Ceil(half))
	f := &filter{phases: phases, taps: 2 * k, first: -k + 1, coef: make([]float64, phases*2*k)}
	norm := bessel0(resampleBeta)
	for p := range phases {
		frac := float64(p) / float64(phases)
		row := f.coef[p*f.taps : (p+1)*f.taps]
		sum := 0.0
		for j := range row {
			tau := float64(f.first+j) - frac
			if math.Abs(tau) >= half {
				continue
			}
			x := tau / half
			w := bessel0(resampleBeta*math.Sqrt(1-x*x)) / norm
			row[j] = 2 * cutoff * sinc(2*cutoff*tau) * w
			sum += row[j]
		}
		for j := range row { // unity gain at DC for every phase
			row[j] /= sum
		}
	}
	return f
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// bessel0 is the modified Bessel function of the first kind, order 0.
func bessel0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-12 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Resample returns c converted to rate samples a second, low-pass filtered
// first when going down so nothing above the new Nyquist frequency folds
// back (a 6 kHz tone at 44.1 kHz comes out of a conversion to 8 kHz as
// silence). The result lasts as long as c, to the nearest sample. A clip
// already at rate is returned unchanged (sharing its samples); a new clip
// never shares them. Resample panics if rate or c.Rate is not positive,
// which is a programming error.
func Resample(c Clip, rate int) Clip {
	if rate <= 0 || c.Rate <= 0 {
		panic(fmt.Sprintf("pcm: Resample from %d Hz to %d Hz", c.Rate, rate))
	}
	if c.Rate == rate {
		return c
	}
	in, out := c.Rate, rate
	g := gcd(in, out)
	l, m := int64(out/g), int64(in/g)
	n := int((int64(len(c.Samples))*l + m/2) / m)
	f := filterFor(in, out)
	dst := make([]int16, n)
	src := c.Samples
	for i := range dst {
		pos := int64(i) * m
		base := int(pos / l)
		rem := pos % l
		phase := int(rem)
		if int64(f.phases) != l {
			phase = int((rem*int64(f.phases) + l/2) / l)
			if phase == f.phases {
				phase, base = 0, base+1
			}
		}
		row := f.coef[phase*f.taps : (phase+1)*f.taps]
		start := base + f.first
		acc := 0.0
		if start >= 0 && start+f.taps <= len(src) {
			s := src[start : start+f.taps]
			for j, h := range row {
				acc += h * float64(s[j])
			}
		} else {
			for j, h := range row {
				if k := start + j; k >= 0 && k < len(src) {
					acc += h * float64(src[k])
				}
			}
		}
		dst[i] = clamp16(math.Round(acc))
	}
	return Clip{Rate: rate, Samples: dst}
}

func clamp16(x float64) int16 {
	switch {
	case x >= 32767:
		return 32767
	case x <= -32768:
		return -32768
	}
	return int16(x)
}
