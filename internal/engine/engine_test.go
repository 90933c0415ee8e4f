package engine_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
)

// memStore is an in-memory engine.Store for the engine's unit tests.
type memStore struct {
	mu      sync.Mutex
	calls   map[string]*engine.Call
	order   []string
	history map[string][]engine.HistoryEntry
	outbox  []engine.QueuedWebhook
	nextID  int64
}

func newMemStore() *memStore {
	return &memStore{calls: map[string]*engine.Call{}, history: map[string][]engine.HistoryEntry{}}
}

func (m *memStore) SaveCall(_ context.Context, c *engine.Call) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.calls[c.CallID]; !ok {
		m.order = append(m.order, c.CallID)
	}
	cp := *c
	m.calls[c.CallID] = &cp
	return nil
}

func (m *memStore) GetCall(_ context.Context, account, id string) (*engine.Call, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.calls[id]
	if !ok || c.AccountID != account {
		return nil, engine.ErrNotFound
	}
	cp := *c
	return &cp, nil
}

func (m *memStore) ListCalls(_ context.Context, f engine.CallFilter) ([]*engine.Call, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*engine.Call
	for _, id := range m.order {
		cp := *m.calls[id]
		out = append(out, &cp)
	}
	return out, nil
}

func (m *memStore) LiveCalls(_ context.Context) ([]*engine.Call, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*engine.Call
	for _, id := range m.order {
		if c := m.calls[id]; c.State != engine.StateDisconnected {
			cp := *c
			out = append(out, &cp)
		}
	}
	return out, nil
}

func (m *memStore) AppendHistory(_ context.Context, entries ...engine.HistoryEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range entries {
		m.history[e.CallID] = append(m.history[e.CallID], e)
	}
	return nil
}

func (m *memStore) Write(ctx context.Context, w engine.Write) ([]int64, error) {
	if w.Call != nil {
		m.SaveCall(ctx, w.Call)
	}
	m.AppendHistory(ctx, w.History...)
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []int64
	for _, q := range w.Enqueue {
		m.nextID++
		q.ID = m.nextID
		m.outbox = append(m.outbox, q)
		ids = append(ids, q.ID)
	}
	return ids, nil
}

func (m *memStore) Queued(context.Context) ([]engine.QueuedWebhook, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.outbox), nil
}

func (m *memStore) Delivered(_ context.Context, id int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.outbox = slices.DeleteFunc(m.outbox, func(q engine.QueuedWebhook) bool { return q.ID == id })
	return nil
}

func (m *memStore) History(_ context.Context, id string) ([]engine.HistoryEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.history[id]), nil
}

// delivered is a webhook as the app saw it.
type delivered struct {
	at     time.Duration // since the call was created
	event  callback.Event
	target engine.Target
	hook   engine.Webhook
}

// app is a fake Sender that hands every webhook to a function standing for
// the customer's app, in process.
type app struct {
	start  time.Time
	mu     sync.Mutex
	got    []delivered
	handle func(ev callback.Event, t engine.Target) (string, error)
	// slow, if set, is how long delivering an asynchronous webhook takes.
	slow func(ev callback.Event) time.Duration
	// failures is how many deliveries of asynchronous webhooks fail first.
	failures int
}

func (a *app) record(w engine.Webhook) {
	a.mu.Lock()
	a.got = append(a.got, delivered{time.Since(a.start), w.Event, w.Target, w})
	a.mu.Unlock()
}

func (a *app) Send(_ context.Context, w engine.Webhook) (engine.Reply, error) {
	a.record(w)
	body, err := a.handle(w.Event, w.Target)
	if err != nil {
		return engine.Reply{}, &engine.DeliveryError{Reason: err.Error()}
	}
	return engine.Reply{Body: []byte(body), URL: w.Target.URL}, nil
}

func (a *app) Notify(_ context.Context, w engine.Webhook, done func([]engine.Attempt)) error {
	if a.slow == nil {
		a.record(w)
		a.mu.Lock()
		attempt := engine.Attempt{URL: w.Target.URL, Status: 204}
		if a.failures > 0 {
			a.failures--
			attempt = engine.Attempt{URL: w.Target.URL, Status: 500, Err: "500 Internal Server Error"}
		}
		a.mu.Unlock()
		if done != nil {
			done([]engine.Attempt{attempt})
		}
		return nil
	}
	go func() {
		time.Sleep(a.slow(w.Event))
		a.record(w)
		if done != nil {
			done(nil)
		}
	}()
	return nil
}

func (a *app) events() []delivered {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.got)
}

// harness is an engine with simulated phones and an in-process app.
type harness struct {
	t     *testing.T
	eng   *engine.Engine
	store *memStore
	app   *app
	net   *sim.Network
}

