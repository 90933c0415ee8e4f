package stt

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
)

// The unit tests of Listener live inside the package: they pace what they
// feed by the listener's queue, so that no frame is dropped unless a test
// means it to be.

const ms = time.Millisecond

// tone is a burst of a 440 Hz tone at -12 dBFS, which pcm.VAD counts as
// speech for as long as it lasts up to its 2 s noise-floor window.
func tone(d time.Duration) []int16 {
	s := make([]int16, int(d*lineRate/time.Second))
	for i := range s {
		s[i] = int16(0.25 * 32767 * math.Sin(2*math.Pi*440*float64(i)/lineRate))
	}
	return s
}

// voice is a voice-like signal: a 140 Hz buzz with harmonics whose
// loudness rises and falls four times a second, as syllables do. pcm.VAD
// hears it as speech however long it goes on, unlike a steady tone.
func voice(d time.Duration) []int16 {
	s := make([]int16, int(d*lineRate/time.Second))
	for i := range s {
		t := float64(i) / lineRate
		v := 0.0
		for h := 1.0; h <= 10; h++ {
			v += math.Sin(2*math.Pi*140*h*t) / h
		}
		s[i] = int16(math.Abs(math.Sin(2*math.Pi*2*t)) * v * 0.12 * 32767)
	}
	return s
}

func silence(d time.Duration) []int16 { return make([]int16, int(d*lineRate/time.Second)) }

func join(parts ...[]int16) []int16 {
	var s []int16
	for _, p := range parts {
		s = append(s, p...)
	}
	return s
}

// feed gives s to l frame by frame on track, waiting whenever half a
// queue is waiting for the cutting goroutine.
func feed(t *testing.T, l *Listener, track string, s []int16) {
	t.Helper()
	for i := 0; i < len(s); i += frameSamples {
		l.Feed(track, s[i:min(i+frameSamples, len(s))])
		if i/frameSamples%10 != 9 {
			continue
		}
		for deadline := time.Now().Add(10 * time.Second); ; {
			l.mu.Lock()
			n := l.n
			l.mu.Unlock()
			if n < queuedFrames/2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the listener has not taken its frames for 10 s")
			}
			time.Sleep(ms)
		}
	}
}

// fake is a Recognizer that records what it is given and answers with
// answer (by default "hello", one word 100 to 300 ms into the clip).
type fake struct {
	answer func(ctx context.Context, n int, clip pcm.Clip) (Result, error)

	mu      sync.Mutex
	clips   []pcm.Clip
	options []Options
}

func (f *fake) Recognize(ctx context.Context, clip pcm.Clip, o Options) (Result, error) {
	f.mu.Lock()
	n := len(f.clips)
	f.clips = append(f.clips, clip)
	f.options = append(f.options, o)
	f.mu.Unlock()
	if f.answer != nil {
		return f.answer(ctx, n, clip)
	}
	return Result{Text: "hello", Confidence: 0.8, Words: []Word{{Text: "hello", Start: 100 * ms, End: 300 * ms, Confidence: 0.7}}}, nil
}

func (f *fake) clip(i int) pcm.Clip {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clips[i]
}

func (f *fake) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.clips)
}

// transcripts collects what notify gets.
type transcripts struct {
	mu  sync.Mutex
	all []engine.Transcript
}

func (c *transcripts) notify(t engine.Transcript) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all = append(c.all, t)
}

func (c *transcripts) got() []engine.Transcript {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]engine.Transcript(nil), c.all...)
}

// wait returns the transcripts once there are n, failing after 10 s.
func (c *transcripts) wait(t *testing.T, n int) []engine.Transcript {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := c.got()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d transcripts after 10 s, want %d: %+v", len(got), n, got)
		}
		time.Sleep(ms)
	}
}

// near fails unless got is within 40 ms (two frames) of want.
func near(t *testing.T, what string, got, want time.Duration) {
	t.Helper()
	if got < want-40*ms || got > want+40*ms {
		t.Errorf("%s at %v, want %v", what, got, want)
	}
}

