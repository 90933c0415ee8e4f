package sip_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/server"
)

// The README's "Real calls over SIP", as a person would do it with the
// softphone of test/sip/softphone: both halves, with the phone's sound
// card swapped for files and its keyboard for UDP keys.

// history is a call as the console's API shows it: its row and its
// history entries.
type history struct {
	Call struct {
		State string `json:"state"`
		Cause string `json:"cause"`
	} `json:"call"`
	Entries []struct {
		Kind    string          `json:"kind"`
		Summary string          `json:"summary"`
		Detail  json.RawMessage `json:"detail"`
	} `json:"entries"`
}

func callHistory(t *testing.T, srv *server.Server, id string) history {
	t.Helper()
	var h history
	if err := json.Unmarshal([]byte(get(t, srv, "/console/api/calls/"+id)), &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// onlyCall returns the id of the one call voicehook has, waiting for it.
func onlyCall(t *testing.T, srv *server.Server) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var calls []struct {
			CallID string `json:"callId"`
		}
		json.Unmarshal([]byte(get(t, srv, "/api/v2/accounts/9900000/calls")), &calls)
		if len(calls) == 1 {
			return calls[0].CallID
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no call came in")
	return ""
}

// waitEnded waits for the call to end and returns its history.
func waitEnded(t *testing.T, srv *server.Server, id string, d time.Duration) history {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		h := callHistory(t, srv, id)
		if h.Call.State == "disconnected" || time.Now().After(deadline) {
			return h
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Dial the phone menu of examples/ivr from the softphone, press 7 three
// times, and be hung up by its <Hangup/> after "Goodbye.".
func TestWalkThroughSoftphoneCallsTheIVR(t *testing.T) {
	require(t, "espeak-ng", "espeak-ng")
	require(t, "baresip", "baresip-core")
	appAddr := startIVR(t)
	srv := startVoicehookWith(t, "127.0.0.111:5070", "http://"+appAddr+"/initiate", "http://"+appAddr+"/status")
	phone := startBaresip(t, "127.0.0.112", "+15557770000", 300, 40*time.Second, "/dial sip:+15550001000@"+srv.SIPAddr())
	id := onlyCall(t, srv)
	for n := range 3 {
		waitGathers(t, srv, id, n+1)
		time.Sleep(500 * time.Millisecond) // into the menu's prompt: the key cuts it short
		phone.press(t, "7")
	}
	h := waitEnded(t, srv, id, 20*time.Second)
	if h.Call.State != "disconnected" || h.Call.Cause != "hangup" {
		t.Fatalf("the call: %s, %s; want disconnected by the app's hangup", h.Call.State, h.Call.Cause)
	}
	var gathers, sip []string
	for _, e := range h.Entries {
		if e.Kind == "webhook" && strings.HasPrefix(e.Summary, "gather ") {
			var g struct {
				Digits string `json:"digits"`
			}
			json.Unmarshal(e.Detail, &g)
			gathers = append(gathers, g.Digits)
		}
		if e.Kind == "phone" && (strings.HasPrefix(e.Summary, "→ ") || strings.HasPrefix(e.Summary, "← ")) {
			sip = append(sip, e.Summary)
		}
	}
	if strings.Join(gathers, ",") != "7,7,7" {
		t.Errorf("gather webhooks with digits %q, want 7 three times", gathers)
	}
	// The ladder shows the call's SIP messages.
	ladder := strings.Join(sip, " | ")
	for _, want := range []string{"← INVITE", "→ 180 Ringing", "→ 200 OK", "→ BYE"} {
		if !strings.Contains(ladder, want) {
			t.Errorf("the history's SIP messages lack %q: %s", want, ladder)
		}
	}
	phone.cmd.Process.Signal(os.Interrupt)
	phone.cmd.Wait()
	if heard := phone.heard(t); heard.Duration() < 5*time.Second {
		t.Errorf("the phone heard %v of the menu", heard.Duration())
	}
}

// startIVR builds and runs examples/ivr with the flags given, on a free
// port of 127.0.0.1, and returns its address.
func startIVR(t *testing.T, flags ...string) string {
	t.Helper()
	ivr := filepath.Join(t.TempDir(), "ivr")
	if out, err := exec.Command("go", "build", "-o", ivr, "../../examples/ivr").CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/ivr: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	app := exec.CommandContext(ctx, ivr, append([]string{"-addr", addr}, flags...)...)
	var appLog lockedBuffer
	app.Stderr = &appLog
	if err := app.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		app.Wait()
		if t.Failed() {
			t.Logf("the IVR's log:\n%s", appLog.String())
		}
	})
	waitListening(t, addr)
	return addr
}

// createCall rings the softphone behind the gateway; it answers, hears the
// demo app's sentence and is hung up.
func TestWalkThroughCreateCallRingsTheSoftphone(t *testing.T) {
	require(t, "espeak-ng", "espeak-ng")
	srv := startVoicehookWith(t, "127.0.0.113:5070", "", "", "sip:127.0.0.114:5060")
	phone := startBaresip(t, "127.0.0.114", "+15557770000", 300, 20*time.Second)
	time.Sleep(500 * time.Millisecond) // baresip listens
	a := newApp(t, nil)
	id := placeCall(t, srv, a, "+15557770000", map[string]any{"answerUrl": srv.URL() + "/demo/answer", "disconnectUrl": srv.URL() + "/demo/disconnect"})
	h := waitEnded(t, srv, id, 15*time.Second)
	if h.Call.State != "disconnected" || h.Call.Cause != "hangup" {
		t.Fatalf("the call: %s, %s; want disconnected with hangup", h.Call.State, h.Call.Cause)
	}
	phone.cmd.Process.Signal(os.Interrupt)
	phone.cmd.Wait()
	heard := phone.heard(t)
	if heard.Duration() < time.Second {
		t.Fatalf("the phone heard %v", heard.Duration())
	}
}

// waitGathers waits until the call has started n Gathers: a key pressed
// then reaches one, however slowly the machine ran the verbs before.
func waitGathers(t *testing.T, srv *server.Server, id string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		started := 0
		for _, e := range callHistory(t, srv, id).Entries {
			if e.Kind == "verb" && strings.HasPrefix(e.Summary, "Gather ") {
				started++
			}
		}
		if started >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the call started %d Gathers in 20 s, want %d", started, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitListening waits until something accepts connections at addr.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens at %s", addr)
}
