package server_test

import (
	"bytes"
	"encoding/base64"
	stdjson "encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/server"
)

// lockedBuffer is a log destination safe for the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestNoSecretInURLsLeaves: passwords written in URLs' user info — of a
// call's answer, fallback and disconnect URLs, of verb URLs in BXML, of
// invalid URLs that errors echo — reach the app as Basic credentials, and
// appear nowhere else in clear: not in the log, the history (/sim/v1), the
// console API, REST bodies or error bodies. Each shows as "user:*****@".
func TestNoSecretInURLsLeaves(t *testing.T) {
	secrets := map[string]string{ // user → password
		"user": "S3cr3tV4lue", "fb": "F4llb4ckS3cr3t", "u2": "An0th3rS3cr3t", "u3": "Fb2S3cr3t",
		"u4": "G4th3rS3cr3t", "u5": "B4dUrlS3cr3t", "u6": "Sp4ce S3cr3t", "u7": "R3stS3cr3t", "u8": "S1mS3cr3t",
		"u9": "C0nsoleS3cr3t", "u10": "C0nfS3cr3t",
	}
	var logs lockedBuffer
	srv := startServerWith(t, server.Config{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})

	// One app serves every path; its URLs carry credentials.
	app := newApp(t, nil)
	host := strings.TrimPrefix(app.URL, "http://")
	at := func(user, path string) string { return "http://" + user + ":" + secrets[user] + "@" + host + path }
	app.replies = map[string]string{
		"/fallback": `<Response><SpeakSentence>hello</SpeakSentence>` +
			`<Redirect redirectUrl="` + at("u2", "/next") + `" redirectFallbackUrl="` + at("u3", "/next-fallback") + `"/></Response>`,
		"/next": `<Response><Gather gatherUrl="` + at("u4", "/gather") + `" maxDigits="1" firstDigitTimeout="1">` +
			`<SpeakSentence>press a key</SpeakSentence></Gather><Hangup/></Response>`,
		"/bad": `<Response><Redirect redirectUrl="ftp://u5:` + secrets["u5"] + `@` + host + `/x"/>` +
			`<Redirect redirectUrl="` + at("u6", "/y") + `"/></Response>`,
		"/room": `<Response><Conference conferenceEventUrl="` + at("u10", "/conf") + `">secrets.room</Conference></Response>`,
	}
	app.status["/answer"] = http.StatusInternalServerError // so the fallback answers

	var outputs []string // every body voicehook gave out
	keep := func(what string, b []byte) []byte {
		outputs = append(outputs, what+": "+string(b))
		return b
	}

	// A call whose answer URL fails over to its fallback, which redirects
	// to a Gather, then hangs up.
	fields := map[string]any{"from": "+15551112222", "to": "+15550000000", "applicationId": appID,
		"answerUrl": at("user", "/answer"), "answerFallbackUrl": at("fb", "/fallback"), "disconnectUrl": at("user", "/disconnect")}
	callID, created := createCall(t, srv, fields)
	keep("createCall", created)
	var resp struct{ AnswerURL, AnswerFallbackURL, DisconnectURL string }
	if err := stdjson.Unmarshal(created, &resp); err != nil {
		t.Fatal(err)
	}
	masked := func(user, path string) string { return "http://" + user + ":*****@" + host + path }
	if resp.AnswerURL != masked("user", "/answer") || resp.AnswerFallbackURL != masked("fb", "/fallback") ||
		resp.DisconnectURL != masked("user", "/disconnect") {
		t.Errorf("createCall answered URLs %+v, want them with the password as *****", resp)
	}
	app.waitFor(t, callback.EventDisconnect, 10*time.Second)

	// A call whose BXML holds invalid URLs: the error echoes them.
	bad := map[string]any{"from": "+15551112222", "to": "+15550000000", "applicationId": appID,
		"answerUrl": app.URL + "/bad", "disconnectUrl": app.URL + "/bad-disconnect"}
	badID, badCreated := createCall(t, srv, bad)
	keep("createCall", badCreated)
	badDisconnect := waitPath(t, app, "/bad-disconnect")
	d, ok := badDisconnect.event.(*callback.Disconnect)
	if !ok || d.Cause != callback.CauseInvalidBXML || d.ErrorMessage == nil || !strings.Contains(*d.ErrorMessage, "u5:*****@") {
		t.Errorf("the invalid BXML's disconnect: %s", badDisconnect.body)
	}
	keep("disconnect webhook", badDisconnect.body)

	// The app got every password, as Basic credentials.
	for path, user := range map[string]string{"/answer": "user", "/fallback": "fb", "/next": "u2", "/disconnect": "user"} {
		h := waitPath(t, app, path)
		if want := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secrets[user])); h.auth != want {
			t.Errorf("%s: Authorization %q, want %q (%s:%s)", path, h.auth, want, user, secrets[user])
		}
	}

	// The history holds the attempts of both disconnects once delivered.
	var events []byte
	for _, id := range []string{callID, badID} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, _, events = getBody(t, srv.URL()+"/sim/v1/calls/"+id+"/events")
			if bytes.Contains(events, []byte(`disconnect: 204`)) || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		keep("sim events", events)
		if id == callID {
			for _, want := range []string{masked("user", "/answer"), masked("fb", "/fallback"), masked("u2", "/next"),
				masked("u3", "/next-fallback"), masked("u4", "/gather"), masked("user", "/disconnect")} {
				if !bytes.Contains(events, []byte(want)) {
					t.Errorf("the history never names %s:\n%s", want, events)
				}
			}
		}
	}

	// REST: the call, the list, an update's error and /sim/v1's.
	for _, path := range []string{"/calls/" + callID, "/calls/" + badID, "/calls"} {
		status, _, body := rest(t, srv, "GET", "/api/v2/accounts/9900000"+path, "", "")
		if status != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, status, body)
		}
		keep("GET "+path, body)
	}
	status, _, body := rest(t, srv, "PUT", "/api/v2/accounts/9900000/calls/"+callID+"/bxml", "application/xml",
		`<Bxml><Redirect redirectUrl="ftp://u7:`+secrets["u7"]+`@`+host+`/x"/></Bxml>`)
	if status != http.StatusBadRequest || !bytes.Contains(body, []byte("u7:*****@")) {
		t.Errorf("PUT bxml with an ftp URL: %d %s, want a 400 naming the URL with its password hidden", status, body)
	}
	keep("PUT bxml", body)
	status, _, body = postJSON(t, srv.URL()+"/sim/v1/inbound",
		`{"from":"+15551112222","to":"+15550001000","statusUrl":"ftp://u8:`+secrets["u8"]+`@`+host+`/status"}`)
	if status != http.StatusBadRequest || !bytes.Contains(body, []byte("u8:*****@")) {
		t.Errorf("/sim/v1/inbound with an ftp statusUrl: %d %s", status, body)
	}
	keep("sim inbound", body)

	// A conference: its event URL, as GET conference shows it.
	room := map[string]any{"from": "+15551112222", "to": "+15550000000", "applicationId": appID, "answerUrl": app.URL + "/room"}
	roomID, roomCreated := createCall(t, srv, room)
	keep("createCall", roomCreated)
	waitHooks(t, app, callback.EventConferenceMemberJoin, 1)
	const conferences = "/api/v2/accounts/9900000/conferences"
	_, _, body = rest(t, srv, "GET", conferences+"?name=secrets.room", "", "")
	keep("GET conferences", body)
	var list []struct{ ID, ConferenceEventURL string }
	if err := stdjson.Unmarshal(body, &list); err != nil || len(list) != 1 || list[0].ConferenceEventURL != masked("u10", "/conf") {
		t.Errorf("GET conferences: %s, want one with the event URL's password as *****", body)
	} else {
		_, _, body = rest(t, srv, "GET", conferences+"/"+list[0].ID, "", "")
		keep("GET conference", body)
	}
	if status, _, body := rest(t, srv, "POST", "/api/v2/accounts/9900000/calls/"+roomID, "application/json", `{"state":"completed"}`); status != http.StatusOK {
		t.Errorf("hang up the conference member: %d %s", status, body)
	}
	waitHooks(t, app, callback.EventConferenceCompleted, 1)
	_, _, body = getBody(t, srv.URL()+"/sim/v1/calls/"+roomID+"/events")
	keep("sim events", body)

	// The console: the list, both calls' pages, a replay of the answer
	// webhook (which sends no masked credentials) and a replay's error.
	base := srv.URL() + "/console/api"
	_, _, body = getBody(t, base+"/calls")
	keep("console list", body)
	answerSeq := 0
	for _, id := range []string{callID, badID} {
		_, _, body = getBody(t, base+"/calls/"+id)
		keep("console call", body)
		var detail consoleDetail
		if err := stdjson.Unmarshal(body, &detail); err != nil {
			t.Fatal(err)
		}
		for _, e := range detail.Entries {
			if e.Webhook != nil && e.Webhook.EventType == "answer" && answerSeq == 0 && id == callID {
				answerSeq = e.Seq
				if e.Webhook.URL != masked("user", "/answer") {
					t.Errorf("the console's answer webhook went to %q", e.Webhook.URL)
				}
			}
		}
	}
	before := len(app.got())
	status, replay := consolePost(t, base+"/calls/"+callID+"/replay", fmt.Sprintf(`{"seq":%d}`, answerSeq), nil)
	keep("console replay", []byte(replay))
	if status != http.StatusOK || !strings.Contains(replay, `"url":"http://`+host+`/answer"`) {
		t.Errorf("replay: %d %s", status, replay)
	}
	if got := app.got(); len(got) != before+1 || got[len(got)-1].auth != "" {
		t.Errorf("the replay reached the app %d times, last with Authorization %q; want once, without the hidden password",
			len(got)-before, got[len(got)-1].auth)
	}
	status, replay = consolePost(t, base+"/calls/"+callID+"/replay",
		fmt.Sprintf(`{"seq":%d,"url":"ftp://u9:%s@%s/x"}`, answerSeq, secrets["u9"], host), nil)
	keep("console replay error", []byte(replay))
	if status != http.StatusBadRequest || !strings.Contains(replay, "u9:*****@") {
		t.Errorf("replay to an ftp URL: %d %s", status, replay)
	}

	outputs = append(outputs, "log: "+logs.String())
	if !strings.Contains(logs.String(), "u2:*****@") {
		t.Errorf("the log never names the redirect URL, masked:\n%s", logs.String())
	}
	for user, secret := range secrets {
		for _, out := range outputs {
			if strings.Contains(out, secret) {
				t.Errorf("%s's password %q appears in %s", user, secret, out)
			}
		}
	}
}

// waitPath polls until the app got a request at path, and returns it.
func waitPath(t *testing.T, app *testApp, path string) hook {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, h := range app.got() {
			if h.path == path {
				return h
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("nothing reached %s within 10s; got %s", path, app.types())
	return hook{}
}

func getBody(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return resp.StatusCode, resp.Header, b
}

func postJSON(t *testing.T, url, body string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}
