package server_test

import (
	"cmp"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/server"
)

// TestEveryCause produces each disconnect cause of the dialect end to end,
// as the README's table of simulated phones says to, and checks what the
// app's disconnect webhook says.
func TestEveryCause(t *testing.T) {
	srv := startServer(t)
	const pause = `<Response><Pause duration="30"/></Response>`
	cases := []struct {
		cause   callback.Cause
		to      string
		script  string // if set, PUT /sim/v1/phones/{to} first
		answer  string // the app's reply to answer
		status  int    // or the status it answers with
		timeout int    // callTimeout, if set
		// then, if set, runs once the call is placed
		then    func(t *testing.T, id string)
		sipCode int
		message string // in errorMessage; "" checks none (but a hangup must have none)
	}{
		{cause: callback.CauseHangup, to: "+15550000000", answer: `<Response><Hangup/></Response>`},
		{cause: callback.CauseBusy, to: "+15550000486", sipCode: 486, message: "busy"},
		{cause: callback.CauseTimeout, to: "+15550000408", timeout: 1},
		{cause: callback.CauseCancel, to: "+15550000408", then: func(t *testing.T, id string) {
			waitRinging(t, srv, id)
			if status, _, body := rest(t, srv, "POST", "/api/v2/accounts/9900000/calls/"+id, "application/json", `{"state":"completed"}`); status != 200 {
				t.Fatalf("state completed while it rings: %d %s", status, body)
			}
		}},
		{cause: callback.CauseRejected, to: "+15550000603", sipCode: 603, message: "rejected"},
		{cause: callback.CauseCallbackError, to: "+15550000000", status: http.StatusInternalServerError, message: "500"},
		{cause: callback.CauseInvalidBXML, to: "+15550000000", answer: `<Response><Pause duration="-1"/></Response>`, message: "duration"},
		{cause: callback.CauseApplicationError, to: "+15550000000", answer: `<Response><PlayAudio>/greeting.ogg</PlayAudio></Response>`, message: ".ogg"},
		{cause: callback.CauseError, to: "+15550000500", sipCode: 500, message: "SIP 500"},
		{cause: callback.CauseUnknown, to: "+15550000699", sipCode: 699, message: "SIP 699"},
		{cause: callback.CauseError, to: "+15553330500", script: `{"outcome":"error"}`, sipCode: 500, message: "SIP 500"},
		{cause: callback.CauseUnknown, to: "+15553330699", script: `{"outcome":"unknown"}`, sipCode: 699, message: "SIP 699"},
	}
	for _, c := range cases {
		name := string(c.cause)
		if c.script != "" {
			name += " scripted"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if c.script != "" {
				if status, _, body := rest(t, srv, "PUT", "/sim/v1/phones/"+c.to, "application/json", c.script); status != http.StatusNoContent {
					t.Fatalf("PUT /sim/v1/phones/%s %s: %d %s", c.to, c.script, status, body)
				}
			}
			app := newApp(t, map[string]string{"/answer": cmp.Or(c.answer, pause)})
			if c.status != 0 {
				app.status["/answer"] = c.status
			}
			fields := callFields(app, c.to)
			if c.timeout != 0 {
				fields["callTimeout"] = c.timeout
			}
			id, _ := createCall(t, srv, fields)
			if c.then != nil {
				c.then(t, id)
			}
			d := app.waitFor(t, callback.EventDisconnect, 20*time.Second).event.(*callback.Disconnect)
			checkCause(t, d, c.cause, c.sipCode, c.message)
			if d.CallID != id {
				t.Errorf("disconnect of %s, want %s", d.CallID, id)
			}
			checkHooks(t, app.got())
		})
	}
	t.Run(string(callback.CauseAccountLimit), func(t *testing.T) {
		t.Parallel()
		// One call a second and one live call: the second call waits in the
		// queue for its second, then meets the concurrent limit it cannot
		// wait for.
		dir, err := config.Load(strings.NewReader(`
accounts:
  - id: "9900000"
    username: dev
    password: dev
    limits: {callsPerSecond: 1, concurrentCalls: 1}
    applications:
      - id: ` + appID + `
`))
		if err != nil {
			t.Fatal(err)
		}
		limited := startServerWith(t, server.Config{Accounts: dir})
		app := newApp(t, map[string]string{"/answer": pause})
		first, _ := createCall(t, limited, callFields(app, "+15550000000"))
		second, resp := createCall(t, limited, callFields(app, "+15550000000"))
		if !strings.Contains(string(resp), `"enqueuedTime"`) {
			t.Errorf("the second call's createCall response has no enqueuedTime: it did not queue: %s", resp)
		}
		d := app.waitFor(t, callback.EventDisconnect, 10*time.Second).event.(*callback.Disconnect)
		if d.CallID != second {
			t.Fatalf("the first disconnect is of %s, want the second call %s (the first, %s, holds the account's only live call)", d.CallID, second, first)
		}
		checkCause(t, d, callback.CauseAccountLimit, 0, "concurrent call limit")
		if d.ErrorID == nil || *d.ErrorID == "" {
			t.Error("account-limit disconnect without errorId")
		}
		checkHooks(t, app.got())
	})
	t.Run(string(callback.CauseNodeCapacityExceeded), func(t *testing.T) {
		t.Parallel()
		full := startServerWith(t, server.Config{MaxCalls: 1})
		app := newApp(t, map[string]string{"/answer": pause})
		first, _ := createCall(t, full, callFields(app, "+15550000000"))
		app.waitFor(t, callback.EventAnswer, 10*time.Second)
		second, _ := createCall(t, full, callFields(app, "+15550000000"))
		d := app.waitFor(t, callback.EventDisconnect, 10*time.Second).event.(*callback.Disconnect)
		if d.CallID != second {
			t.Fatalf("the first disconnect is of %s, want the second call %s (the first, %s, holds the node's only place)", d.CallID, second, first)
		}
		checkCause(t, d, callback.CauseNodeCapacityExceeded, 0, "--max-calls")
		checkHooks(t, app.got())
	})
}

// checkCause checks a disconnect's cause, sipResponseCode and errorMessage
// (which contains message, or is absent when message is "").
func checkCause(t *testing.T, d *callback.Disconnect, cause callback.Cause, sipCode int, message string) {
	t.Helper()
	if d.Cause != cause {
		t.Errorf("cause %q, want %q", d.Cause, cause)
	}
	if d.SIPResponseCode != sipCode {
		t.Errorf("sipResponseCode %d, want %d", d.SIPResponseCode, sipCode)
	}
	switch {
	case message == "" && d.ErrorMessage != nil && cause == callback.CauseHangup:
		t.Errorf("errorMessage %q on a plain hang-up", *d.ErrorMessage)
	case message != "" && (d.ErrorMessage == nil || !strings.Contains(strings.ToLower(*d.ErrorMessage), strings.ToLower(message))):
		t.Errorf("errorMessage %v, want one that says %q", d.ErrorMessage, message)
	}
}

// waitRinging polls a call's history until its phone rings.
func waitRinging(t *testing.T, srv *server.Server, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range history(t, srv, id) {
			if e.Kind == "state" && e.Summary == "ringing" {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("call %s did not ring within 10 s", id)
}
