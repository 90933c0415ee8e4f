package server_test

import (
	"bytes"
	"cmp"
	"context"
	stdjson "encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/phone/sim"
	"github.com/voicehook/voicehook/internal/server"
	"github.com/voicehook/voicehook/internal/spec"
)

const appID = "04e88489-df02-4e34-a0ee-27a91849555f"

// hook is a webhook as the app received it.
type hook struct {
	method string
	path   string
	query  string
	auth   string
	header http.Header
	body   []byte
	event  callback.Event
}

// testApp is a customer app: an HTTP server that records every webhook
// and answers by path.
type testApp struct {
	*httptest.Server
	mu      sync.Mutex
	hooks   []hook
	replies map[string]string
	status  map[string]int
}

func newApp(t *testing.T, replies map[string]string) *testApp {
	a := &testApp{replies: replies, status: map[string]int{}}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := hook{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, auth: r.Header.Get("Authorization"), header: r.Header.Clone(), body: body}
		var err error
		if r.Method == http.MethodGet {
			h.event, err = callback.DecodeQuery(r.URL.Query())
		} else {
			h.event, err = callback.Decode(body)
		}
		if err != nil {
			t.Errorf("the app got an undecodable webhook at %s: %v\n%s", r.URL, err, body)
		}
		a.mu.Lock()
		a.hooks = append(a.hooks, h)
		reply, status := a.replies[r.URL.Path], a.status[r.URL.Path]
		a.mu.Unlock()
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		if h.event != nil && h.event.Type().Sync() {
			w.Header().Set("Content-Type", "application/xml")
			io.WriteString(w, reply)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *testApp) got() []hook {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]hook(nil), a.hooks...)
}

