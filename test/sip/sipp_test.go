package sip_test

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
)

// A caller on a SIP trunk rings the dev application with the headers
// carriers add, hears a prompt and presses 1 with RFC 4733 packets from
// SIPp's own capture (its first packet has duration 0, which diago drops):
// the app gets every header in initiate and the digit in gather, and
// voicehook hangs up with a BYE.
func TestSIPpInboundCallGathersADigit(t *testing.T) {
	a := newApp(t, map[string]string{
		"/initiate": `<Response><Gather gatherUrl="/gather" maxDigits="1" firstDigitTimeout="10"><PlayAudio>` + toneURL + `</PlayAudio></Gather></Response>`,
		"/gather":   `<Response><Hangup/></Response>`,
	})
	srv := startVoicehook(t, "127.0.0.61:5060", a)
	claims := base64.RawURLEncoding.EncodeToString([]byte(`{"attest":"A","origid":"6f3c2a1e-0b1d-4c5e-9f00-123456789abc","dest":{"tn":["15550001000"]},"orig":{"tn":"15557770000"}}`))
	identity := "eyJhbGciOiJFUzI1NiJ9." + claims + ".c2lnbmF0dXJl"
	code, out := sipp(t, "inbound-gather.xml", map[string]string{"[identity]": identity}, 20*time.Second,
		"-s", "+15550001000", "-i", "127.0.0.62", "-p", "5060", "-mp", "6100", srv.SIPAddr())
	if code != 0 {
		t.Fatalf("sipp exit %d:\n%s", code, out)
	}
	init := a.wait(t, callback.EventInitiate, 5*time.Second).(*callback.Initiate)
	if init.SIPHeaders["x-tenant"] != "Acme" || init.SIPHeaders["x-trace-id"] != "42" || len(init.SIPHeaders) != 2 {
		t.Errorf("sipHeaders %v", init.SIPHeaders)
	}
	if init.Diversion.OrigTo() != "+15558880000" || init.Diversion.Reason() != "no-answer" {
		t.Errorf("diversion %v", init.Diversion)
	}
	if !strings.HasPrefix(init.UUI, "56a390f3d2b7310023a2") {
		t.Errorf("uui %q", init.UUI)
	}
	if s := init.StirShaken; s == nil || s.Verstat != "TN-Validation-Passed" || s.AttestationIndicator != "A" || s.OriginatingID != "6f3c2a1e-0b1d-4c5e-9f00-123456789abc" {
		t.Errorf("stirShaken %+v", s)
	}
	if init.SIPCallID == "" || init.From != "+15557770000" || init.To != "+15550001000" {
		t.Errorf("initiate: sipCallId %q from %q to %q", init.SIPCallID, init.From, init.To)
	}
	g := a.wait(t, callback.EventGather, 5*time.Second).(*callback.Gather)
	if g.Digits != "1" {
		t.Errorf("gather digits %q, want 1", g.Digits)
	}
	d := a.wait(t, callback.EventDisconnect, 5*time.Second).(*callback.Disconnect)
	if d.Cause != callback.CauseHangup || d.SIPCallID != init.SIPCallID {
		t.Errorf("disconnect cause %s sipCallId %q", d.Cause, d.SIPCallID)
	}
}

// An INVITE to a number no application answers gets 404; one the app
// rejects with <Hangup/> before answering gets 603 and a disconnect with
// cause rejected.
func TestSIPpInboundRefused(t *testing.T) {
	a := newApp(t, map[string]string{"/initiate": `<Response><Hangup/></Response>`})
	srv := startVoicehook(t, "127.0.0.63:5060", a)
	if code, out := sipp(t, "inbound-refused.xml", map[string]string{"CODE": "404"}, 15*time.Second,
		"-s", "+15559990000", "-i", "127.0.0.64", "-p", "5060", "-mp", "6200", srv.SIPAddr()); code != 0 {
		t.Fatalf("to a number nobody answers: sipp exit %d:\n%s", code, out)
	}
	if code, out := sipp(t, "inbound-refused.xml", map[string]string{"CODE": "603"}, 15*time.Second,
		"-s", "+15550001000", "-i", "127.0.0.64", "-p", "5062", "-mp", "6210", srv.SIPAddr()); code != 0 {
		t.Fatalf("rejected by BXML: sipp exit %d:\n%s", code, out)
	}
	d := a.wait(t, callback.EventDisconnect, 5*time.Second).(*callback.Disconnect)
	if d.Cause != callback.CauseRejected {
		t.Errorf("disconnect cause %s, want rejected", d.Cause)
	}
}

