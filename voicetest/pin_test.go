package voicetest_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/server"
	"github.com/voicehook/voicehook/voicetest"
)

// The app dials a conference line and types a PIN with <SendDtmf>, then
// waits for the line to press 1 (accepted).
const pinIVR, pinIVR2 = "+15557770100", "+15557770101"

func pinApp() map[string]string {
	sendPIN := func(pin string) string {
		return `<Response><SendDtmf toneDuration="50" toneInterval="50">` + pin + `</SendDtmf>` +
			`<Gather gatherUrl="/pin" maxDigits="1" firstDigitTimeout="2"/></Response>`
	}
	return map[string]string{"/right": sendPIN("12w34#"), "/wrong": sendPIN("9999#"), "/pin": `<Response><Hangup/></Response>`}
}

// pinOptions script the conference line: it answers PIN 1234# by saying
// so and pressing 1.
func pinOptions() voicetest.Options {
	ivr := voicetest.Phone{OnDigits: map[string]voicetest.Reaction{"1234#": {Say: "PIN accepted", Press: "1"}}}
	return voicetest.Options{Limit: time.Minute, Phones: map[string]voicetest.Phone{pinIVR: ivr, pinIVR2: ivr}}
}

// pinEntry is one test body for both modes: the right PIN gets the line's
// 1, a wrong one gets nothing.
func pinEntry(t *testing.T, v *voicetest.Env) {
	right := v.PlaceCall(voicetest.CallRequest{To: pinIVR, AnswerURL: "/right"})
	wrong := v.PlaceCall(voicetest.CallRequest{To: pinIVR2, AnswerURL: "/wrong"})
	if g := right.WaitFor("gather").Event.(*callback.Gather); g.Digits != "1" {
		t.Errorf("right PIN: the app gathered %q, want the line's 1", g.Digits)
	}
	if g := wrong.WaitFor("gather").Event.(*callback.Gather); g.Digits != "" {
		t.Errorf("wrong PIN: the app gathered %q, want nothing", g.Digits)
	}
	v.Run()
	if got := right.SentDigits(); got != "1234#" {
		t.Errorf("right.SentDigits() = %q, want 1234# (the pause left out)", got)
	}
	if got := wrong.SentDigits(); got != "9999#" {
		t.Errorf("wrong.SentDigits() = %q", got)
	}
	if tl := right.Timeline(); !strings.Contains(tl, "phone   heard 1234#") || !strings.Contains(tl, `phone   said "PIN accepted"`) ||
		!strings.Contains(tl, "phone   pressed 1") {
		t.Errorf("the right PIN's timeline lacks what the line heard, said and pressed:\n%s", tl)
	}
	if tl := wrong.Timeline(); !strings.Contains(tl, "phone   heard 9999#") || strings.Contains(tl, "said") || strings.Contains(tl, "pressed") {
		t.Errorf("the wrong PIN's timeline:\n%s", tl)
	}
}

func TestPINEntryInProcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pinEntry(t, voicetest.New(t, replies(pinApp()), pinOptions()))
	})
}

// The same against a server over HTTP: the phones' onDigits go through
// PUT /sim/v1/phones.
func TestPINEntryAgainstAServer(t *testing.T) {
	srv, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", DB: filepath.Join(t.TempDir(), "v.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	pinEntry(t, voicetest.Connect(t, srv.URL(), replies(pinApp()), pinOptions()))
}

// TestCallerHearsSendDtmf: the caller of an inbound call is a far end
// too: it hears what the app sends and answers.
func TestCallerHearsSendDtmf(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := voicetest.New(t, replies(map[string]string{
			"/initiate": `<Response><SendDtmf>*9</SendDtmf><Gather gatherUrl="/pin" maxDigits="1"/></Response>`,
			"/pin":      `<Response><Hangup/></Response>`,
		}), voicetest.Options{Phones: map[string]voicetest.Phone{
			"+15557770102": {OnDigits: map[string]voicetest.Reaction{"*9": {Press: "5"}}},
		}})
		call := v.Inbound("+15557770102", "+15550001000")
		if g := call.WaitFor("gather").Event.(*callback.Gather); g.Digits != "5" {
			t.Errorf("gathered %q, want the caller's 5", g.Digits)
		}
		v.Run()
		if got := call.SentDigits(); got != "*9" {
			t.Errorf("SentDigits() = %q", got)
		}
	})
}

// TestOnDigitsKeys: keys are not case-sensitive (a lower-case key answers
// the app's upper-case digits, and a batch of digits reacts as the same
// digits sent one at a time), and two keys that differ only in case fail
// the test, naming both.
func TestOnDigitsKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := voicetest.New(t, replies(map[string]string{
			"/answer": `<Response><SendDtmf>1A#2#</SendDtmf><Gather gatherUrl="/pin" maxDigits="1"/></Response>`,
			"/pin":    `<Response><Hangup/></Response>`,
		}), voicetest.Options{Phones: map[string]voicetest.Phone{
			"+15557770103": {OnDigits: map[string]voicetest.Reaction{"1a#": {Press: "7"}}},
		}})
		call := v.PlaceCall(voicetest.CallRequest{To: "+15557770103"})
		if g := call.WaitFor("gather").Event.(*callback.Gather); g.Digits != "7" {
			t.Errorf("gathered %q, want the phone's 7", g.Digits)
		}
		v.Run()
	})
	synctest.Test(t, func(t *testing.T) {
		f := &fakeT{TB: t}
		got := f.run(func() {
			voicetest.New(f, replies(nil), voicetest.Options{Phones: map[string]voicetest.Phone{
				"+15557770104": {OnDigits: map[string]voicetest.Reaction{"1a": {Press: "7"}, "1A": {Hangup: true}}},
			}})
		})
		if !strings.Contains(got, `phone +15557770104: onDigits "1A" and "1a": the same key`) {
			t.Errorf("keys 1a and 1A reported %q", got)
		}
	})
}
