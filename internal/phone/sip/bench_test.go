package sip

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
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
