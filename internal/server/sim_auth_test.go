package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/phone/sim"
	"github.com/voicehook/voicehook/internal/server"
)

// twoAccounts is a --config directory: Alice's account answers
// +1555123xxxx, Bob's +1555222xxxx.
func twoAccounts(t *testing.T) *config.Directory {
	t.Helper()
	dir, err := config.Load(strings.NewReader(`
accounts:
  - id: "1000001"
    username: alice
    password: wonderland
    applications:
      - id: 11111111-2222-4333-8444-555555555555
        callInitiatedCallbackUrl: http://127.0.0.1:9/initiate
        numbers: ["+15551230000-+15551230099"]
  - id: "1000002"
    username: bob
    password: builder
    applications:
      - id: 22222222-2222-4333-8444-555555555555
        callInitiatedCallbackUrl: http://127.0.0.1:9/initiate
        numbers: ["+15552220000-+15552220099"]
`))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// startBeyondLoopback starts a server listening on every interface and
// returns it with its URL through 127.0.0.1.
func startBeyondLoopback(t *testing.T, cfg server.Config) (*server.Server, string) {
	t.Helper()
	cfg.Addr = "0.0.0.0:0" // listens on every interface; tests connect through 127.0.0.1 only
	srv := startServerWith(t, cfg)
	_, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	return srv, "http://127.0.0.1:" + port
}

// creds are Basic credentials, or an OAuth2 bearer token.
type creds struct{ user, pass, token string }

var (
	alice  = &creds{user: "alice", pass: "wonderland"}
	bob    = &creds{user: "bob", pass: "builder"}
	nobody = (*creds)(nil)
)

// send makes a request as who (nil: without credentials) and returns the
// status, headers and body.
func send(t *testing.T, who *creds, method, url, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case who == nil:
	case who.token != "":
		req.Header.Set("Authorization", "Bearer "+who.token)
	default:
		req.SetBasicAuth(who.user, who.pass)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// errorType reads the type of a Bandwidth error body, failing on any
// other body.
func errorType(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Type        *string `json:"type"`
		Description *string `json:"description"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Type == nil || e.Description == nil {
		t.Fatalf("not an error body (%v): %q", err, body)
	}
	return *e.Type
}

// TestSimBeyondLoopback: listening beyond loopback, /sim/v1 needs an
// account's credentials and acts on that account's calls and phones only;
// another account's request is 403 and changes nothing, and its phone
// scripts are its own (TestPhoneScriptsAreTheAccounts).
func TestSimBeyondLoopback(t *testing.T) {
	srv, base := startBeyondLoopback(t, server.Config{Accounts: twoAccounts(t)})
	const phone = "+15553334444"

	// Alice scripts a phone that rings until the caller gives up.
	if status, _, body := send(t, alice, "PUT", base+"/sim/v1/phones/"+phone, `{"outcome":"no-answer","note":"Alice's test phone"}`); status != 204 {
		t.Fatalf("alice scripts her phone: %d %s", status, body)
	}
	// A call of Alice's account to it stays up, ringing.
	status, _, body := send(t, alice, "POST", base+"/api/v2/accounts/1000001/calls",
		`{"from":"+15551230001","to":"`+phone+`","applicationId":"11111111-2222-4333-8444-555555555555","answerUrl":"http://127.0.0.1:9/answer","callTimeout":300}`)
	if status != 201 {
		t.Fatalf("createCall: %d %s", status, body)
	}
	var created struct{ CallID string }
	json.Unmarshal([]byte(body), &created)
	call := base + "/sim/v1/calls/" + created.CallID

	requests := []struct{ method, url, body string }{
		{"POST", call + "/hangup", ""},
		{"POST", call + "/dtmf", `{"digits":"1"}`},
		{"POST", call + "/speech", `{"text":"hello"}`},
		{"GET", call + "/events", ""},
		{"GET", call + "/voicemail", ""},
		{"POST", base + "/sim/v1/inbound", `{"from":"+15557770000","to":"+15551230005"}`},
	}
	phones := []struct{ method, url, body string }{
		{"PUT", base + "/sim/v1/phones/" + phone, `{"outcome":"busy"}`},
		{"DELETE", base + "/sim/v1/phones/" + phone, ""},
	}
	for _, r := range append(requests, phones...) {
		status, hdr, body := send(t, nobody, r.method, r.url, r.body)
		if status != 401 || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic") || errorType(t, body) != "authentication-error" {
			t.Errorf("%s %s without credentials: %d %q %s", r.method, r.url, status, hdr.Get("WWW-Authenticate"), body)
		}
		if status, _, body := send(t, &creds{user: "alice", pass: "guess"}, r.method, r.url, r.body); status != 401 {
			t.Errorf("%s %s with a wrong password: %d %s", r.method, r.url, status, body)
		}
	}
	for _, r := range requests {
		status, _, body := send(t, bob, r.method, r.url, r.body)
		if status != 403 || errorType(t, body) != "authorization-error" || !strings.Contains(body, "Access is denied") {
			t.Errorf("%s %s as another account: %d %s", r.method, r.url, status, body)
		}
	}

	// Bob may script the phone and reset it, for his own calls only.
	for _, r := range phones {
		if status, _, body := send(t, bob, r.method, r.url, r.body); status != 204 {
			t.Errorf("%s %s as another account: %d %s", r.method, r.url, status, body)
		}
	}

	// Nothing changed: the call still rings, the phone is still Alice's
	// script, and no inbound call was placed.
	if status, _, body := send(t, alice, "GET", base+"/api/v2/accounts/1000001/calls/"+created.CallID, ""); status != 200 || strings.Contains(body, `"disconnected"`) {
		t.Errorf("the call after the refused requests: %d %s", status, body)
	}
	if s, _ := srv.Network().Script("1000001", phone); s.Note != "Alice's test phone" {
		t.Errorf("the phone's script changed: %+v", s)
	}
	for _, account := range []struct {
		who *creds
		id  string
	}{{alice, "1000001"}, {bob, "1000002"}} {
		if _, _, body := send(t, account.who, "GET", base+"/api/v2/accounts/"+account.id+"/calls", ""); strings.Count(body, `"callId"`) != map[string]int{"1000001": 1, "1000002": 0}[account.id] {
			t.Errorf("account %s's calls: %s", account.id, body)
		}
	}

	// Alice may do all of it.
	if status, _, body := send(t, alice, "GET", call+"/events", ""); status != 200 || !strings.Contains(body, `"kind"`) {
		t.Errorf("alice reads her call's events: %d %s", status, body)
	}
	if status, _, body := send(t, alice, "POST", call+"/dtmf", `{"digits":"1"}`); status == 401 || status == 403 {
		t.Errorf("alice presses on her call: %d %s", status, body)
	}
	// The console's phone controls act with the signed-in account.
	if status, _, body := send(t, bob, "POST", base+"/console/api/calls/"+created.CallID+"/hangup", ""); status != 403 {
		t.Errorf("bob hangs up Alice's call through the console: %d %s", status, body)
	}
	if status, _, body := send(t, alice, "POST", base+"/console/api/calls/"+created.CallID+"/hangup", ""); status != 204 {
		t.Errorf("alice hangs up her call through the console: %d %s", status, body)
	}
	if status, _, body := send(t, alice, "DELETE", base+"/sim/v1/phones/"+phone, ""); status != 204 {
		t.Errorf("alice resets her phone: %d %s", status, body)
	}
	if s, ok := srv.Network().Script("1000001", phone); ok {
		t.Errorf("the phone kept Alice's script after her DELETE: %+v", s)
	}
}

// TestSimOnLoopbackIsOpen: on loopback /sim/v1 needs no credentials.
func TestSimOnLoopbackIsOpen(t *testing.T) {
	srv := startServerWith(t, server.Config{Accounts: twoAccounts(t)})
	if status, _, body := send(t, nobody, "PUT", srv.URL()+"/sim/v1/phones/+15553334444", `{"outcome":"busy"}`); status != 204 {
		t.Errorf("PUT a phone on loopback without credentials: %d %s", status, body)
	}
}

// TestSimOff: with the simulator off there is no /sim/v1, scheduled calls
// are refused at start, and a call placed ends at once with cause error,
// saying why.
func TestSimOff(t *testing.T) {
	srv := startServerWith(t, server.Config{DisableSim: true})
	if status, _, body := send(t, nobody, "PUT", srv.URL()+"/sim/v1/phones/+15553334444", `{"outcome":"busy"}`); status != 404 {
		t.Errorf("/sim/v1 with the simulator off: %d %s", status, body)
	}
	if srv.Network() != nil {
		t.Error("Network() is not nil with the simulator off")
	}
	id, _ := createCall(t, srv, map[string]any{"from": "+15551112222", "to": "+15550000000", "applicationId": appID, "answerUrl": "http://127.0.0.1:9/answer"})
	var got struct{ State, DisconnectCause, ErrorMessage string }
	for deadline := time.Now().Add(10 * time.Second); got.State != "disconnected" && time.Now().Before(deadline); {
		_, _, body := rest(t, srv, "GET", "/api/v2/accounts/9900000/calls/"+id, "", "")
		json.Unmarshal(body, &got)
		if got.State != "disconnected" {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if got.DisconnectCause != "error" || !strings.Contains(got.ErrorMessage, "no route: the simulator is off (--sim=false) and no SIP gateway is configured") {
		t.Errorf("a call with the simulator off: %+v", got)
	}
	_, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", DB: ":memory:", DisableSim: true,
		InitiateURL: "http://127.0.0.1:9/initiate", Calls: []sim.ScheduledCall{{From: "+15557770000", To: "+15550001000", Count: 1}}})
	if err == nil || !strings.Contains(err.Error(), "the simulator is off (--sim=false)") {
		t.Errorf("scheduled calls with the simulator off: %v", err)
	}
}

// TestSimBeyondLoopbackDevAccount: with the one dev account under
// non-default credentials, /sim/v1 beyond loopback needs them.
func TestSimBeyondLoopbackDevAccount(t *testing.T) {
	_, base := startBeyondLoopback(t, server.Config{Username: "carol", Password: "s3cret"})
	url := base + "/sim/v1/phones/+15553334444"
	if status, hdr, body := send(t, nobody, "PUT", url, `{"outcome":"busy"}`); status != 401 || hdr.Get("WWW-Authenticate") == "" {
		t.Errorf("without credentials: %d %s", status, body)
	}
	if status, _, body := send(t, &creds{user: "carol", pass: "s3cret"}, "PUT", url, `{"outcome":"busy"}`); status != 204 {
		t.Errorf("with the account's credentials: %d %s", status, body)
	}
}
