package tts

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/voicehook/voicehook/internal/audio"
	"github.com/voicehook/voicehook/internal/pcm"
)

// BabbleRate is the sample rate of the clips Babble returns.
const BabbleRate = audio.SampleRate

// MaxBabble is the longest speech Babble makes (9000 characters); longer
// text is refused. Making it takes about 30 MB for a moment.
const MaxBabble = 10 * time.Minute

// Babble is a Synthesizer written in Go that needs no program: it says a
// sentence as a voice-like signal, not as words anyone could understand.
// Simulated phones use it when no speech program is installed, and tests
// use it to get speech without starting a process.
//
// Each word is a voiced burst: a train of glottal pulses at the voice's
// pitch (about 120 Hz for a male voice, 210 Hz for a female one, a little
// higher or lower for each Bandwidth voice name), shaped by three formant
// resonances that glide from vowel to vowel as the letters go, with
// consonants as murmurs or short bursts of noise. Words are separated by
// short silences, clauses (after , ; :) by longer ones, and sentences
// (after . ! ?) by the longest, about 400 ms; the pitch falls through a
// sentence and rises at the end of a question. The clip lasts
// audio.SpeechLength of the text, as the engine times simulated speech,
// at BabbleRate; its words have an RMS level of about −20 dBFS, and its
// rare peaks above −6 dBFS are bent softly to stay below −1 dBFS.
//
// SSML is said as the text between its tags (a <break> adds no pause, so
// that the length stays the one the engine expects); text that is empty
// once trimmed gives an empty clip and no error. The same Request always
// gives the same samples, and SSML the same as its text without
// the tags: the noise comes from a generator seeded by the text and the
// voice. Babble holds no state and is safe for concurrent use; a second
// of speech costs a fraction of a millisecond (BenchmarkBabble).
type Babble struct{}

// Synthesize says r.
func (Babble) Synthesize(ctx context.Context, r Request) (pcm.Clip, error) {
	if err := ctx.Err(); err != nil {
		return pcm.Clip{}, err
	}
	timed, said := babbleText(r)
	length := audio.SpeechLength(timed)
	if length > MaxBabble {
		return pcm.Clip{}, fmt.Errorf("tts: babble: %d characters take %v to say, longer than %v", utf8.RuneCountInString(timed), length, MaxBabble)
	}
	out := pcm.Clip{Rate: BabbleRate}
	n := audio.Samples(length)
	if n == 0 {
		return out, nil
	}
	words := strings.Fields(said)
	if len(words) == 0 { // only entities or markup that said nothing: hum
		words = []string{"m"}
	}
	v := newVoice(r, timed)
	out.Samples = v.say(planWords(words, n, v), n)
	return out, nil
}

// babbleText returns the text whose length the engine times (the request's
// text, or its SSML with the tags taken out, trimmed) and the text to say
// (the same with XML's entities replaced).
func babbleText(r Request) (timed, said string) {
	if strings.TrimSpace(r.SSML) == "" {
		t := strings.TrimSpace(r.Text)
		return t, t
	}
	var b strings.Builder
	in := false
	for _, c := range r.SSML {
		switch {
		case c == '<':
			in = true
		case c == '>':
			in = false
		case !in:
			b.WriteRune(c)
		}
	}
	timed = strings.TrimSpace(b.String())
	return timed, entities.Replace(timed)
}

var entities = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'")

// Pauses after a word, before they are shortened to fit (at most
// maxPauseShare of the clip is silence).
const (
	wordPause     = 70 * time.Millisecond
	clausePause   = 180 * time.Millisecond
	sentencePause = 400 * time.Millisecond
	maxPauseShare = 0.4
)

// sound is a kind of segment of speech.
type sound uint8

const (
	pause  sound = iota
	vowel        // voiced, full loudness
	murmur       // voiced consonant: low formants, quieter
	hiss         // unvoiced consonant: noise
	stop         // plosive: a closure (silence), then a burst of noise
)

// segment is a stretch of one sound, n samples long.
type segment struct {
	sound    sound
	n        int
	formants [3]float64 // vowel and murmur
	noise    float64    // the centre of a hiss's or stop's noise, in Hz
	pitch    [2]float64 // the pitch at its start and end, as multiples of the voice's
}

