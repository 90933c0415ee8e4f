package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/server"
)

// TestPhoneScriptsAreTheAccounts: beyond loopback, a phone scripted
// through /sim/v1 behaves so for the calls of the account that scripted it
// only. Bob makes a number busy: Bob's calls to it are busy, Alice's are
// answered by the default phone. Both may script the same number, each
// for their own calls, and Alice's DELETE leaves Bob's script alone.
func TestPhoneScriptsAreTheAccounts(t *testing.T) {
	_, base := startBeyondLoopback(t, server.Config{Accounts: twoAccounts(t)})
	const phone = "+15553334445"
	put := func(who *creds, script string) {
		t.Helper()
		if status, _, body := send(t, who, "PUT", base+"/sim/v1/phones/"+phone, script); status != 204 {
			t.Fatalf("%s scripts %s: %d %s", who.user, phone, status, body)
		}
	}
	// outcomes places a call to the phone in each account and says how
	// each ended: "answered" when the phone answered (the app, unreachable
	// here, then ends it), else the cause.
	outcomes := func() string {
		t.Helper()
		type account struct {
			who      *creds
			id, from string
			app      string
		}
		accounts := []account{
			{alice, "1000001", "+15551230001", "11111111-2222-4333-8444-555555555555"},
			{bob, "1000002", "+15552220001", "22222222-2222-4333-8444-555555555555"},
		}
		ids := make([]string, len(accounts))
		for i, a := range accounts {
			status, _, body := send(t, a.who, "POST", base+"/api/v2/accounts/"+a.id+"/calls",
				`{"from":"`+a.from+`","to":"`+phone+`","applicationId":"`+a.app+`","answerUrl":"http://127.0.0.1:9/answer"}`)
			if status != 201 {
				t.Fatalf("%s's createCall: %d %s", a.who.user, status, body)
			}
			var created struct{ CallID string }
			json.Unmarshal([]byte(body), &created)
			ids[i] = created.CallID
		}
		var out []string
		for i, a := range accounts {
			var c struct{ State, DisconnectCause, AnswerTime string }
			for deadline := time.Now().Add(10 * time.Second); c.State != "disconnected" && time.Now().Before(deadline); {
				_, _, body := send(t, a.who, "GET", base+"/api/v2/accounts/"+a.id+"/calls/"+ids[i], "")
				json.Unmarshal([]byte(body), &c)
				if c.State != "disconnected" {
					time.Sleep(20 * time.Millisecond)
				}
			}
			switch {
			case c.State != "disconnected":
				out = append(out, fmt.Sprintf("%s: still %s", a.who.user, c.State))
			case c.AnswerTime != "":
				out = append(out, a.who.user+": answered")
			default:
				out = append(out, a.who.user+": "+c.DisconnectCause)
			}
		}
		return strings.Join(out, ", ")
	}

	put(bob, `{"outcome":"busy"}`)
	if got, want := outcomes(), "alice: answered, bob: busy"; got != want {
		t.Errorf("Bob's script: %s, want %s", got, want)
	}
	put(alice, `{"outcome":"decline"}`)
	if got, want := outcomes(), "alice: rejected, bob: busy"; got != want {
		t.Errorf("both scripts: %s, want %s", got, want)
	}
	if status, _, body := send(t, alice, "DELETE", base+"/sim/v1/phones/"+phone, ""); status != 204 {
		t.Fatalf("alice's DELETE: %d %s", status, body)
	}
	if got, want := outcomes(), "alice: answered, bob: busy"; got != want {
		t.Errorf("after Alice's DELETE: %s, want %s", got, want)
	}
	if status, _, body := send(t, bob, "DELETE", base+"/sim/v1/phones/"+phone, ""); status != 204 {
		t.Fatalf("bob's DELETE: %d %s", status, body)
	}
	if got, want := outcomes(), "alice: answered, bob: answered"; got != want {
		t.Errorf("after both DELETEs: %s, want %s", got, want)
	}
}
