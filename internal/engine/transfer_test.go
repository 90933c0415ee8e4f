package engine_test

import (
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/phone/sim"
	"github.com/voicehook/voicehook/internal/spec"
)

// TestWhisperFindsItsALeg: a "press 1 to accept this call" whisper on a
// transfer's B-leg. The agent presses 1 at the whisper's Gather, the gather
// reply redirects, the redirected BXML runs a StartGather and the agent
// presses 9: the gather, redirect and dtmf events of the B-leg all name
// the A-leg (parentCallId) and the transfer's numbers, and each body
// validates against its schema in Bandwidth's OpenAPI document.
func TestWhisperFindsItsALeg(t *testing.T) {
	doc := spec.ForTest(t)
	const agent = "+15553330100"
	var got []delivered
	synctest.Test(t, func(t *testing.T) {
		scripts := map[string]sim.Script{agent: {GatherDigits: "1", Digits: "9", DigitsAfter: 3 * time.Second, HangupAfter: 10 * time.Second}}
		h := newHarness(t, scripts, replies(map[string]string{
			"https://app.test/answer": `<Response><Transfer transferCallerId="+15550001000" transferCompleteUrl="/tc">` +
				`<PhoneNumber transferAnswerUrl="/whisper" transferDisconnectUrl="/td">` + agent + `</PhoneNumber></Transfer></Response>`,
			"https://app.test/whisper":  `<Response><Gather gatherUrl="/accept" maxDigits="1"><SpeakSentence>Press 1 to accept this call</SpeakSentence></Gather></Response>`,
			"https://app.test/accept":   `<Response><Redirect redirectUrl="/accepted"/></Response>`,
			"https://app.test/accepted": `<Response><StartGather dtmfUrl="/dtmf"/><Pause duration="5"/></Response>`,
			"https://app.test/tc":       hangup,
		}))
		defer h.close()
		h.call("+15550000000", nil)
		h.settle(time.Hour)
		time.Sleep(time.Second)
		got = h.app.events()
	})
	const want = "answer@1s A\ntransferAnswer@2s B+15553330100\ngather@2.3s B+15553330100\nredirect@2.3s B+15553330100\n" +
		"dtmf@5.3s B+15553330100\ntransferComplete@12s A cause=hangup to=+15553330100\ndisconnect@12s A cause=hangup\ntransferDisconnect@12s B+15553330100 cause=hangup\n"
	if s := legSummary(got); s != want {
		t.Fatalf("webhooks:\n%s\nwant:\n%s", s, want)
	}
	aLeg := got[0].event.(*callback.Answer).CallID
	schemas := map[callback.EventType]string{callback.EventGather: "gatherCallback", callback.EventRedirect: "redirectCallback",
		callback.EventDTMF: "dtmfCallback", callback.EventTransferAnswer: "transferAnswerCallback",
		callback.EventTransferDisconnect: "transferDisconnectCallback"}
	for _, d := range got {
		schema, ok := schemas[d.event.Type()]
		if !ok {
			continue
		}
		body, err := callback.Encode(d.event)
		if err != nil {
			t.Fatal(err)
		}
		var fields struct{ ParentCallID, TransferCallerID, TransferTo string }
		if err := json.Unmarshal(body, &fields); err != nil {
			t.Fatal(err)
		}
		if fields.ParentCallID != aLeg || fields.TransferCallerID != "+15550001000" || fields.TransferTo != agent {
			t.Errorf("%s: parentCallId %q transferCallerId %q transferTo %q, want %s, +15550001000, %s\n%s",
				d.event.Type(), fields.ParentCallID, fields.TransferCallerID, fields.TransferTo, aLeg, agent, body)
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		if err := spec.Validate(spec.Schema(t, doc, schema), v); err != nil {
			t.Errorf("%s does not validate: %v\n%s", schema, err, body)
		}
	}
}

// TestALegEventsHaveNoTransferFields: the events of a call that is no
// transfer's B-leg carry no parentCallId, transferCallerId or transferTo.
func TestALegEventsHaveNoTransferFields(t *testing.T) {
	var got []delivered
	synctest.Test(t, func(t *testing.T) {
		scripts := map[string]sim.Script{"+15553330101": {GatherDigits: "1"}}
		h := newHarness(t, scripts, replies(map[string]string{
			"https://app.test/answer": `<Response><Gather gatherUrl="/menu" maxDigits="1"/></Response>`,
			"https://app.test/menu":   `<Response><Redirect redirectUrl="/bye"/></Response>`,
			"https://app.test/bye":    hangup,
		}))
		defer h.close()
		h.call("+15553330101", nil)
		h.settle(time.Hour)
		got = h.app.events()
	})
	if s := summary(got); s != "answer@1s\ngather@1.3s digits=\"1\" term=\"\"\nredirect@1.3s\ndisconnect@1.3s cause=hangup\n" {
		t.Fatalf("webhooks:\n%s", s)
	}
	for _, d := range got {
		body, _ := callback.Encode(d.event)
		var fields map[string]any
		if err := json.Unmarshal(body, &fields); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"parentCallId", "transferCallerId", "transferTo"} {
			if _, ok := fields[f]; ok {
				t.Errorf("%s has %s: %s", d.event.Type(), f, body)
			}
		}
	}
}