// vowelFormants are F1–F3 of a man's vowels, in Hz; a woman's are higher.
var vowelFormants = [...][3]float64{
	{730, 1090, 2440}, // a
	{530, 1840, 2480}, // e
	{270, 2290, 3010}, // i
	{570, 840, 2410},  // o
	{300, 870, 2240},  // u
	{390, 1990, 2550}, // y
}

var murmurFormants = [3]float64{280, 1150, 2500}

// letterSound tells what a letter sounds like: its sound, the formants of
// a vowel and the noise of a consonant, and its share of a word's length.
func letterSound(c rune) (s sound, formants [3]float64, noise, weight float64) {
	switch c = unicode.ToLower(c); {
	case strings.ContainsRune("aeiouy", c):
		return vowel, vowelFormants[strings.IndexRune("aeiouy", c)], 0, 1.4
	case c >= '0' && c <= '9': // a digit is said as a syllable
		return vowel, vowelFormants[(c-'0')%6], 0, 2.5
	case strings.ContainsRune("bdglmnrvwj", c):
		return murmur, murmurFormants, 0, 0.8
	case strings.ContainsRune("szcx", c):
		return hiss, formants, 3300, 0.9
	case c == 'f' || c == 'h':
		return hiss, formants, 1800, 0.8
	case c == 't':
		return stop, formants, 3000, 0.7
	case c == 'p':
		return stop, formants, 900, 0.7
	case c == 'k' || c == 'q':
		return stop, formants, 1900, 0.7
	case c > unicode.MaxASCII && unicode.IsLetter(c): // a syllable of another script
		return vowel, vowelFormants[int(c)%len(vowelFormants)], 0, 3
	}
	return pause, formants, 0, 0 // punctuation inside a word takes no time
}

// Punctuation that ends a sentence or a clause.
const (
	sentenceEnds = ".!?…。！？"
	clauseEnds   = ",;:—、，；："
)

// planWords lays words out over n samples: the pauses after each word but
// the last, then the rest shared among the words' letters by their weight.
func planWords(words []string, n int, v *voice) []segment {
	ends := make([]bool, len(words)) // the word ends a sentence
	pauses := make([]int, len(words))
	total := 0
	for i, w := range words {
		last, _ := utf8.DecodeLastRuneInString(w)
		ends[i] = i == len(words)-1 || strings.ContainsRune(sentenceEnds, last)
		switch {
		case i == len(words)-1:
			continue
		case ends[i]:
			pauses[i] = audio.Samples(sentencePause)
		case strings.ContainsRune(clauseEnds, last):
			pauses[i] = audio.Samples(clausePause)
		default:
			pauses[i] = audio.Samples(wordPause)
		}
		total += pauses[i]
	}
	if limit := int(maxPauseShare * float64(n)); total > limit {
		shortened := 0
		for i := range pauses {
			pauses[i] = pauses[i] * limit / total
			shortened += pauses[i]
		}
		total = shortened
	}

	// The letters of every word, with their weights.
	type letter struct {
		seg    segment
		weight float64
	}
	letters := make([][]letter, len(words))
	var sum float64
	for i, w := range words {
		for _, c := range w {
			s, f, noise, weight := letterSound(c)
			if weight > 0 {
				letters[i] = append(letters[i], letter{segment{sound: s, formants: v.scale(f), noise: noise}, weight})
				sum += weight
			}
		}
		if len(letters[i]) == 0 { // a word of punctuation: a murmur
			letters[i] = []letter{{segment{sound: murmur, formants: v.scale(murmurFormants)}, 1}}
			sum++
		}
	}

	// Cut the speaking time at cumulative weights, so that the segments
	// add up to exactly n samples. The pitch falls by a sixth through a
	// sentence; a question's last word rises instead.
	speaking := float64(n - total)
	segs := make([]segment, 0, 2*len(words)+int(sum))
	var done float64
	at, start := 0, 0 // the sample reached, the sentence's first word
	for i, ls := range letters {
		if i > 0 && ends[i-1] {
			start = i
		}
		count := start
		for !ends[count] {
			count++
		}
		count = count - start + 1
		from := 1.08 - 0.16*float64(i-start)/float64(count)
		to := from - 0.16/float64(count)
		if last, _ := utf8.DecodeLastRuneInString(words[i]); strings.ContainsRune("?？", last) {
			to = 1.3
		}
		var wordWeight, inWord float64
		for _, l := range ls {
			wordWeight += l.weight
		}
		for _, l := range ls {
			done += l.weight
			end := int(math.Round(done / sum * speaking))
			seg := l.seg
			seg.n = end - at
			seg.pitch[0] = from + (to-from)*inWord/wordWeight
			inWord += l.weight
			seg.pitch[1] = from + (to-from)*inWord/wordWeight
			if seg.n > 0 {
				segs = append(segs, seg)
			}
			at = end
		}
		if pauses[i] > 0 {
			segs = append(segs, segment{sound: pause, n: pauses[i]})
		}
	}
	return segs
}

