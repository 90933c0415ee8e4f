package stt

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
)

// How a Listener hears a line. A frame is 20 ms at 8 kHz; offsets count
// frames, not wall-clock time.
const (
	lineRate     = 8000
	frameSamples = lineRate / 50 // 20 ms
	frameTime    = 20 * time.Millisecond

	// queuedFrames is how much audio of one track waits for the cutting
	// goroutine before the oldest is dropped: 2 s.
	queuedFrames = 100
	// leadFrames of audio before the start of speech go into a clip, so
	// the recognizer hears the first syllable's onset: 200 ms.
	leadFrames = 10
	// tailFrames of audio after the end of speech go into a clip: 200 ms.
	tailFrames = 10
	// attackFrames and hangFrames are pcm.VAD's: it reports speech 60 ms
	// after loud audio begins and silence 300 ms after it ends.
	attackFrames = 3
	hangFrames   = 15
	// endFrames of silence end an utterance (600 ms): pcm.VAD's 300 ms,
	// then as long again without it hearing speech.
	endFrames = 30
	// maxFrames is the longest clip: 15 s. Speech that goes on is cut
	// there and continues as the next utterance.
	maxFrames = 750
	// behind is how many utterances may wait for the recognizer; beyond
	// it the oldest waiting is dropped and reported.
	behind = 5
)

// DefaultListenTimeout bounds the recognition of one utterance when a
// Transcriber has no Timeout.
const DefaultListenTimeout = 30 * time.Second

// Transcriber recognizes the speech of calls as it comes: it implements
// engine.Transcriber over a Recognizer, for real-time transcription
// (<StartTranscription>) of lines that carry audio.
//
// Each Listener it returns cuts its line's audio into utterances with
// pcm.VAD, per track: an utterance starts when speech does (its clip keeps
// 200 ms of audio before that) and ends after 600 ms of silence, or after
// 15 s of speech, which then goes on as the next utterance. Utterances are
// recognized one at a time and in order; a Transcript is sent for each one
// in which the recognizer heard words, or that it failed on.
//
// Times count frames, 20 ms each, from the track's first frame, dropped
// frames included. A Transcript's Start and End are where pcm.VAD put the
// speech (to the frame: it hears speech 60 ms after it starts and silence
// 300 ms after it ends, which is allowed for); its words' times are the
// recognizer's, moved from the clip's start onto the same timeline.
//
// Set the fields before the first Listen and do not change them after. A
// Transcriber is safe for concurrent use; its zero value needs only a
// Recognizer.
type Transcriber struct {
	// Recognizer hears each utterance, an 8 kHz clip. Without one every
	// utterance is reported as an error.
	Recognizer Recognizer
	// Options are passed to every Recognize; a TranscriptionSpec's
	// Language replaces Options.Language.
	Options Options
	// Timeout bounds the recognition of one utterance; 0 means
	// DefaultListenTimeout. An utterance that takes longer is reported
	// with an error.
	Timeout time.Duration
	// Log gets one line per listener that lost audio or utterances; nil
	// discards it.
	Log *slog.Logger

	mu     sync.Mutex
	live   map[*Listener]struct{} // not yet stopped
	closed bool
	wg     sync.WaitGroup // every listener's goroutines
}

// Listen starts hearing a line for spec: frames fed to the returned
// Listener (a *Listener) are cut into utterances and recognized, and
// notify gets their transcripts. Frames of a track not in spec.Tracks
// ("inbound" when it has none) are ignored. After Close, the Listener
// returned is already stopped.
func (t *Transcriber) Listen(spec engine.TranscriptionSpec, notify func(engine.Transcript)) engine.Listener {
	l := t.newListener(spec, notify)
	t.start(l)
	return l
}