func newHarness(t *testing.T, scripts map[string]sim.Script, handle func(callback.Event, engine.Target) (string, error), media ...engine.Media) *harness {
	return newHarnessWith(t, scripts, handle, nil, media...)
}

// newHarnessWith lets edit change the engine's configuration first.
func newHarnessWith(t *testing.T, scripts map[string]sim.Script, handle func(callback.Event, engine.Target) (string, error),
	edit func(*engine.Config), media ...engine.Media) *harness {
	h := &harness{t: t, store: newMemStore(), app: &app{start: time.Now(), handle: handle}}
	h.net = sim.New(engine.RealClock{}, scripts)
	cfg := engine.Config{Clock: engine.RealClock{}, Store: h.store, Sender: h.app, Network: h.net,
		BaseURL: "http://voicehook.test/api/v2"}
	if len(media) > 0 {
		cfg.Media = media[0]
	}
	if edit != nil {
		edit(&cfg)
	}
	eng, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.eng = eng
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h
}

// call places a call and returns its id.
func (h *harness) call(to string, edit func(*engine.Call)) string {
	c := engine.Call{AccountID: "9900000", ApplicationID: "04e88489-df02-4e34-a0ee-27a91849555f",
		From: "+15551112222", To: to, AnswerURL: "https://app.test/answer", DisconnectURL: "https://app.test/disconnect"}
	if edit != nil {
		edit(&c)
	}
	created, err := h.eng.CreateCall(context.Background(), c)
	if err != nil {
		h.t.Fatal(err)
	}
	return created.CallID
}

// settle lets virtual time run until no call is live, at most limit.
func (h *harness) settle(limit time.Duration) {
	deadline := time.Now().Add(limit)
	for h.eng.Live() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	synctest.Wait()
}

