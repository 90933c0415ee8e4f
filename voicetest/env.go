// Package voicetest tests a voice app written for the Bandwidth Voice API.
//
// New runs voicehook in process — engine, simulated phones, an in-memory
// store — on the virtual clock of [testing/synctest], and delivers its
// webhooks straight to the app's http.Handler: no sockets, no real waiting.
// A ten-minute call with pauses and timeouts runs in milliseconds.
//
//	func TestMenu(t *testing.T) {
//		synctest.Test(t, func(t *testing.T) {
//			v := voicetest.New(t, app, voicetest.Options{})
//			call := v.Inbound("+15557770000", "+15550001000")
//			call.WaitFor("gather")
//			v.Run()
//			call.WantCause("hangup")
//		})
//	}
//
// The test places calls (PlaceCall, Inbound), drives the far end (Press,
// Say, HangUp, or a scripted [Phone]), lets time pass (Advance, Run,
// WaitFor) and looks at what happened: the webhooks the app received with
// its replies, the verbs the engine ran, the call's cause. When a test
// fails, the timeline of every call goes to the test log.
//
// Connect runs the same test against a running voicehook serve over HTTP,
// with the app served on a loopback port: one test body, two modes.
package voicetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/phone/sim"
	"github.com/voicehook/voicehook/internal/server"
	"github.com/voicehook/voicehook/internal/tts"
)

// Options configure an Env. The zero value is ready to use.
type Options struct {
	// Phones script the far ends by number: the phones the app calls and
	// the callers of Inbound. Other numbers answer after a second and
	// wait; voicehook's magic numbers (+15550000486 is busy, …) behave as
	// the README says. With Connect they are set on the server for the
	// test (PUT /sim/v1/phones/{number}) and reset after it: tests that
	// run at once against one server must use numbers of their own.
	Phones map[string]Phone
	// InitiateURL receives inbound calls: a path on the app or an absolute
	// URL. Default "/initiate".
	InitiateURL string
	// StatusURL receives the disconnect of inbound calls, as an
	// application's call-status URL does. Default: none (voicetest still
	// learns how each call ended).
	StatusURL string
	// Limit bounds every wait (Run, Wait, WaitFor), in clock time: virtual
	// time in process. Default one hour.
	Limit time.Duration
	// Logger receives the engine's logs (in process). Default: discarded.
	Logger *slog.Logger
	// AccountID, Username and Password are the account the calls are made
	// in; defaults "9900000", "dev" and "dev", voicehook's dev account.
	AccountID, Username, Password string
	// Bot serves the WebSocket destinations of the app's media streams
	// (<StartStream>), whatever their host: a voice bot's endpoint. In
	// process it is reached over in-memory connections on the virtual
	// clock; with Connect, on a loopback port (Env.StreamURL). Default: the
	// app, which then serves its webhooks and its bot.
	Bot http.Handler
	// WebhookSecrets sign every webhook to the app (Standard Webhooks), as
	// --webhook-secret does: "whsec_" and base64 each, two during a
	// rotation. Give the app's own secrets so that an app that verifies
	// signatures (webhook.WithSigningSecrets) accepts what voicetest sends
	// it. In process only: with Connect the server signs with the secrets
	// it was started with. Default: unsigned.
	WebhookSecrets []string
}

// streamBatch is how many 20 ms frames a simulated call's stream sends at
// once in process: on the virtual clock nobody sees the bursts, and a
// bot's conversation costs a 25th of the wake-ups.
const streamBatch = 25

// ended is where voicetest learns that a call ended when the app did not
// ask for its disconnect: it is answered here and never reaches the app.
const ended = "/.voicetest/ended"

// Env is voicehook with the app under test. Its methods are meant for the
// test's goroutine.
type Env struct {
	t      testing.TB
	opts   Options
	app    http.Handler
	appURL string       // where voicehook reaches the app
	apiURL string       // voicehook's base URL
	client *http.Client // to voicehook
	bubble bool         // in process, in a synctest bubble
	botURL string       // where voicehook reaches the bot: ws://host
	// inflight counts the in-process requests being served.
	inflight sync.WaitGroup

	mu      sync.Mutex
	calls   []*Call
	byID    map[string]*Call
	hooks   []*Webhook
	changed chan struct{} // closed and replaced when a webhook arrives
}