var spec = engine.TranscriptionSpec{ID: "t-1", CallID: "c-1", Tracks: []string{engine.TrackInbound}}

func TestListenCutsUtterancesAtPauses(t *testing.T) {
	defer goleak.VerifyNone(t)
	rec := &fake{}
	tr := &Transcriber{Recognizer: rec, Options: Options{Language: "en-US", Phrases: Digits}}
	defer tr.Close()
	var c transcripts
	l := tr.Listen(engine.TranscriptionSpec{ID: "t-1", Tracks: []string{"inbound", "outbound"}, Language: "en-GB"}, c.notify).(*Listener)

	// inbound: a word at 1 s; two words 400 ms apart at 2.5 s, which are
	// one utterance; another word 800 ms after them, which is not.
	feed(t, l, "inbound", join(silence(time.Second), tone(500*ms), silence(time.Second),
		tone(500*ms), silence(400*ms), tone(500*ms), silence(800*ms), tone(300*ms), silence(time.Second)))
	got := c.wait(t, 3)
	want := []struct{ start, end time.Duration }{{1000 * ms, 1500 * ms}, {2500 * ms, 3900 * ms}, {4700 * ms, 5000 * ms}}
	for i, w := range want {
		tt := got[i]
		near(t, "utterance "+string(rune('1'+i))+" start", tt.Start, w.start)
		near(t, "utterance "+string(rune('1'+i))+" end", tt.End, w.end)
		if tt.Track != "inbound" || tt.Text != "hello" || tt.Confidence != 0.8 || tt.Err != "" {
			t.Errorf("utterance %d: %+v", i+1, tt)
		}
		// The clip starts 200 ms before the speech; the word, 100 ms into
		// the clip, is on the transcription's timeline.
		if len(tt.Words) != 1 || tt.Words[0].Start != tt.Start-100*ms || tt.Words[0].End != tt.Start+100*ms || tt.Words[0].Confidence != 0.7 {
			t.Errorf("utterance %d starting at %v: words %+v, want hello from %v to %v", i+1, tt.Start, tt.Words, tt.Start-100*ms, tt.Start+100*ms)
		}
		clip := rec.clip(i)
		if clip.Rate != 8000 {
			t.Errorf("utterance %d: clip at %d Hz", i+1, clip.Rate)
		}
		// 200 ms before the speech and 200 ms after it.
		near(t, "utterance "+string(rune('1'+i))+" clip length", clip.Duration(), w.end-w.start+400*ms)
		rec.mu.Lock()
		o := rec.options[i]
		rec.mu.Unlock()
		if o.Language != "en-GB" || len(o.Phrases) != 10 {
			t.Errorf("utterance %d: options %+v, want the spec's language and the digits", i+1, o)
		}
	}

	// outbound: its own timeline and its own track; an unknown track is
	// not heard.
	feed(t, l, "sideways", join(silence(time.Second), tone(time.Second), silence(time.Second)))
	feed(t, l, "outbound", join(silence(2*time.Second), tone(time.Second), silence(time.Second)))
	got = c.wait(t, 4)
	if tt := got[3]; tt.Track != "outbound" {
		t.Errorf("transcript %+v, want outbound", tt)
	} else {
		near(t, "outbound start", tt.Start, 2*time.Second)
		near(t, "outbound end", tt.End, 3*time.Second)
	}
	l.Stop()
	tr.Close()
	if got := c.got(); len(got) != 4 {
		t.Errorf("%d transcripts, want 4: %+v", len(got), got)
	}
}