// newListener returns a listener for spec whose goroutines have not
// started.
func (t *Transcriber) newListener(spec engine.TranscriptionSpec, notify func(engine.Transcript)) *Listener {
	tracks := spec.Tracks
	if len(tracks) == 0 {
		tracks = []string{engine.TrackInbound}
	}
	o := t.Options
	if spec.Language != "" {
		o.Language = spec.Language
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Listener{
		t: t, notify: notify, options: o, tracks: slices.Clone(tracks),
		timeout: cmp.Or(t.Timeout, DefaultListenTimeout),
		log: cmp.Or(t.Log, slog.New(slog.DiscardHandler)).With(
			"call_id", spec.CallID, "transcription_id", spec.ID),
		ctx: ctx, cancel: cancel,
		heard:  make(chan struct{}, 1),
		cut:    make(chan struct{}, 1),
		frames: make([]lineFrame, queuedFrames*len(tracks)),
		seq:    make([]int64, len(tracks)),
	}
}

// start registers l and starts its goroutines; after Close it stops l
// instead.
func (t *Transcriber) start(l *Listener) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		l.mu.Lock()
		l.stopped = true
		l.mu.Unlock()
		l.cancel()
		return
	}
	if t.live == nil {
		t.live = make(map[*Listener]struct{})
	}
	t.live[l] = struct{}{}
	t.wg.Add(2)
	go func() {
		defer t.wg.Done()
		l.cutting()
	}()
	go func() {
		defer t.wg.Done()
		l.recognizing()
	}()
}

// Close stops every Listener not yet stopped and waits until the
// goroutines of all of them have ended. A Recognize under way is
// cancelled, so Close takes about as long as the recognizer needs to give
// up. Listen after Close returns stopped listeners.
func (t *Transcriber) Close() {
	t.mu.Lock()
	t.closed = true
	live := make([]*Listener, 0, len(t.live))
	for l := range t.live {
		live = append(live, l)
	}
	t.mu.Unlock()
	for _, l := range live {
		l.Stop()
	}
	t.wg.Wait()
}

// Listener hears one line for a Transcriber. It runs two goroutines: one
// cuts the frames into utterances, the other recognizes them and calls
// notify, so notify is called from one goroutine, in order. Both end soon
// after Stop; Transcriber.Close waits for them.
//
// Feed, Stop and Dropped are safe for concurrent use.
type Listener struct {
	t       *Transcriber
	notify  func(engine.Transcript)
	options Options
	tracks  []string
	timeout time.Duration
	log     *slog.Logger

	ctx    context.Context // cancelled by Stop
	cancel context.CancelFunc
	heard  chan struct{} // a frame is queued (capacity 1)
	cut    chan struct{} // an utterance is queued (capacity 1)

	mu         sync.Mutex
	stopped    bool
	frames     []lineFrame // a ring of the frames not yet cut
	head, n    int
	seq        []int64     // per track: the next frame's number
	utterances []utterance // waiting for the recognizer, in order
	lostFrames int64
	lostUtts   int64
}

// lineFrame is a frame as fed, numbered from the track's first.
type lineFrame struct {
	track   int
	seq     int64
	n       int
	samples [frameSamples]int16
}

// utterance is a clip to recognize, or a run of them dropped unheard.
type utterance struct {
	track      int
	start, end int64 // frames: the speech, from start to before end
	from       int64 // frame: the clip's first
	clip       []int16
	dropped    int // > 0: this many utterances were dropped
}

// Feed queues a copy of one frame of track (160 samples at 8 kHz; a
// longer one counts as several, a shorter one as a whole frame). It never
// waits for the listener's goroutines: when they are 2 s behind, the
// oldest queued frame is dropped (see Dropped), and offsets stay right.
func (l *Listener) Feed(track string, samples []int16) {
	k := slices.Index(l.tracks, track)
	if k < 0 || len(samples) == 0 {
		return
	}
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return
	}
	for len(samples) > 0 {
		if l.n == len(l.frames) {
			l.head = (l.head + 1) % len(l.frames)
			l.n--
			l.lostFrames++
		}
		f := &l.frames[(l.head+l.n)%len(l.frames)]
		l.n++
		f.track, f.seq = k, l.seq[k]
		l.seq[k]++
		f.n = copy(f.samples[:], samples)
		samples = samples[f.n:]
	}
	l.mu.Unlock()
	select {
	case l.heard <- struct{}{}:
	default:
	}
}