// New starts voicehook in process for app. It must be called inside
// [synctest.Test] (the engine's timers run on its virtual clock); the
// engine stops when the test ends.
//
// Webhook URLs that are paths ("/answer") go to app; absolute URLs do too,
// whatever their host: nothing leaves the process. Requests the app makes
// to the voicehook API go through [Env.Client] and [Env.URL].
func New(t testing.TB, app http.Handler, opts Options) *Env {
	t.Helper()
	if !inBubble() {
		t.Fatal("voicetest.New: not inside a synctest bubble: wrap the test in synctest.Test(t, func(t *testing.T) { … }), or use voicetest.Connect for a running voicehook")
	}
	e := newEnv(t, app, opts)
	e.bubble = true
	e.appURL = "http://app.voicetest"
	phones := make(map[string]sim.Script, len(opts.Phones))
	for number, p := range opts.Phones {
		s, err := p.script()
		if err != nil {
			t.Fatalf("voicetest.New: phone %s: %v", number, err)
		}
		phones[number] = s
	}
	e.botURL = "ws://bot.voicetest"
	bot := newPipes(e.bot())
	srv, err := server.Open(context.Background(), server.Config{
		DB: ":memory:", BaseURL: "http://voicehook.voicetest", Phones: phones, Logger: opts.Logger,
		AccountID: e.opts.AccountID, Username: e.opts.Username, Password: e.opts.Password,
		InitiateURL: e.resolve(e.opts.InitiateURL), StatusURL: e.resolve(e.statusURL()), WebhookSecrets: e.opts.WebhookSecrets,
		Client:       &http.Client{Transport: handlerTransport{http.HandlerFunc(e.serveApp), &e.inflight}},
		StreamClient: bot.client(),
		StreamBatch:  streamBatch,
		SimVoice:     tts.Babble{},
	})
	if err != nil {
		bot.close()
		t.Fatalf("voicetest.New: %v", err)
	}
	e.apiURL = srv.URL()
	e.client = &http.Client{Transport: handlerTransport{srv.Handler(), &e.inflight}}
	t.Cleanup(func() {
		e.report()
		if err := srv.Close(context.Background()); err != nil {
			t.Errorf("voicetest: stopping voicehook: %v", err)
		}
		bot.close()
		e.inflight.Wait()
	})
	return e
}

// Connect points a test at a running voicehook serve at serverURL
// ("http://127.0.0.1:8080"), serving app on a loopback port for it. Time is
// real: keep the calls short.
func Connect(t testing.TB, serverURL string, app http.Handler, opts Options) *Env {
	t.Helper()
	e := newEnv(t, app, opts)
	e.apiURL = strings.TrimSuffix(serverURL, "/")
	e.client = &http.Client{Timeout: 30 * time.Second}
	appSrv := httptest.NewServer(http.HandlerFunc(e.serveApp))
	e.appURL = appSrv.URL
	botSrv := appSrv
	if opts.Bot != nil {
		botSrv = httptest.NewServer(opts.Bot)
	}
	e.botURL = "ws://" + strings.TrimPrefix(botSrv.URL, "http://")
	t.Cleanup(func() {
		e.report()
		for number := range opts.Phones {
			e.do("DELETE", "/sim/v1/phones/"+url.PathEscape(number), nil)
		}
		appSrv.Close()
		if botSrv != appSrv {
			botSrv.Close()
		}
	})
	status, body, err := e.do("GET", e.accountPath("/calls?pageSize=1"), nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("voicetest.Connect: no voicehook at %s for account %s: %s", serverURL, e.opts.AccountID, describe(status, body, err))
	}
	for number, p := range opts.Phones {
		if _, err := p.script(); err != nil {
			t.Fatalf("voicetest.Connect: phone %s: %v", number, err)
		}
		status, body, err := e.do("PUT", "/sim/v1/phones/"+url.PathEscape(number), p.fields())
		if err != nil || status != http.StatusNoContent {
			t.Fatalf("voicetest.Connect: phone %s: %s", number, describe(status, body, err))
		}
	}
	return e
}

