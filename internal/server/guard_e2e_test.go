package server_test

import (
	stdjson "encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/server"
)

// The guard's tests listen on 127.0.0.1 with the guard forced on, and
// send traffic to 127.0.0.0/8 only.

// historyEntry is an entry of /sim/v1/calls/{id}/events.
type historyEntry struct {
	Kind    string `json:"kind"`
	Summary string `json:"summary"`
	Detail  struct {
		URL   string `json:"url"`
		Error string `json:"error"`
	} `json:"detail"`
}

func history(t *testing.T, srv *server.Server, id string) []historyEntry {
	t.Helper()
	status, _, body := rest(t, srv, "GET", "/sim/v1/calls/"+id+"/events", "", "")
	var entries []historyEntry
	if status != 200 || stdjson.Unmarshal(body, &entries) != nil {
		t.Fatalf("history: %d %s", status, body)
	}
	return entries
}

// refusals are the attempts of a call the guard refused.
func refusals(t *testing.T, srv *server.Server, id string) []historyEntry {
	var out []historyEntry
	for _, e := range history(t, srv, id) {
		if e.Kind == "attempt" && strings.HasPrefix(e.Detail.Error, "refused to connect to ") {
			out = append(out, e)
		}
	}
	return out
}

func TestWebhookGuardRefusesLoopback(t *testing.T) {
	var hits atomic.Int64
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Write([]byte(`<Response><Hangup/></Response>`))
	}))
	defer app.Close()
	srv := startServerWith(t, server.Config{WebhookGuard: server.GuardOn})
	if g := srv.Config().WebhookGuard; g != server.GuardOn {
		t.Fatalf("WebhookGuard %q", g)
	}
	id, _ := createCall(t, srv, map[string]any{"from": "+15551112222", "to": "+15550000000", "applicationId": appID,
		"answerUrl": app.URL + "/answer", "disconnectUrl": app.URL + "/disconnect"})

	// The answer webhook and then the disconnect are refused, each once.
	var got []historyEntry
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for len(got) < 2 && time.Now().Before(deadline) {
		<-tick.C
		got = refusals(t, srv, id)
	}
	if len(got) != 2 || got[0].Detail.URL != app.URL+"/answer" || got[1].Detail.URL != app.URL+"/disconnect" {
		t.Fatalf("refused attempts %+v, want the answer's and the disconnect's", got)
	}
	want := "refused to connect to " + strings.TrimPrefix(app.URL, "http://") +
		": loopback addresses are not allowed for outbound requests (allow with --webhook-allow 127.0.0.1/32)"
	for _, e := range got {
		if e.Detail.Error != want {
			t.Errorf("attempt error %q\nwant %q", e.Detail.Error, want)
		}
	}
	status, _, body := rest(t, srv, "GET", "/api/v2/accounts/9900000/calls/"+id, "", "")
	var state struct {
		State           string `json:"state"`
		DisconnectCause string `json:"disconnectCause"`
		ErrorMessage    string `json:"errorMessage"`
	}
	if status != 200 || stdjson.Unmarshal(body, &state) != nil {
		t.Fatalf("call state: %d %s", status, body)
	}
	if state.State != "disconnected" || state.DisconnectCause != "callback-error" || !strings.Contains(state.ErrorMessage, "--webhook-allow 127.0.0.1/32") {
		t.Errorf("call state %+v, want disconnected by callback-error naming the flag", state)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the app received %d requests", n)
	}
}

func TestWebhookGuardAllowsAPrefix(t *testing.T) {
	app := newApp(t, map[string]string{"/answer": `<Response><Hangup/></Response>`})
	srv := startServerWith(t, server.Config{WebhookGuard: server.GuardOn, WebhookAllow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	id, _ := createCall(t, srv, callFields(app, "+15550000000"))
	d := app.waitFor(t, callback.EventDisconnect, 10*time.Second).event.(*callback.Disconnect)
	if d.Cause != callback.CauseHangup {
		t.Errorf("disconnect %s", d.Cause)
	}
	if got := app.types(); got != "answer,disconnect" {
		t.Errorf("webhooks %s", got)
	}
	if r := refusals(t, srv, id); len(r) != 0 {
		t.Errorf("refused: %+v", r)
	}
}

// TestPlayAudioRedirectHopIsChecked plays a file from an allowed server
// (127.0.0.2) that redirects to one that is not (127.0.0.3).
func TestPlayAudioRedirectHopIsChecked(t *testing.T) {
	var refusedHits atomic.Int64
	refused := listenOn(t, "127.0.0.3", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		refusedHits.Add(1)
		w.Header().Set("Content-Type", "audio/wav")
	}))
	allowed := listenOn(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, refused+"/hold.wav", http.StatusFound)
	}))
	app := newApp(t, map[string]string{"/answer": `<Response><PlayAudio>` + allowed + `/hold.wav</PlayAudio></Response>`})
	srv := startServerWith(t, server.Config{WebhookGuard: server.GuardOn,
		WebhookAllow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("127.0.0.2/32")}})
	createCall(t, srv, callFields(app, "+15550000000"))
	d := app.waitFor(t, callback.EventDisconnect, 10*time.Second).event.(*callback.Disconnect)
	if d.Cause != callback.CauseApplicationError || d.ErrorMessage == nil ||
		!strings.Contains(*d.ErrorMessage, "redirected to "+refused+"/hold.wav: refused to connect to "+strings.TrimPrefix(refused, "http://")) ||
		!strings.Contains(*d.ErrorMessage, "--webhook-allow 127.0.0.3/32") {
		t.Errorf("disconnect %s %v, want application-error naming the refused redirect", d.Cause, d.ErrorMessage)
	}
	if n := refusedHits.Load(); n != 0 {
		t.Errorf("the server at 127.0.0.3 received %d requests", n)
	}
}

