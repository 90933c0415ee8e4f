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
