package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

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