func TestListenCutsLongSpeechAt15Seconds(t *testing.T) {
	defer goleak.VerifyNone(t)
	rec := &fake{}
	tr := &Transcriber{Recognizer: rec}
	defer tr.Close()
	var c transcripts
	l := tr.Listen(spec, c.notify).(*Listener)
	feed(t, l, "inbound", join(silence(time.Second), voice(35*time.Second), silence(time.Second)))
	got := c.wait(t, 3)
	// The first clip is 15 s from 200 ms before the speech; the next ones
	// go on from there.
	for i, w := range []struct{ start, end time.Duration }{
		{1 * time.Second, 15800 * ms}, {15800 * ms, 30800 * ms}, {30800 * ms, 36 * time.Second},
	} {
		near(t, "start", got[i].Start, w.start)
		near(t, "end", got[i].End, w.end)
		if d := rec.clip(i).Duration(); d > 15*time.Second {
			t.Errorf("utterance %d: a clip of %v", i+1, d)
		}
	}
	if len(got) != 3 {
		t.Errorf("%d transcripts, want 3: %+v", len(got), got)
	}
}

func TestListenReportsUtterancesDroppedWhenRecognitionFallsBehind(t *testing.T) {
	defer goleak.VerifyNone(t)
	started, release := make(chan struct{}), make(chan struct{})
	rec := &fake{answer: func(ctx context.Context, n int, clip pcm.Clip) (Result, error) {
		if n == 0 {
			close(started)
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return Result{Text: "word", Confidence: 1}, nil
	}}
	tr := &Transcriber{Recognizer: rec}
	defer tr.Close()
	var c transcripts
	l := tr.Listen(spec, c.notify).(*Listener)

	word := join(tone(300*ms), silence(700*ms)) // an utterance a second
	feed(t, l, "inbound", join(silence(time.Second), word))
	<-started
	for range 7 {
		feed(t, l, "inbound", word)
	}
	// The first is being recognized, five wait, the two oldest of the
	// seven after it were dropped.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(ms) {
		if _, utts := l.Dropped(); utts == 2 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("%d utterances dropped, want 2", utts)
		}
	}
	close(release)
	got := c.wait(t, 7)
	if got[0].Text != "word" || got[0].Start != time.Second {
		t.Errorf("first transcript %+v", got[0])
	}
	if d := got[1]; d.Text != "" || !strings.Contains(d.Err, "2 utterance(s) dropped") {
		t.Errorf("second transcript %+v, want the two dropped", d)
	} else {
		near(t, "dropped from", d.Start, 2*time.Second)
		near(t, "dropped until", d.End, 3300*ms)
	}
	for i, tt := range got[2:] {
		if tt.Text != "word" || tt.Start != time.Duration(4+i)*time.Second {
			t.Errorf("transcript %d: %+v, want the word at %v", i+3, tt, time.Duration(4+i)*time.Second)
		}
	}
	if frames, utts := l.Dropped(); frames != 0 || utts != 2 {
		t.Errorf("dropped %d frames and %d utterances, want none and 2", frames, utts)
	}
	l.Stop()
	tr.Close()
	if n := len(c.got()); n != 7 {
		t.Errorf("%d transcripts, want 7", n)
	}
}

func TestListenDropsOldFramesButKeepsTime(t *testing.T) {
	defer goleak.VerifyNone(t)
	tr := &Transcriber{Recognizer: &fake{}}
	defer tr.Close()
	var c transcripts
	// Fed 3 s before its goroutine runs, the listener keeps the last 2 s.
	l := tr.newListener(spec, c.notify)
	for range 150 {
		l.Feed("inbound", make([]int16, frameSamples))
	}
	if frames, _ := l.Dropped(); frames != 50 {
		t.Errorf("%d frames dropped, want 50", frames)
	}
	tr.start(l)
	feed(t, l, "inbound", join(silence(500*ms), tone(time.Second), silence(time.Second)))
	got := c.wait(t, 1)
	near(t, "start", got[0].Start, 3500*ms)
	near(t, "end", got[0].End, 4500*ms)
	l.Stop()
}