func (h *harness) close() {
	if err := h.eng.Shutdown(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// summary renders the webhooks as "type@seconds" lines, with the cause of
// a disconnect and the digits of a gather.
func summary(got []delivered) string {
	var b strings.Builder
	for _, d := range got {
		fmt.Fprintf(&b, "%s@%gs", d.event.Type(), d.at.Seconds())
		switch ev := d.event.(type) {
		case *callback.Disconnect:
			fmt.Fprintf(&b, " cause=%s", ev.Cause)
			if ev.SIPResponseCode != 0 {
				fmt.Fprintf(&b, " sip=%d", ev.SIPResponseCode)
			}
		case *callback.Gather:
			fmt.Fprintf(&b, " digits=%q term=%q", ev.Digits, ev.TerminatingDigit)
		case *callback.DTMF:
			fmt.Fprintf(&b, " digit=%s", ev.Digit)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// replies answers webhooks by the URL they go to.
func replies(byURL map[string]string) func(callback.Event, engine.Target) (string, error) {
	return func(ev callback.Event, t engine.Target) (string, error) {
		body, ok := byURL[t.URL]
		if !ok {
			return "", fmt.Errorf("POST %s: 404 Not Found", t.URL)
		}
		return body, nil
	}
}

const hangup = `<Response><Hangup/></Response>`

func TestCallScenarios(t *testing.T) {
	cases := []struct {
		name    string
		to      string
		scripts map[string]sim.Script
		edit    func(*engine.Call)
		app     map[string]string
		delay   time.Duration // the app takes this long to answer
		want    string
	}{
		{name: "answer then hangup", to: "+15550000000", app: map[string]string{"https://app.test/answer": hangup},
			want: "answer@1s\ndisconnect@1s cause=hangup\n"},
		{name: "any number answers", to: "+14155550123", app: map[string]string{"https://app.test/answer": hangup},
			want: "answer@1s\ndisconnect@1s cause=hangup\n"},
		{name: "busy", to: "+15550000486", want: "disconnect@0.5s cause=busy sip=486\n"},
		{name: "declines", to: "+15550000603", want: "disconnect@1s cause=rejected sip=603\n"},
		{name: "the far end fails", to: "+15550000500", want: "disconnect@0.5s cause=error sip=500\n"},
		{name: "the far end fails unexplained", to: "+15550000699", want: "disconnect@0.5s cause=unknown sip=699\n"},
		{name: "rings out at callTimeout", to: "+15550000408", edit: func(c *engine.Call) { c.CallTimeout = 7 * time.Second },
			want: "disconnect@7s cause=timeout\n"},
		{name: "callee hangs up after 5 s", to: "+15550000200",
			app:  map[string]string{"https://app.test/answer": `<Response><Pause duration="600"/></Response>`},
			want: "answer@1s\ndisconnect@6s cause=hangup\n"},
		{name: "implicit hangup after the last verb", to: "+15550000000",
			app:  map[string]string{"https://app.test/answer": `<Response><Pause duration="2.5"/><Ring duration="1"/></Response>`},
			want: "answer@1s\ndisconnect@4.5s cause=hangup\n"},
		{name: "empty reply hangs up", to: "+15550000000", app: map[string]string{"https://app.test/answer": ""},
			want: "answer@1s\ndisconnect@1s cause=hangup\n"},
		{name: "invalid BXML", to: "+15550000000", app: map[string]string{"https://app.test/answer": `<Response><Pause duration="-1"/></Response>`},
			want: "answer@1s\ndisconnect@1s cause=invalid-bxml\n"},
		{name: "callback error", to: "+15550000000", app: map[string]string{},
			want: "answer@1s\ndisconnect@1s cause=callback-error\n"},
		{name: "unsupported verb", to: "+15550000000",
			app:  map[string]string{"https://app.test/answer": `<Response><Record/></Response>`},
			want: "answer@1s\ndisconnect@1s cause=application-error\n"},
		{name: "unsupported audio", to: "+15550000000",
			app:  map[string]string{"https://app.test/answer": `<Response><PlayAudio>https://a.test/x.ogg</PlayAudio></Response>`},
			want: "answer@1s\ndisconnect@1s cause=application-error\n"},
		{name: "redirect", to: "+15550000000", app: map[string]string{
			"https://app.test/answer": `<Response><SpeakSentence>Hello there</SpeakSentence><Redirect redirectUrl="/next"/></Response>`,
			"https://app.test/next":   hangup},
			want: "answer@1s\nredirect@1.733333333s\ndisconnect@1.733333333s cause=hangup\n"},
		{name: "gather with a terminating digit", to: "+1555",
			scripts: map[string]sim.Script{"+1555": {GatherDigits: "12#"}},
			app: map[string]string{
				"https://app.test/answer": `<Response><Gather gatherUrl="/g" terminatingDigits="#"/></Response>`,
				"https://app.test/g":      hangup},
			want: "answer@1s\ngather@1.9s digits=\"12\" term=\"#\"\ndisconnect@1.9s cause=hangup\n"},
		{name: "gather times out with nothing", to: "+15550000000", app: map[string]string{
			"https://app.test/answer": `<Response><Gather gatherUrl="/g" firstDigitTimeout="3"/></Response>`,
			"https://app.test/g":      hangup},
			want: "answer@1s\ngather@4s digits=\"\" term=\"\"\ndisconnect@4s cause=hangup\n"},
		{name: "gather stops at maxDigits", to: "+1555",
			scripts: map[string]sim.Script{"+1555": {GatherDigits: "1234"}},
			app: map[string]string{
				"https://app.test/answer": `<Response><Gather gatherUrl="/g" maxDigits="2"/></Response>`,
				"https://app.test/g":      hangup},
			want: "answer@1s\ngather@1.6s digits=\"12\" term=\"\"\ndisconnect@1.6s cause=hangup\n"},
		{name: "gather interdigit timeout", to: "+1555",
			scripts: map[string]sim.Script{"+1555": {GatherDigits: "7"}},
			app: map[string]string{
				"https://app.test/answer": `<Response><Gather gatherUrl="/g" interDigitTimeout="2"/></Response>`,
				"https://app.test/g":      hangup},
			want: "answer@1s\ngather@3.3s digits=\"7\" term=\"\"\ndisconnect@3.3s cause=hangup\n"},
		{name: "gather prompts play first", to: "+15550000000", app: map[string]string{
			"https://app.test/answer": `<Response><Gather gatherUrl="/g" firstDigitTimeout="2"><PlayAudio>/menu.wav</PlayAudio></Gather></Response>`,
			"https://app.test/g":      hangup},
			want: "answer@1s\ngather@6s digits=\"\" term=\"\"\ndisconnect@6s cause=hangup\n"},
		{name: "gather without url continues", to: "+15550000000", app: map[string]string{
			"https://app.test/answer": `<Response><Gather firstDigitTimeout="1"/><Pause duration="2"/></Response>`},
			want: "answer@1s\ndisconnect@4s cause=hangup\n"},
		{name: "start gather reports each digit", to: "+1555",
			scripts: map[string]sim.Script{"+1555": {Digits: "42", DigitsAfter: time.Second}},
			app: map[string]string{
				"https://app.test/answer": `<Response><StartGather dtmfUrl="/dtmf"/><Pause duration="5"/></Response>`},
			want: "answer@1s\ndtmf@2.3s digit=4\ndtmf@2.6s digit=2\ndisconnect@6s cause=hangup\n"},
		{name: "digits without a gather are ignored", to: "+1555",
			scripts: map[string]sim.Script{"+1555": {Digits: "9"}},
			app:     map[string]string{"https://app.test/answer": `<Response><Pause duration="2"/></Response>`},
			want:    "answer@1s\ndisconnect@3s cause=hangup\n"},
		{name: "send dtmf takes its time", to: "+15550000000", app: map[string]string{
			"https://app.test/answer": `<Response><SendDtmf toneDuration="100" toneInterval="100">12w</SendDtmf></Response>`},
			want: "answer@1s\ndisconnect@1.9s cause=hangup\n"},
		{name: "no disconnect url, no disconnect", to: "+15550000486", edit: func(c *engine.Call) { c.DisconnectURL = "" },
			want: ""},
		{name: "far end hangs up while the answer webhook is out", to: "+1555",
			scripts: map[string]sim.Script{"+1555": {HangupAfter: 500 * time.Millisecond}},
			app:     map[string]string{"https://app.test/answer": `<Response><Pause duration="10"/></Response>`},
			delay:   2 * time.Second,
			want:    "answer@1s\ndisconnect@1.5s cause=hangup\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				handle := replies(c.app)
				if c.delay > 0 {
					inner := handle
					handle = func(ev callback.Event, tg engine.Target) (string, error) {
						time.Sleep(c.delay)
						return inner(ev, tg)
					}
				}
				h := newHarness(t, c.scripts, handle)
				defer h.close()
				h.call(c.to, c.edit)
				h.settle(time.Hour)
				if got := summary(h.app.events()); got != c.want {
					t.Errorf("webhooks:\n%s\nwant:\n%s", got, c.want)
				}
			})
		})
	}
}

// TestDisconnectIsAlwaysLast: the call's asynchronous webhooks go out in
// order, so a slow dtmf delivery still lands before the disconnect.
func TestDisconnectIsAlwaysLast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, map[string]sim.Script{"+1555": {Digits: "5"}},
			replies(map[string]string{"https://app.test/answer": `<Response><StartGather dtmfUrl="/dtmf"/><Pause duration="0.5"/></Response>`}))
		h.app.slow = func(ev callback.Event) time.Duration {
			if ev.Type() == callback.EventDTMF {
				return 3 * time.Second
			}
			return 0
		}
		defer h.close()
		h.call("+1555", nil)
		h.settle(time.Hour)
		time.Sleep(10 * time.Second)
		if got := summary(h.app.events()); got != "answer@1s\ndtmf@4.3s digit=5\ndisconnect@4.3s cause=hangup\n" {
			t.Errorf("webhooks:\n%s", got)
		}
	})
}

