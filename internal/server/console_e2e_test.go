package server_test

import (
	"bufio"
	"context"
	stdjson "encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/phone/sim"
	"github.com/voicehook/voicehook/internal/server"
)

// consoleGet reads a console API URL into v (no credentials: the server
// listens on loopback).
func consoleGet(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode == 200 {
		if err := stdjson.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v\n%s", url, err, body)
		}
	}
	return resp.StatusCode
}

func consolePost(t *testing.T, url, body string, v any) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		stdjson.Unmarshal(b, v)
	}
	return resp.StatusCode, string(b)
}

type consoleRow struct {
	CallID, State, Cause, To, From string
	ParentCallID                   *string
	DurationSeconds                *float64
}

type consoleEntry struct {
	CallID, Kind, Summary string
	Seq                   int
	Detail                stdjson.RawMessage
	Webhook               *struct{ EventType, Method, URL string }
	BXMLError             *struct {
		Message      string
		Line, Column int
	} `json:"bxmlError"`
}

type consoleDetail struct {
	Call       consoleRow
	Legs       []consoleRow
	Entries    []consoleEntry
	Recordings []struct {
		RecordingID, MediaURL string
		Transcription         *struct{ Texts []string }
	}
}

// TestConsoleShowsCallsAndTheirLadder places calls and reads them back as
// the console page does: the list (newest first, filtered, paged), a
// call's merged history with its transfer leg, the app's replies with the
// BXML error located, replay, recordings, and the live stream.
func TestConsoleShowsCallsAndTheirLadder(t *testing.T) {
	app := newApp(t, map[string]string{
		"/answer": `<Response><SpeakSentence>Hi.</SpeakSentence><Record maxDuration="2"/>` +
			`<Transfer transferCompleteUrl="/done"><PhoneNumber transferAnswerUrl="/leg">+15550000200</PhoneNumber></Transfer></Response>`,
		"/leg":    `<Response><SpeakSentence>A call for you.</SpeakSentence></Response>`,
		"/broken": "<Response>\n  <SpeakSentence>Hi.</SpeakSentence>\n  <Gather maxDigits=\"99\"/>\n</Response>",
	})
	srv := startServerWith(t, server.Config{Phones: map[string]sim.Script{"+15550000555": {Says: "Call me back."}}})
	base := srv.URL() + "/console/api"

	// The live stream, open before the calls.
	stream, err := http.Get(base + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if ct := stream.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("stream content type %q", ct)
	}
	events := make(chan consoleRow, 100)
	go func() {
		sc := bufio.NewScanner(stream.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var r consoleRow
				if stdjson.Unmarshal([]byte(data), &r) == nil {
					events <- r
				}
			}
		}
		close(events)
	}()

	// Placed from the console, with the API's own checks.
	if status, body := consolePost(t, base+"/calls", `{"to":"12","from":"+15550001000","answerUrl":"`+app.URL+`/answer"}`, nil); status != 400 || !strings.Contains(body, "to") {
		t.Errorf("bad call from the console: %d %s", status, body)
	}
	var created struct{ CallID string }
	if status, body := consolePost(t, base+"/calls", `{"to":"+15550000555","from":"+15550001000","answerUrl":"`+app.URL+`/answer","disconnectUrl":"`+app.URL+`/disconnect"}`, &created); status != 201 {
		t.Fatalf("place a call from the console: %d %s", status, body)
	}
	broken, _ := createCall(t, srv, map[string]any{"from": "+15551112222", "to": "+15550000486", "applicationId": appID, "answerUrl": app.URL + "/broken"})
	answered, _ := createCall(t, srv, map[string]any{"from": "+15551112222", "to": "+15550000000", "applicationId": appID, "answerUrl": app.URL + "/broken"})
	app.waitFor(t, callback.EventTransferComplete, 20*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var d consoleDetail
		consoleGet(t, base+"/calls/"+created.CallID, &d)
		if d.Call.State == "disconnected" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The stream told of the new call and its end.
	seen := map[string]bool{}
	timeout := time.After(5 * time.Second)
	for !seen["disconnected"] {
		select {
		case r := <-events:
			if r.CallID == created.CallID {
				seen[r.State] = true
			}
		case <-timeout:
			t.Fatalf("the stream told %v of call %s", seen, created.CallID)
		}
	}

	// The list: newest first, filters, paging.
	var list struct {
		Calls []consoleRow
		Next  *string
	}
	consoleGet(t, base+"/calls", &list)
	// The transfer's B-leg is a call of its own, the newest.
	if len(list.Calls) != 4 || list.Calls[0].ParentCallID == nil || *list.Calls[0].ParentCallID != created.CallID ||
		list.Calls[1].CallID != answered || list.Calls[2].CallID != broken || list.Next != nil {
		t.Fatalf("list %+v", list)
	}
	consoleGet(t, base+"/calls?cause=busy", &list)
	if len(list.Calls) != 1 || list.Calls[0].CallID != broken {
		t.Errorf("busy calls %+v", list.Calls)
	}
	consoleGet(t, base+"/calls?number=%2B15550000555&state=disconnected", &list)
	if len(list.Calls) != 1 || list.Calls[0].CallID != created.CallID || list.Calls[0].DurationSeconds == nil {
		t.Errorf("calls with +15550000555 %+v", list.Calls)
	}
	consoleGet(t, base+"/calls?limit=2", &list)
	if len(list.Calls) != 2 || list.Next == nil || *list.Next != answered {
		t.Fatalf("first page %+v", list)
	}
	consoleGet(t, base+"/calls?limit=2&before="+*list.Next, &list)
	if len(list.Calls) != 2 || list.Calls[1].CallID != created.CallID || list.Next != nil {
		t.Errorf("second page %+v", list)
	}
	for _, q := range []string{"state=ringing", "cause=lost", "limit=0", "before=c-nope"} {
		if status := consoleGet(t, base+"/calls?"+q, nil); status != 400 {
			t.Errorf("?%s: %d, want 400", q, status)
		}
	}

	// One call: its leg, the merged history, the recording.
	var d consoleDetail
	if status := consoleGet(t, base+"/calls/"+created.CallID, &d); status != 200 {
		t.Fatalf("detail: %d", status)
	}
	if len(d.Legs) != 1 || d.Legs[0].To != "+15550000200" || *d.Legs[0].ParentCallID != created.CallID {
		t.Errorf("legs %+v", d.Legs)
	}
	kinds := map[string]bool{}
	var answerSeq int
	var webhooks []string
	for _, e := range d.Entries {
		kinds[e.Kind+"@"+map[bool]string{true: "A", false: "B"}[e.CallID == created.CallID]] = true
		if e.Webhook != nil {
			webhooks = append(webhooks, e.Webhook.EventType)
			if e.Webhook.EventType == "answer" {
				answerSeq = e.Seq
			}
		}
	}
	for _, k := range []string{"state@A", "phone@A", "verb@A", "webhook@A", "attempt@A", "phone@B", "webhook@B", "verb@B"} {
		if !kinds[k] {
			t.Errorf("no %s entry in %v", k, kinds)
		}
	}
	if got := strings.Join(webhooks, ","); !strings.Contains(got, "answer,") || !strings.Contains(got, "transferAnswer") || !strings.HasSuffix(got, "disconnect") {
		t.Errorf("webhooks in order: %s", got)
	}
	if len(d.Recordings) != 1 || d.Recordings[0].Transcription != nil || !strings.HasPrefix(d.Recordings[0].MediaURL, "/console/api/calls/") {
		t.Fatalf("recordings %+v", d.Recordings)
	}
	media, err := http.Get(srv.URL() + d.Recordings[0].MediaURL)
	if err != nil {
		t.Fatal(err)
	}
	wav, _ := io.ReadAll(media.Body)
	media.Body.Close()
	if media.StatusCode != 200 || media.Header.Get("Content-Type") != "audio/vnd.wave" || !strings.HasPrefix(string(wav), "RIFF") {
		t.Errorf("media: %d %s, %d bytes", media.StatusCode, media.Header.Get("Content-Type"), len(wav))
	}

	// Replay the answer webhook: the app answers again.
	before := len(app.got())
	var replay struct {
		Status    int
		Reply     string
		BXMLError *struct{ Line int } `json:"bxmlError"`
	}
	status, body := consolePost(t, base+"/calls/"+created.CallID+"/replay", fmt.Sprintf(`{"seq":%d}`, answerSeq), &replay)
	if status != 200 || replay.Status != 200 || !strings.Contains(replay.Reply, "<Transfer") || replay.BXMLError != nil || len(app.got()) != before+1 {
		t.Errorf("replay: %d %s", status, body)
	}
	if status, body := consolePost(t, base+"/calls/"+created.CallID+"/replay", fmt.Sprintf(`{"seq":%d,"url":"%s/broken"}`, answerSeq, app.URL), &replay); status != 200 || replay.BXMLError == nil || replay.BXMLError.Line != 3 {
		t.Errorf("replay to /broken: %d %s", status, body)
	}
	if status, _ := consolePost(t, base+"/calls/"+created.CallID+"/replay", `{"seq":1}`, nil); status != 400 {
		t.Errorf("replaying a state entry: %d", status)
	}

	// A reply that is not BXML is located.
	waitState(t, base, answered, "disconnected")
	consoleGet(t, base+"/calls/"+answered, &d)
	found := false
	for _, e := range d.Entries {
		if e.BXMLError != nil {
			found = e.BXMLError.Line == 3 && strings.Contains(e.BXMLError.Message, "maxDigits")
		}
	}
	if !found || d.Call.Cause != "invalid-bxml" {
		t.Errorf("invalid reply not located: cause %s, entries %+v", d.Call.Cause, d.Entries)
	}
	if status := consoleGet(t, base+"/calls/c-nope", nil); status != 404 {
		t.Errorf("unknown call: %d", status)
	}
}

