package engine_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

// With MaxCalls, a createCall beyond it is created and ends at once with
// node-capacity-exceeded, and an inbound call is refused; once a call
// ends there is room again.
func TestMaxCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarnessWith(t, nil, replies(map[string]string{"https://app.test/answer": `<Response><Pause duration="10"/></Response>`}),
			func(c *engine.Config) { c.MaxCalls = 1 })
		defer h.close()
		first := h.call("+15553330020", nil)
		second := h.call("+15553330021", nil)
		if _, err := h.eng.InboundCall(context.Background(), engine.Inbound{AccountID: "9900000", From: "+15557770000", To: "+15550001000"}); !errors.Is(err, engine.ErrAtCapacity) {
			t.Errorf("an inbound call to a full engine: %v, want ErrAtCapacity", err)
		}
		h.settle(time.Minute)
		third := h.call("+15553330022", nil)
		h.settle(time.Minute)
		causes := map[string]callback.Cause{}
		for _, d := range h.app.events() {
			if ev, ok := d.event.(*callback.Disconnect); ok {
				causes[ev.CallID] = ev.Cause
				if ev.CallID == second && (ev.ErrorMessage == nil || *ev.ErrorMessage == "") {
					t.Errorf("node-capacity-exceeded without a message")
				}
			}
		}
		if causes[first] != callback.CauseHangup || causes[second] != callback.CauseNodeCapacityExceeded || causes[third] != callback.CauseHangup {
			t.Errorf("causes: first %s, second %s, third %s; want hangup, node-capacity-exceeded, hangup", causes[first], causes[second], causes[third])
		}
	})
}

// Drain takes no new calls, waits for the live ones until its context
// ends, then ends those left, one disconnect each.
func TestDrain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarnessWith(t, nil, replies(map[string]string{
			"https://app.test/short": `<Response><Pause duration="2"/></Response>`,
			"https://app.test/long":  `<Response><Pause duration="600"/></Response>`,
		}), nil)
		defer h.close()
		short := h.call("+15553330030", func(c *engine.Call) { c.AnswerURL = "https://app.test/short" })
		long := h.call("+15553330031", func(c *engine.Call) { c.AnswerURL = "https://app.test/long" })
		time.Sleep(500 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done := make(chan int)
		go func() { done <- h.eng.Drain(ctx) }()
		time.Sleep(time.Second)
		var e *engine.Error
		if _, err := h.eng.CreateCall(context.Background(), engine.Call{AccountID: "9900000", To: "+15553330032", From: "+15551112222",
			AnswerURL: "https://app.test/short"}); !errors.As(err, &e) || e.Code != engine.EUnavailable {
			t.Errorf("createCall while draining: %v, want unavailable", err)
		}
		if ended := <-done; ended != 1 {
			t.Errorf("Drain ended %d calls, want 1 (the other ended by itself)", ended)
		}
		causes := map[string]callback.Cause{}
		var at time.Duration
		for _, d := range h.app.events() {
			if ev, ok := d.event.(*callback.Disconnect); ok {
				causes[ev.CallID] = ev.Cause
				if ev.CallID == long {
					at = d.at
				}
			}
		}
		if causes[short] != callback.CauseHangup || causes[long] != callback.CauseError {
			t.Errorf("causes: short %q, long %q; want hangup, error", causes[short], causes[long])
		}
		if at < 10*time.Second || at > 12*time.Second {
			t.Errorf("the long call ended %v after it was placed, want when the drain's 10 s were up", at)
		}
	})
}
