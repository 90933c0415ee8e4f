package streamer

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/redact"
	"github.com/voicehook/voicehook/internal/tts"
)

// maxSay bounds what one Say renders, and a file it fetches: 15 minutes.
const maxSay = 15 * time.Minute

// schedule arms the next paced tick. mu is held.
func (st *stream) schedule() {
	st.ticks++
	now := st.s.cfg.Clock.Now()
	every := time.Duration(st.s.cfg.Batch) * frameTime
	d := st.t0.Add(time.Duration(st.ticks) * every).Sub(now)
	if d < -time.Second { // the clock jumped, or the machine stalled: start again from now
		st.t0, st.ticks, d = now, 1, every
	}
	if !st.s.addTick() {
		st.timer = nil
		return
	}
	st.timer = st.s.cfg.Clock.AfterFunc(max(d, 0), st.tick)
}

// stopPacing disarms the pending tick. mu is held.
func (st *stream) stopPacing() {
	if st.timer != nil && st.timer.Stop() {
		st.s.wg.Done()
	}
	st.timer = nil
}

// tick queues a batch of frames per track (Config.Batch, one by
// default): what Say queued there, or silence.
func (st *stream) tick() {
	defer st.s.wg.Done()
	st.mu.Lock()
	if st.state != stateOpen || st.timer == nil {
		st.mu.Unlock()
		return
	}
	for range st.s.cfg.Batch {
		for i, t := range st.tracks {
			f := st.enqueue(i)
			t.fill(f.pcm[:])
		}
	}
	st.schedule()
	st.mu.Unlock()
	st.kick()
}

// fill copies the next 20 ms of the track into out: its ready segments,
// then silence (also while the next segment is still rendering).
func (t *track) fill(out []int16) {
	for len(out) > 0 && len(t.segs) > 0 && t.segs[0].ready {
		seg := t.segs[0]
		n := copy(out, seg.samples[seg.pos:])
		seg.pos += n
		out = out[n:]
		if seg.pos == len(seg.samples) {
			t.segs[0] = nil
			t.segs = t.segs[1:]
		}
	}
	clear(out)
}

