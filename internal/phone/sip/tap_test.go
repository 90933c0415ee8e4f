package sip

import (
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
)

// tapPorts is the RTP range of this file's networks (127.0.0.90–99).
var tapPorts = [2]int{25400, 25999}

// tapRecorder is a tap's sink that keeps what it is handed.
type tapRecorder struct {
	mu      sync.Mutex
	calls   int
	badSize int // calls whose in or out was not one frame
	in, out []int16
}

func (r *tapRecorder) sink(in, out []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if len(in) != frame || len(out) != frame {
		r.badSize++
	}
	r.in = append(r.in, in...)
	r.out = append(r.out, out...)
}

func (r *tapRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

func (r *tapRecorder) audio() (in, out []int16, bad int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.in), slices.Clone(r.out), r.badSize
}

// checkTone fails unless s holds a clean tone of freq (1%), louder than
// level (RMS, a fraction of full scale).
func checkTone(t *testing.T, what string, s []int16, freq, level float64) {
	t.Helper()
	if len(s) < frame {
		t.Errorf("%s: %d samples, want a tone of %.0f Hz", what, len(s), freq)
		return
	}
	f, p, rms := pcm.Frequency(s, rate), pcm.Power(s, rate, freq), pcm.RMS(s)
	if !within(f, freq, 0.01) || p < 0.8 || rms < level {
		t.Errorf("%s: %.0f Hz (share of %.0f Hz %.2f), level %.3f; want %.0f Hz louder than %.3f", what, f, freq, p, rms, freq, level)
	}
}

func tapperOf(t *testing.T, tl *testLine) engine.Tapper {
	t.Helper()
	tp, ok := tl.Line.(engine.Tapper)
	if !ok {
		t.Fatalf("a SIP line (%T) is not an engine.Tapper", tl.Line)
	}
	return tp
}

func TestTapHearsTheFarEndAndThePlayback(t *testing.T) {
	_, p, tl, _ := inboundCall(t, "127.0.0.90", Config{RTPPorts: tapPorts, TTS: toneTTS{}}, 101)
	var rec tapRecorder
	untap := tapperOf(t, tl).Tap(rec.sink)
	tl.Play(engine.Playback{ID: 1, Prompts: []engine.Prompt{{Text: "a second of 440 Hz"}}})

	c0, t0 := rec.count(), time.Now()
	p.say(pcm.Tone(1000, rate, time.Second, 0.3)) // takes a second
	c1, t1 := rec.count(), time.Now()
	want := t1.Sub(t0).Seconds() / ptime.Seconds()
	if got := float64(c1 - c0); math.Abs(got-want) > 0.2*want {
		t.Errorf("%.0f sink calls in %v, want about %.0f (one per 20 ms)", got, t1.Sub(t0).Round(time.Millisecond), want)
	}
	tl.wait(t, engine.PhonePlayed)

	in, out, bad := rec.audio()
	if bad > 0 {
		t.Errorf("%d sink calls were not handed %d samples each way", bad, frame)
	}
	if len(in) != len(out) {
		t.Errorf("in has %d samples, out %d: not aligned", len(in), len(out))
	}
	heard := loud(in)
	checkTone(t, "in (the phone's voice)", heard, 1000, 0.1)
	if d := time.Duration(len(heard)) * time.Second / rate; d < 900*time.Millisecond || d > 1100*time.Millisecond {
		t.Errorf("in holds %v of the phone's second of tone", d)
	}
	sent := loud(out)
	checkTone(t, "out (the playback)", sent, 440, 0.2)
	if d := time.Duration(len(sent)) * time.Second / rate; d < 900*time.Millisecond || d > 1100*time.Millisecond {
		t.Errorf("out holds %v of the playback's second of tone", d)
	}

	untap()
	c := rec.count()
	time.Sleep(200 * time.Millisecond)
	if got := rec.count(); got != c {
		t.Errorf("the sink was called %d times after untap returned", got-c)
	}
	untap() // a second untap is harmless
}

