package sip

import (
	"context"
	"errors"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"

	"github.com/voicehook/voicehook/internal/engine"
)

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Addr: "127.0.0.1"},
		{Addr: "127.0.0.1:99999"},
		{Addr: "127.0.0.1:0", RTPPorts: [2]int{30000, 30000}},
		{Addr: "127.0.0.1:0", RTPPorts: [2]int{80, 1000}},
		{Addr: "127.0.0.1:0", Gateways: []Gateway{{URI: "http://example.test"}}}, // only parsed
		{Addr: "127.0.0.1:0", Gateways: []Gateway{{URI: "sip:gw.test;transport=sctp"}}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted it", cfg)
		}
	}
}

func TestIncomingIsRefused(t *testing.T) {
	n, err := New(Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Incoming(engine.Dial{}, nil); err == nil {
		t.Error("Incoming gave a line")
	}
}

// TestCloseEndsEveryCall: an answered inbound call gets a BYE, a ringing
// outbound one a CANCEL, and no goroutine of the package outlives Close.
func TestCloseEndsEveryCall(t *testing.T) {
	p := newPhone(t, "127.0.0.50")
	n, p, tl, _ := inboundCallOn(t, "127.0.0.50", p, Config{Gateways: []Gateway{{URI: "sip:" + p.addr}}}, 101)
	tl.Play(engine.Playback{ID: 1, Prompts: []engine.Prompt{{Text: "never spoken: no TTS"}}})
	out := newTestLine()
	if _, err := n.Dial(dial, out.notify); err != nil {
		t.Fatal(err)
	}
	ds, _ := p.answerNext(0, "")
	out.wait(t, engine.PhoneRinging)

	if ours() == "" {
		t.Fatal("no goroutine of the package found while calls are live: the leak check below would prove nothing")
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if !p.gotBye() {
		t.Error("the inbound call got no BYE")
	}
	select {
	case <-ds.Context().Done():
	case <-time.After(waitFor):
		t.Error("the outbound call got no CANCEL")
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		left := ours()
		if left == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left after Close:\n%s", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := n.Dial(dial, func(engine.PhoneEvent) {}); err == nil {
		t.Error("Dial after Close gave a line")
	}
}

// ours returns the stacks of goroutines running this package's code
// (not the tests').
func ours() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var left []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "internal/phone/sip.(*") && !strings.Contains(g, "_test.go") && !strings.Contains(g, "testing.tRunner") {
			left = append(left, g)
		}
	}
	return strings.Join(left, "\n\n")
}

func TestCapturePauseAndMix(t *testing.T) {
	heard := []int16{100, 200}
	played := []int16{1, 2}
	c := &capture{channels: 1}
	c.add(heard, played)
	c.Pause()
	c.add([]int16{9, 9}, []int16{9, 9})
	c.Resume()
	c.add(heard, played)
	a := c.Stop()
	if a.Rate != 8000 || len(a.Channels) != 1 || !slices.Equal(a.Channels[0], []int16{101, 202, 101, 202}) {
		t.Errorf("mono capture %+v", a)
	}
	if c.add(heard, played) {
		t.Error("a stopped capture took more audio")
	}
	c2 := &capture{channels: 2}
	c2.add(heard, played)
	if a := c2.Stop(); len(a.Channels) != 2 || !slices.Equal(a.Channels[0], heard) || !slices.Equal(a.Channels[1], played) {
		t.Errorf("stereo capture %+v", a)
	}
}

func TestCaptureStopsAtItsLimit(t *testing.T) {
	if got := int(maxCapture / time.Second * rate); got != 2*3600*8000 {
		t.Fatalf("maxCapture keeps %d samples, want two hours", got)
	}
	warned := 0
	for _, channels := range []int{1, 2} {
		c := &capture{channels: channels, limit: 3 * frame, full: func() { warned++ }}
		f := make([]int16, frame)
		for range 10 {
			c.add(f, f)
		}
		a := c.Stop()
		for i, ch := range a.Channels {
			if len(ch) != 3*frame {
				t.Errorf("%d channels: channel %d kept %d samples, want %d", channels, i+1, len(ch), 3*frame)
			}
		}
	}
	if warned != 2 {
		t.Errorf("warned %d times, want once a capture", warned)
	}
}

func TestCancellingStartsContextCloses(t *testing.T) {
	n, err := New(Config{Addr: "127.0.0.51:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	addr := n.Addr()
	if c, err := net.Dial("tcp", addr); err != nil {
		t.Fatalf("not listening on %s: %v", addr, err)
	} else {
		c.Close()
	}
	cancel()
	n.Close() // waits for the Close the cancellation started
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("still listening on %s", addr)
	}
}

func TestStartOnABusyAddressFails(t *testing.T) {
	busy, err := net.ListenPacket("udp", "127.0.0.52:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	n, err := New(Config{Addr: busy.LocalAddr().String()})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(t.Context()); err == nil {
		t.Fatal("Start on a busy port succeeded")
	}
	if err := n.Close(); err != nil {
		t.Error(err)
	}
}

func TestCallsRacingCloseAreRefused(t *testing.T) {
	p := newPhone(t, "127.0.0.76")
	fe := newFakeEngine("+15550001000")
	stop := make(chan struct{})
	defer close(stop)
	go func() { // the phone declines what is dialled, the engine takes what calls in
		for {
			select {
			case in := <-p.invites:
				respond(in.tx, in.req, 486, "Busy Here")
				close(in.done)
			case <-fe.lines:
			case <-stop:
				return
			}
		}
	}()
	for range 3 {
		n := startNetwork(t, Config{Addr: "127.0.0.76:0", Answers: fe.Answers, Calls: fe,
			Gateways: []Gateway{{URI: "sip:" + p.addr}}})
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				line, err := n.Dial(dial, func(engine.PhoneEvent) {})
				if err != nil && err.Error() != "sip: network closed" {
					t.Errorf("Dial racing Close: %v", err)
				}
				if line != nil {
					line.Hangup()
				}
			}()
			go func() {
				defer wg.Done()
				// No CANCEL wait: the network may be gone.
				ctx, cancel := context.WithTimeoutCause(t.Context(), time.Second, sipgo.WaitAnswerForceCancelErr)
				defer cancel()
				_, _, _ = p.call(ctx, "sip:+15550001000@"+n.Addr(), p.offer(101))
			}()
		}
		n.Close()
		if _, err := n.Dial(dial, func(engine.PhoneEvent) {}); err == nil || err.Error() != "sip: network closed" {
			t.Errorf("Dial after Close: %v, want sip: network closed", err)
		}
		wg.Wait()
	}
}

func TestDialSpinningThroughClose(t *testing.T) {
	// Under the race detector: a line must not join the network's
	// WaitGroup while Close waits on it. Every call fails at once (its
	// host is refused), so Close has nothing to wait for but goroutines.
	d := dial
	d.To = "sip:bob@127.0.0.82:9"
	for range 10 {
		n := startNetwork(t, Config{Addr: "127.0.0.82:0", CheckHost: func(context.Context, string) error {
			return errors.New("refused")
		}})
		closed := make(chan struct{})
		go func() { n.Close(); close(closed) }()
		// Dial on until Close has returned.
		deadline := time.After(waitFor)
		for done := false; !done; {
			_, err := n.Dial(d, func(engine.PhoneEvent) {})
			if err != nil && err.Error() != "sip: network closed" {
				t.Fatalf("Dial: %v", err)
			}
			select {
			case <-closed:
				done = true
			case <-deadline:
				t.Fatal("Close did not end")
			default:
			}
		}
	}
}
