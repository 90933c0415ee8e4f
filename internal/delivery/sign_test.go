package delivery

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

// Two secrets of one application, as during a rotation.
var (
	oldSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("voicehook's old test secret, 32B"))
	newSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("voicehook's new test secret, 32B"))
)

func key(t testing.TB, secret string) []byte {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signed is a request as an app saw it: its headers and what was signed.
type signed struct {
	method  string
	header  http.Header
	content []byte // the body, or the raw query of a GET
}

// signedApp records every request; handle answers it.
type signedApp struct {
	*httptest.Server
	mu  sync.Mutex
	got []signed
}

func newSignedApp(t *testing.T, handle http.HandlerFunc) *signedApp {
	a := &signedApp{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		content := body
		if r.Method == http.MethodGet {
			content = []byte(r.URL.RawQuery)
		}
		a.mu.Lock()
		a.got = append(a.got, signed{r.Method, r.Header.Clone(), content})
		a.mu.Unlock()
		handle(w, r)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *signedApp) requests() []signed {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]signed(nil), a.got...)
}

// verify checks a request with the official Standard Webhooks library,
// which allows 5 minutes of clock skew, under each secret.
func verify(t *testing.T, r signed, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(r.content, r.header); err != nil {
			t.Errorf("%s signed %q: the official library says: %v (headers %v)", r.method, r.content, err, r.header)
		}
	}
}

func signers(keys ...[]byte) func(string, string) *Signer {
	s := NewSigner(keys...)
	return func(account, app string) *Signer {
		if account == "9900000" && app == "app-1" {
			return s
		}
		return nil
	}
}

// TestSignedSendRetryAndFallback: a synchronous webhook that is retried
// after a connection error and then goes to a GET fallback carries the same
// webhook-id on all three requests, and each is signed with both secrets of
// a rotation, as the official library verifies: the body of a POST, the
// whole raw query of a GET.
func TestSignedSendRetryAndFallback(t *testing.T) {
	hangup := newSignedApp(t, func(w http.ResponseWriter, _ *http.Request) {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	})
	backup := newSignedApp(t, func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, okBXML) })
	s := newSender(t, Config{Signers: signers(key(t, oldSecret), key(t, newSecret))})

	w := webhook(engine.Target{URL: hangup.URL + "/answer", FallbackURL: backup.URL + "/answer?app=fallback", FallbackMethod: "GET"})
	w.ID, w.AccountID, w.ApplicationID = "2b7c5e7a-0f4e-4a51-9a3b-6f1d2c3e4a5b", "9900000", "app-1"
	if _, err := s.Send(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	all := append(hangup.requests(), backup.requests()...)
	if len(all) != 3 || all[2].method != "GET" {
		t.Fatalf("%d requests, want a POST, its retry and a GET fallback", len(all))
	}
	if !strings.HasPrefix(string(all[2].content), "app=fallback&") {
		t.Errorf("the GET signed %q, want its whole query", all[2].content)
	}
	for _, r := range all {
		if got := r.header.Get(HeaderID); got != w.ID {
			t.Errorf("%s webhook-id %q, want %q", r.method, got, w.ID)
		}
		if n := len(strings.Fields(r.header.Get(HeaderSignature))); n != 2 {
			t.Errorf("%s has %d signatures, want one per secret", r.method, n)
		}
		verify(t, r, oldSecret, newSecret)
	}
	// The check can fail: a third secret, or a changed body, is refused.
	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("a secret nobody configured, 32 B"))
	wh, _ := standardwebhooks.NewWebhook(other)
	if err := wh.Verify(all[0].content, all[0].header); err == nil {
		t.Error("the official library verified a signature under a secret never used")
	}
	wh, _ = standardwebhooks.NewWebhook(newSecret)
	if err := wh.Verify(append([]byte(" "), all[0].content...), all[0].header); err == nil {
		t.Error("the official library verified a changed body")
	}
}

