package siptest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/phone/sip/siptest"
)

// Phones on 127.0.0.220-223 call each other: loopback only.

const wait = 5 * time.Second

// connect has a call b, b answer, and returns both ends.
func connect(t *testing.T, a, b *siptest.Phone) (caller, callee *siptest.Call) {
	t.Helper()
	type result struct {
		c   *siptest.Call
		err error
	}
	dialled := make(chan result, 1)
	go func() {
		c, err := a.Dial(b.URI("+15550000200"))
		dialled <- result{c, err}
	}()
	in := b.Next(wait)
	if in == nil {
		t.Fatal("no INVITE reached the callee")
	}
	if in.User() != "+15550000200" {
		t.Errorf("INVITE to user %q, want +15550000200", in.User())
	}
	if err := in.Ring(); err != nil {
		t.Fatal(err)
	}
	callee, err := in.Answer()
	if err != nil {
		t.Fatal(err)
	}
	r := <-dialled
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.c, callee
}

func TestTonesCrossBothWays(t *testing.T) {
	for _, codec := range []siptest.Codec{siptest.PCMU, siptest.PCMA} {
		t.Run(codec.String(), func(t *testing.T) {
			a := siptest.New(t, "127.0.0.220", siptest.WithCodec(codec))
			b := siptest.New(t, "127.0.0.221", siptest.WithCodec(codec))
			caller, callee := connect(t, a, b)
			caller.Tone(440)
			callee.Tone(1000)
			if !callee.WaitHears(440, time.Second, wait) {
				t.Errorf("the callee does not hear the caller's 440 Hz; dominant %.0f Hz", siptest.Dominant(callee.Listen(time.Second)))
			}
			if !caller.WaitHears(1000, time.Second, wait) {
				t.Errorf("the caller does not hear the callee's 1000 Hz; dominant %.0f Hz", siptest.Dominant(caller.Listen(time.Second)))
			}
			if heard := caller.Listen(time.Second); siptest.Hears(heard, 440) {
				t.Error("the caller hears its own tone")
			}
			caller.Silence()
			callee.Silence()
			time.Sleep(200 * time.Millisecond) // packets in flight
			if heard := callee.Listen(500 * time.Millisecond); siptest.Level(heard) > 0.01 {
				t.Errorf("after Silence the callee hears level %.3f", siptest.Level(heard))
			}
		})
	}
}

func TestPlayIsHeard(t *testing.T) {
	a := siptest.New(t, "127.0.0.220")
	b := siptest.New(t, "127.0.0.221")
	caller, callee := connect(t, a, b)
	caller.Play(pcm.Tone(700, siptest.Rate, 300*time.Millisecond, 0.5))
	if !callee.WaitHears(700, time.Second, wait) {
		t.Error("the callee does not hear the 700 Hz played")
	}
}

func TestHangupEndsBothEnds(t *testing.T) {
	a := siptest.New(t, "127.0.0.220")
	b := siptest.New(t, "127.0.0.221")
	caller, callee := connect(t, a, b)
	if err := callee.Hangup(); err != nil {
		t.Fatal(err)
	}
	if !caller.WaitHungUp(wait) {
		t.Fatal("the caller got no BYE")
	}
	select {
	case <-caller.Ended():
	default:
		t.Error("the caller's call did not end on BYE")
	}
	select {
	case <-callee.HungUp():
		t.Error("the callee, which hung up, counts a BYE from the far end")
	default:
	}
}

func TestDTMF(t *testing.T) {
	a := siptest.New(t, "127.0.0.220")
	b := siptest.New(t, "127.0.0.221")
	caller, callee := connect(t, a, b)
	for _, k := range []byte("12#*9") {
		if err := caller.Press(k); err != nil {
			t.Fatal(err)
		}
	}
	if err := caller.Press('x'); err == nil {
		t.Error("pressing x: no error")
	}
	deadline := time.Now().Add(wait)
	for callee.Keys() != "12#*9" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := callee.Keys(); got != "12#*9" {
		t.Errorf("the callee got keys %q, want 12#*9", got)
	}
}

func TestHoldAndResume(t *testing.T) {
	a := siptest.New(t, "127.0.0.220")
	b := siptest.New(t, "127.0.0.221")
	caller, callee := connect(t, a, b)
	caller.Tone(440)
	callee.Tone(1000)
	if !caller.WaitHears(1000, time.Second, wait) {
		t.Fatal("no audio before the hold")
	}
	if code, err := caller.Hold(); err != nil || code != 200 {
		t.Fatalf("hold: %d %v", code, err)
	}
	time.Sleep(200 * time.Millisecond) // packets in flight
	if heard := caller.Listen(500 * time.Millisecond); len(heard) > 0 {
		t.Errorf("the held callee still sends: %d samples", len(heard))
	}
	if !callee.WaitHears(440, 500*time.Millisecond, wait) {
		t.Error("the callee no longer hears the caller that holds it (sendonly)")
	}
	if code, err := caller.Resume(); err != nil || code != 200 {
		t.Fatalf("resume: %d %v", code, err)
	}
	if !caller.WaitHears(1000, time.Second, wait) {
		t.Error("the callee's tone is not back after the resume")
	}
	// The answerer holds too.
	if code, err := callee.Hold(); err != nil || code != 200 {
		t.Fatalf("hold by the callee: %d %v", code, err)
	}
	if code, err := callee.Resume(); err != nil || code != 200 {
		t.Fatalf("resume by the callee: %d %v", code, err)
	}
	if !callee.WaitHears(440, time.Second, wait) {
		t.Error("the caller's tone is not back after the callee's resume")
	}
}

func TestRejectAndCodecMismatch(t *testing.T) {
	a := siptest.New(t, "127.0.0.220")
	b := siptest.New(t, "127.0.0.221", siptest.WithAutoAnswer(0))
	pcma := siptest.New(t, "127.0.0.222", siptest.WithCodec(siptest.PCMA))
	rejecter := siptest.New(t, "127.0.0.223")

	// PCMU only against PCMA only: 488.
	done := make(chan error, 1)
	go func() { _, err := a.Dial(pcma.URI("2")); done <- err }()
	in := pcma.Next(wait)
	if in == nil {
		t.Fatal("no INVITE")
	}
	if _, err := in.Answer(); err == nil {
		t.Error("a PCMA phone answered a PCMU offer")
	}
	var de *siptest.DialError
	if err := <-done; !errors.As(err, &de) || de.Code != 488 {
		t.Errorf("dial with no common codec: %v, want 488", err)
	}

	go func() { _, err := a.Dial(rejecter.URI("3")); done <- err }()
	if in := rejecter.Next(wait); in == nil {
		t.Fatal("no INVITE")
	} else if err := in.Reject(486, "Busy Here"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.As(err, &de) || de.Code != 486 {
		t.Errorf("dial of a busy phone: %v, want 486", err)
	}

	c, err := a.Dial(b.URI("4"))
	if err != nil {
		t.Fatalf("auto-answer: %v", err)
	}
	if b.Answered(wait) == nil {
		t.Error("the auto-answered call is not in Answered")
	}
	c.Tone(500)
}

func TestCancel(t *testing.T) {
	a := siptest.New(t, "127.0.0.220")
	b := siptest.New(t, "127.0.0.221")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := a.DialContext(ctx, b.URI("5")); done <- err }()
	in := b.Next(wait)
	if in == nil {
		t.Fatal("no INVITE")
	}
	if err := in.Ring(); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-in.Cancelled():
	case <-time.After(wait):
		t.Fatal("the callee did not see the CANCEL")
	}
	if err := <-done; err == nil {
		t.Error("a cancelled dial returned no error")
	}
}