// waitFor polls until the app has seen a webhook of type t, or fails.
func (a *testApp) waitFor(tb testing.TB, t callback.EventType, timeout time.Duration) hook {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, h := range a.got() {
			if h.event != nil && h.event.Type() == t {
				return h
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	tb.Fatalf("no %s webhook within %v; got %s", t, timeout, a.types())
	return hook{}
}

func (a *testApp) types() string {
	var out []string
	for _, h := range a.got() {
		if h.event != nil {
			out = append(out, string(h.event.Type()))
		}
	}
	return strings.Join(out, ",")
}

func startServer(t *testing.T) *server.Server {
	t.Helper()
	return startServerWith(t, server.Config{})
}

// startServerWith starts a server with cfg, on 127.0.0.1:0 and with a
// database file of the test's own unless cfg says which; Cleanup closes it.
func startServerWith(t *testing.T, cfg server.Config) *server.Server {
	t.Helper()
	cfg.Addr = cmp.Or(cfg.Addr, "127.0.0.1:0")
	cfg.DB = cmp.Or(cfg.DB, filepath.Join(t.TempDir(), "vh.db"))
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return srv
}

// rest calls the REST API with the dev credentials.
func rest(t *testing.T, srv *server.Server, method, path, contentType, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("dev", "dev")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func createCall(t *testing.T, srv *server.Server, fields map[string]any) (string, []byte) {
	t.Helper()
	body, _ := stdjson.Marshal(fields)
	status, hdr, resp := rest(t, srv, "POST", "/api/v2/accounts/9900000/calls", "application/json", string(body))
	if status != http.StatusCreated {
		t.Fatalf("createCall: %d %s", status, resp)
	}
	var created struct {
		CallID  string `json:"callId"`
		CallURL string `json:"callUrl"`
	}
	if err := stdjson.Unmarshal(resp, &created); err != nil {
		t.Fatal(err)
	}
	if hdr.Get("Location") != created.CallURL {
		t.Errorf("Location %q, callUrl %q", hdr.Get("Location"), created.CallURL)
	}
	return created.CallID, resp
}

func callFields(app *testApp, to string) map[string]any {
	return map[string]any{"from": "+15551112222", "to": to, "applicationId": appID,
		"answerUrl": app.URL + "/answer", "disconnectUrl": app.URL + "/disconnect"}
}

// conforms checks a JSON body against a schema of the official document.
func conforms(t *testing.T, schema string, body []byte) {
	t.Helper()
	doc := spec.ForTest(t)
	var v any
	if err := stdjson.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: not JSON: %v", schema, err)
	}
	if err := spec.Validate(spec.Schema(t, doc, schema), v); err != nil {
		t.Errorf("%s does not validate: %v\n%s", schema, err, body)
	}
}

var schemaOf = map[callback.EventType]string{
	callback.EventAnswer: "answerCallback", callback.EventDisconnect: "disconnectCallback",
	callback.EventGather: "gatherCallback", callback.EventRedirect: "redirectCallback", callback.EventDTMF: "dtmfCallback",
	callback.EventInitiate: "initiateCallback", callback.EventTransferAnswer: "transferAnswerCallback",
	callback.EventTransferComplete: "transferCompleteCallback", callback.EventTransferDisconnect: "transferDisconnectCallback",
	callback.EventBridgeComplete: "bridgeCompleteCallback", callback.EventBridgeTargetComplete: "bridgeTargetCompleteCallback",
	callback.EventConferenceCreated: "conferenceCreatedCallback", callback.EventConferenceMemberJoin: "conferenceMemberJoinCallback",
	callback.EventConferenceMemberExit: "conferenceMemberExitCallback", callback.EventConferenceRedirect: "conferenceRedirectCallback",
	callback.EventConferenceCompleted: "conferenceCompletedCallback", callback.EventMachineDetectionComplete: "machineDetectionCompleteCallback",
	callback.EventRecordComplete: "recordingCompleteCallback", callback.EventRecordingAvailable: "recordingAvailableCallback",
	callback.EventTranscriptionAvailable: "transcriptionAvailableCallback", callback.EventConferenceRecordingAvailable: "conferenceRecordingAvailableCallback",
}

// checkHooks validates every POSTed webhook against its schema.
func checkHooks(t *testing.T, hooks []hook) {
	t.Helper()
	for _, h := range hooks {
		if h.method == http.MethodPost && h.event != nil {
			if s, ok := schemaOf[h.event.Type()]; ok {
				conforms(t, s, h.body)
			}
		}
	}
}

func TestMagicNumbers(t *testing.T) {
	srv := startServer(t)
	cases := []struct {
		to      string
		answer  bool
		cause   callback.Cause
		sipCode int
	}{
		{"+15550000000", true, callback.CauseHangup, 0},
		{"+15550000486", false, callback.CauseBusy, 486},
		{"+15550000603", false, callback.CauseRejected, 603},
		{"+15550000408", false, callback.CauseTimeout, 0},
		{"+15550000200", true, callback.CauseHangup, 0},
	}
	for _, c := range cases {
		t.Run(c.to, func(t *testing.T) {
			t.Parallel()
			reply := `<Response><Hangup/></Response>`
			if c.to == "+15550000200" {
				reply = `<Response><Pause duration="60"/></Response>` // the callee hangs up first
			}
			app := newApp(t, map[string]string{"/answer": reply})
			fields := callFields(app, c.to)
			fields["callTimeout"] = 2
			id, created := createCall(t, srv, fields)
			conforms(t, "createCallResponse", created)
			d := app.waitFor(t, callback.EventDisconnect, 15*time.Second)
			disc := d.event.(*callback.Disconnect)
			if disc.Cause != c.cause || disc.SIPResponseCode != c.sipCode || disc.CallID != id {
				t.Errorf("disconnect: cause %s sip %d call %s; want %s %d %s", disc.Cause, disc.SIPResponseCode, disc.CallID, c.cause, c.sipCode, id)
			}
			wantTypes := "disconnect"
			if c.answer {
				wantTypes = "answer,disconnect"
			}
			if got := app.types(); got != wantTypes {
				t.Errorf("webhooks %s, want %s", got, wantTypes)
			}
			checkHooks(t, app.got())
			status, _, state := rest(t, srv, "GET", "/api/v2/accounts/9900000/calls/"+id, "", "")
			if status != 200 || !bytes.Contains(state, []byte(`"disconnectCause":"`+string(c.cause)+`"`)) {
				t.Errorf("GET call: %d %s", status, state)
			}
			conforms(t, "callState", state)
		})
	}
}

func TestIVRThroughRESTAndSim(t *testing.T) {
	srv := startServer(t)
	app := newApp(t, map[string]string{
		"/answer": `<Response><Gather gatherUrl="/gather" maxDigits="2" firstDigitTimeout="10"><SpeakSentence>Press a key</SpeakSentence></Gather></Response>`,
		"/gather": `<Response><Redirect redirectUrl="/bye" redirectMethod="GET"/></Response>`,
		"/bye":    `<Response><Hangup/></Response>`,
	})
	id, _ := createCall(t, srv, callFields(app, "+15550000000"))
	app.waitFor(t, callback.EventAnswer, 5*time.Second)
	// The caller presses while the prompt plays: the digits stop it.
	if status, _, body := rest(t, srv, "POST", "/sim/v1/calls/"+id+"/dtmf", "application/json", `{"digits":"42"}`); status != 204 {
		t.Fatalf("sim dtmf: %d %s", status, body)
	}
	g := app.waitFor(t, callback.EventGather, 10*time.Second).event.(*callback.Gather)
	if g.Digits != "42" {
		t.Errorf("gathered %q", g.Digits)
	}
	r := app.waitFor(t, callback.EventRedirect, 5*time.Second)
	if r.method != http.MethodGet || !strings.Contains(r.query, "eventType=redirect") {
		t.Errorf("redirect by %s with query %q, want GET with the event in the query", r.method, r.query)
	}
	app.waitFor(t, callback.EventDisconnect, 5*time.Second)
	if got := app.types(); got != "answer,gather,redirect,disconnect" {
		t.Errorf("webhooks %s", got)
	}
	checkHooks(t, app.got())
	status, _, events := rest(t, srv, "GET", "/sim/v1/calls/"+id+"/events", "", "")
	if status != 200 || !bytes.Contains(events, []byte(`"kind":"attempt"`)) {
		t.Errorf("history: %d %s", status, events)
	}
}

func TestCallbackErrorAndFallback(t *testing.T) {
	srv := startServer(t)
	app := newApp(t, map[string]string{"/fallback": `<Response><Hangup/></Response>`})
	app.status["/answer"] = 500
	fields := callFields(app, "+15550000000")
	fields["answerFallbackUrl"] = app.URL + "/fallback"
	fields["fallbackUsername"], fields["fallbackPassword"] = "fb", "secret"
	createCall(t, srv, fields)
	d := app.waitFor(t, callback.EventDisconnect, 5*time.Second).event.(*callback.Disconnect)
	if d.Cause != callback.CauseHangup {
		t.Errorf("with a working fallback the call ends %s", d.Cause)
	}
	for _, h := range app.got() {
		if h.path == "/fallback" && h.auth == "" {
			t.Error("the fallback got no credentials")
		}
	}

	// The primary URL gets the call's own credentials.
	authed := newApp(t, map[string]string{"/answer": `<Response><Hangup/></Response>`})
	fields = callFields(authed, "+15550000000")
	fields["username"], fields["password"] = "app", "s3cret"
	createCall(t, srv, fields)
	a := authed.waitFor(t, callback.EventAnswer, 5*time.Second)
	if want := "Basic YXBwOnMzY3JldA=="; a.auth != want {
		t.Errorf("answer webhook Authorization %q, want %q", a.auth, want)
	}

	bad := newApp(t, nil)
	bad.status["/answer"] = 503
	createCall(t, srv, callFields(bad, "+15550000000"))
	d = bad.waitFor(t, callback.EventDisconnect, 5*time.Second).event.(*callback.Disconnect)
	if d.Cause != callback.CauseCallbackError || d.ErrorMessage == nil || !strings.Contains(*d.ErrorMessage, "503") {
		t.Errorf("disconnect %+v", d)
	}

	invalid := newApp(t, map[string]string{"/answer": `<Response><Gather maxDigits="99"/></Response>`})
	createCall(t, srv, callFields(invalid, "+15550000000"))
	d = invalid.waitFor(t, callback.EventDisconnect, 5*time.Second).event.(*callback.Disconnect)
	if d.Cause != callback.CauseInvalidBXML || d.ErrorMessage == nil || !strings.Contains(*d.ErrorMessage, "maxDigits") {
		t.Errorf("disconnect %+v", d)
	}
}

func TestUpdatesOverREST(t *testing.T) {
	srv := startServer(t)
	app := newApp(t, map[string]string{
		"/answer":   `<Response><Pause duration="60"/></Response>`,
		"/redirect": `<Response><Pause duration="60"/></Response>`,
	})
	id, _ := createCall(t, srv, callFields(app, "+15550000000"))
	app.waitFor(t, callback.EventAnswer, 5*time.Second)
	base := "/api/v2/accounts/9900000/calls/" + id
	if s, _, b := rest(t, srv, "POST", base, "application/json", fmt.Sprintf(`{"redirectUrl":"%s/redirect","tag":"moved"}`, app.URL)); s != 200 {
		t.Fatalf("redirect: %d %s", s, b)
	}
	r := app.waitFor(t, callback.EventRedirect, 5*time.Second).event.(*callback.Redirect)
	if r.Tag == nil || *r.Tag != "moved" {
		t.Errorf("redirect tag %v", r.Tag)
	}
	if s, _, b := rest(t, srv, "PUT", base+"/bxml", "application/xml", `<?xml version="1.0" encoding="UTF-8"?><Bxml><SpeakSentence>Bye</SpeakSentence><Hangup/></Bxml>`); s != 204 {
		t.Fatalf("PUT bxml: %d %s", s, b)
	}
	d := app.waitFor(t, callback.EventDisconnect, 5*time.Second).event.(*callback.Disconnect)
	if d.Cause != callback.CauseHangup {
		t.Errorf("cause %s", d.Cause)
	}
	// A hang-up that crosses the call's end succeeds (engine.CompletedGrace);
	// any other change is refused.
	if s, _, b := rest(t, srv, "POST", base, "application/json", `{"state":"completed"}`); s != 200 {
		t.Errorf("hang-up just after the end: %d %s", s, b)
	}
	if s, _, b := rest(t, srv, "POST", base, "application/json", fmt.Sprintf(`{"redirectUrl":"%s/redirect"}`, app.URL)); s != 409 || !bytes.Contains(b, []byte("cannot be modified")) {
		t.Errorf("redirect after the end: %d %s", s, b)
	}

	// Cancel a ringing call.
	ring := newApp(t, nil)
	id2, _ := createCall(t, srv, callFields(ring, "+15550000408"))
	if s, _, b := rest(t, srv, "POST", "/api/v2/accounts/9900000/calls/"+id2, "application/json", `{"state":"completed"}`); s != 200 {
		t.Fatalf("cancel: %d %s", s, b)
	}
	d = ring.waitFor(t, callback.EventDisconnect, 5*time.Second).event.(*callback.Disconnect)
	if d.Cause != callback.CauseCancel {
		t.Errorf("cancelled call ends %s", d.Cause)
	}
}

func TestRESTErrors(t *testing.T) {
	srv := startServer(t)
	calls := "/api/v2/accounts/9900000/calls"
	cases := []struct {
		name, method, path, ctype, body string
		noAuth                          bool
		status                          int
		want                            string
	}{
		{"missing fields", "POST", calls, "application/json", `{"to":"+15550000000"}`, false, 400, "Missing at least one required field"},
		{"bad to", "POST", calls, "application/json", `{"to":"555","from":"+15551112222","applicationId":"` + appID + `","answerUrl":"https://a.test/x"}`, false, 400, "Invalid to"},
		{"bad url", "POST", calls, "application/json", `{"to":"+15550000000","from":"+15551112222","applicationId":"` + appID + `","answerUrl":"ftp://a.test/x"}`, false, 400, "Invalid answerUrl: only http and https are allowed"},
		{"bad method", "POST", calls, "application/json", `{"to":"+15550000000","from":"+15551112222","applicationId":"` + appID + `","answerUrl":"https://a.test/x","answerMethod":"PUT"}`, false, 400, "Supported methods: [POST, GET]"},
		{"out of range", "POST", calls, "application/json", `{"to":"+15550000000","from":"+15551112222","applicationId":"` + appID + `","answerUrl":"https://a.test/x","callTimeout":500}`, false, 400, "callTimeout must be within the range [1, 300], but was 500"},
		{"wrong type", "POST", calls, "application/json", `{"to":"+15550000000","from":"+15551112222","applicationId":"` + appID + `","answerUrl":"https://a.test/x","callTimeout":"30"}`, false, 400, "Invalid callTimeout: must be a number"},
		{"unknown field", "POST", calls, "application/json", `{"to":"+15550000000","answerURL":"x"}`, false, 400, `Unknown field \"answerURL\"`},
		{"malformed", "POST", calls, "application/json", `{"to":`, false, 400, "Malformed JSON"},
		{"not JSON", "POST", calls, "text/plain", `{}`, false, 415, "Content type 'text/plain' not supported"},
		{"private display name", "POST", calls, "application/json", `{"to":"+15550000000","from":"+15551112222","applicationId":"` + appID + `","answerUrl":"https://a.test/x","privacy":true,"displayName":"Bob"}`, false, 400, "with privacy, it must be one of"},
		{"uui without encoding", "POST", calls, "application/json", `{"to":"sip:a@b.example.com","from":"+15551112222","applicationId":"` + appID + `","answerUrl":"https://a.test/x","uui":"aGk"}`, false, 400, "needs ;encoding="},
		{"huge", "POST", calls, "application/json", `{"tag":"` + strings.Repeat("a", 2<<20) + `"}`, false, 413, "larger than"},
		{"no auth", "GET", calls, "", "", true, 401, "authentication-error"},
		{"other account", "GET", "/api/v2/accounts/123/calls", "", "", false, 403, "Access is denied"},
		{"unknown call", "GET", calls + "/c-00000000-00000000-0000-0000-0000-000000000000", "", "", false, 404, "not found"},
		{"method not allowed", "DELETE", calls, "", "", false, 405, "Method Not Allowed"},
		{"unknown path", "GET", "/api/v2/nothing", "", "", false, 404, `"path":"/api/v2/nothing"`},
		{"invalid update bxml", "PUT", calls + "/c-00000000-00000000-0000-0000-0000-000000000000/bxml", "application/xml", `<Speak/>`, false, 400, "want <Bxml> or <Response>"},
		{"relative URL in update bxml", "PUT", calls + "/c-00000000-00000000-0000-0000-0000-000000000000/bxml", "application/xml",
			`<Bxml><Redirect redirectUrl="/next"/></Bxml>`, false, 400, "is relative"},
		{"relative URL in conference bxml", "PUT", "/api/v2/accounts/9900000/conferences/conf-00000000-00000000-0000-0000-0000-000000000000/bxml", "application/xml",
			`<Bxml><PlayAudio>hold.wav</PlayAudio></Bxml>`, false, 400, "is relative"},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, srv.URL()+c.path, strings.NewReader(c.body))
		if !c.noAuth {
			req.SetBasicAuth("dev", "dev")
		}
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !bytes.Contains(body, []byte(c.want)) {
			t.Errorf("%s: %d %s; want %d with %q", c.name, resp.StatusCode, body, c.status, c.want)
		}
		if c.status != 404 || c.name == "unknown call" {
			if c.status >= 400 && !strings.HasPrefix(c.name, "unknown path") {
				conforms(t, "voiceApiError", body)
			}
		}
	}
}

func TestListCallsPaging(t *testing.T) {
	srv := startServer(t)
	app := newApp(t, map[string]string{"/answer": `<Response><Hangup/></Response>`})
	var ids []string
	for range 3 {
		id, _ := createCall(t, srv, callFields(app, "+15550000486"))
		ids = append(ids, id)
	}
	status, hdr, body := rest(t, srv, "GET", "/api/v2/accounts/9900000/calls?pageSize=2", "", "")
	if status != 200 || !strings.Contains(hdr.Get("Link"), `rel="next"`) || !bytes.Contains(body, []byte(ids[1])) || bytes.Contains(body, []byte(ids[2])) {
		t.Fatalf("page 1: %d %s %s", status, hdr.Get("Link"), body)
	}
	next := strings.TrimSuffix(strings.TrimPrefix(strings.Split(hdr.Get("Link"), ";")[0], "<"), ">")
	status, hdr, body = rest(t, srv, "GET", strings.TrimPrefix(next, srv.URL()), "", "")
	if status != 200 || hdr.Get("Link") != "" || !bytes.Contains(body, []byte(ids[2])) {
		t.Errorf("page 2: %d %s %s", status, hdr.Get("Link"), body)
	}
}

// TestPlayAudioPlaysForTheFileLength: the engine fetches the audio the app
// names and plays it as long as it lasts; an unplayable format ends the
// call with application-error.
func TestPlayAudioPlaysForTheFileLength(t *testing.T) {
	srv := startServer(t)
	// 1.5 s of 8 kHz µ-law: a 44-byte header and 12 000 bytes of silence.
	var wav bytes.Buffer
	wav.WriteString("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x07\x00\x01\x00\x40\x1f\x00\x00\x40\x1f\x00\x00\x01\x00\x08\x00data\xe0\x2e\x00\x00")
	wav.Write(make([]byte, 12000))
	app := newApp(t, map[string]string{"/answer": `<Response><PlayAudio>/hold.wav</PlayAudio></Response>`})
	audio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(wav.Bytes())
	}))
	defer audio.Close()
	app.replies["/answer"] = `<Response><PlayAudio>` + audio.URL + `/hold.wav</PlayAudio></Response>`
	createCall(t, srv, callFields(app, "+15550000000"))
	d := app.waitFor(t, callback.EventDisconnect, 10*time.Second).event.(*callback.Disconnect)
	if played := d.EndTime.Sub(d.AnswerTime.Time); d.Cause != callback.CauseHangup || played < 1500*time.Millisecond || played > 2500*time.Millisecond {
		t.Errorf("disconnect %s after playing %v, want hangup after about 1.5 s", d.Cause, played)
	}

	ogg := newApp(t, map[string]string{"/answer": `<Response><PlayAudio>/music.ogg</PlayAudio></Response>`})
	createCall(t, srv, callFields(ogg, "+15550000000"))
	d = ogg.waitFor(t, callback.EventDisconnect, 10*time.Second).event.(*callback.Disconnect)
	if d.Cause != callback.CauseApplicationError || d.ErrorMessage == nil || !strings.Contains(*d.ErrorMessage, "unsupported audio format .ogg") {
		t.Errorf("disconnect %+v", d)
	}
}