func TestTapHearsTheRoom(t *testing.T) {
	n, cs := roomCalls(t, "127.0.0.95", Config{RTPPorts: tapPorts}, ptPCMU, ptPCMA)
	a, b := cs[0], cs[1]
	r := n.Room(func(engine.PhoneEvent) {})
	t.Cleanup(r.Close)
	r.Join(a.tl.Line, engine.Member{CallID: a.id})
	r.Join(b.tl.Line, engine.Member{CallID: b.id})
	var rec tapRecorder
	defer tapperOf(t, a.tl).Tap(rec.sink)()
	a.talk(t, 440)
	b.talk(t, 1000)
	waitHearing(t, "bridged", expect{c: a, want: []float64{1000}, not: []float64{440}})
	time.Sleep(500 * time.Millisecond)
	in, out, _ := rec.audio()
	if len(in) < rate/2 {
		t.Fatalf("the tap got %d samples", len(in))
	}
	// a's tap: a's voice in, b's voice (the room's mix for a) out.
	checkTone(t, "in (a's voice)", in[len(in)-rate/2:], 440, 0.1)
	checkTone(t, "out (the room's mix: b's voice)", out[len(out)-rate/2:], 1000, 0.1)
}

func TestTapMadeBeforeTheAnswerEndsWithTheCall(t *testing.T) {
	const host = "127.0.0.91"
	p := newPhone(t, host)
	fe := newFakeEngine("+15550001000")
	n := startNetwork(t, Config{Addr: host + ":0", RTPPorts: tapPorts, Answers: fe.Answers, Calls: fe})
	type result struct {
		dc  *sipgo.DialogClientSession
		err error
	}
	done := make(chan result, 1)
	go func() {
		dc, _, err := p.call(t.Context(), "sip:+15550001000@"+n.Addr(), p.offer(101))
		done <- result{dc, err}
	}()
	tl := fe.next(t)
	var rec tapRecorder
	tapperOf(t, tl).Tap(rec.sink)
	time.Sleep(100 * time.Millisecond) // ringing
	if c := rec.count(); c != 0 {
		t.Errorf("the sink was called %d times before the answer", c)
	}
	tl.Answered()
	var r result
	select {
	case r = <-done:
	case <-time.After(waitFor):
		t.Fatal("the call was not answered")
	}
	if r.err != nil {
		t.Fatalf("call: %v", r.err)
	}
	deadline := time.Now().Add(waitFor)
	for rec.count() < 10 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if c := rec.count(); c < 10 {
		t.Fatalf("%d sink calls after the answer, want one every 20 ms", c)
	}

	if err := r.dc.Bye(t.Context()); err != nil {
		t.Fatal(err)
	}
	tl.wait(t, engine.PhoneHungUp)
	var after tapRecorder
	tapperOf(t, tl).Tap(after.sink) // too late: never called
	c := rec.count()
	time.Sleep(200 * time.Millisecond)
	if got := rec.count(); got != c {
		t.Errorf("the sink was called %d times after the call ended", got-c)
	}
	if got := after.count(); got != 0 {
		t.Errorf("a tap made after the call ended was called %d times", got)
	}
}

