package sip

import (
	"runtime"
	"strings"
	"testing"
	"time"

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
	select {
	case <-p.byes:
	case <-time.After(waitFor):
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