func TestInboundCall(t *testing.T) {
	app := newApp(t, map[string]string{"/initiate": `<Response><SpeakSentence>Thanks for calling</SpeakSentence><Hangup/></Response>`})
	srv := startServerWith(t, server.Config{InitiateURL: app.URL + "/initiate", StatusURL: app.URL + "/status"})
	status, _, body := rest(t, srv, "POST", "/sim/v1/inbound", "application/json",
		`{"from":"+15557770000","to":"+15550001234","sipHeaders":{"X-Tenant":"acme"},"diversion":{"origTo":"+15558884444","reason":"unavailable"}}`)
	if status != 201 {
		t.Fatalf("inbound: %d %s", status, body)
	}
	var created struct{ CallID string }
	stdjson.Unmarshal(body, &created)
	init := app.waitFor(t, callback.EventInitiate, 5*time.Second)
	in := init.event.(*callback.Initiate)
	if in.CallID != created.CallID || in.Direction != callback.Inbound || in.SIPHeaders["x-tenant"] != "acme" || in.Diversion.OrigTo() != "+15558884444" {
		t.Errorf("initiate %+v", in)
	}
	d := app.waitFor(t, callback.EventDisconnect, 5*time.Second)
	if d.path != "/status" || d.event.(*callback.Disconnect).Cause != callback.CauseHangup {
		t.Errorf("disconnect to %s: %+v", d.path, d.event)
	}
	checkHooks(t, app.got())
	status, _, state := rest(t, srv, "GET", "/api/v2/accounts/9900000/calls/"+created.CallID, "", "")
	if status != 200 || !bytes.Contains(state, []byte(`"direction":"inbound"`)) || !bytes.Contains(state, []byte(`"answerTime":"`)) {
		t.Errorf("GET inbound call: %d %s", status, state)
	}

	if s, _, b := rest(t, srv, "POST", "/sim/v1/inbound", "application/json", `{"from":"+15557770000","to":"+15559999999"}`); s != 404 || !bytes.Contains(b, []byte("No application answers +15559999999")) {
		t.Errorf("unknown number: %d %s", s, b)
	}
	if s, _, b := rest(t, srv, "POST", "/sim/v1/inbound", "application/json", `{"from":"nobody","to":"+15550001000"}`); s != 400 || !bytes.Contains(b, []byte("Invalid from")) {
		t.Errorf("bad caller: %d %s", s, b)
	}
	bare := startServer(t)
	if s, _, b := rest(t, bare, "POST", "/sim/v1/inbound", "application/json", `{"from":"+15557770000","to":"+15550001000"}`); s != 409 || !bytes.Contains(b, []byte("--initiate-url")) {
		t.Errorf("no initiate URL: %d %s", s, b)
	}
	if s, _, b := rest(t, bare, "POST", "/sim/v1/inbound", "application/json", `{"from":"+15557770000","to":"+15550001000","initiateUrl":"/relative"}`); s != 400 || !bytes.Contains(b, []byte(`Invalid initiateUrl`)) {
		t.Errorf("relative initiateUrl: %d %s", s, b)
	}
	// A request may bring the app's URLs: the app under test serves them.
	if s, _, b := rest(t, bare, "POST", "/sim/v1/inbound", "application/json", `{"from":"+15557770000","to":"+15550001000","initiateUrl":"`+app.URL+`/initiate"}`); s != 201 {
		t.Errorf("initiateUrl given: %d %s", s, b)
	}
}

