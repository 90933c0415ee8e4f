package sip

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
)

// roomCall is one phone's call into the network, with the engine's line.
type roomCall struct {
	id string
	p  *phone
	tl *testLine
	dc *sipgo.DialogClientSession
	pt uint8 // the codec the phone offered and speaks
}

// roomCalls starts a network on host and has one phone per codec in pts
// call it; the calls are answered and named a, b, c...
func roomCalls(t *testing.T, host string, cfg Config, pts ...uint8) (*Network, []*roomCall) {
	t.Helper()
	fe := newFakeEngine("+15550001000")
	cfg.Addr = host + ":0"
	cfg.Answers, cfg.Calls = fe.Answers, fe
	// Phones first: the network's cleanup, which runs before theirs, hangs
	// up while they are there to answer.
	var phones []*phone
	for range pts {
		phones = append(phones, newPhone(t, host))
	}
	n := startNetwork(t, cfg)
	var calls []*roomCall
	for i, pt := range pts {
		p := phones[i]
		offer := p.offer(101)
		if pt == ptPCMA {
			offer = fmt.Appendf(nil, "v=0\r\no=phone 1 1 IN IP4 %[1]s\r\ns=-\r\nc=IN IP4 %[1]s\r\nt=0 0\r\n"+
				"m=audio %[2]d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n", p.host, p.rtpPort())
		}
		type result struct {
			dc  *sipgo.DialogClientSession
			err error
		}
		done := make(chan result, 1)
		go func() {
			dc, _, err := p.call(t.Context(), "sip:+15550001000@"+n.Addr(), offer)
			done <- result{dc, err}
		}()
		tl := fe.next(t)
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
		calls = append(calls, &roomCall{id: string(rune('a' + i)), p: p, tl: tl, dc: r.dc, pt: pt})
	}
	// The media starts with the ACK: wait for each line's first packet.
	for _, c := range calls {
		deadline := time.Now().Add(waitFor)
		for len(c.p.packets()) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	return n, calls
}

// talk has the phone speak a tone of freq in its codec, one packet every
// 20 ms, for up to ten seconds or until the test ends.
func (c *roomCall) talk(t *testing.T, freq float64) {
	samples := pcm.Tone(freq, rate, 10*time.Second, 0.2)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(ptime)
		defer tick.Stop()
		for len(samples) >= frame {
			var payload []byte
			if c.pt == ptPCMA {
				payload = pcm.EncodeALaw(nil, samples[:frame])
			} else {
				payload = pcm.EncodeULaw(nil, samples[:frame])
			}
			c.p.send(c.pt, false, c.p.ts, payload)
			c.p.ts += frame
			samples = samples[frame:]
			select {
			case <-tick.C:
			case <-stop:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
	})
}

// recent is the last 300 ms the phone received.
func (c *roomCall) recent() []int16 {
	s := c.p.heard()
	return s[max(0, len(s)-rate*3/10):]
}

// hearing says what c's phone hears now: the share of each tone in its
// last 300 ms, and the level.
type hearing struct {
	level float64
	power map[float64]float64
}

func (h hearing) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "level %.3f", h.level)
	for f, p := range h.power {
		fmt.Fprintf(&b, ", %.0f Hz %.2f", f, p)
	}
	return b.String()
}

// expect waits until c's phone hears each tone of want (a fair share of
// the energy) and none of those in not; silent wants silence.
type expect struct {
	c      *roomCall
	want   []float64
	not    []float64
	silent bool
}

func (e expect) check() (bool, hearing) {
	s := e.c.recent()
	h := hearing{level: pcm.RMS(s), power: map[float64]float64{}}
	ok := len(s) >= rate*3/10
	if e.silent {
		return ok && h.level < 0.005, h
	}
	for _, f := range e.want {
		h.power[f] = pcm.Power(s, rate, f)
		// With n tones mixed each holds about 1/n of the energy.
		if h.power[f] < 0.5/float64(len(e.want)) {
			ok = false
		}
	}
	for _, f := range e.not {
		h.power[f] = pcm.Power(s, rate, f)
		if h.power[f] > 0.03 {
			ok = false
		}
	}
	return ok && h.level > 0.02, h
}