// listenOn serves h on ip, a 127.0.0.0/8 address, and returns its URL.
func listenOn(t *testing.T, ip string, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestWebhookGuardDefaults: auto is off on loopback and on beyond it.
func TestWebhookGuardDefaults(t *testing.T) {
	for _, tc := range []struct{ addr, guard, want string }{
		{"127.0.0.1:8080", "", server.GuardOff},
		{"localhost:8080", server.GuardAuto, server.GuardOff},
		{"[::1]:8080", "", server.GuardOff},
		// Listen addresses: only the guard's mode is resolved, nothing
		// listens or is dialled.
		{"0.0.0.0:8080", "", server.GuardOn},
		{":8080", server.GuardAuto, server.GuardOn},
		{"0.0.0.0:8080", server.GuardOff, server.GuardOff},
		{"127.0.0.1:8080", server.GuardOn, server.GuardOn},
	} {
		srv, err := server.Open(t.Context(), server.Config{Addr: tc.addr, DB: ":memory:", Username: "u", Password: "p", WebhookGuard: tc.guard})
		if err != nil {
			t.Fatalf("%s %q: %v", tc.addr, tc.guard, err)
		}
		if got := srv.Config().WebhookGuard; got != tc.want {
			t.Errorf("%s %q: guard %q, want %q", tc.addr, tc.guard, got, tc.want)
		}
		if err := srv.Close(t.Context()); err != nil {
			t.Error(err)
		}
	}
	_, err := server.Open(t.Context(), server.Config{DB: ":memory:", WebhookGuard: "yes"})
	if err == nil || !strings.Contains(err.Error(), `webhook guard "yes": want auto, on or off`) {
		t.Errorf("bad mode: %v", err)
	}
}

// TestDemoAppBeyondLoopback: listening beyond loopback the guard is on,
// yet the banner's first call, answered by the server's own demo app at
// its base URL, works: the demo app is served in process, no address is
// dialled. The same listener reached as 127.0.0.1 is refused like any
// loopback app.
func TestDemoAppBeyondLoopback(t *testing.T) {
	srv, base := startBeyondLoopback(t, server.Config{Accounts: twoAccounts(t)})
	if g := srv.Config().WebhookGuard; g != server.GuardOn {
		t.Fatalf("WebhookGuard %q beyond loopback", g)
	}
	place := func(answerURL string) string {
		status, _, body := send(t, alice, "POST", base+"/api/v2/accounts/1000001/calls",
			`{"from":"+15551230001","to":"+15550000000","applicationId":"11111111-2222-4333-8444-555555555555","answerUrl":"`+answerURL+`"}`)
		if status != 201 {
			t.Fatalf("createCall: %d %s", status, body)
		}
		var created struct{ CallID string }
		if err := stdjson.Unmarshal([]byte(body), &created); err != nil {
			t.Fatal(err)
		}
		return created.CallID
	}
	ended := func(id string) (cause string) {
		deadline := time.Now().Add(10 * time.Second)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for time.Now().Before(deadline) {
			status, _, body := send(t, alice, "GET", base+"/api/v2/accounts/1000001/calls/"+id, "")
			var st struct{ State, DisconnectCause string }
			if status == 200 && stdjson.Unmarshal([]byte(body), &st) == nil && st.State == "disconnected" {
				return st.DisconnectCause
			}
			<-tick.C
		}
		t.Fatalf("call %s did not end", id)
		return ""
	}
	// srv.URL() is http://[::]:port: its demo app is served in process,
	// never dialled; every other request here goes to 127.0.0.1.
	if cause := ended(place(srv.URL() + "/demo/answer")); cause != "hangup" {
		t.Errorf("the demo call at %s ended with %s, want hangup", srv.URL(), cause)
	}
	if cause := ended(place(base + "/demo/answer")); cause != "callback-error" {
		t.Errorf("the demo app reached as %s ended with %s, want callback-error (refused)", base, cause)
	}
}
