package sip

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"

	"github.com/voicehook/voicehook/internal/engine"
)

// digitsOf waits until want digits came (or the wait ends), then a
// little more for any extra, and returns the digits the line reported.
func digitsOf(tl *testLine, want int) string {
	deadline := time.Now().Add(waitFor)
	for tl.count(engine.PhoneDigit) < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	var got string
	for _, e := range tl.all() {
		if e.Kind == engine.PhoneDigit {
			got += string(e.Digit)
		}
	}
	return got
}

func TestRTPFromAnotherSourceIsDropped(t *testing.T) {
	_, p, tl, dc := inboundCall(t, "127.0.0.70", Config{}, 101)
	ours, err := parseSDP(dc.InviteResponse.Body())
	if err != nil {
		t.Fatal(err)
	}
	// Someone else who reaches the call's RTP port.
	intruder := newPhone(t, "127.0.0.71")
	intruder.setRemote(ours.addr)
	intruder.ts = 100 * frame // its own events, not repeats of the phone's
	p.press(101, '1')
	intruder.press(101, '9')
	intruder.say(make([]int16, 4*frame))
	p.press(101, '2')
	if got := digitsOf(tl, 2); got != "12" {
		t.Errorf("digits %q, want %q: the intruder's were taken", got, "12")
	}
}

func TestRTPLatchesToTheFirstSource(t *testing.T) {
	// The phone's SDP names 127.0.0.73 (nothing listens there), but it
	// sends from 127.0.0.72, as a phone bound to 0.0.0.0 does (only described: the test binds and dials loopback alone).
	p := newPhone(t, "127.0.0.72")
	fe := newFakeEngine("+15550001000")
	n := startNetwork(t, Config{Addr: "127.0.0.72:0", Answers: fe.Answers, Calls: fe})
	offer := strings.ReplaceAll(string(p.offer(101)), "IN IP4 127.0.0.72", "IN IP4 127.0.0.73")
	done := make(chan error, 1)
	go func() {
		_, _, err := p.call(t.Context(), "sip:+15550001000@"+n.Addr(), []byte(offer))
		done <- err
	}()
	tl := fe.next(t)
	tl.Answered()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitFor):
		t.Fatal("the call was not answered")
	}
	ours := p.remote.AddrPort()
	intruder := newPhone(t, "127.0.0.74")
	intruder.setRemote(ours)
	intruder.ts = 100 * frame
	p.press(101, '1')
	intruder.press(101, '9')
	p.press(101, '2')
	if got := digitsOf(tl, 2); got != "12" {
		t.Errorf("digits %q, want %q", got, "12")
	}
}

func TestOfferWithoutAUnicastAddressIs488(t *testing.T) {
	fe := newFakeEngine("+15550001000")
	p := newPhone(t, "127.0.0.75")
	n := startNetwork(t, Config{Addr: "127.0.0.75:0", Answers: fe.Answers, Calls: fe})
	// The addresses are only parsed: the offer is refused.
	for _, c := range []string{"IN IP4 0.0.0.0", "IN IP4 224.0.1.10"} { // only parsed or refused by the guard: never dialled
		offer := strings.ReplaceAll(string(p.offer(101)), "IN IP4 127.0.0.75", c)
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		_, _, err := p.call(ctx, "sip:+15550001000@"+n.Addr(), []byte(offer))
		cancel()
		var de *sipgo.ErrDialogResponse
		if !errors.As(err, &de) || de.Res.StatusCode != 488 {
			t.Errorf("offer with c=%s: call ended with %v, want 488", c, err)
		}
	}
}