func newEnv(t testing.TB, app http.Handler, opts Options) *Env {
	if opts.InitiateURL == "" {
		opts.InitiateURL = "/initiate"
	}
	if opts.Limit <= 0 {
		opts.Limit = time.Hour
	}
	if opts.AccountID == "" {
		opts.AccountID = server.DefaultAccountID
	}
	if opts.Username == "" {
		opts.Username = server.DefaultUsername
	}
	if opts.Password == "" {
		opts.Password = server.DefaultPassword
	}
	return &Env{t: t, opts: opts, app: app, byID: map[string]*Call{}, changed: make(chan struct{})}
}

// inBubble reports whether the caller runs in a synctest bubble.
func inBubble() (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	synctest.Wait()
	return true
}

// URL is voicehook's base URL: the API is under URL()+"/api/v2".
func (e *Env) URL() string { return e.apiURL }

// AppURL is where voicehook reaches the app; webhook paths are resolved
// against it.
func (e *Env) AppURL() string { return e.appURL }

// StreamURL is the WebSocket URL of path on the bot (Options.Bot, or the
// app): the destination to give <StartStream>. In process any host
// reaches the bot; with Connect only this one does.
func (e *Env) StreamURL(path string) string { return e.botURL + path }

// bot is what serves the streams' destinations.
func (e *Env) bot() http.Handler {
	if e.opts.Bot != nil {
		return e.opts.Bot
	}
	return e.app
}

// Client reaches voicehook (in process, without a socket) for an app that
// calls the API itself: give it to the app, with URL as the base.
func (e *Env) Client() *http.Client { return e.client }

// accountPath is p under the API path of the test's account,
// "/api/v2/accounts/9900000" + p.
func (e *Env) accountPath(p string) string { return "/api/v2/accounts/" + e.opts.AccountID + p }

// statusURL is where inbound calls' disconnect goes: the app's status
// URL, or voicetest's own.
func (e *Env) statusURL() string {
	if e.opts.StatusURL == "" {
		return ended
	}
	return e.opts.StatusURL
}

// resolve turns a path on the app into the URL voicehook calls.
func (e *Env) resolve(u string) string {
	if strings.HasPrefix(u, "/") {
		return e.appURL + u
	}
	return u
}

// CallRequest is a call for PlaceCall to place: the fields of the API's
// createCall that tests use most, and Extra for the rest.
type CallRequest struct {
	// From is the caller id; default "+15550001000".
	From string
	// To is the number or SIP URI to call (required).
	To string
	// AnswerURL gets the answer webhook: a path on the app or an absolute
	// URL. Default "/answer".
	AnswerURL string
	// DisconnectURL gets the disconnect webhook; default none (voicetest
	// still learns how the call ended).
	DisconnectURL string
	// Tag is the call's tag.
	Tag string
	// CallTimeout is how long the call rings before timing out; default
	// the API's, 30 s.
	CallTimeout time.Duration
	// Extra holds more createCall fields by their JSON names:
	// "machineDetection", "answerMethod", "callbackTimeout", …
	Extra map[string]any
}

// PlaceCall creates an outbound call with the API, as the app would, and
// fails the test if voicehook refuses it.
func (e *Env) PlaceCall(r CallRequest) *Call {
	e.t.Helper()
	if r.From == "" {
		r.From = "+15550001000"
	}
	if r.AnswerURL == "" {
		r.AnswerURL = "/answer"
	}
	if r.DisconnectURL == "" {
		r.DisconnectURL = ended
	}
	body := map[string]any{"from": r.From, "to": r.To, "applicationId": "00000000-0000-4000-8000-000000000000",
		"answerUrl": e.resolve(r.AnswerURL), "disconnectUrl": e.resolve(r.DisconnectURL)}
	if r.Tag != "" {
		body["tag"] = r.Tag
	}
	if r.CallTimeout > 0 {
		body["callTimeout"] = r.CallTimeout.Seconds()
	}
	for k, v := range r.Extra {
		body[k] = e.resolveField(k, v)
	}
	return e.create("PlaceCall", e.accountPath("/calls"), body, "outbound", r.From, r.To)
}