// voice is who speaks: a pitch, formants scaled to the speaker, and the
// seed of its noise.
type voice struct {
	pitch, formants float64
	seed            uint64
}

// Pitches of the voices, in Hz.
const (
	malePitch   = 120
	femalePitch = 210
)

// variantPitch moves the pitch of a Bandwidth voice by its variant, so
// that two voices of one locale and gender sound apart.
var variantPitch = map[byte]float64{'1': 0.92, '2': 1.08, '3': 1, '4': 1.15}

// newVoice returns the voice of r, which says text.
func newVoice(r Request, text string) *voice {
	male := strings.EqualFold(strings.TrimSpace(r.Gender), "male")
	shift := 1.0
	if bv, ok := voices[strings.ToLower(strings.TrimSpace(r.Voice))]; ok {
		male = bv.variant[0] == 'm'
		if f, ok := variantPitch[bv.variant[len(bv.variant)-1]]; ok {
			shift = f
		}
	}
	v := &voice{pitch: femalePitch * shift, formants: 1.15}
	if male {
		v.pitch, v.formants = malePitch*shift, 1
	}
	h := fnv.New64a()
	for _, s := range []string{text, r.Voice, r.Locale, r.Gender} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	v.seed = h.Sum64() | 1 // xorshift needs a seed that is not zero
	return v
}

// scale returns a man's formants moved to the voice's.
func (v *voice) scale(f [3]float64) [3]float64 {
	return [3]float64{f[0] * v.formants, f[1] * v.formants, f[2] * v.formants}
}

// Synthesis settings.
const (
	controlBlock  = 32                    // samples between updates of the formants and the pitch
	formantGlide  = 12 * time.Millisecond // time constant of the formants' moves
	loudnessGlide = 5 * time.Millisecond  // time constant of the loudness
	glottalCorner = 150.0                 // Hz: the glottal pulse's low-pass
	murmurLevel   = 0.35                  // a voiced consonant's loudness, a vowel's being 1
	hissLevel     = 0.5                   // the noise of an unvoiced consonant
	stopLevel     = 0.8                   // the noise of a plosive's burst
	closure       = 0.45                  // the share of a plosive that is silent
	noiseWidth    = 1200.0                // Hz: the bandwidth of a consonant's noise
	targetRMS     = 0.1                   // −20 dBFS over the words
	peakLimit     = 0.89                  // −1 dBFS
	kneeLevel     = 0.5                   // peaks above this are bent towards peakLimit
	pulseSize     = 1600                  // brings the voice to about three times the noise
)

// formantWidths are the bandwidths of F1–F3, in Hz.
var formantWidths = [3]float64{90, 110, 170}

// resonator is a two-pole filter with unit gain at its centre frequency.
type resonator struct {
	radius  float64 // of the poles, from the bandwidth
	a, b, c float64 // y = a·x + b·y1 + c·y2
	y1, y2  float64
}

// widen sets the bandwidth to bw Hz, at BabbleRate; tune then sets the
// centre.
func (r *resonator) widen(bw float64) {
	r.radius = math.Exp(-math.Pi * bw / BabbleRate)
	r.c = -r.radius * r.radius
}

// tune sets the centre to f Hz.
func (r *resonator) tune(f float64) {
	cos := math.Cos(2 * math.Pi * f / BabbleRate)
	r.b = 2 * r.radius * cos
	cos2 := 2*cos*cos - 1
	r.a = (1 - r.radius) * math.Sqrt(1-2*r.radius*cos2+r.radius*r.radius)
}