// fakeMedia knows the length of a few audio files; fetching one takes 100 ms.
type fakeMedia map[string]time.Duration

func (m fakeMedia) AudioLength(_ context.Context, url, user, pass string) (time.Duration, error) {
	time.Sleep(100 * time.Millisecond)
	d, ok := m[url]
	if !ok {
		return 0, fmt.Errorf("GET %s: 404 Not Found", url)
	}
	return d, nil
}

func TestPlayAudioLengths(t *testing.T) {
	media := fakeMedia{"https://app.test/hold.wav": 10 * time.Second, "https://app.test/menu.mp3": 4 * time.Second}
	cases := []struct{ name, answer, want string }{
		{"plays as long as the file", `<Response><PlayAudio>/hold.wav</PlayAudio></Response>`,
			"answer@1s\ndisconnect@11.1s cause=hangup\n"},
		{"a file that cannot be fetched", `<Response><PlayAudio>/missing.wav</PlayAudio></Response>`,
			"answer@1s\ndisconnect@1.1s cause=application-error\n"},
		{"gather prompts are measured first", `<Response><Gather gatherUrl="/g" firstDigitTimeout="2"><PlayAudio>/menu.mp3</PlayAudio></Gather></Response>`,
			"answer@1s\ngather@7.1s digits=\"\" term=\"\"\ndisconnect@7.1s cause=hangup\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, nil, replies(map[string]string{"https://app.test/answer": c.answer, "https://app.test/g": hangup}), media)
				defer h.close()
				h.call("+15550000000", func(c *engine.Call) { c.AnswerURL = "https://app.test/answer" })
				h.settle(time.Hour)
				if got := summary(h.app.events()); got != c.want {
					t.Errorf("webhooks:\n%s\nwant:\n%s", got, c.want)
				}
			})
		})
	}
}