// Stop ends the listener: queued audio and utterances not yet recognized
// are dropped and a Recognize under way is cancelled through its context.
// notify is not called once Stop has returned, except that a call already
// decided on when Stop began may still start a moment later: the
// recognizing goroutine checks for Stop just before each call. Stop does
// not wait for notify, so notify may block on Stop's caller. Stopping
// twice is harmless.
func (l *Listener) Stop() {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return
	}
	l.stopped = true
	l.n = 0
	clear(l.utterances)
	l.utterances = nil
	l.mu.Unlock()
	l.cancel()
	l.t.mu.Lock()
	delete(l.t.live, l)
	l.t.mu.Unlock()
}

// Dropped returns how many frames were dropped because the cutting
// goroutine fell 2 s behind Feed, and how many utterances because the
// recognizer fell more than five behind.
func (l *Listener) Dropped() (frames, utterances int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lostFrames, l.lostUtts
}

// cutting is the goroutine that runs the VAD over queued frames and
// queues utterances for recognizing.
func (l *Listener) cutting() {
	cutters := make([]cutter, len(l.tracks))
	for i := range cutters {
		cutters[i] = cutter{track: i, vad: pcm.NewVAD(lineRate)}
	}
	batch := make([]lineFrame, 0, len(l.frames))
	defer func() {
		if frames, utts := l.Dropped(); frames > 0 || utts > 0 {
			l.log.Warn("speech recognition fell behind", "frames_dropped", frames, "utterances_dropped", utts)
		}
	}()
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-l.heard:
		}
		l.mu.Lock()
		batch = batch[:0]
		for i := range l.n {
			batch = append(batch, l.frames[(l.head+i)%len(l.frames)])
		}
		l.head, l.n = 0, 0
		l.mu.Unlock()
		for i := range batch {
			if u, ok := cutters[batch[i].track].feed(&batch[i]); ok {
				l.queue(u)
			}
			if l.ctx.Err() != nil {
				return
			}
		}
	}
}

// queue adds u for recognizing. With more than behind utterances
// waiting, the oldest waiting is dropped, and reported in its place: runs
// dropped on one track are reported as one.
func (l *Listener) queue(u utterance) {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return
	}
	l.utterances = append(l.utterances, u)
	waiting := 0
	for _, w := range l.utterances {
		if w.dropped == 0 {
			waiting++
		}
	}
	if waiting > behind {
		i := slices.IndexFunc(l.utterances, func(w utterance) bool { return w.dropped == 0 })
		old := l.utterances[i]
		l.lostUtts++
		j := slices.IndexFunc(l.utterances[:i], func(w utterance) bool { return w.track == old.track })
		if j >= 0 { // reports dropped on this track are waiting: extend that one
			l.utterances[j].end = old.end
			l.utterances[j].dropped++
			l.utterances = slices.Delete(l.utterances, i, i+1)
		} else {
			l.utterances[i] = utterance{track: old.track, start: old.start, end: old.end, dropped: 1}
		}
	}
	l.mu.Unlock()
	select {
	case l.cut <- struct{}{}:
	default:
	}
}

// recognizing is the goroutine that recognizes queued utterances one at
// a time and calls notify.
func (l *Listener) recognizing() {
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-l.cut:
		}
		for {
			l.mu.Lock()
			if len(l.utterances) == 0 {
				l.mu.Unlock()
				break
			}
			u := l.utterances[0]
			l.utterances = slices.Delete(l.utterances, 0, 1)
			l.mu.Unlock()
			l.recognize(u)
			if l.ctx.Err() != nil {
				return
			}
		}
	}
}