// floats holds say's buffers, as long as a clip, for the next clip (a
// conversation renders one a sentence); a buffer longer than keptFloats
// samples, a minute of speech, is not kept.
var floats = sync.Pool{New: func() any { return new([]float32) }}

const keptFloats = 60 * BabbleRate

// say renders the segments, n samples in all, as 16-bit samples.
func (v *voice) say(segs []segment, n int) []int16 {
	kept := floats.Get().(*[]float32)
	defer floats.Put(kept)
	buf := *kept // before the level is set
	if cap(buf) < n {
		buf = make([]float32, n)
		if n <= keptFloats {
			*kept = buf
		}
	}
	buf = buf[:n]

	var formants [3]float64
	for _, s := range segs {
		if s.sound == vowel || s.sound == murmur {
			formants = s.formants
			break
		}
	}
	formantStep := 1 - math.Exp(-float64(controlBlock)/(formantGlide.Seconds()*BabbleRate))
	g := &source{
		rng:          v.seed,
		period:       1,
		loudnessStep: 1 - math.Exp(-1/(loudnessGlide.Seconds()*BabbleRate)),
		glottalPole:  math.Exp(-2 * math.Pi * glottalCorner / BabbleRate),
	}
	for i := range g.res {
		g.res[i].widen(formantWidths[i])
		g.res[i].tune(formants[i])
	}
	g.noise.widen(noiseWidth)
	at := 0
	for _, s := range segs {
		if s.sound == hiss || s.sound == stop {
			g.noise.tune(s.noise)
		}
	segment:
		for j := 0; j < s.n; j += controlBlock {
			share := float64(j) / float64(s.n)
			g.f0 = v.pitch * (s.pitch[0] + (s.pitch[1]-s.pitch[0])*share) / BabbleRate
			g.voiceTarget, g.hissTarget = 0, 0
			switch s.sound {
			case vowel:
				g.voiceTarget = 0.7 + 0.3*math.Sin(math.Pi*share)
			case murmur:
				g.voiceTarget = murmurLevel
			case hiss:
				g.hissTarget = hissLevel
			case stop:
				if share >= closure {
					g.hissTarget = stopLevel
				}
			}
			if s.sound == vowel || s.sound == murmur {
				for k := range formants {
					formants[k] += (s.formants[k] - formants[k]) * formantStep
					g.res[k].tune(formants[k])
				}
			}
			block := buf[at : at+min(controlBlock, s.n-j)]
			if s.sound != pause {
				g.render(block, false)
				at += len(block)
				continue
			}
			if done := g.render(block, true); done < len(block) {
				// The pause is silent from here to its end, as
				// computing it would give, at no cost.
				clear(buf[at+done : at+s.n-j])
				at += s.n - j
				break segment
			}
			at += len(block)
		}
	}

	out := make([]int16, n)
	if g.sumSq == 0 {
		return out
	}
	// Bring the words to targetRMS, and bend the few peaks above
	// kneeLevel softly towards peakLimit, which none reaches.
	gain := targetRMS / math.Sqrt(g.sumSq/float64(g.words))
	for i, x := range buf {
		y := float64(x) * gain
		if a := math.Abs(y); a > kneeLevel {
			y = math.Copysign(kneeLevel+(peakLimit-kneeLevel)*math.Tanh((a-kneeLevel)/(peakLimit-kneeLevel)), y)
		}
		out[i] = round(y * 32767)
	}
	return out
}

// round is math.Round for a sample, |x| < 32768, in a few instructions
// and no branch.
func round(x float64) int16 {
	i := int(x) // towards zero; x - float64(i) is exact
	f := x - float64(i)
	if f >= 0.5 {
		i++
	}
	if f <= -0.5 {
		i--
	}
	return int16(i)
}

// source is the state of say's synthesis between control blocks: the
// glottis and its jitter, the formants, the noise, and their loudness.
type source struct {
	res                     [3]resonator
	noise                   resonator
	rng                     uint64
	phase                   float64 // of the glottal pulses, in periods
	period                  float64 // this period's length, as a share of the nominal one (jitter)
	glottis                 [2]float64
	voiced, hissed          float64 // the loudness of the voice and of the noise, smoothed
	radiated                float64 // the previous output of the formants
	sumSq                   float64 // over the words
	words                   int     // samples of words
	f0                      float64 // the pitch, in periods per sample
	voiceTarget, hissTarget float64 // the loudness the block glides to
	loudnessStep            float64
	glottalPole             float64
}