func TestAsyncWebhookRetries(t *testing.T) {
	for _, c := range []struct {
		name  string
		retry bool
		want  string
	}{
		{"Bandwidth's rule: no retry after a 500", false, "disconnect@0.5s cause=busy sip=486\n"},
		{"persistent retries with backoff", true,
			"disconnect@0.5s cause=busy sip=486\ndisconnect@1.5s cause=busy sip=486\ndisconnect@3.5s cause=busy sip=486\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				store := newMemStore()
				a := &app{start: time.Now(), handle: replies(nil), failures: 2}
				eng, err := engine.New(engine.Config{Clock: engine.RealClock{}, Store: store, Sender: a,
					Network: sim.New(engine.RealClock{}, nil), BaseURL: "http://voicehook.test/api/v2", RetryWebhooks: c.retry})
				if err != nil {
					t.Fatal(err)
				}
				eng.Start(context.Background())
				defer eng.Shutdown(context.Background())
				if _, err := eng.CreateCall(context.Background(), engine.Call{AccountID: "9900000", From: "+15551112222",
					To: "+15550000486", AnswerURL: "https://app.test/answer", DisconnectURL: "https://app.test/disconnect"}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Minute)
				synctest.Wait()
				if got := summary(a.events()); got != c.want {
					t.Errorf("webhooks:\n%s\nwant:\n%s", got, c.want)
				}
				if q, _ := store.Queued(context.Background()); len(q) != 0 {
					t.Errorf("%d webhooks still queued", len(q))
				}
			})
		})
	}
}

// inbound takes a call from a simulated caller to the test application.
func (h *harness) inbound(from string) string {
	c, err := h.eng.InboundCall(context.Background(), engine.Inbound{
		AccountID: "9900000", ApplicationID: "04e88489-df02-4e34-a0ee-27a91849555f", From: from, To: "+15550001000",
		Initiate: engine.Target{URL: "https://app.test/initiate"}, StatusURL: "https://app.test/status",
		UUI: "aGk;encoding=base64", SIPHeaders: map[string]string{"x-tenant": "acme"},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return c.CallID
}

func TestInboundScenarios(t *testing.T) {
	cases := []struct {
		name     string
		scripts  map[string]sim.Script
		initiate string
		complete time.Duration // REST state=completed after this, if set
		want     string
		answered bool
	}{
		{name: "answered by its first verb", initiate: `<Response><SpeakSentence>Hi</SpeakSentence><Hangup/></Response>`,
			want: "initiate@0s\ndisconnect@0.5s cause=hangup\n", answered: true},
		{name: "hangup before answer rejects", initiate: `<Response><Hangup/></Response>`,
			want: "initiate@0s\ndisconnect@0s cause=rejected\n"},
		{name: "empty BXML rejects", initiate: `<Response/>`,
			want: "initiate@0s\ndisconnect@0s cause=rejected\n"},
		{name: "ring without answering, then reject", initiate: `<Response><Tag>screening</Tag><Ring duration="3" answerCall="false"/></Response>`,
			want: "initiate@0s\ndisconnect@3s cause=rejected\n"},
		{name: "the caller gives up while it rings", scripts: map[string]sim.Script{"+15557770000": {AbandonAfter: 2 * time.Second}},
			initiate: `<Response><Ring duration="30" answerCall="false"/></Response>`,
			want:     "initiate@0s\ndisconnect@2s cause=cancel\n"},
		{name: "the caller hangs up after talking", scripts: map[string]sim.Script{"+15557770000": {HangupAfter: 4 * time.Second}},
			initiate: `<Response><Pause duration="60"/></Response>`,
			want:     "initiate@0s\ndisconnect@4s cause=hangup\n", answered: true},
		{name: "completed over REST before answer rejects", initiate: `<Response><Ring duration="30" answerCall="false"/></Response>`,
			complete: time.Second, want: "initiate@0s\ndisconnect@1s cause=rejected\n"},
		{name: "the caller answers a gather", scripts: map[string]sim.Script{"+15557770000": {GatherDigits: "3"}},
			initiate: `<Response><Gather gatherUrl="/g" maxDigits="1"/></Response>`,
			want:     "initiate@0s\ngather@0.3s digits=\"3\" term=\"\"\ndisconnect@0.3s cause=hangup\n", answered: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, c.scripts, replies(map[string]string{"https://app.test/initiate": c.initiate, "https://app.test/g": hangup}))
				defer h.close()
				id := h.inbound("+15557770000")
				if c.complete > 0 {
					time.Sleep(c.complete)
					if err := h.eng.UpdateCall(context.Background(), "9900000", id, engine.Update{Complete: true}); err != nil {
						t.Fatal(err)
					}
				}
				h.settle(time.Hour)
				got := h.app.events()
				if s := summary(got); s != c.want {
					t.Fatalf("webhooks:\n%s\nwant:\n%s", s, c.want)
				}
				init := got[0].event.(*callback.Initiate)
				if init.Direction != callback.Inbound || init.To != "+15550001000" || init.UUI != "aGk;encoding=base64" || init.SIPHeaders["x-tenant"] != "acme" {
					t.Errorf("initiate %+v", init)
				}
				d := got[len(got)-1]
				disc := d.event.(*callback.Disconnect)
				if d.target.URL != "https://app.test/status" || disc.Direction != callback.Inbound {
					t.Errorf("disconnect to %s, direction %s", d.target.URL, disc.Direction)
				}
				if disc.AnswerTime.IsZero() == c.answered {
					t.Errorf("disconnect answerTime %v, want answered=%v", disc.AnswerTime, c.answered)
				}
			})
		})
	}
}