// TestConfiguredAccounts runs the server with two accounts from a config
// file: each reaches only its own calls, createCall needs one of the
// account's applications, and inbound calls follow the application's URLs
// and credentials.
func TestConfiguredAccounts(t *testing.T) {
	app := newApp(t, map[string]string{"/initiate": `<Response><Hangup/></Response>`})
	dir, err := config.Load(strings.NewReader(`
accounts:
  - id: "1000001"
    username: alice
    password: wonderland
    applications:
      - id: 11111111-2222-4333-8444-555555555555
        callInitiatedCallbackUrl: ` + app.URL + `/initiate
        callbackCreds: {userId: hook, password: secret}
        callStatusCallbackUrl: ` + app.URL + `/status
        numbers: ["+15551230000-+15551230099"]
  - id: "1000002"
    username: bob
    password: builder
`))
	if err != nil {
		t.Fatal(err)
	}
	srv := startServerWith(t, server.Config{Accounts: dir})
	call := func(user, pass, account, appID string, from ...string) (int, []byte) {
		body := fmt.Sprintf(`{"from":"%s","to":"+15550000486","applicationId":"%s","answerUrl":"%s/answer"}`, cmp.Or(append(from, "+15551230001")...), appID, app.URL)
		req, _ := http.NewRequest("POST", srv.URL()+"/api/v2/accounts/"+account+"/calls", strings.NewReader(body))
		req.SetBasicAuth(user, pass)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if s, b := call("alice", "wonderland", "1000001", "11111111-2222-4333-8444-555555555555"); s != 201 {
		t.Errorf("alice's own application: %d %s", s, b)
	}
	if s, b := call("alice", "wonderland", "1000001", "11111111-2222-4333-8444-555555555555", "+15551112222"); s != 400 ||
		!bytes.Contains(b, []byte("Invalid from: +15551112222 is not a number of account 1000001")) {
		t.Errorf("a from that is not alice's: %d %s", s, b)
	}
	if s, b := call("alice", "wonderland", "1000001", "04e88489-df02-4e34-a0ee-27a91849555f"); s != 400 || !bytes.Contains(b, []byte("Application id 04e88489-df02-4e34-a0ee-27a91849555f not found")) {
		t.Errorf("an application alice lacks: %d %s", s, b)
	}
	if s, b := call("bob", "builder", "1000001", "11111111-2222-4333-8444-555555555555"); s != 403 {
		t.Errorf("bob in alice's account: %d %s", s, b)
	}
	if s, b := call("dev", "dev", "9900000", "04e88489-df02-4e34-a0ee-27a91849555f"); s != 401 {
		t.Errorf("the dev account with a config file: %d %s", s, b)
	}
	if s, _, b := rest(t, srv, "POST", "/sim/v1/inbound", "application/json", `{"from":"+15557770000","to":"+15551230042"}`); s != 201 {
		t.Fatalf("inbound: %d %s", s, b)
	}
	init := app.waitFor(t, callback.EventInitiate, 5*time.Second)
	if init.auth != "Basic aG9vazpzZWNyZXQ=" || init.event.(*callback.Initiate).AccountID != "1000001" {
		t.Errorf("initiate: auth %q, %+v", init.auth, init.event)
	}
	d := app.waitFor(t, callback.EventDisconnect, 5*time.Second)
	if d.path != "/status" || d.event.(*callback.Disconnect).Cause != callback.CauseRejected {
		t.Errorf("disconnect at %s: %+v", d.path, d.event)
	}
}

// TestInboundTransferToAnAgent is the README's worked example: a caller
// rings the dev application, which transfers the call to an agent; the
// agent hears a whisper, talks, and hangs up; the app then says goodbye.
func TestScheduledInboundCalls(t *testing.T) {
	app := newApp(t, map[string]string{"/initiate": `<Response><SpeakSentence>Hi</SpeakSentence></Response>`})
	startServerWith(t, server.Config{InitiateURL: app.URL + "/initiate", StatusURL: app.URL + "/status",
		Calls: []sim.ScheduledCall{{From: "+15557770000", To: "+15550001000", After: 50 * time.Millisecond,
			Every: 100 * time.Millisecond, Count: 3, SIPHeaders: map[string]string{"x-campaign": "demo"}}}})
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(app.types(), "disconnect") < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // time for a fourth, which must not come
	var initiates, disconnects int
	for _, h := range app.got() {
		switch ev := h.event.(type) {
		case *callback.Initiate:
			initiates++
			if ev.From != "+15557770000" || ev.To != "+15550001000" || ev.SIPHeaders["x-campaign"] != "demo" {
				t.Errorf("initiate from %s to %s, headers %v", ev.From, ev.To, ev.SIPHeaders)
			}
		case *callback.Disconnect:
			disconnects++
			if h.path != "/status" || ev.Cause != callback.CauseHangup {
				t.Errorf("disconnect at %s with cause %s, want /status and hangup", h.path, ev.Cause)
			}
		}
	}
	if initiates != 3 || disconnects != 3 {
		t.Errorf("%d initiates and %d disconnects, want 3 each: %s", initiates, disconnects, app.types())
	}
	checkHooks(t, app.got())

	// A schedule that rings a number nobody answers is refused at start.
	_, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", DB: ":memory:", InitiateURL: app.URL + "/initiate",
		Calls: []sim.ScheduledCall{{From: "+15557770000", To: "+15559990000", Count: 1}}})
	if err == nil || !strings.Contains(err.Error(), "scheduled call from +15557770000 to +15559990000: No application answers +15559990000") {
		t.Errorf("start with a call nobody answers: %v", err)
	}
}

