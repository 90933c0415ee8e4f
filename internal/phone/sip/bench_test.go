package sip

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
)

// autoAnswer is an engine that answers every inbound call at once.
type autoAnswer struct{ ended chan struct{} }

func (a autoAnswer) Answers(string) (engine.Inbound, bool) { return engine.Inbound{}, true }

func (a autoAnswer) InboundCall(ctx context.Context, in engine.Inbound) (*engine.Call, error) {
	var line engine.Line
	line, err := in.Attach("c-bench", func(e engine.PhoneEvent) {
		if e.Kind == engine.PhoneHungUp {
			a.ended <- struct{}{}
		}
	})
	if err != nil {
		return nil, err
	}
	line.Answered()
	return &engine.Call{}, nil
}

// BenchmarkCallSetup measures calls set up (INVITE to 200 OK and ACK) and
// torn down (BYE) per second between two Networks on loopback, one after
// the other:
//
//	go test -run XXX -bench CallSetup ./internal/phone/sip/
func BenchmarkCallSetup(b *testing.B) {
	aa := autoAnswer{ended: make(chan struct{}, 1)}
	callee, err := New(Config{Addr: "127.0.0.61:0", Answers: aa.Answers, Calls: aa})
	if err != nil {
		b.Fatal(err)
	}
	if err := callee.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer callee.Close()
	caller, err := New(Config{Addr: "127.0.0.62:0", Gateways: []Gateway{{URI: "sip:" + callee.Addr()}}})
	if err != nil {
		b.Fatal(err)
	}
	if err := caller.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer caller.Close()
	answered := make(chan engine.PhoneEvent, 16)
	start := time.Now()
	for b.Loop() {
		line, err := caller.Dial(engine.Dial{From: "+15550002000", To: "+15550001000"}, func(e engine.PhoneEvent) {
			if e.Kind != engine.PhoneSignal && e.Kind != engine.PhoneRinging {
				answered <- e
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		select {
		case e := <-answered:
			if e.Kind != engine.PhoneAnswered {
				b.Fatalf("event %d: %s", e.Kind, e.Reason)
			}
		case <-time.After(5 * time.Second):
			b.Fatal("not answered")
		}
		line.Hangup()
		select {
		case <-aa.ended:
		case <-time.After(5 * time.Second):
			b.Fatal("no BYE")
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// BenchmarkConcurrentPlayback holds 200 calls at once between two Networks
// on loopback, each playing a prompt to the other side for two seconds,
// and reports the share of RTP packets sent more than 5 ms late, and the
// memory (heap and goroutine stacks) each live line, one end of a call,
// holds:
//
//	go test -run XXX -bench ConcurrentPlayback -benchtime 1x ./internal/phone/sip/
func BenchmarkConcurrentPlayback(b *testing.B) {
	const calls = 200
	aa := autoAnswer{ended: make(chan struct{}, calls)}
	callee, err := New(Config{Addr: "127.0.0.63:0", Answers: aa.Answers, Calls: aa})
	if err != nil {
		b.Fatal(err)
	}
	if err := callee.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer callee.Close()
	caller, err := New(Config{Addr: "127.0.0.64:0", Gateways: []Gateway{{URI: "sip:" + callee.Addr()}}, TTS: freqTTS{}})
	if err != nil {
		b.Fatal(err)
	}
	if err := caller.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer caller.Close()
	for b.Loop() {
		events := make(chan engine.PhoneEvent, 4*calls)
		var lines []engine.Line
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range calls {
			line, err := caller.Dial(engine.Dial{From: "+15550002000", To: "+15550001000"}, func(e engine.PhoneEvent) {
				if e.Kind != engine.PhoneSignal && e.Kind != engine.PhoneRinging {
					events <- e
				}
			})
			if err != nil {
				b.Fatal(err)
			}
			lines = append(lines, line)
		}
		for range calls {
			if e := <-events; e.Kind != engine.PhoneAnswered {
				b.Fatalf("event %d: %s", e.Kind, e.Reason)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		// Both ends of each call are in this process: two lines a call.
		used := float64(after.HeapInuse+after.StackInuse) - float64(before.HeapInuse+before.StackInuse)
		b.ReportMetric(used/calls/2, "B/line")
		sent0, late0 := caller.rtpSent.Load(), caller.rtpLate.Load()
		for _, l := range lines {
			l.Play(engine.Playback{ID: 1, Prompts: []engine.Prompt{{Text: "440"}}, Repeat: 2})
		}
		for range calls {
			if e := <-events; e.Kind != engine.PhonePlayed || e.Reason != "" {
				b.Fatalf("event %d: %s", e.Kind, e.Reason)
			}
		}
		sent, late := caller.rtpSent.Load()-sent0, caller.rtpLate.Load()-late0
		b.ReportMetric(100*float64(late)/float64(sent), "late%")
		for _, l := range lines {
			l.Hangup()
		}
		for range calls {
			<-aa.ended
		}
	}
}

// lineTaker is an engine that answers every inbound call at once and
// hands over its line, with the caller's number.
type lineTaker struct{ lines chan takenLine }

type takenLine struct {
	from string
	line engine.Line
}

func (lt lineTaker) Answers(string) (engine.Inbound, bool) { return engine.Inbound{}, true }

func (lt lineTaker) InboundCall(ctx context.Context, in engine.Inbound) (*engine.Call, error) {
	line, err := in.Attach("c-bench", func(engine.PhoneEvent) {})
	if err != nil {
		return nil, err
	}
	line.Answered()
	lt.lines <- takenLine{in.From, line}
	return &engine.Call{}, nil
}

// benchCalls starts two Networks on hosts far and near, dials calls from
// far to near, and returns near's lines and far's with far's events. near
// is where rooms are made; far plays the phones' voices.
type benchCalls struct {
	far, near  *Network
	farLines   []engine.Line
	nearLines  []engine.Line
	farEvents  chan engine.PhoneEvent
	sent, late int64
}

func newBenchCalls(b *testing.B, farHost, nearHost string, calls int) *benchCalls {
	b.Helper()
	return newBenchCallsOn(b, benchSetup{far: farHost, near: nearHost, calls: calls})
}

// benchSetup is where newBenchCallsOn's Networks listen (hosts, and the
// RTP ports of both, the default when zero) and how many calls it dials.
type benchSetup struct {
	far, near string
	rtp       [2]int
	calls     int
}

// newBenchCallsOn is newBenchCalls with the RTP ports of set.
func newBenchCallsOn(b *testing.B, set benchSetup) *benchCalls {
	b.Helper()
	farHost, nearHost, calls := set.far, set.near, set.calls
	lt := lineTaker{lines: make(chan takenLine, calls)}
	near, err := New(Config{Addr: nearHost + ":0", RTPPorts: set.rtp, Answers: lt.Answers, Calls: lt})
	if err != nil {
		b.Fatal(err)
	}
	if err := near.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { near.Close() })
	far, err := New(Config{Addr: farHost + ":0", RTPPorts: set.rtp, Gateways: []Gateway{{URI: "sip:" + near.Addr()}}, TTS: freqTTS{}})
	if err != nil {
		b.Fatal(err)
	}
	if err := far.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { far.Close() })
	bc := &benchCalls{far: far, near: near, farEvents: make(chan engine.PhoneEvent, 4*calls)}
	// Dial in batches, so that call setup is not what is measured. Each
	// call's From tells which near line is which far line's.
	bc.nearLines = make([]engine.Line, calls)
	for done := 0; done < calls; {
		batch := min(50, calls-done)
		for k := range batch {
			from := fmt.Sprintf("+1555%07d", done+k)
			line, err := far.Dial(engine.Dial{From: from, To: "+15550001000"}, func(e engine.PhoneEvent) {
				if e.Kind != engine.PhoneSignal && e.Kind != engine.PhoneRinging && e.Kind != engine.PhoneSpeech {
					bc.farEvents <- e
				}
			})
			if err != nil {
				b.Fatal(err)
			}
			bc.farLines = append(bc.farLines, line)
		}
		for range batch {
			select {
			case e := <-bc.farEvents:
				if e.Kind != engine.PhoneAnswered {
					b.Fatalf("event %d: %s", e.Kind, e.Reason)
				}
			case <-time.After(10 * time.Second):
				b.Fatal("not answered")
			}
			tl := <-lt.lines
			k, err := strconv.Atoi(strings.TrimPrefix(tl.from, "+1555"))
			if err != nil || k < 0 || k >= calls || bc.nearLines[k] != nil {
				b.Fatalf("a call from %q", tl.from)
			}
			bc.nearLines[k] = tl.line
		}
		done += batch
	}
	return bc
}

// mark starts counting packets sent and late on both networks.
func (bc *benchCalls) mark() {
	bc.sent = bc.far.rtpSent.Load() + bc.near.rtpSent.Load()
	bc.late = bc.far.rtpLate.Load() + bc.near.rtpLate.Load()
}

// latePercent is the share of packets sent more than 5 ms late since mark.
func (bc *benchCalls) latePercent() float64 {
	sent := bc.far.rtpSent.Load() + bc.near.rtpSent.Load() - bc.sent
	late := bc.far.rtpLate.Load() + bc.near.rtpLate.Load() - bc.late
	return 100 * float64(late) / float64(max(sent, 1))
}

// waitPlayed waits for n PhonePlayed on far's lines.
func (bc *benchCalls) waitPlayed(b *testing.B, n int) {
	b.Helper()
	for range n {
		select {
		case e := <-bc.farEvents:
			if e.Kind != engine.PhonePlayed || e.Reason != "" {
				b.Fatalf("event %d: %s", e.Kind, e.Reason)
			}
		case <-time.After(30 * time.Second):
			b.Fatal("playback did not end")
		}
	}
}

func (bc *benchCalls) hangup() {
	for _, l := range bc.farLines {
		l.Hangup()
	}
}

// BenchmarkBridgedPairs bridges pairs of calls in rooms: the far Network
// dials two calls a pair to the near one, which puts the pair's two lines
// in a room; each far line then plays a tone for two seconds, which its
// partner hears through the room. It reports the share of RTP packets
// (both Networks) sent more than 5 ms late:
//
//	go test -run XXX -bench BridgedPairs -benchtime 1x -count 5 ./internal/phone/sip/
func BenchmarkBridgedPairs(b *testing.B) {
	for i, pairs := range []int{50, 100, 200} {
		b.Run(fmt.Sprintf("pairs=%d", pairs), func(b *testing.B) {
			hosts := [][2]string{{"127.0.0.207", "127.0.0.208"}, {"127.0.0.209", "127.0.0.210"}, {"127.0.0.211", "127.0.0.212"}}[i]
			for b.Loop() {
				bc := newBenchCalls(b, hosts[0], hosts[1], 2*pairs)
				var rooms []engine.Room
				for p := range pairs {
					r := bc.near.Room(func(engine.PhoneEvent) {})
					r.Join(bc.nearLines[2*p], engine.Member{CallID: "a"})
					r.Join(bc.nearLines[2*p+1], engine.Member{CallID: "b"})
					rooms = append(rooms, r)
				}
				heard := bc.farLines[0].Capture(2)
				bc.mark()
				for k, l := range bc.farLines {
					l.Play(engine.Playback{ID: 1, Prompts: []engine.Prompt{{Text: []string{"440", "1000"}[k%2]}}, Repeat: 2})
				}
				bc.waitPlayed(b, len(bc.farLines))
				b.ReportMetric(bc.latePercent(), "late%")
				// The first far line heard its partner's tone.
				a := heard.Stop()
				if p := pcm.Power(loud(a.Channels[0]), rate, 1000); p < 0.5 {
					b.Fatalf("the first line heard its partner's 1000 Hz at %.2f", p)
				}
				for _, r := range rooms {
					r.Close()
				}
				bc.hangup()
			}
		})
	}
}

// BenchmarkConference20 puts 20 calls in one room: every far line plays a
// tone for two seconds while all hear each other. It reports the process's
// CPU time (both Networks: the far phones' sending and receiving too) per
// member and second of the conference, the share of packets sent late, and
// then, with one member alone speaking, the delays of its tone: from the
// far line playing it to another far line hearing it (end-to-end-ms), and
// within that from the near line hearing it to the other near line sending
// it (room-ms, what the room adds: about a tick, plus a shard's phase):
//
//	go test -run XXX -bench Conference20 -benchtime 1x -count 5 ./internal/phone/sip/
func BenchmarkConference20(b *testing.B) {
	const members = 20
	for b.Loop() {
		bc := newBenchCalls(b, "127.0.0.213", "127.0.0.214", members)
		r := bc.near.Room(func(engine.PhoneEvent) {})
		for k, l := range bc.nearLines {
			r.Join(l, engine.Member{CallID: strconv.Itoa(k)})
		}
		bc.mark()
		cpu0, t0 := cpuTime(), time.Now()
		for k, l := range bc.farLines {
			l.Play(engine.Playback{ID: 1, Prompts: []engine.Prompt{{Text: strconv.Itoa(300 + 100*k)}}, Repeat: 2})
		}
		bc.waitPlayed(b, members)
		cpu, wall := cpuTime()-cpu0, time.Since(t0)
		b.ReportMetric(float64(cpu.Milliseconds())/members/wall.Seconds(), "cpu-ms/member-s")
		b.ReportMetric(bc.latePercent(), "late%")

		// Delay: member 0 alone speaks; member 1 hears.
		time.Sleep(200 * time.Millisecond)
		caps := []*capture{
			bc.farLines[0].Capture(2).(*capture),  // played: the tone leaves
			bc.nearLines[0].Capture(2).(*capture), // heard: it reaches the room
			bc.nearLines[1].Capture(2).(*capture), // played: the room sends it on
			bc.farLines[1].Capture(2).(*capture),  // heard: it arrives
		}
		time.Sleep(200 * time.Millisecond)
		bc.farLines[0].Play(engine.Playback{ID: 2, Prompts: []engine.Prompt{{Text: "1000"}}})
		bc.waitPlayed(b, 1)
		time.Sleep(200 * time.Millisecond)
		var at [4]time.Time
		for k, c := range caps {
			began := c.began
			a := c.Stop()
			ch := a.Channels[1-k%2] // played, heard, played, heard
			at[k] = began.Add(time.Duration(onset(ch)) * time.Second / rate)
		}
		b.ReportMetric(float64(at[3].Sub(at[0]).Microseconds())/1000, "end-to-end-ms")
		b.ReportMetric(float64(at[2].Sub(at[1]).Microseconds())/1000, "room-ms")
		r.Close()
		bc.hangup()
	}
}

// onset is the index of the first loud sample of s, len(s) if none.
func onset(s []int16) int {
	for i, v := range s {
		if v > 1000 || v < -1000 {
			return i
		}
	}
	return len(s)
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWakeFloor is the floor under the late% of the benchmarks above:
// one goroutine, with nothing else to do, sleeping to a 20 ms schedule for
// two seconds, and the share of its wake-ups more than 5 ms late. What the
// machine itself (its scheduler, its neighbours) makes late, the pacer
// cannot make on time; compare the other figures with this one, from the
// same run:
//
//	go test -run XXX -bench 'WakeFloor|BridgedPairs' -benchtime 1x -count 5 ./internal/phone/sip/
func BenchmarkWakeFloor(b *testing.B) {
	for b.Loop() {
		next := time.Now().Add(ptime)
		late := 0
		const ticks = 100
		for range ticks {
			time.Sleep(time.Until(next))
			if time.Since(next) > lateBy {
				late++
			}
			next = next.Add(ptime)
		}
		b.ReportMetric(100*float64(late)/ticks, "late%")
	}
}