// waitHeard waits until the phone has received about n samples louder
// than the background (nine tenths), followed by 100 ms of silence.
func waitHeard(p *phone, n int) {
	deadline := time.Now().Add(2 * waitFor)
	for time.Now().Before(deadline) {
		s := p.heard()
		if len(loud(s)) >= n*9/10 && len(s) > 5*frame && pcm.RMS(s[len(s)-5*frame:]) < 0.005 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestInjectedAudioIsHeardInOrder(t *testing.T) {
	_, p, tl, _ := inboundCall(t, "127.0.0.92", Config{RTPPorts: tapPorts}, 101)
	tp := tapperOf(t, tl)
	tp.Inject(pcm.Tone(600, rate, 500*time.Millisecond, 0.3))
	tp.Inject(pcm.Tone(1200, rate, 500*time.Millisecond, 0.3))
	waitHeard(p, rate)
	s := loud(p.heard())
	if d := time.Duration(len(s)) * time.Second / rate; d < 950*time.Millisecond || d > 1050*time.Millisecond {
		t.Errorf("the phone heard %v of the second injected", d)
	}
	if len(s) < rate*3/4 {
		t.FailNow()
	}
	checkTone(t, "first injection", s[:rate*3/8], 600, 0.1)
	checkTone(t, "second injection", s[len(s)-rate*3/8:], 1200, 0.1)
}

func TestInjectedAudioIsMixedWithThePlayback(t *testing.T) {
	_, p, tl, _ := inboundCall(t, "127.0.0.93", Config{RTPPorts: tapPorts, TTS: toneTTS{}}, 101)
	tp := tapperOf(t, tl)
	tp.Inject(pcm.Tone(1000, rate, 2*time.Second, 0.4))
	tl.Play(engine.Playback{ID: 1, Prompts: []engine.Prompt{{Text: "a second of 440 Hz"}}})
	tl.wait(t, engine.PhonePlayed)
	waitHeard(p, 2*rate)
	s := loud(p.heard())
	if len(s) < 2*rate*9/10 {
		t.Fatalf("the phone heard %d loud samples, want two seconds' worth", len(s))
	}
	// The playback's second lies within the injection's two, a few ticks
	// in: its middle holds both tones (0.5 and 0.4 of full scale).
	both := s[rate/4 : rate*3/4]
	p440, p1000 := pcm.Power(both, rate, 440), pcm.Power(both, rate, 1000)
	if p440 < 0.4 || p1000 < 0.25 {
		t.Errorf("playback and injection: shares 440 Hz %.2f, 1000 Hz %.2f; want both", p440, p1000)
	}
	// After the playback, the injection goes on alone.
	checkTone(t, "injection after the playback", s[len(s)-rate/2:], 1000, 0.1)
}

func TestClearInjectedCutsIt(t *testing.T) {
	_, p, tl, _ := inboundCall(t, "127.0.0.94", Config{RTPPorts: tapPorts}, 101)
	tp := tapperOf(t, tl)
	var rec tapRecorder
	defer tp.Tap(rec.sink)()
	tp.Inject(pcm.Tone(800, rate, 10*time.Second, 0.3))
	deadline := time.Now().Add(waitFor)
	for len(loud(p.heard())) < rate/2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	checkTone(t, "the injection", loud(p.heard()), 800, 0.1)
	n0, c0 := len(p.heard()), rec.count()
	tp.ClearInjected()
	time.Sleep(300 * time.Millisecond)
	s := p.heard()
	if len(s) < n0+10*frame {
		t.Fatalf("the phone got %d samples in 300 ms after the clear", len(s)-n0)
	}
	// Within a few ticks (what was in flight, the clear's tick), silence.
	if lvl := pcm.RMS(s[n0+6*frame:]); lvl > 0.005 {
		t.Errorf("the phone still hears the injection after ClearInjected: level %.3f", lvl)
	}
	if w := tl.Line.(*line).inj.waiting(); w != 0 {
		t.Errorf("%d injected samples still wait after ClearInjected", w)
	}
	// The tap heard the same: the tone on out, then silence.
	_, out, _ := rec.audio()
	cut := c0 * frame
	checkTone(t, "the tap's out before the clear", out[cut-rate/4:cut], 800, 0.1)
	if lvl := pcm.RMS(out[cut+3*frame:]); lvl != 0 {
		t.Errorf("the tap's out after the clear: level %.3f, want silence", lvl)
	}
}

func TestInjectedAudioIsCappedAtAMinute(t *testing.T) {
	var q injectQueue
	second := func(v int16) []int16 {
		s := make([]int16, rate)
		for i := range s {
			s[i] = v
		}
		return s
	}
	drops := 0
	for k := range 70 {
		if q.push(second(int16(k + 1))) {
			drops++
		}
	}
	if q.waiting() != maxInjected {
		t.Errorf("%d samples wait after 70 s injected, want %d (60 s)", q.waiting(), maxInjected)
	}
	if drops != 1 {
		t.Errorf("push reported the first drop %d times, want once", drops)
	}
	var f [frame]int16
	q.mixInto(f[:])
	if f[0] != 11 || f[frame-1] != 11 {
		t.Errorf("the first frame played holds %d…%d, want second 11's samples (the first ten dropped)", f[0], f[frame-1])
	}

	// One injection longer than the cap keeps its last minute.
	q.clear()
	long := append(second(1), make([]int16, maxInjected)...)
	long[rate] = 2
	q.push(long)
	clear(f[:])
	q.mixInto(f[:])
	if q.waiting() != maxInjected-frame || f[0] != 2 || f[1] != 0 {
		t.Errorf("after a 61 s injection: %d wait, first samples %d %d; want %d, 2 0", q.waiting(), f[0], f[1], maxInjected-frame)
	}

	// Mixing clips instead of wrapping, and a short queue fills part of a frame.
	q.clear()
	q.push([]int16{30000, -30000})
	f = [frame]int16{10000, -10000, 5}
	q.mixInto(f[:])
	if f[0] != 32767 || f[1] != -32768 || f[2] != 5 || q.waiting() != 0 {
		t.Errorf("mixed %v, want 32767 -32768 5 and nothing left", f[:3])
	}
}

// benchSink is a tap's sink as a stream adapter would write it: it copies
// both frames into a ring that a sender goroutine would drain.
type benchSink struct {
	ring  [50][2][frame]int16
	next  int
	loud  int // frames heard with a loud sample
	calls int
}

func (s *benchSink) sink(in, out []int16) {
	slot := &s.ring[s.next%len(s.ring)]
	copy(slot[0][:], in)
	copy(slot[1][:], out)
	s.next++
	s.calls++
	if len(loud(in)) > 0 {
		s.loud++
	}
}

// BenchmarkTappedCalls has 100 calls from a far Network to a near one,
// each far line playing a tone for two seconds, and reports the share of
// RTP packets (both Networks) sent more than 5 ms late: plain, with two
// taps on every near line (what two streams cost the pacer), and with
// those taps and two seconds injected into every near line too (a
// bidirectional stream's audio, mixed on the way out):
//
//	go test -run XXX -bench 'WakeFloor|TappedCalls' -benchtime 1x -count 3 ./internal/phone/sip/
func BenchmarkTappedCalls(b *testing.B) {
	const calls = 100
	for i, mode := range []string{"plain", "tapped", "tapped+injected"} {
		b.Run(mode, func(b *testing.B) {
			hosts := [][2]string{{"127.0.0.96", "127.0.0.97"}, {"127.0.0.98", "127.0.0.99"}, {"127.0.0.97", "127.0.0.96"}}[i]
			for b.Loop() {
				bc := newBenchCallsOn(b, benchSetup{far: hosts[0], near: hosts[1], rtp: tapPorts, calls: calls})
				var sinks []*benchSink
				var untaps []func()
				if mode != "plain" {
					for _, l := range bc.nearLines {
						tp := l.(engine.Tapper)
						for range 2 {
							s := &benchSink{}
							sinks = append(sinks, s)
							untaps = append(untaps, tp.Tap(s.sink))
						}
					}
				}
				bc.mark()
				for k, l := range bc.farLines {
					l.Play(engine.Playback{ID: 1, Prompts: []engine.Prompt{{Text: []string{"440", "1000"}[k%2]}}, Repeat: 2})
				}
				if mode == "tapped+injected" {
					for _, l := range bc.nearLines {
						l.(engine.Tapper).Inject(pcm.Tone(600, rate, 2*time.Second, 0.3))
					}
				}
				bc.waitPlayed(b, calls)
				b.ReportMetric(bc.latePercent(), "late%")
				for _, u := range untaps {
					u()
				}
				// The taps heard the far lines' tones.
				for _, s := range sinks {
					if s.loud < 50 {
						b.Fatalf("a tap heard %d loud frames of %d, want the far line's two seconds", s.loud, s.calls)
					}
				}
				bc.hangup()
			}
		})
	}
}