func TestInboundTransferToAnAgent(t *testing.T) {
	app := newApp(t, map[string]string{
		"/initiate": `<Response><SpeakSentence>Connecting you to an agent.</SpeakSentence>` +
			`<Transfer transferCallerId="+15550001000" transferCompleteUrl="/transfer-complete">` +
			`<PhoneNumber transferAnswerUrl="/whisper" transferDisconnectUrl="/agent-gone">+15550000200</PhoneNumber></Transfer></Response>`,
		"/whisper":           `<Response><SpeakSentence>Caller from the website.</SpeakSentence></Response>`,
		"/transfer-complete": `<Response><SpeakSentence>Thanks for calling.</SpeakSentence><Hangup/></Response>`,
	})
	srv := startServerWith(t, server.Config{InitiateURL: app.URL + "/initiate", StatusURL: app.URL + "/status"})
	status, _, body := rest(t, srv, "POST", "/sim/v1/inbound", "application/json", `{"from":"+15557770000","to":"+15550001000"}`)
	if status != 201 {
		t.Fatalf("inbound: %d %s", status, body)
	}
	d := app.waitFor(t, callback.EventDisconnect, 20*time.Second)
	time.Sleep(200 * time.Millisecond)
	if got := app.types(); got != "initiate,transferAnswer,transferDisconnect,transferComplete,disconnect" &&
		got != "initiate,transferAnswer,transferComplete,transferDisconnect,disconnect" {
		t.Errorf("webhooks %s", got)
	}
	var aLeg, bLeg string
	for _, h := range app.got() {
		switch ev := h.event.(type) {
		case *callback.Initiate:
			aLeg = ev.CallID
		case *callback.TransferAnswer:
			bLeg = ev.CallID
			if ev.ParentCallID != aLeg || ev.From != "+15550001000" || ev.To != "+15550000200" || h.path != "/whisper" {
				t.Errorf("transferAnswer %+v at %s", ev, h.path)
			}
		case *callback.TransferComplete:
			if ev.CallID != aLeg || ev.Cause != callback.CauseHangup || ev.TransferTo != "+15550000200" {
				t.Errorf("transferComplete %+v", ev)
			}
		case *callback.TransferDisconnect:
			if ev.CallID != bLeg || ev.ParentCallID != aLeg || ev.Cause != callback.CauseHangup || h.path != "/agent-gone" {
				t.Errorf("transferDisconnect %+v at %s", ev, h.path)
			}
		}
	}
	if disc := d.event.(*callback.Disconnect); disc.CallID != aLeg || disc.Cause != callback.CauseHangup || d.path != "/status" {
		t.Errorf("disconnect %+v at %s", disc, d.path)
	}
	checkHooks(t, app.got())
	if s, _, b := rest(t, srv, "GET", "/api/v2/accounts/9900000/calls/"+bLeg, "", ""); s != 200 || !bytes.Contains(b, []byte(`"parentCallId":"`+aLeg+`"`)) {
		t.Errorf("GET B-leg: %d %s", s, b)
	}
}

