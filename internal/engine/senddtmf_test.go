package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
)

// TestSendDtmfReachesTheFarEnd: an app dials an IVR that waits for PIN
// 1234#. With the right PIN the IVR says so and presses 1, which the app's
// Gather gets; with a wrong one it does nothing and the Gather times out.
// Either way the call's history says what the far end heard.
func TestSendDtmfReachesTheFarEnd(t *testing.T) {
	const ivr = "+15553330200"
	cases := []struct {
		pin, want, wantPhone string
	}{
		// Five tones of 600 ms and a pause of 500 ms: heard at 4.5 s. The
		// IVR says "PIN accepted" (0.8 s), then presses 1 300 ms later.
		{pin: "12,34#", want: "answer@1s\ngather@5.6s digits=\"1\" term=\"\"\ndisconnect@5.6s cause=hangup\n",
			wantPhone: `ringing@0s, answered@1s, heard 1234#@4.5s, said "PIN accepted"@4.5s, pressed 1@5.6s`},
		// A wrong PIN gets no answer: the Gather times out 5 s after it starts.
		{pin: "9999#", want: "answer@1s\ngather@9s digits=\"\" term=\"\"\ndisconnect@9s cause=hangup\n",
			wantPhone: `ringing@0s, answered@1s, heard 9999#@4s`},
	}
	for _, c := range cases {
		t.Run(c.pin, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				scripts := map[string]sim.Script{ivr: {OnDigits: map[string]sim.Reaction{"1234#": {Say: "PIN accepted", Press: "1"}}}}
				h := newHarness(t, scripts, replies(map[string]string{
					"https://app.test/answer": `<Response><SendDtmf>` + c.pin + `</SendDtmf><Gather gatherUrl="/menu" maxDigits="1" firstDigitTimeout="5"/></Response>`,
					"https://app.test/menu":   hangup,
				}))
				defer h.close()
				id := h.call(ivr, nil)
				h.settle(time.Hour)
				if got := summary(h.app.events()); got != c.want {
					t.Errorf("webhooks:\n%s\nwant:\n%s", got, c.want)
				}
				hist, err := h.store.History(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				var phone []string
				for _, e := range hist {
					if e.Kind == "phone" {
						phone = append(phone, fmt.Sprintf("%s@%gs", e.Summary, e.Time.Sub(h.app.start).Seconds()))
					}
				}
				if got := strings.Join(phone, ", "); got != c.wantPhone {
					t.Errorf("phone history\n %s\nwant\n %s", got, c.wantPhone)
				}
			})
		})
	}
}

// phoneHistory is a call's "phone" history entries, each with its time
// since the harness started.
func phoneHistory(t *testing.T, h *harness, id string) string {
	t.Helper()
	hist, err := h.store.History(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range hist {
		if e.Kind == "phone" {
			out = append(out, fmt.Sprintf("%s@%gs", e.Summary, e.Time.Sub(h.app.start).Seconds()))
		}
	}
	return strings.Join(out, ", ")
}

// TestDigitsCrossABridge: digits pressed on one leg of a bridge reach the
// other leg's far end. A caller transferred to a conference line types the
// meeting's PIN; the line's IVR, a phone scripted with onDigits, answers
// it and hangs up. Digits pressed before the legs are bridged stay on
// their own call.
func TestDigitsCrossABridge(t *testing.T) {
	const caller, meeting = "+15553330300", "+15553330301"
	synctest.Test(t, func(t *testing.T) {
		scripts := map[string]sim.Script{
			caller:  {Digits: "9"},
			meeting: {OnDigits: map[string]sim.Reaction{"4321#": {Say: "Welcome to the meeting", Hangup: true}}},
		}
		h := newHarness(t, scripts, replies(map[string]string{
			"https://app.test/answer": `<Response><Transfer transferCompleteUrl="/tc"><PhoneNumber>` + meeting + `</PhoneNumber></Transfer></Response>`,
			"https://app.test/tc":     hangup,
		}))
		defer h.close()
		id := h.call(caller, nil)
		// The caller presses 9 at 1.3 s, before the meeting line answers at
		// 2 s: the line never hears it. Once bridged, it types the PIN.
		time.Sleep(3 * time.Second)
		if err := h.net.Press(id, "4321#"); err != nil {
			t.Fatal(err)
		}
		h.settle(time.Hour)
		got := h.app.events()
		if s := legSummary(got); s != "answer@1s A\ntransferComplete@6.266666666s A cause=hangup to=+15553330301\ndisconnect@6.266666666s A cause=hangup\n" {
			t.Errorf("webhooks:\n%s", s)
		}
		legs, _ := h.store.ListCalls(context.Background(), engine.CallFilter{})
		var leg string
		for _, c := range legs {
			if c.ParentCallID == id {
				leg = c.CallID
			}
		}
		// The IVR says its welcome (1.47 s), then hangs up 300 ms later.
		want := `ringing@1s, answered@2s, heard 4@3.3s, heard 3@3.6s, heard 2@3.9s, heard 1@4.2s, heard #@4.5s, said "Welcome to the meeting"@4.5s, hung up@6.266666666s`
		if got := phoneHistory(t, h, leg); got != want {
			t.Errorf("the meeting line's history\n %s\nwant\n %s", got, want)
		}
	})
}

// TestDigitsCrossABridgeBothWays: with <Bridge>, a digit pressed on the
// originator reaches the target's far end, whose answer comes back.
func TestDigitsCrossABridgeBothWays(t *testing.T) {
	const target, origin = "+15553330310", "+15553330320"
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		app := map[string]string{"https://app.test/target": `<Response><Pause duration="20"/></Response>`}
		scripts := map[string]sim.Script{
			target: {OnDigits: map[string]sim.Reaction{"7": {Press: "8"}}},
			origin: {Ring: 2 * time.Second},
		}
		h := newHarness(t, scripts, func(ev callback.Event, tg engine.Target) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			return replies(app)(ev, tg)
		})
		defer h.close()
		tid := h.call(target, func(c *engine.Call) { c.AnswerURL = "https://app.test/target" })
		mu.Lock()
		app["https://app.test/origin"] = `<Response><Bridge>` + tid + `</Bridge></Response>`
		mu.Unlock()
		oid := h.call(origin, func(c *engine.Call) { c.AnswerURL = "https://app.test/origin" })
		time.Sleep(3 * time.Second) // bridged at 2 s
		if err := h.net.Press(oid, "7"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		if err := h.net.HangUp(oid); err != nil {
			t.Fatal(err)
		}
		h.settle(time.Hour)
		if got, want := phoneHistory(t, h, tid), "ringing@0s, answered@1s, heard 7@3.3s, pressed 8@3.6s"; got != want {
			t.Errorf("target's phone\n %s\nwant\n %s", got, want)
		}
		if got, want := phoneHistory(t, h, oid), "ringing@0s, answered@2s, pressed 7@3.3s, heard 8@3.6s, hung up@8s"; got != want {
			t.Errorf("originator's phone\n %s\nwant\n %s", got, want)
		}
	})
}