// legSummary renders webhooks as "type@seconds leg [cause]" lines, where leg
// is A for the first call and the number of a transfer's B-leg otherwise,
// sorted by time and then leg (stable, so each leg keeps its order).
func legSummary(got []delivered) string {
	type line struct {
		at   time.Duration
		leg  string
		text string
	}
	aID := ""
	var lines []line
	for _, d := range got {
		ce, ok := d.event.(callback.CallEvent)
		if !ok {
			continue
		}
		leg := ce.CallLeg()
		if aID == "" {
			aID = leg.CallID
		}
		label := "A"
		if leg.CallID != aID {
			label = "B" + leg.To
		}
		text := fmt.Sprintf("%s@%gs %s", d.event.Type(), d.at.Seconds(), label)
		switch ev := d.event.(type) {
		case *callback.Disconnect:
			text += " cause=" + string(ev.Cause)
		case *callback.TransferComplete:
			text += " cause=" + string(ev.Cause) + " to=" + ev.TransferTo
		case *callback.TransferDisconnect:
			text += " cause=" + string(ev.Cause)
			if ev.ParentCallID != aID {
				text += " WRONG-PARENT"
			}
		case *callback.TransferAnswer:
			if ev.ParentCallID != aID {
				text += " WRONG-PARENT"
			}
		}
		lines = append(lines, line{d.at, label, text})
	}
	slices.SortStableFunc(lines, func(x, y line) int {
		if x.at != y.at {
			return int(x.at - y.at)
		}
		return strings.Compare(x.leg, y.leg)
	})
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.text + "\n")
	}
	return b.String()
}

func TestTransferScenarios(t *testing.T) {
	const td = `transferDisconnectUrl="/td"`
	cases := []struct {
		name    string
		to      string
		scripts map[string]sim.Script
		app     map[string]string
		want    string
	}{
		{name: "agent answers, whispers, talks, hangs up", to: "+15550000000",
			app: map[string]string{
				"https://app.test/answer": `<Response><Transfer transferCompleteUrl="/tc"><PhoneNumber transferAnswerUrl="/ta" ` + td + `>+15550000200</PhoneNumber></Transfer></Response>`,
				"https://app.test/ta":     `<Response><SpeakSentence>Caller from sales</SpeakSentence></Response>`,
				"https://app.test/tc":     hangup},
			want: "answer@1s A\ntransferAnswer@2s B+15550000200\ntransferComplete@7s A cause=hangup to=+15550000200\ndisconnect@7s A cause=hangup\ntransferDisconnect@7s B+15550000200 cause=hangup\n"},
		{name: "busy agent", to: "+15550000000",
			app: map[string]string{
				"https://app.test/answer": `<Response><Transfer transferCompleteUrl="/tc"><PhoneNumber ` + td + `>+15550000486</PhoneNumber></Transfer></Response>`,
				"https://app.test/tc":     hangup},
			want: "answer@1s A\ntransferComplete@1.5s A cause=busy to=+15550000486\ndisconnect@1.5s A cause=hangup\ntransferDisconnect@1.5s B+15550000486 cause=busy\n"},
		{name: "first answer wins, the other leg is cancelled", to: "+15550000000",
			scripts: map[string]sim.Script{"+15553330001": {HangupAfter: 3 * time.Second}},
			app: map[string]string{
				"https://app.test/answer": `<Response><Transfer transferCompleteUrl="/tc"><PhoneNumber ` + td + `>+15550000408</PhoneNumber><PhoneNumber ` + td + `>+15553330001</PhoneNumber></Transfer></Response>`,
				"https://app.test/tc":     hangup},
			want: "answer@1s A\ntransferDisconnect@2s B+15550000408 cause=cancel\ntransferComplete@5s A cause=hangup to=+15553330001\ndisconnect@5s A cause=hangup\ntransferDisconnect@5s B+15553330001 cause=hangup\n"},
		{name: "the caller hangs up while bridged: no transferComplete", to: "+1555",
			scripts: map[string]sim.Script{"+1555": {HangupAfter: 4 * time.Second}},
			app: map[string]string{
				"https://app.test/answer": `<Response><Transfer transferCompleteUrl="/tc"><PhoneNumber ` + td + `>+15550000000</PhoneNumber></Transfer></Response>`},
			want: "answer@1s A\ndisconnect@5s A cause=hangup\ntransferDisconnect@5s B+15550000000 cause=hangup\n"},
		{name: "without transferCompleteUrl the BXML goes on", to: "+15550000000",
			app: map[string]string{
				"https://app.test/answer": `<Response><Transfer><PhoneNumber ` + td + `>+15550000603</PhoneNumber></Transfer><SpeakSentence>Nobody is free</SpeakSentence></Response>`},
			want: "answer@1s A\ntransferDisconnect@2s B+15550000603 cause=rejected\ndisconnect@2.933333333s A cause=hangup\n"},
		{name: "the agent never answers", to: "+15550000000",
			app: map[string]string{
				"https://app.test/answer": `<Response><Transfer callTimeout="3" transferCompleteUrl="/tc"><PhoneNumber ` + td + `>+15550000408</PhoneNumber></Transfer></Response>`,
				"https://app.test/tc":     hangup},
			want: "answer@1s A\ntransferComplete@4s A cause=timeout to=+15550000408\ndisconnect@4s A cause=hangup\ntransferDisconnect@4s B+15550000408 cause=timeout\n"},
		{name: "forbidden verbs in the transferAnswer reply", to: "+15550000000",
			app: map[string]string{
				"https://app.test/answer": `<Response><Transfer transferCompleteUrl="/tc"><PhoneNumber transferAnswerUrl="/ta" ` + td + `>+15553330002</PhoneNumber></Transfer></Response>`,
				"https://app.test/ta":     `<Response><Forward to="+15553334444"/></Response>`,
				"https://app.test/tc":     hangup},
			want: "answer@1s A\ntransferComplete@2s A cause=invalid-bxml to=+15553330002\ndisconnect@2s A cause=hangup\ntransferAnswer@2s B+15553330002\ntransferDisconnect@2s B+15553330002 cause=invalid-bxml\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, c.scripts, replies(c.app))
				defer h.close()
				h.call(c.to, nil)
				h.settle(time.Hour)
				time.Sleep(time.Second)
				if got := legSummary(h.app.events()); got != c.want {
					t.Errorf("webhooks:\n%s\nwant:\n%s", got, c.want)
				}
			})
		})
	}
}