// TestBridgeBothWays bridges two calls over HTTP twice: once the target
// hangs up (bridgeComplete on the originator), once the originator does
// (bridgeTargetComplete on the target).
func TestBridgeBothWays(t *testing.T) {
	srv := startServer(t)
	for _, who := range []string{"target", "originator"} {
		t.Run(who+" hangs up", func(t *testing.T) {
			app := newApp(t, map[string]string{
				"/target-answer": `<Response><Pause duration="60"/></Response>`,
				"/bc":            `<Response><SpeakSentence>They left.</SpeakSentence></Response>`,
				"/btc":           `<Response><SpeakSentence>They left.</SpeakSentence></Response>`,
			})
			tf := callFields(app, "+15550000000")
			tf["answerUrl"] = app.URL + "/target-answer"
			target, _ := createCall(t, srv, tf)
			app.waitFor(t, callback.EventAnswer, 5*time.Second)
			app.mu.Lock()
			app.replies["/origin-answer"] = `<Response><Bridge bridgeCompleteUrl="/bc" bridgeTargetCompleteUrl="/btc">` + target + `</Bridge></Response>`
			app.mu.Unlock()
			of := callFields(app, "+15550000000")
			of["answerUrl"] = app.URL + "/origin-answer"
			origin, _ := createCall(t, srv, of)
			deadline := time.Now().Add(5 * time.Second)
			for strings.Count(app.types(), "answer") < 2 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond)
			leaver, stayer, event := target, origin, callback.EventBridgeComplete
			if who == "originator" {
				leaver, stayer, event = origin, target, callback.EventBridgeTargetComplete
			}
			if s, _, b := rest(t, srv, "POST", "/sim/v1/calls/"+leaver+"/hangup", "", ""); s != 204 {
				t.Fatalf("sim hangup: %d %s", s, b)
			}
			got := app.waitFor(t, event, 5*time.Second)
			if ce := got.event.(callback.CallEvent); ce.CallLeg().CallID != stayer {
				t.Errorf("%s went to %s, want the call that stayed, %s", event, ce.CallLeg().CallID, stayer)
			}
			deadline = time.Now().Add(5 * time.Second)
			for strings.Count(app.types(), "disconnect") < 2 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := strings.Count(app.types(), "disconnect"); n != 2 {
				t.Errorf("%d disconnects (%s), want one per call", n, app.types())
			}
			if strings.Contains(app.types(), "bridgeComplete") && strings.Contains(app.types(), "bridgeTargetComplete") {
				t.Errorf("both completion events were sent: %s", app.types())
			}
			checkHooks(t, app.got())
		})
	}
}
