package sip_test

import (
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
)

// A softphone registers with voicehook as the dev account's user (dev /
// dev, +15557770000): createCall to that number rings it, and it answers;
// and a call it places to an application's number reaches the app, from
// its number.
func TestBaresipRegisters(t *testing.T) {
	a := newApp(t, map[string]string{
		"/initiate": `<Response><SpeakSentence>Hello softphone.</SpeakSentence><Hangup/></Response>`,
		"/answer":   `<Response><Pause duration="1"/><Hangup/></Response>`,
	})
	require(t, "espeak-ng", "espeak-ng")
	srv := startVoicehook(t, "127.0.0.197:5060", a)
	phone := startBaresipRegistered(t, "127.0.0.198", "sip:dev@"+srv.SIPAddr(), "dev", 20*time.Second)
	waitRegistered(t, phone)

	id := placeCall(t, srv, a, "+15557770000", nil)
	if h := waitEnded(t, srv, id, 15*time.Second); h.Call.Cause != "hangup" {
		t.Fatalf("the call to the registered softphone ended with %q, want hangup (it answered)", h.Call.Cause)
	}

	phone.dial(t, "sip:+15550001000@"+srv.SIPAddr())
	init := a.wait(t, callback.EventInitiate, 10*time.Second).(*callback.Initiate)
	if init.From != "+15557770000" || init.To != "+15550001000" {
		t.Errorf("initiate from %q to %q, want the softphone's number calling the app", init.From, init.To)
	}
	// The app hangs up after its sentence: let the call end before the
	// phone goes away.
	deadline := time.Now().Add(10 * time.Second)
	for a.count(callback.EventDisconnect) < 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
}

// startBaresipRegistered runs the README's softphone on ip, registering
// with aor (sip:user@voicehook) and the password given, answering calls by
// itself.
func startBaresipRegistered(t *testing.T, ip, aor, password string, d time.Duration) *baresip {
	t.Helper()
	account := "<" + aor + ">;auth_pass=" + password + ";regint=60;answermode=auto\n"
	return startBaresipAccount(t, ip, account, nil, d)
}

// waitRegistered waits until baresip says its registration succeeded.
func waitRegistered(t *testing.T, b *baresip) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(b.output(), "} 200 OK () [1 binding]") { // baresip's line for a registration voicehook took
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("baresip did not register:\n%s", b.output())
}