// resolveField resolves app paths in the URL fields of Extra.
func (e *Env) resolveField(name string, v any) any {
	switch v := v.(type) {
	case string:
		if strings.HasSuffix(name, "Url") {
			return e.resolve(v)
		}
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = e.resolveField(k, x)
		}
		return out
	}
	return v
}

// Inbound makes the phone from call to, a number of the account's
// application (voicehook's dev application answers +15550001000 to
// +15550001999): the app gets the initiate webhook at
// Options.InitiateURL. The caller follows its script in Options.Phones.
func (e *Env) Inbound(from, to string) *Call {
	e.t.Helper()
	body := map[string]any{"from": from, "to": to,
		"initiateUrl": e.resolve(e.opts.InitiateURL), "statusUrl": e.resolve(e.statusURL())}
	return e.create("Inbound", "/sim/v1/inbound", body, "inbound", from, to)
}

func (e *Env) create(what, path string, body map[string]any, direction, from, to string) *Call {
	e.t.Helper()
	status, resp, err := e.do("POST", path, body)
	if err != nil || status != http.StatusCreated {
		e.t.Fatalf("%s(%s → %s): %s", what, from, to, describe(status, resp, err))
	}
	var created struct {
		CallID string `json:"callId"`
	}
	if err := json.Unmarshal(resp, &created); err != nil || created.CallID == "" {
		e.t.Fatalf("%s: no call id in %s", what, resp)
	}
	e.mu.Lock()
	c := e.callLocked(created.CallID)
	c.Direction, c.From, c.To, c.placed = direction, from, to, true
	e.mu.Unlock()
	e.settle()
	return c
}

// callLocked returns the call with id, new if unknown. e.mu is held.
func (e *Env) callLocked(id string) *Call {
	c := e.byID[id]
	if c == nil {
		c = &Call{e: e, ID: id, done: make(chan struct{}), cursor: map[string]int{}}
		e.byID[id] = c
		e.calls = append(e.calls, c)
	}
	return c
}

// Calls are every call the test has seen: those it placed and the legs the
// app's BXML created (transfers), in the order they appeared.
func (e *Env) Calls() []*Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*Call(nil), e.calls...)
}

// Webhooks are every webhook the app received, in order.
func (e *Env) Webhooks() []*Webhook {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*Webhook(nil), e.hooks...)
}

// Advance lets d of clock time pass, with everything it brings: digits,
// timeouts, webhooks.
func (e *Env) Advance(d time.Duration) {
	time.Sleep(d)
	e.settle()
}

// Run lets time pass until every call has ended, and fails the test if one
// is still up after Options.Limit.
func (e *Env) Run() {
	e.t.Helper()
	if !e.waitUntil(func() bool {
		for _, c := range e.calls {
			if !c.endedLocked() {
				return false
			}
		}
		return true
	}) {
		e.t.Fatalf("Run: calls still up after %v:\n%s", e.opts.Limit, e.liveCalls())
	}
}

func (e *Env) liveCalls() string {
	var b strings.Builder
	for _, c := range e.Calls() {
		if !c.Ended() {
			b.WriteString(c.Timeline())
		}
	}
	return b.String()
}

// waitUntil lets time pass until cond, called with e.mu held, holds; false
// after Options.Limit.
func (e *Env) waitUntil(cond func() bool) bool {
	limit := time.NewTimer(e.opts.Limit)
	defer limit.Stop()
	for {
		e.mu.Lock()
		ok, changed := cond(), e.changed
		e.mu.Unlock()
		if ok {
			e.settle()
			return true
		}
		select {
		case <-changed:
		case <-limit.C:
			return false
		}
	}
}