// TestSignedNotify: an asynchronous webhook is signed too, with its own id.
func TestSignedNotify(t *testing.T) {
	a := newSignedApp(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	s := newSender(t, Config{Signers: signers(key(t, newSecret))})
	ev := &callback.Disconnect{Call: answerEvent().Call, Outcome: callback.Outcome{Cause: callback.CauseHangup}}
	w := engine.Webhook{ID: "9d8e7f60-1a2b-4c3d-8e4f-5a6b7c8d9e0f", AccountID: "9900000", ApplicationID: "app-1",
		Event: ev, Target: engine.Target{URL: a.URL + "/disconnect"}}
	done := make(chan []engine.Attempt, 1)
	if err := s.Notify(t.Context(), w, func(at []engine.Attempt) { done <- at }); err != nil {
		t.Fatal(err)
	}
	waitDone(t, done)
	got := a.requests()
	if len(got) != 1 || got[0].header.Get(HeaderID) != w.ID {
		t.Fatalf("requests %+v; want one with webhook-id %s", got, w.ID)
	}
	verify(t, got[0], newSecret)
}

// TestUnsignedCarriesTheID: an application without a secret gets no
// signature, but still the webhook-id; a webhook the engine gave no id
// gets one, the same on its retry.
func TestUnsignedCarriesTheID(t *testing.T) {
	var mu sync.Mutex
	n := 0
	a := newSignedApp(t, func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if !first {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	})
	s := newSender(t, Config{Signers: signers(key(t, newSecret))})
	w := webhook(engine.Target{URL: a.URL}) // no ID, no application
	if _, err := s.Send(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	got := a.requests()
	if len(got) != 2 {
		t.Fatalf("%d requests, want a retry after the connection error", len(got))
	}
	id := got[0].header.Get(HeaderID)
	if id == "" || got[1].header.Get(HeaderID) != id {
		t.Errorf("webhook-id %q then %q; want one id, kept", id, got[1].header.Get(HeaderID))
	}
	for _, r := range got {
		if r.header.Get(HeaderSignature) != "" || r.header.Get(HeaderTimestamp) != "" {
			t.Errorf("an application without a secret got %v", r.header)
		}
	}
}

// TestSignKnownAnswer checks Sign against the example of the Standard
// Webhooks specification and against the official library, for one and
// two secrets.
func TestSignKnownAnswer(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	const id, ts, body = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, `{"test": 2432232314}`
	got := NewSigner(key(t, secret)).Sign(id, ts, []byte(body))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	wh, _ := standardwebhooks.NewWebhook(secret)
	official, err := wh.Sign(id, time.Unix(ts, 0), []byte(body))
	if err != nil || official != got {
		t.Errorf("the official library signs %s (%v); we sign %s", official, err, got)
	}
	wh2, _ := standardwebhooks.NewWebhook(newSecret)
	second, _ := wh2.Sign(id, time.Unix(ts, 0), []byte(body))
	if both := NewSigner(key(t, secret), key(t, newSecret)).Sign(id, ts, []byte(body)); both != official+" "+second {
		t.Errorf("two secrets sign %q, want %q", both, official+" "+second)
	}
}

// TestNilSignerSignsNothing: NewSigner with no key is nil, and a nil
// Signer's Sign returns "" instead of panicking.
func TestNilSignerSignsNothing(t *testing.T) {
	s := NewSigner()
	if s != nil {
		t.Fatalf("NewSigner() = %v, want nil", s)
	}
	if got := s.Sign("msg-1", 1614265330, []byte("{}")); got != "" {
		t.Errorf("a nil Signer signs %q, want nothing", got)
	}
}

// disconnectBody is a typical disconnect, as the engine sends it.
func disconnectBody(b *testing.B) []byte {
	start := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	tag := "order-8841"
	ev := &callback.Disconnect{Call: answerEvent().Call, Outcome: callback.Outcome{Cause: callback.CauseHangup},
		EndTime: callback.TimeOf(start.Add(42 * time.Second))}
	ev.EventTime = ev.EndTime
	ev.Leg.ApplicationID = "04e88489-df02-4e34-a0ee-27a91849555f"
	ev.Leg.CallURL = "http://127.0.0.1:8080/api/v2/accounts/9900000/calls/" + ev.Leg.CallID
	ev.Leg.StartTime = callback.TimeOf(start)
	ev.AnswerTime = callback.TimeOf(start.Add(2 * time.Second))
	ev.Tag = &tag
	body, err := callback.Encode(ev)
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkSignDisconnect is the cost signing adds to one request: a
// typical disconnect body, with one secret and with two (a rotation).
func BenchmarkSignDisconnect(b *testing.B) {
	body := disconnectBody(b)
	b.Logf("body: %d bytes", len(body))
	for _, n := range []int{1, 2} {
		name := map[int]string{1: "secrets=1", 2: "secrets=2"}[n]
		b.Run(name, func(b *testing.B) {
			keys := [][]byte{key(b, oldSecret), key(b, newSecret)}[:n]
			id := identity{id: engine.NewEventID(), signer: NewSigner(keys...)}
			h := http.Header{}
			now := time.Now()
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				id.sign(h, body, now)
			}
		})
	}
}