// render renders a control block into out. In a pause, it stops at the
// first sample once the sound has died away and returns its index;
// otherwise it returns len(out) and counts the samples as words.
//
// This is the loop that costs: the state is copied into locals, which
// the compiler can keep in registers instead of loading and storing them
// through g at every sample, and the filters are written out.
func (g *source) render(out []float32, pause bool) int {
	var (
		a0, b0, c0, p0, q0 = g.res[0].a, g.res[0].b, g.res[0].c, g.res[0].y1, g.res[0].y2
		a1, b1, c1, p1, q1 = g.res[1].a, g.res[1].b, g.res[1].c, g.res[1].y1, g.res[1].y2
		a2, b2, c2, p2, q2 = g.res[2].a, g.res[2].b, g.res[2].c, g.res[2].y1, g.res[2].y2
		an, bn, cn, pn, qn = g.noise.a, g.noise.b, g.noise.c, g.noise.y1, g.noise.y2

		rng, phase, period = g.rng, g.phase, g.period
		g0, g1             = g.glottis[0], g.glottis[1]
		voiced, hissed     = g.voiced, g.hissed
		radiated, sumSq    = g.radiated, g.sumSq
		f0, pole, step     = g.f0, g.glottalPole, g.loudnessStep
		voiceTo, hissTo    = g.voiceTarget, g.hissTarget
	)
	done := len(out)
	advance := f0 / period // the phase per sample
	for i := range out {
		voiced += (voiceTo - voiced) * step
		hissed += (hissTo - hissed) * step
		if pause && voiced < quiet && hissed < quiet && math.Abs(radiated) < quiet {
			voiced, hissed = 0, 0
			done = i
			break
		}

		// The glottis: a pulse every period, smoothed by two poles.
		pulse := 0.0
		if phase += advance; phase >= 1 {
			phase -= 1
			pulse = pulseSize
			rng = xorshift(rng)
			period = 1 + 0.03*(float64(rng>>11)/(1<<53)-0.5)
			advance = f0 / period
		}
		g0 = pulse + pole*g0
		g1 = g0 + pole*g1

		// The formants, then the radiation at the lips, then the noise.
		y := g1 * voiced
		y = a0*y + b0*p0 + c0*q0
		p0, q0 = y, p0
		y = a1*y + b1*p1 + c1*q1
		p1, q1 = y, p1
		y = a2*y + b2*p2 + c2*q2
		p2, q2 = y, p2
		sample := y - radiated
		radiated = y
		if hissed > 1e-4 || pn != 0 || qn != 0 { // the noise, or its ringing
			x := 0.0
			if hissed > 1e-4 {
				rng = xorshift(rng)
				x = hissed * (float64(rng>>11)/(1<<52) - 1)
			} else if math.Abs(pn) < faint && math.Abs(qn) < faint {
				pn, qn = 0, 0 // it has died away: silent from now on, at no cost
			}
			y = an*x + bn*pn + cn*qn
			pn, qn = y, pn
			sample += y
		}

		out[i] = float32(sample)
		if !pause {
			sumSq += sample * sample
		}
	}
	if !pause {
		g.words += len(out)
	}
	g.res[0].y1, g.res[0].y2 = p0, q0
	g.res[1].y1, g.res[1].y2 = p1, q1
	g.res[2].y1, g.res[2].y2 = p2, q2
	g.noise.y1, g.noise.y2 = pn, qn
	g.rng, g.phase, g.period = rng, phase, period
	g.glottis = [2]float64{g0, g1}
	g.voiced, g.hissed = voiced, hissed
	g.radiated, g.sumSq = radiated, sumSq
	return done
}

// quiet is a level of the voice's sources and output below which a pause
// is silence.
const quiet = 1e-7

// faint is a level of the noise's ringing below which it is silence:
// before the gain, the words' RMS level is about 0.4.
const faint = 1e-12

// xorshift is Marsaglia's xorshift64 generator: the next state after x.
func xorshift(x uint64) uint64 {
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	return x
}