func TestForwardScenarios(t *testing.T) {
	cases := []struct {
		name     string
		scripts  map[string]sim.Script
		initiate string
		want     string
	}{
		{name: "forwarded, answered, callee hangs up", initiate: `<Response><Forward to="+15550000200"/></Response>`,
			want: "initiate@0s A\ndisconnect@6s A cause=hangup\n"},
		{name: "forwarded to a busy number", initiate: `<Response><Forward to="+15550000486"/></Response>`,
			want: "initiate@0s A\ndisconnect@0.5s A cause=busy\n"},
		{name: "forwarded, nobody answers", initiate: `<Response><Forward to="+15550000408" callTimeout="4"/></Response>`,
			want: "initiate@0s A\ndisconnect@4s A cause=timeout\n"},
		{name: "the caller hangs up during the forwarded call", scripts: map[string]sim.Script{"+15557770000": {HangupAfter: 3 * time.Second}},
			initiate: `<Response><Forward to="+15550000000"/></Response>`,
			want:     "initiate@0s A\ndisconnect@4s A cause=hangup\n"},
		{name: "forward after answering is an application error", initiate: `<Response><Pause duration="1"/><Forward to="+15550000000"/></Response>`,
			want: "initiate@0s A\ndisconnect@1s A cause=application-error\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, c.scripts, replies(map[string]string{"https://app.test/initiate": c.initiate}))
				defer h.close()
				id := h.inbound("+15557770000")
				time.Sleep(2 * time.Second)
				if err := h.eng.UpdateCall(context.Background(), "9900000", id, engine.Update{Redirect: engine.Target{URL: "https://app.test/x"}}); err == nil {
					if c.name == "forwarded, answered, callee hangs up" {
						t.Error("a forwarded call took a redirect")
					}
				}
				h.settle(time.Hour)
				if got := legSummary(h.app.events()); got != c.want {
					t.Errorf("webhooks:\n%s\nwant:\n%s", got, c.want)
				}
			})
		})
	}
}

// byNumber renders webhooks as "type@seconds number [cause]", sorted by time
// then number (stable).
func byNumber(got []delivered) string {
	type line struct {
		at   time.Duration
		who  string
		text string
	}
	var lines []line
	for _, d := range got {
		ce, ok := d.event.(callback.CallEvent)
		if !ok {
			continue
		}
		who := ce.CallLeg().To
		text := fmt.Sprintf("%s@%gs %s", d.event.Type(), d.at.Seconds(), who)
		switch ev := d.event.(type) {
		case *callback.Disconnect:
			text += " cause=" + string(ev.Cause)
		case *callback.BridgeComplete:
			if ev.Cause != "" {
				text += " cause=" + string(ev.Cause)
			}
		}
		lines = append(lines, line{d.at, who, text})
	}
	slices.SortStableFunc(lines, func(x, y line) int {
		if x.at != y.at {
			return int(x.at - y.at)
		}
		return strings.Compare(x.who, y.who)
	})
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.text + "\n")
	}
	return b.String()
}