func waitState(t *testing.T, base, callID, state string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var d consoleDetail
		consoleGet(t, base+"/calls/"+callID, &d)
		if d.Call.State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("call %s still %s", callID, d.Call.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConsoleNeedsCredentialsBeyondLoopback: listening on every address,
// the console asks for an account's credentials.
func TestConsoleNeedsCredentialsBeyondLoopback(t *testing.T) {
	srv, err := server.Start(context.Background(), server.Config{Addr: "0.0.0.0:0", DB: filepath.Join(t.TempDir(), "vh.db"),
		Username: "ops", Password: "s3cret-pass"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	url := strings.Replace(srv.URL(), "0.0.0.0", "127.0.0.1", 1)
	for _, path := range []string{"/", "/console/api/calls", "/console/api/stream"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("GET %s without credentials: %d", path, resp.StatusCode)
		}
		for creds, want := range map[[2]string]int{{"ops", "wrong"}: 401, {"ops", "s3cret-pass"}: 200} {
			req, _ := http.NewRequest("GET", url+path, nil)
			req.SetBasicAuth(creds[0], creds[1])
			if path == "/console/api/stream" {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				req = req.WithContext(ctx)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("GET %s as %s: %d, want %d", path, creds, resp.StatusCode, want)
			}
		}
	}
}

// TestConsoleShowsEachAccountItsOwnCalls: beyond loopback, an account's
// credentials see that account's calls only, in the list, a call's page
// and the live stream; calls placed from the page go in that account.
func TestConsoleShowsEachAccountItsOwnCalls(t *testing.T) {
	dir, err := config.Load(strings.NewReader(`
accounts:
  - id: "1000001"
    username: alice
    password: wonderland
    applications: [{id: 11111111-2222-4333-8444-555555555555}]
  - id: "1000002"
    username: bob
    password: builder
    applications: [{id: 22222222-2222-4333-8444-555555555555}]
`))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(context.Background(), server.Config{Addr: "0.0.0.0:0", DB: ":memory:", Accounts: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	base := strings.Replace(srv.URL(), "0.0.0.0", "127.0.0.1", 1) + "/console/api"
	as := func(user, pass, method, url, body string) (int, []byte) {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	// Bob's stream, open before Alice's call.
	req, _ := http.NewRequest("GET", base+"/stream", nil)
	req.SetBasicAuth("bob", "builder")
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	status, body := as("alice", "wonderland", "POST", base+"/calls", `{"to":"+15550000486","from":"+15551112222","answerUrl":"http://127.0.0.1:1/answer"}`)
	var created struct{ CallID, AccountID string }
	stdjson.Unmarshal(body, &created)
	if status != 201 || created.AccountID != "1000001" {
		t.Fatalf("alice places a call: %d %s", status, body)
	}
	if status, body := as("alice", "wonderland", "GET", base+"/calls", ""); status != 200 || !strings.Contains(string(body), created.CallID) {
		t.Errorf("alice's list: %d %s", status, body)
	}
	if status, body := as("bob", "builder", "GET", base+"/calls", ""); status != 200 || strings.Contains(string(body), created.CallID) {
		t.Errorf("bob's list shows alice's call: %d %s", status, body)
	}
	if status, _ := as("bob", "builder", "GET", base+"/calls/"+created.CallID, ""); status != 404 {
		t.Errorf("bob opens alice's call: %d", status)
	}
	if status, body := as("bob", "builder", "GET", base+"/info", ""); !strings.Contains(string(body), `"accounts":["1000002"]`) {
		t.Errorf("bob's info: %d %s", status, body)
	}
	// Nothing of Alice's call reaches Bob's stream.
	got := make(chan string, 1)
	go func() {
		b := make([]byte, 4096)
		n, _ := stream.Body.Read(b)
		m, _ := stream.Body.Read(b[n:])
		got <- string(b[:n+m])
	}()
	select {
	case s := <-got:
		if strings.Contains(s, created.CallID) {
			t.Errorf("bob's stream told of alice's call: %s", s)
		}
	case <-time.After(2 * time.Second):
	}
}

// TestConsolePage serves the page and its files from the binary.
func TestConsolePage(t *testing.T) {
	srv := startServer(t)
	resp, err := http.Get(srv.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(page), "/console/app.js") {
		t.Fatalf("GET /: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), page)
	}
	for _, asset := range []string{"/console/app.js", "/console/style.css"} {
		resp, err := http.Get(srv.URL() + asset)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", asset, resp.StatusCode)
		}
	}
	// The API still answers unknown paths in JSON.
	if status, _, body := rest(t, srv, "GET", "/nothing", "", ""); status != 404 || !strings.Contains(string(body), `"path":"/nothing"`) {
		t.Errorf("GET /nothing: %d %s", status, body)
	}
}

// TestConsoleShowsConferenceAndBridgeLegs: a call's page shows the other
// members of its conference, and the call it was bridged with.
func TestConsoleShowsConferenceAndBridgeLegs(t *testing.T) {
	app := newApp(t, map[string]string{"/answer": `<Response><Conference>room</Conference></Response>`})
	srv := startServer(t)
	base := srv.URL() + "/console/api"
	a, _ := createCall(t, srv, callFields(app, "+15550000000"))
	b, _ := createCall(t, srv, callFields(app, "+15550000001"))
	legsOf := func(id string) map[string]bool {
		var d consoleDetail
		consoleGet(t, base+"/calls/"+id, &d)
		out := map[string]bool{}
		for _, l := range d.Legs {
			out[l.CallID] = true
		}
		return out
	}
	deadline := time.Now().Add(10 * time.Second)
	for !legsOf(a)[b] || !legsOf(b)[a] {
		if time.Now().After(deadline) {
			t.Fatalf("the conference members do not show each other: %v, %v", legsOf(a), legsOf(b))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A member who left still shows.
	if status, _, body := rest(t, srv, "POST", "/sim/v1/calls/"+b+"/hangup", "", ""); status != 204 {
		t.Fatalf("hang up: %d %s", status, body)
	}
	waitState(t, base, b, "disconnected")
	if !legsOf(a)[b] {
		t.Errorf("the member who left is gone from %s's legs", a)
	}

	// A bridge: the target's page shows the call that bridged to it, and
	// the other way round.
	bridge := newApp(t, map[string]string{"/answer": `<Response><Pause duration="30"/></Response>`})
	target, _ := createCall(t, srv, callFields(bridge, "+15550000000"))
	waitState(t, base, target, "answered")
	bridge.mu.Lock()
	bridge.replies["/origin"] = `<Response><Bridge>` + target + `</Bridge></Response>`
	bridge.mu.Unlock()
	of := callFields(bridge, "+15550000000")
	of["answerUrl"] = bridge.URL + "/origin"
	origin, _ := createCall(t, srv, of)
	deadline = time.Now().Add(10 * time.Second)
	for !legsOf(target)[origin] || !legsOf(origin)[target] {
		if time.Now().After(deadline) {
			t.Fatalf("the bridged calls do not show each other: %v, %v", legsOf(target), legsOf(origin))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConsoleKeepsWhatAFailureSaid: an app's 500 reply body shows on its
// attempt, not taken for BXML.
func TestConsoleKeepsWhatAFailureSaid(t *testing.T) {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "panic: assignment to entry in nil map")
	}))
	defer failing.Close()
	srv := startServer(t)
	base := srv.URL() + "/console/api"
	id, _ := createCall(t, srv, map[string]any{"from": "+15551112222", "to": "+15550000000", "applicationId": appID, "answerUrl": failing.URL + "/answer"})
	waitState(t, base, id, "disconnected")
	var d consoleDetail
	consoleGet(t, base+"/calls/"+id, &d)
	found := false
	for _, e := range d.Entries {
		if e.Kind == "attempt" && strings.Contains(string(e.Detail), "panic: assignment to entry in nil map") {
			found = e.BXMLError == nil
		}
	}
	if !found || d.Call.Cause != "callback-error" {
		t.Errorf("cause %s; the failure's body is not on its attempt: %+v", d.Call.Cause, d.Entries)
	}
}

// TestConsoleStreamEndsOnClose: an open live stream does not hold the
// server's shutdown up.
func TestConsoleStreamEndsOnClose(t *testing.T) {
	srv, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", DB: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	stream, err := http.Get(srv.URL() + "/console/api/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	ended := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, stream.Body)
		ended <- err
	}()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Errorf("close: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("closing with a stream open took %v", took)
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Error("the stream is still open after Close")
	}
}

// The call page lists the call's real-time transcriptions, utterance by
// utterance: here a scripted phone's line, exact.
func TestConsoleShowsTranscriptions(t *testing.T) {
	app := newApp(t, map[string]string{"/answer": `<Response><StartTranscription name="live"/><Pause duration="3"/></Response>`})
	srv := startServerWith(t, server.Config{Phones: map[string]sim.Script{"+15550000556": {Says: "I want to cancel my order"}}})
	id, _ := createCall(t, srv, callFields(app, "+15550000556"))
	app.waitFor(t, callback.EventDisconnect, 15*time.Second)
	var d struct {
		Transcriptions []struct {
			TranscriptionID, Name string
			Utterances            []struct {
				Track, Text  string
				StartSeconds float64
			}
		}
	}
	if status := consoleGet(t, srv.URL()+"/console/api/calls/"+id, &d); status != 200 {
		t.Fatalf("call detail: %d", status)
	}
	if len(d.Transcriptions) != 1 || d.Transcriptions[0].Name != "live" || len(d.Transcriptions[0].Utterances) != 1 ||
		d.Transcriptions[0].Utterances[0].Text != "I want to cancel my order" || d.Transcriptions[0].Utterances[0].Track != "inbound" {
		t.Errorf("transcriptions %+v", d.Transcriptions)
	}
}