// waitHearing waits until every expectation holds at once, and fails with
// what each phone heard last when they do not within a few seconds.
func waitHearing(t *testing.T, what string, es ...expect) {
	t.Helper()
	deadline := time.Now().Add(2 * waitFor)
	for {
		all := true
		var got []string
		for _, e := range es {
			ok, h := e.check()
			if !ok {
				all = false
			}
			got = append(got, fmt.Sprintf("%s: %v (ok %v)", e.c.id, h, ok))
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not heard as expected:\n%s", what, strings.Join(got, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRoomBridgesTwoCalls(t *testing.T) {
	r, a, b := talkingPair(t, "127.0.0.200", ptPCMU, ptPCMU)
	if !r.Audible() {
		t.Fatal("a room of two SIP calls is not audible")
	}
	waitHearing(t, "bridged",
		expect{c: a, want: []float64{1000}, not: []float64{440}},
		expect{c: b, want: []float64{440}, not: []float64{1000}})
}

// talkingPair puts two calls on host, with codecs ptA and ptB, in a room
// (closed when the test ends), a talking at 440 Hz and b at 1000 Hz.
func talkingPair(t *testing.T, host string, ptA, ptB uint8) (engine.Room, *roomCall, *roomCall) {
	t.Helper()
	n, cs := roomCalls(t, host, Config{}, ptA, ptB)
	a, b := cs[0], cs[1]
	r := n.Room(func(engine.PhoneEvent) {})
	t.Cleanup(r.Close)
	r.Join(a.tl.Line, engine.Member{CallID: a.id})
	r.Join(b.tl.Line, engine.Member{CallID: b.id})
	a.talk(t, 440)
	b.talk(t, 1000)
	return r, a, b
}

func TestRoomTranscodesPCMUAndPCMA(t *testing.T) {
	_, a, b := talkingPair(t, "127.0.0.201", ptPCMU, ptPCMA)
	waitHearing(t, "PCMU with PCMA",
		expect{c: a, want: []float64{1000}, not: []float64{440}},
		expect{c: b, want: []float64{440}, not: []float64{1000}})
	for _, pk := range b.p.packets() {
		if pk.PayloadType != ptPCMA {
			t.Fatalf("the PCMA phone got payload type %d", pk.PayloadType)
		}
	}
}

func TestRoomMuteCoachAndHold(t *testing.T) {
	n, cs := roomCalls(t, "127.0.0.202", Config{}, ptPCMU, ptPCMU, ptPCMU, ptPCMU)
	a, b, c, d := cs[0], cs[1], cs[2], cs[3]
	const fa, fb, fc, fd = 440, 1000, 1700, 2500
	r := n.Room(func(engine.PhoneEvent) {})
	defer r.Close()
	r.Join(a.tl.Line, engine.Member{CallID: a.id})
	r.Join(b.tl.Line, engine.Member{CallID: b.id})
	r.Join(c.tl.Line, engine.Member{CallID: c.id, Mute: true})
	r.Join(d.tl.Line, engine.Member{CallID: d.id, Coach: []string{a.id}})
	a.talk(t, fa)
	b.talk(t, fb)
	c.talk(t, fc)
	d.talk(t, fd)
	waitHearing(t, "c muted, d coaching a",
		expect{c: a, want: []float64{fb, fd}, not: []float64{fa, fc}},
		expect{c: b, want: []float64{fa}, not: []float64{fb, fc, fd}},
		expect{c: c, want: []float64{fa, fb}, not: []float64{fc, fd}},
		expect{c: d, want: []float64{fa, fb}, not: []float64{fc, fd}})

	r.Set(engine.Member{CallID: c.id, Hold: true})
	r.Set(engine.Member{CallID: b.id, Hold: true})
	waitHearing(t, "b and c held",
		expect{c: a, want: []float64{fd}, not: []float64{fa, fb, fc}},
		expect{c: b, silent: true},
		expect{c: c, silent: true},
		expect{c: d, want: []float64{fa}, not: []float64{fb, fc, fd}})

	r.Set(engine.Member{CallID: b.id})
	waitHearing(t, "b back",
		expect{c: b, want: []float64{fa}, not: []float64{fb, fc, fd}},
		expect{c: a, want: []float64{fb, fd}, not: []float64{fa, fc}})
}

func TestRoomPlaybackHeardByAllButTheHeld(t *testing.T) {
	n, cs := roomCalls(t, "127.0.0.203", Config{TTS: freqTTS{}}, ptPCMU, ptPCMA, ptPCMU)
	a, b, held := cs[0], cs[1], cs[2]
	events := newTestLine()
	r := n.Room(events.notify)
	defer r.Close()
	if r.Play(engine.Playback{ID: 1, Prompts: []engine.Prompt{{Text: "1500"}}}) {
		t.Error("an empty room played")
	}
	r.Join(newTestLine(), engine.Member{CallID: "sim"})
	if r.Audible() || r.Play(engine.Playback{ID: 1, Prompts: []engine.Prompt{{Text: "1500"}}}) || r.Capture() != nil {
		t.Error("a room of a simulated line alone plays or records")
	}
	r.Join(a.tl.Line, engine.Member{CallID: a.id})
	r.Join(b.tl.Line, engine.Member{CallID: b.id})
	r.Join(held.tl.Line, engine.Member{CallID: held.id, Hold: true})
	if !r.Play(engine.Playback{ID: 7, Prompts: []engine.Prompt{{Text: "1500"}}, Repeat: 3}) {
		t.Fatal("the room did not play")
	}
	waitHearing(t, "the room's playback",
		expect{c: a, want: []float64{1500}},
		expect{c: b, want: []float64{1500}},
		expect{c: held, silent: true})
	e := events.wait(t, engine.PhonePlayed)
	if e.PlayID != 7 || e.Reason != "" {
		t.Errorf("PhonePlayed %d %q, want 7 and no reason", e.PlayID, e.Reason)
	}
	if got := len(loud(held.p.heard())); got > 0 {
		t.Errorf("the held member heard %d loud samples", got)
	}

	// A prompt that cannot be spoken reports why.
	r.Play(engine.Playback{ID: 8, Prompts: []engine.Prompt{{Text: "not a number"}}})
	deadline := time.Now().Add(waitFor)
	for events.count(engine.PhonePlayed) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if all := events.all(); len(all) != 2 || all[1].PlayID != 8 || all[1].Reason == "" {
		t.Errorf("events %s, want a second PhonePlayed 8 with a reason", events.describe())
	}

	// StopPlaying cuts it short, with no event.
	r.Play(engine.Playback{ID: 9, Prompts: []engine.Prompt{{Text: "1500"}}, Repeat: 100})
	waitHearing(t, "the long playback", expect{c: a, want: []float64{1500}})
	r.StopPlaying()
	waitHearing(t, "after StopPlaying", expect{c: a, silent: true})
	if n := events.count(engine.PhonePlayed); n != 2 {
		t.Errorf("%d PhonePlayed after StopPlaying, want 2", n)
	}
}

func TestRoomSayOfASilentMember(t *testing.T) {
	n, cs := roomCalls(t, "127.0.0.204", Config{TTS: freqTTS{}}, ptPCMU, ptPCMU)
	a, b := cs[0], cs[1]
	events := newTestLine()
	r := n.Room(events.notify)
	defer r.Close()
	r.Join(a.tl.Line, engine.Member{CallID: a.id})
	r.Join(b.tl.Line, engine.Member{CallID: b.id, Hold: true})
	r.Join(newTestLine(), engine.Member{CallID: "sim"})
	r.Say("sim", engine.Playback{ID: 3, Prompts: []engine.Prompt{{Text: "1200"}}, Repeat: 3})
	waitHearing(t, "the simulated member's speech",
		expect{c: a, want: []float64{1200}},
		expect{c: b, silent: true})
	// Muted, it is heard no more.
	r.Set(engine.Member{CallID: "sim", Mute: true})
	waitHearing(t, "the muted simulated member", expect{c: a, silent: true})
	if n := len(events.all()); n != 0 {
		t.Errorf("Say reported %d events", n)
	}
}

func TestRoomCaptures(t *testing.T) {
	r, a, b := talkingPair(t, "127.0.0.205", ptPCMU, ptPCMA)
	waitHearing(t, "bridged",
		expect{c: a, want: []float64{1000}},
		expect{c: b, want: []float64{440}})
	rc := r.Capture()
	lc := a.tl.Capture(2)
	// Record a second (more on a slow machine: the capture is what counts).
	deadline := time.Now().Add(waitFor)
	time.Sleep(time.Second)
	var ra, la engine.Audio
	ra, la = rc.Stop(), lc.Stop()
	if ra.Length() < 500*time.Millisecond || time.Now().After(deadline) {
		t.Fatalf("the room captured %v", ra.Length())
	}
	if len(ra.Channels) != 1 {
		t.Fatalf("the room's capture has %d channels", len(ra.Channels))
	}
	mix := loud(ra.Channels[0])
	if p1, p2 := pcm.Power(mix, rate, 440), pcm.Power(mix, rate, 1000); p1 < 0.25 || p2 < 0.25 {
		t.Errorf("the room's capture holds 440 Hz at %.2f and 1000 Hz at %.2f, want both", p1, p2)
	}
	if len(la.Channels) != 2 {
		t.Fatalf("the line's capture has %d channels", len(la.Channels))
	}
	if f := pcm.Frequency(loud(la.Channels[0]), rate); !within(f, 440, 0.03) {
		t.Errorf("the line's channel 1 has %.0f Hz, want its own phone's 440", f)
	}
	if f := pcm.Frequency(loud(la.Channels[1]), rate); !within(f, 1000, 0.03) {
		t.Errorf("the line's channel 2 has %.0f Hz, want the other party's 1000", f)
	}
}

func TestRoomMemberHangsUpAndClose(t *testing.T) {
	n, cs := roomCalls(t, "127.0.0.206", Config{TTS: freqTTS{}}, ptPCMU, ptPCMU, ptPCMU)
	a, b, c := cs[0], cs[1], cs[2]
	events := newTestLine()
	r := n.Room(events.notify)
	r.Join(a.tl.Line, engine.Member{CallID: a.id})
	r.Join(b.tl.Line, engine.Member{CallID: b.id})
	r.Join(c.tl.Line, engine.Member{CallID: c.id})
	a.talk(t, 440)
	b.talk(t, 1000)
	c.talk(t, 1700)
	waitHearing(t, "three",
		expect{c: a, want: []float64{1000, 1700}, not: []float64{440}},
		expect{c: b, want: []float64{440, 1700}, not: []float64{1000}})
	if err := c.dc.Bye(t.Context()); err != nil {
		t.Fatal(err)
	}
	c.tl.wait(t, engine.PhoneHungUp)
	waitHearing(t, "c gone",
		expect{c: a, want: []float64{1000}, not: []float64{440, 1700}},
		expect{c: b, want: []float64{440}, not: []float64{1000, 1700}})

	r.Play(engine.Playback{ID: 1, Prompts: []engine.Prompt{{Text: "2500"}}, Repeat: 100})
	waitHearing(t, "playing", expect{c: a, want: []float64{1000, 2500}})
	r.Close()
	r.Close()
	waitHearing(t, "closed",
		expect{c: a, silent: true},
		expect{c: b, silent: true})
	if r.Audible() || r.Play(engine.Playback{ID: 2}) || r.Capture() != nil {
		t.Error("a closed room still plays or records")
	}
	r.Join(a.tl.Line, engine.Member{CallID: a.id})
	if r.Audible() {
		t.Error("a closed room took a member")
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(events.all()); n != 0 {
		t.Errorf("the closed room reported %s", events.describe())
	}
}

// TestRoomTakesALineBeforeItsMedia: an outbound call joined while it
// rings is heard, and hears, once answered.
func TestRoomTakesALineBeforeItsMedia(t *testing.T) {
	out := &roomCall{id: "out", p: newPhone(t, "127.0.0.215"), pt: ptPCMU}
	n, cs := roomCalls(t, "127.0.0.215", Config{Gateways: []Gateway{{URI: "sip:" + out.p.addr}}}, ptPCMU)
	a := cs[0]
	out.tl = newTestLine()
	line, err := n.Dial(engine.Dial{CallID: "c-out", From: "+15550002000", To: "+15551112222"}, out.tl.notify)
	if err != nil {
		t.Fatal(err)
	}
	out.tl.Line = line
	r := n.Room(func(engine.PhoneEvent) {})
	defer r.Close()
	r.Join(a.tl.Line, engine.Member{CallID: a.id})
	r.Join(line, engine.Member{CallID: out.id})
	out.p.answerNext(200, "OK")
	out.tl.wait(t, engine.PhoneAnswered)
	a.talk(t, 440)
	out.talk(t, 1000)
	waitHearing(t, "joined while ringing",
		expect{c: a, want: []float64{1000}, not: []float64{440}},
		expect{c: out, want: []float64{440}, not: []float64{1000}})
}

// A Set that comes before its call joins (a conference member muted as
// soon as the app hears it joined, while the call is still on its way to
// the room) holds when the call joins, over the settings it joins with;
// a call that leaves first leaves nothing behind.
func TestRoomSetBeforeJoin(t *testing.T) {
	n := startNetwork(t, Config{Addr: "127.0.0.216:0"})
	r := n.Room(nil).(*room)
	defer r.Close()
	r.Set(engine.Member{CallID: "c1", Mute: true, Coach: []string{"c2"}})
	r.Join(newTestLine(), engine.Member{CallID: "c1"})
	r.mu.Lock()
	m := r.members[r.find("c1")].m
	r.mu.Unlock()
	if !m.Mute || len(m.Coach) != 1 || m.Coach[0] != "c2" {
		t.Errorf("c1 joined as %+v, want muted and coaching c2 as set before it joined", m)
	}
	r.Set(engine.Member{CallID: "c3", Hold: true})
	r.Leave("c3")
	r.Join(newTestLine(), engine.Member{CallID: "c3"})
	r.mu.Lock()
	m = r.members[r.find("c3")].m
	early := len(r.early)
	r.mu.Unlock()
	if m.Hold || early != 0 {
		t.Errorf("c3 rejoined as %+v with %d early settings kept; want a fresh member", m, early)
	}
}