// createCall to a number behind the gateway: each way the far end answers
// or refuses gives the cause Bandwidth documents, and sipResponseCode.
func TestSIPpOutboundOutcomes(t *testing.T) {
	cases := []struct {
		name, scenario, code, reason string
		callTimeout                  float64
		complete                     bool // the app completes the call while it rings
		cause                        callback.Cause
		sipCode                      int
		message                      string
	}{
		{name: "answered", scenario: "uas-answer.xml", cause: callback.CauseHangup},
		{name: "busy", scenario: "uas-refuse.xml", code: "486", reason: "Busy Here", cause: callback.CauseBusy, sipCode: 486},
		{name: "declined", scenario: "uas-refuse.xml", code: "603", reason: "Decline", cause: callback.CauseRejected, sipCode: 603},
		{name: "unavailable", scenario: "uas-refuse.xml", code: "480", reason: "Temporarily Unavailable", cause: callback.CauseTimeout, sipCode: 480},
		{name: "no such number", scenario: "uas-refuse.xml", code: "404", reason: "Not Found", cause: callback.CauseError, sipCode: 404, message: "404"},
		{name: "no answer within callTimeout", scenario: "uas-ring.xml", callTimeout: 2, cause: callback.CauseTimeout},
		{name: "completed while ringing", scenario: "uas-ring.xml", complete: true, cause: callback.CauseCancel},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			n := 70 + 2*i
			phone := "127.0.0." + strconv.Itoa(n+1)
			a := newApp(t, map[string]string{"/answer": `<Response><PlayAudio>` + toneURL + `</PlayAudio><Hangup/></Response>`})
			srv := startVoicehook(t, "127.0.0."+strconv.Itoa(n)+":5060", a, "sip:"+phone+":5060")
			wait := startSipp(t, c.scenario, map[string]string{"CODE": c.code, "REASON": c.reason}, 20*time.Second,
				"-i", phone, "-p", "5060", "-mp", strconv.Itoa(6300+100*i))
			time.Sleep(300 * time.Millisecond) // SIPp binds its port
			extra := map[string]any{}
			if c.callTimeout > 0 {
				extra["callTimeout"] = c.callTimeout
			}
			id := placeCall(t, srv, a, "+15553334444", extra)
			if c.complete {
				time.Sleep(time.Second)
				updateCall(t, srv, id, `{"state":"completed"}`)
			}
			d := a.wait(t, callback.EventDisconnect, 15*time.Second).(*callback.Disconnect)
			if d.Cause != c.cause || d.SIPResponseCode != c.sipCode {
				t.Errorf("disconnect cause %s sipResponseCode %d, want %s %d", d.Cause, d.SIPResponseCode, c.cause, c.sipCode)
			}
			if c.message != "" && (d.ErrorMessage == nil || !strings.Contains(*d.ErrorMessage, c.message)) {
				t.Errorf("errorMessage %v, want it to name %s", d.ErrorMessage, c.message)
			}
			if d.SIPCallID == "" {
				t.Error("no sipCallId")
			}
			if code, out := wait(); code != 0 {
				t.Errorf("sipp (the phone) exit %d:\n%s", code, out)
			}
		})
	}
}

// A 503 from the first gateway moves the call to the next.
func TestSIPpOutboundTriesTheNextGatewayOn503(t *testing.T) {
	a := newApp(t, map[string]string{"/answer": `<Response><Hangup/></Response>`})
	srv := startVoicehook(t, "127.0.0.90:5060", a, "sip:127.0.0.91:5060", "sip:127.0.0.92:5060")
	first := startSipp(t, "uas-refuse.xml", map[string]string{"CODE": "503", "REASON": "Service Unavailable"}, 20*time.Second,
		"-i", "127.0.0.91", "-p", "5060", "-mp", "7100")
	second := startSipp(t, "uas-answer.xml", nil, 20*time.Second, "-i", "127.0.0.92", "-p", "5060", "-mp", "7200")
	time.Sleep(300 * time.Millisecond)
	placeCall(t, srv, a, "+15553334444", nil)
	d := a.wait(t, callback.EventDisconnect, 15*time.Second).(*callback.Disconnect)
	if d.Cause != callback.CauseHangup {
		t.Errorf("disconnect cause %s, want hangup (answered by the second gateway)", d.Cause)
	}
	for name, wait := range map[string]func() (int, string){"first": first, "second": second} {
		if code, out := wait(); code != 0 {
			t.Errorf("%s gateway: sipp exit %d:\n%s", name, code, out)
		}
	}
}