func TestBridgeScenarios(t *testing.T) {
	const target, origin = "+15553330010", "+15553330020"
	cases := []struct {
		name    string
		scripts map[string]sim.Script
		bridge  string // the originator's BXML; %s is the target's call id
		target  string // the target's BXML
		extra   map[string]string
		want    string
	}{
		{name: "the target hangs up: bridgeComplete on the originator",
			scripts: map[string]sim.Script{target: {HangupAfter: 5 * time.Second}},
			bridge:  `<Response><Bridge bridgeCompleteUrl="/bc">%s</Bridge></Response>`,
			extra:   map[string]string{"https://app.test/bc": hangup},
			want: "answer@1s +15553330010\nanswer@2s +15553330020\ndisconnect@6s +15553330010 cause=hangup\n" +
				"bridgeComplete@6s +15553330020\ndisconnect@6s +15553330020 cause=hangup\n"},
		{name: "the originator hangs up: the target is hung up",
			scripts: map[string]sim.Script{origin: {HangupAfter: 5 * time.Second}},
			bridge:  `<Response><Bridge bridgeCompleteUrl="/bc">%s</Bridge></Response>`,
			want: "answer@1s +15553330010\nanswer@2s +15553330020\n" +
				"disconnect@7s +15553330010 cause=hangup\ndisconnect@7s +15553330020 cause=hangup\n"},
		{name: "the originator hangs up: bridgeTargetComplete on the target",
			scripts: map[string]sim.Script{origin: {HangupAfter: 5 * time.Second}},
			bridge:  `<Response><Bridge bridgeTargetCompleteUrl="/btc">%s</Bridge></Response>`,
			extra:   map[string]string{"https://app.test/btc": `<Response><SpeakSentence>Bye</SpeakSentence></Response>`},
			want: "answer@1s +15553330010\nanswer@2s +15553330020\nbridgeTargetComplete@7s +15553330010\n" +
				"disconnect@7s +15553330020 cause=hangup\ndisconnect@7.5s +15553330010 cause=hangup\n"},
		{name: "without bridgeCompleteUrl the originator goes on",
			scripts: map[string]sim.Script{target: {HangupAfter: 2 * time.Second}},
			bridge:  `<Response><Bridge>%s</Bridge><SpeakSentence>Alone now</SpeakSentence></Response>`,
			want: "answer@1s +15553330010\nanswer@2s +15553330020\n" +
				"disconnect@3s +15553330010 cause=hangup\ndisconnect@3.6s +15553330020 cause=hangup\n"},
		{name: "a target that never answered",
			scripts: map[string]sim.Script{target: {Outcome: sim.NoAnswer}},
			bridge:  `<Response><Bridge bridgeCompleteUrl="/bc">%s</Bridge></Response>`,
			extra:   map[string]string{"https://app.test/bc": hangup},
			want: "answer@2s +15553330020\nbridgeComplete@2s +15553330020 cause=rejected\ndisconnect@2s +15553330020 cause=hangup\n" +
				"disconnect@30s +15553330010 cause=timeout\n"},
		{name: "a target that has ended",
			scripts: map[string]sim.Script{target: {Outcome: sim.Busy}},
			bridge:  `<Response><Bridge bridgeCompleteUrl="/bc">%s</Bridge></Response>`,
			extra:   map[string]string{"https://app.test/bc": hangup},
			want: "disconnect@0.5s +15553330010 cause=busy\nanswer@2s +15553330020\n" +
				"bridgeComplete@2s +15553330020 cause=unknown\ndisconnect@2s +15553330020 cause=hangup\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				app := map[string]string{"https://app.test/target": `<Response><Pause duration="60"/></Response>`}
				for k, v := range c.extra {
					app[k] = v
				}
				// The originator answers a second after the target, so that the
				// target is up when asked to join.
				scripts := map[string]sim.Script{}
				for k, v := range c.scripts {
					scripts[k] = v
				}
				o := scripts[origin]
				o.Ring = 2 * time.Second
				scripts[origin] = o
				h := newHarness(t, scripts, func(ev callback.Event, tg engine.Target) (string, error) {
					mu.Lock()
					defer mu.Unlock()
					return replies(app)(ev, tg)
				})
				defer h.close()
				tid := h.call(target, func(c *engine.Call) { c.AnswerURL = "https://app.test/target" })
				mu.Lock()
				app["https://app.test/origin"] = fmt.Sprintf(c.bridge, tid)
				mu.Unlock()
				h.call(origin, func(c *engine.Call) { c.AnswerURL = "https://app.test/origin" })
				h.settle(time.Hour)
				if got := byNumber(h.app.events()); got != c.want {
					t.Errorf("webhooks:\n%s\nwant:\n%s", got, c.want)
				}
			})
		})
	}
}