// Say renders p on a track of a paced stream, in the background, and
// queues it after what is queued on that track. It is ignored on a stream
// that is not paced or does not send track.
func (st *stream) Say(track string, p engine.Playback) {
	i := st.trackIndex(track)
	if !st.spec.Paced || i < 0 {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.state != stateOpen && st.state != stateDialling {
		return
	}
	ctx, cancel := context.WithCancel(st.life)
	seg := &segment{cancel: cancel}
	t := st.tracks[i]
	t.segs = append(t.segs, seg)
	ok := st.s.goCounted(func() {
		defer cancel()
		samples := st.render(ctx, p)
		st.mu.Lock()
		seg.samples, seg.ready = samples, true
		st.mu.Unlock()
	})
	if !ok {
		seg.ready = true
	}
}

// StopSaying drops what is queued on the track, and cancels its renders.
func (st *stream) StopSaying(track string) {
	i := st.trackIndex(track)
	if i < 0 {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	t := st.tracks[i]
	kept := t.segs[:0]
	for _, seg := range t.segs {
		if seg.fromDest {
			kept = append(kept, seg) // the destination's audio: only clear drops it
			continue
		}
		if seg.cancel != nil {
			seg.cancel()
		}
	}
	clear(t.segs[len(kept):])
	t.segs = kept
}

// queueDest queues a bidirectional destination's audio on the outbound
// track of a paced stream: it is what the call plays.
func (st *stream) queueDest(audio []int16) {
	i := st.trackIndex(engine.TrackOutbound)
	if !st.spec.Paced || i < 0 {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	t := st.tracks[i]
	queued := 0
	for _, seg := range t.segs {
		if seg.fromDest {
			queued += len(seg.samples) - seg.pos
		}
	}
	if queued+len(audio) > maxDest {
		// A destination that sends faster than the call plays: what
		// would go past a minute is not queued, as on a real call.
		audio = audio[:max(maxDest-queued, 0)]
		if len(audio) == 0 {
			return
		}
	}
	t.segs = append(t.segs, &segment{samples: audio, ready: true, fromDest: true})
}

// maxDest bounds the destination's audio queued on a paced outbound
// track: a minute.
const maxDest = 60 * rate

// clearDest drops the destination's audio from the outbound track.
func (st *stream) clearDest() {
	i := st.trackIndex(engine.TrackOutbound)
	if !st.spec.Paced || i < 0 {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	t := st.tracks[i]
	kept := t.segs[:0]
	for _, seg := range t.segs {
		if !seg.fromDest {
			kept = append(kept, seg)
		}
	}
	clear(t.segs[len(kept):])
	t.segs = kept
}

// render turns p into 8 kHz samples: its prompts in order, Repeat times
// with Gap between, fitted to Length when it is set. A prompt that cannot
// be rendered is left out, with a StreamWarning.
func (st *stream) render(ctx context.Context, p engine.Playback) []int16 {
	limit := int(maxSay / time.Second * rate)
	if p.Length > 0 {
		limit = min(limit, int(p.Length*rate/time.Second))
	}
	var once []int16
	for _, pr := range p.Prompts {
		samples, err := st.prompt(ctx, pr)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			st.emit(engine.StreamEvent{Kind: engine.StreamWarning, Reason: redact.Text(err.Error())})
			continue
		}
		once = append(once, samples...)
		if len(once) >= limit {
			break
		}
	}
	gap := int(p.Gap * rate / time.Second)
	out := make([]int16, 0, min(limit, max(p.Repeat, 1)*(len(once)+gap)))
	for r := 0; r < max(p.Repeat, 1) && len(out) < limit; r++ {
		if r > 0 {
			out = append(out, make([]int16, min(gap, limit-len(out)))...)
		}
		out = append(out, once[:min(len(once), limit-len(out))]...)
	}
	if p.Length > 0 && len(out) < limit {
		out = append(out, make([]int16, limit-len(out))...)
	}
	return out
}

// prompt renders one prompt at 8 kHz.
func (st *stream) prompt(ctx context.Context, p engine.Prompt) ([]int16, error) {
	var clip pcm.Clip
	if p.URL != "" {
		u := redact.URL(p.URL)
		if st.s.cfg.Fetch == nil {
			if st.once(&st.noFetch) {
				return nil, fmt.Errorf("cannot play %s on the stream: no way to fetch audio files here: silence sent", u)
			}
			return nil, nil
		}
		rc, err := st.s.cfg.Fetch(ctx, p.URL, p.Username, p.Password)
		if err != nil {
			if strings.Contains(err.Error(), u) {
				return nil, err
			}
			return nil, fmt.Errorf("fetch %s: %w", u, err)
		}
		clip, err = pcm.Decode(rc, maxSay)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("audio file %s: %w", u, err)
		}
	} else {
		if st.s.cfg.TTS == nil {
			if st.once(&st.noTTS) {
				return nil, fmt.Errorf("cannot speak %q on the stream: no text-to-speech engine: silence sent", clipText(p.Text+p.SSML))
			}
			return nil, nil
		}
		var err error
		clip, err = st.s.cfg.TTS.Synthesize(ctx, tts.Request{Text: p.Text, SSML: p.SSML, Voice: p.Voice, Locale: p.Locale, Gender: p.Gender})
		if err != nil {
			return nil, fmt.Errorf("speak %q: %w", clipText(p.Text+p.SSML), err)
		}
	}
	if clip.Rate <= 0 || len(clip.Samples) == 0 {
		return nil, nil
	}
	return pcm.Resample(clip, rate).Samples, nil
}

// once reports whether *flag was not yet set, and sets it.
func (st *stream) once(flag *bool) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	was := *flag
	*flag = true
	return !was
}

func clipText(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