// recognize hears u and reports what was heard, if anything.
func (l *Listener) recognize(u utterance) {
	t := engine.Transcript{Track: l.tracks[u.track], Start: offset(u.start), End: offset(u.end)}
	if u.dropped > 0 {
		t.Err = fmt.Sprintf("speech recognition fell behind: %d utterance(s) dropped unheard", u.dropped)
		l.report(t)
		return
	}
	if l.t.Recognizer == nil {
		t.Err = "no speech recognizer"
		l.report(t)
		return
	}
	ctx, cancel := context.WithTimeout(l.ctx, l.timeout)
	r, err := l.t.Recognizer.Recognize(ctx, pcm.Clip{Rate: lineRate, Samples: u.clip}, l.options)
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
	cancel()
	switch {
	case err != nil && timedOut:
		t.Err = fmt.Sprintf("speech recognition took longer than %v: %v", l.timeout, err)
	case err != nil:
		t.Err = err.Error()
	case strings.TrimSpace(r.Text) == "":
		return
	default:
		from := offset(u.from)
		t.Text, t.Confidence = r.Text, r.Confidence
		t.Words = make([]engine.TranscriptWord, len(r.Words))
		for i, w := range r.Words {
			t.Words[i] = engine.TranscriptWord{Text: w.Text, Start: from + w.Start, End: from + w.End, Confidence: w.Confidence}
		}
	}
	l.report(t)
}

// report calls notify unless the listener has been stopped.
func (l *Listener) report(t engine.Transcript) {
	if l.ctx.Err() != nil {
		return
	}
	l.notify(t)
}

// offset is when frame seq begins.
func offset(seq int64) time.Duration { return time.Duration(seq) * frameTime }

// cutter cuts one track's frames into utterances; it belongs to the
// cutting goroutine.
type cutter struct {
	track int
	vad   *pcm.VAD
	next  int64       // the frame expected next
	lead  []lineFrame // the last frames heard outside an utterance

	speaking bool    // within an utterance
	from     int64   // its clip's first frame
	start    int64   // where its speech started
	lastOn   int64   // the last frame pcm.VAD called speech
	off      int     // frames since, pcm.VAD calling them silence
	clip     []int16 // from from on
}

// feed takes the track's next frame and returns an utterance when one
// ends. A frame missing before f (dropped) ends the utterance under way.
func (c *cutter) feed(f *lineFrame) (u utterance, ended bool) {
	if f.seq != c.next {
		c.lead = c.lead[:0]
		if c.speaking {
			u, ended = c.end(c.next)
		}
	}
	c.next = f.seq + 1
	speech := c.vad.Feed(f.samples[:f.n])
	if !c.speaking {
		c.lead = append(c.lead, *f)
		if len(c.lead) > leadFrames+attackFrames {
			c.lead = slices.Delete(c.lead, 0, 1)
		}
		if !speech {
			return u, ended
		}
		// Speech began attackFrames ago (or where the lead-in does, right
		// after a cut).
		c.speaking = true
		c.from = c.lead[0].seq
		c.start = max(f.seq-attackFrames+1, c.from)
		c.lastOn, c.off = f.seq, 0
		c.clip = make([]int16, 0, (leadFrames+attackFrames+endFrames)*frameSamples)
		for i := range c.lead {
			c.clip = append(c.clip, c.lead[i].samples[:c.lead[i].n]...)
		}
		c.lead = c.lead[:0]
	} else {
		c.clip = append(c.clip, f.samples[:f.n]...)
		if speech {
			c.lastOn, c.off = f.seq, 0
		} else {
			c.off++
		}
	}
	switch {
	case ended:
		// Only on the frame after a gap, which cannot end another.
	case c.off > endFrames-hangFrames:
		// pcm.VAD went on calling speech for hangFrames-1 frames after the
		// last loud one: endFrames of silence have now been heard.
		return c.end(c.lastOn - hangFrames + 2)
	case f.seq-c.from+1 >= maxFrames:
		return c.end(f.seq + 1)
	}
	return u, ended
}

// end ends the utterance under way with its speech ending before frame
// end (clamped to the frames heard), and returns it unless no speech is
// left in it.
func (c *cutter) end(end int64) (utterance, bool) {
	c.speaking = false
	heard := c.from + int64(len(c.clip)/frameSamples)
	end = min(end, heard)
	clip := c.clip
	if keep := (end + tailFrames - c.from) * frameSamples; keep < int64(len(clip)) {
		clip = clip[:keep]
	}
	c.clip = nil
	if end <= c.start {
		return utterance{}, false // cut at the limit with only the VAD's hang left
	}
	return utterance{track: c.track, start: c.start, end: end, from: c.from, clip: clip}, true
}