// settle waits for the engine to act on what just happened: in process,
// until every goroutine is idle; against a server, a moment.
func (e *Env) settle() {
	if e.bubble {
		synctest.Wait()
		return
	}
	time.Sleep(50 * time.Millisecond)
}

// report logs every call's timeline when the test failed.
func (e *Env) report() {
	if !e.t.Failed() {
		return
	}
	for _, c := range e.Calls() {
		e.t.Log("\n" + c.Timeline())
	}
}

// do calls the voicehook API; /api/v2 paths carry the account's
// credentials.
func (e *Env) do(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.apiURL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/sim/") {
		req.SetBasicAuth(e.opts.Username, e.opts.Password)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, out, err
}

func describe(status int, body []byte, err error) string {
	if err != nil {
		return err.Error()
	}
	var apiErr struct {
		Description string `json:"description"`
	}
	if json.Unmarshal(body, &apiErr) == nil && apiErr.Description != "" {
		return fmt.Sprintf("%d %s", status, apiErr.Description)
	}
	return fmt.Sprintf("%d %s", status, bytes.TrimSpace(body))
}

// serveApp hands a webhook to the app and keeps it, with the reply.
func (e *Env) serveApp(w http.ResponseWriter, r *http.Request) {
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		e.bot().ServeHTTP(w, r) // a stream's socket: no webhook to record
		return
	}
	at := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, callback.MaxBodySize+1))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var ev callback.Event
	if r.Method == http.MethodGet {
		ev, err = callback.DecodeQuery(r.URL.Query())
	} else {
		ev, err = callback.Decode(body)
	}
	// Requests that are no callback at all (the engine fetching a
	// PlayAudio file) go to the app unrecorded.
	webhook := ev != nil && !errors.Is(err, callback.ErrMissingEventType)
	rec := httptest.NewRecorder()
	internal := r.URL.Path == ended
	if internal {
		rec.WriteHeader(http.StatusNoContent)
	} else {
		r.Body = io.NopCloser(bytes.NewReader(body))
		e.app.ServeHTTP(rec, r)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
	if webhook {
		e.record(&Webhook{Time: at, Method: r.Method, URL: "http://" + r.Host + r.URL.RequestURI(), Path: r.URL.Path,
			Body: body, Event: ev, Status: rec.Code, Reply: rec.Body.String(), internal: internal})
	}
}

// record keeps a webhook and wakes whoever waits for one.
func (e *Env) record(h *Webhook) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if h.Event != nil {
		h.Type = string(h.Event.Type())
		if ce, ok := h.Event.(callback.CallEvent); ok {
			h.CallID = ce.CallLeg().CallID
		}
	}
	if !h.internal {
		e.hooks = append(e.hooks, h)
	}
	if h.CallID != "" {
		c := e.callLocked(h.CallID)
		if !h.internal {
			c.hooks = append(c.hooks, h)
		}
		c.learn(h)
	}
	close(e.changed)
	e.changed = make(chan struct{})
}

// handlerTransport serves requests with a handler, in process. A request
// whose context ends first fails as a timed-out request would.
// Cleanup waits for handlers still running after their request gave up
// (inflight), so that the bubble ends with no goroutine left.
type handlerTransport struct {
	h        http.Handler
	inflight *sync.WaitGroup
}

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	req := r.Clone(r.Context())
	// As a server sees it: the path and query in URL, the host in Host.
	req.RequestURI = r.URL.RequestURI()
	req.URL = &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	req.RemoteAddr = "192.0.2.1:1024"
	if req.Body == nil {
		req.Body = http.NoBody
	}
	if req.Host == "" {
		req.Host = r.URL.Host
	}
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	t.inflight.Add(1)
	go func() {
		defer t.inflight.Done()
		defer close(done)
		t.h.ServeHTTP(rec, req)
	}()
	select {
	case <-done:
		return rec.Result(), nil
	case <-r.Context().Done():
		return nil, &url.Error{Op: r.Method, URL: r.URL.String(), Err: r.Context().Err()}
	}
}
