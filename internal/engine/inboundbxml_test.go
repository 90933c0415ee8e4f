package engine_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
)

// An inbound call that brings its own BXML (a softphone calling out
// through the gateway) runs it without asking any application: no initiate
// is sent, the <Forward> rings the number, the caller is answered when it
// answers, and both calls end with the right causes.
func TestInboundCallWithItsOwnBXML(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scripts := map[string]sim.Script{"+15557770000": {HangupAfter: 3 * time.Second}}
		h := newHarness(t, scripts, replies(map[string]string{}))
		defer h.close()
		c, err := h.eng.InboundCall(context.Background(), engine.Inbound{AccountID: "9900000", From: "+15557770000", To: "+15553330010",
			BXML: []byte(`<Response><Forward to="+15553330010" from="+15557770000"/></Response>`)})
		if err != nil {
			t.Fatal(err)
		}
		h.settle(time.Hour)
		if got := h.app.events(); len(got) != 0 {
			t.Errorf("%d webhooks sent (first %s), want none: no application was asked", len(got), got[0].event.Type())
		}
		calls, err := h.eng.ListCalls(context.Background(), engine.CallFilter{AccountID: "9900000"})
		if err != nil {
			t.Fatal(err)
		}
		var a, b *engine.Call
		for _, call := range calls {
			switch {
			case call.CallID == c.CallID:
				a = call
			case call.ParentCallID == c.CallID:
				b = call
			}
		}
		if a == nil || b == nil {
			t.Fatalf("calls: %+v, want the caller and its forwarded leg", calls)
		}
		if a.AnswerTime.IsZero() || a.DisconnectCause != callback.CauseHangup || b.To != "+15553330010" || b.From != "+15557770000" ||
			b.DisconnectCause != callback.CauseHangup {
			t.Errorf("caller answered %v, cause %q; leg %s → %s, cause %q", a.AnswerTime, a.DisconnectCause, b.From, b.To, b.DisconnectCause)
		}
	})
}