func TestListenReportsErrorsAndNotSilence(t *testing.T) {
	defer goleak.VerifyNone(t)
	rec := &fake{answer: func(ctx context.Context, n int, clip pcm.Clip) (Result, error) {
		switch n {
		case 0:
			return Result{}, nil // heard nothing
		case 1:
			return Result{}, errors.New("stt: pocketsphinx: it broke")
		case 2:
			<-ctx.Done()
			return Result{}, ctx.Err()
		}
		return Result{Text: "last"}, nil
	}}
	tr := &Transcriber{Recognizer: rec, Timeout: 50 * ms}
	defer tr.Close()
	var c transcripts
	l := tr.Listen(spec, c.notify).(*Listener)
	word := join(tone(300*ms), silence(time.Second))
	feed(t, l, "inbound", join(word, word, word, word))
	got := c.wait(t, 3)
	if tt := got[0]; tt.Err != "stt: pocketsphinx: it broke" || tt.Text != "" || tt.Start != 1300*ms {
		t.Errorf("first transcript %+v, want the second utterance's error", tt)
	}
	if tt := got[1]; !strings.Contains(tt.Err, "longer than 50ms") || tt.Start != 2600*ms {
		t.Errorf("second transcript %+v, want the third utterance's timeout", tt)
	}
	if tt := got[2]; tt.Text != "last" || tt.Err != "" {
		t.Errorf("third transcript %+v", tt)
	}
	l.Stop()
	tr.Close()
	if n := len(c.got()); n != 3 {
		t.Errorf("%d transcripts, want 3", n)
	}
}

func TestListenStopCancelsRecognitionAndReportsNothingMore(t *testing.T) {
	defer goleak.VerifyNone(t)
	started, cancelled := make(chan struct{}), make(chan struct{})
	rec := &fake{answer: func(ctx context.Context, n int, clip pcm.Clip) (Result, error) {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return Result{Text: "too late"}, nil
	}}
	tr := &Transcriber{Recognizer: rec}
	defer tr.Close()
	var c transcripts
	l := tr.Listen(spec, c.notify).(*Listener)
	word := join(tone(300*ms), silence(time.Second))
	feed(t, l, "inbound", word)
	<-started
	feed(t, l, "inbound", join(word, word))  // waiting behind the first
	feed(t, l, "inbound", tone(time.Second)) // under way
	l.Stop()
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("recognition not cancelled 10 s after Stop")
	}
	l.Stop()
	l.Feed("inbound", make([]int16, frameSamples))
	tr.Close() // waits for the goroutines
	if got := c.got(); len(got) != 0 {
		t.Errorf("transcripts after Stop: %+v", got)
	}
	if n := rec.calls(); n != 1 {
		t.Errorf("%d recognitions, want 1: what waited was dropped", n)
	}
}

func TestCloseStopsListeners(t *testing.T) {
	defer goleak.VerifyNone(t)
	rec := &fake{answer: func(ctx context.Context, n int, clip pcm.Clip) (Result, error) {
		<-ctx.Done()
		return Result{}, ctx.Err()
	}}
	tr := &Transcriber{Recognizer: rec}
	var c transcripts
	l := tr.Listen(spec, c.notify).(*Listener)
	feed(t, l, "inbound", join(tone(300*ms), silence(time.Second)))
	for deadline := time.Now().Add(10 * time.Second); rec.calls() == 0; time.Sleep(ms) {
		if time.Now().After(deadline) {
			t.Fatal("no recognition")
		}
	}
	tr.Close()
	// After Close a listener hears nothing.
	l2 := tr.Listen(spec, c.notify).(*Listener)
	l2.Feed("inbound", tone(time.Second))
	l2.Stop()
	if got := c.got(); len(got) != 0 {
		t.Errorf("transcripts: %+v", got)
	}
}

// BenchmarkListenFeed is the cost of Feed on the line's media goroutine,
// with the cutting goroutine running the VAD over what it queues.
func BenchmarkListenFeed(b *testing.B) {
	tr := &Transcriber{Recognizer: &fake{}}
	defer tr.Close()
	l := tr.Listen(spec, func(engine.Transcript) {}).(*Listener)
	defer l.Stop()
	frame := tone(20 * ms)
	b.ReportAllocs()
	for b.Loop() {
		l.Feed("inbound", frame)
	}
	frames, _ := l.Dropped()
	b.ReportMetric(float64(frames)/float64(b.N), "dropped/op")
}
