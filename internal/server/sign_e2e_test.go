package server_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/server"
	"github.com/voicehook/voicehook/webhook"
)

// Two secrets of one application, as during a rotation: base64 of 32 bytes.
const (
	secretOld = "whsec_dm9pY2Vob29rJ3Mgb2xkIHRlc3Qgc2VjcmV0LCAzMkI="
	secretNew = "whsec_dm9pY2Vob29rJ3MgbmV3IHRlc3Qgc2VjcmV0LCAzMkI="
)

// signedContent is what a webhook's signature covers: its body, or the raw
// query string of a GET.
func signedContent(method, rawQuery string, body []byte) []byte {
	if method == http.MethodGet {
		return []byte(rawQuery)
	}
	return body
}

// verifySigned checks a webhook with the official Standard Webhooks
// library under each secret.
func verifySigned(t *testing.T, what string, header http.Header, content []byte, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(content, header); err != nil {
			t.Errorf("%s: the official library says: %v (webhook-id %q, signature %q)", what, err,
				header.Get("webhook-id"), header.Get("webhook-signature"))
		}
	}
}

// TestSignedWebhooks: with --webhook-secret, every webhook of a call —
// answer, redirect (POST), disconnect (GET) — is signed with both secrets
// of a rotation, and each event has its own webhook-id.
func TestSignedWebhooks(t *testing.T) {
	srv := startServerWith(t, server.Config{WebhookSecrets: []string{secretOld, secretNew}})
	app := newApp(t, map[string]string{
		"/answer":   `<Response><Redirect redirectUrl="/redirect"/></Response>`,
		"/redirect": `<Response><Hangup/></Response>`,
	})
	fields := callFields(app, "+15550000000")
	fields["disconnectMethod"] = "GET"
	createCall(t, srv, fields)
	app.waitFor(t, callback.EventDisconnect, 5*time.Second)
	hooks := app.got()
	if got := app.types(); got != "answer,redirect,disconnect" {
		t.Fatalf("webhooks %s", got)
	}
	ids := map[string]bool{}
	for _, h := range hooks {
		verifySigned(t, h.method+" "+string(h.event.Type()), h.header, signedContent(h.method, h.query, h.body), secretOld, secretNew)
		ids[h.header.Get("webhook-id")] = true
	}
	if len(ids) != 3 || ids[""] {
		t.Errorf("webhook-ids %v; want three different ones", ids)
	}
}

// TestSignedWebhooksPerApplication: the secrets of a configured
// application sign its webhooks, inbound and outbound; another application
// of the account, with no secret, gets unsigned webhooks that still carry
// a webhook-id.
func TestSignedWebhooksPerApplication(t *testing.T) {
	app := newApp(t, map[string]string{"/initiate": `<Response><Hangup/></Response>`, "/answer": `<Response><Hangup/></Response>`})
	dir, err := config.Load(strings.NewReader(`
accounts:
  - id: "9900000"
    username: dev
    password: dev
    applications:
      - id: 11111111-2222-4333-8444-555555555555
        callInitiatedCallbackUrl: ` + app.URL + `/initiate
        callStatusCallbackUrl: ` + app.URL + `/status
        webhookSecrets: [` + secretNew + `]
        numbers: ["+15551230000"]
      - id: ` + appID + `
`))
	if err != nil {
		t.Fatal(err)
	}
	srv := startServerWith(t, server.Config{Accounts: dir})
	if s, _, b := rest(t, srv, "POST", "/sim/v1/inbound", "application/json", `{"from":"+15557770000","to":"+15551230000"}`); s != 201 {
		t.Fatalf("inbound: %d %s", s, b)
	}
	app.waitFor(t, callback.EventDisconnect, 5*time.Second)
	for _, h := range app.got() {
		verifySigned(t, string(h.event.Type()), h.header, h.body, secretNew)
	}

	unsigned := newApp(t, map[string]string{"/answer": `<Response><Hangup/></Response>`})
	fields := callFields(unsigned, "+15550000000")
	fields["from"] = "+15551230000" // the account's only number
	createCall(t, srv, fields)
	unsigned.waitFor(t, callback.EventDisconnect, 5*time.Second)
	for _, h := range unsigned.got() {
		if h.header.Get("webhook-id") == "" || h.header.Get("webhook-signature") != "" || h.header.Get("webhook-timestamp") != "" {
			t.Errorf("%s of an application without secrets: webhook-id %q, signature %q, timestamp %q", h.event.Type(),
				h.header.Get("webhook-id"), h.header.Get("webhook-signature"), h.header.Get("webhook-timestamp"))
		}
	}
}

// TestWebhookIDAcrossRetryAndFallback: an answer whose URL drops the
// connection twice (the retry) and then goes to the fallback URL carries
// one webhook-id on all three requests, each signed.
func TestWebhookIDAcrossRetryAndFallback(t *testing.T) {
	srv := startServerWith(t, server.Config{WebhookSecrets: []string{secretNew}})
	type seen struct {
		header http.Header
		body   []byte
	}
	var mu sync.Mutex
	var dropped []seen
	dropper := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		dropped = append(dropped, seen{r.Header.Clone(), body})
		mu.Unlock()
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	}))
	defer dropper.Close()
	app := newApp(t, map[string]string{"/fallback": `<Response><Hangup/></Response>`})
	fields := callFields(app, "+15550000000")
	fields["answerUrl"], fields["answerFallbackUrl"] = dropper.URL+"/answer", app.URL+"/fallback"
	createCall(t, srv, fields)
	fb := app.waitFor(t, callback.EventAnswer, 5*time.Second)
	mu.Lock()
	defer mu.Unlock()
	if len(dropped) != 2 {
		t.Fatalf("the primary URL got %d requests, want 2 (one retry)", len(dropped))
	}
	id := fb.header.Get("webhook-id")
	verifySigned(t, "the fallback", fb.header, fb.body, secretNew)
	for i, d := range dropped {
		if got := d.header.Get("webhook-id"); id == "" || got != id {
			t.Errorf("attempt %d had webhook-id %q, the fallback %q; want one id", i+1, got, id)
		}
		verifySigned(t, "a dropped attempt", d.header, d.body, secretNew)
	}
}

// TestWebhookPackageVerifiesSignatures: the webhook package accepts
// voicehook's signed webhooks and hands the webhook-id to the functions;
// with a secret voicehook does not sign with, it refuses the answer (401)
// and the call ends in callback-error.
func TestWebhookPackageVerifiesSignatures(t *testing.T) {
	srv := startServerWith(t, server.Config{WebhookSecrets: []string{secretOld, secretNew}})

	h := webhook.New(webhook.WithSigningSecrets(secretNew))
	ids := make(chan string, 2)
	h.OnAnswer(func(ctx context.Context, _ *callback.Answer) (*bxml.Response, error) {
		ids <- webhook.EventID(ctx)
		return bxml.NewResponse(&bxml.Hangup{}), nil
	})
	h.OnDisconnect(func(ctx context.Context, _ *callback.Disconnect) error {
		ids <- webhook.EventID(ctx)
		return nil
	})
	app := httptest.NewServer(h)
	defer app.Close()
	createCall(t, srv, map[string]any{"from": "+15551112222", "to": "+15550000000", "applicationId": appID,
		"answerUrl": app.URL + "/answer", "disconnectUrl": app.URL + "/disconnect"})
	var got []string
	for range 2 {
		select {
		case id := <-ids:
			got = append(got, id)
		case <-time.After(5 * time.Second):
			t.Fatalf("the functions ran %d times, want answer and disconnect", len(got))
		}
	}
	if got[0] == "" || got[1] == "" || got[0] == got[1] {
		t.Errorf("EventIDs %q; want two different ids", got)
	}

	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("a secret nobody configured, 32 B"))
	wrong := httptest.NewServer(webhook.New(webhook.WithSigningSecrets(other)))
	defer wrong.Close()
	status := newApp(t, nil)
	id, _ := createCall(t, srv, map[string]any{"from": "+15551112222", "to": "+15550000000", "applicationId": appID,
		"answerUrl": wrong.URL + "/answer", "disconnectUrl": status.URL + "/disconnect"})
	d := status.waitFor(t, callback.EventDisconnect, 5*time.Second).event.(*callback.Disconnect)
	if d.CallID != id || d.Cause != callback.CauseCallbackError || d.ErrorMessage == nil || !strings.Contains(*d.ErrorMessage, "401") {
		t.Errorf("with the wrong secret: %+v", d)
	}
}

// TestWebhookIDAcrossRetry: a disconnect whose first request loses its
// connection is sent again at once, with the same webhook-id, and the app
// answers the second.
func TestWebhookIDAcrossRetry(t *testing.T) {
	srv := startServerWith(t, server.Config{WebhookSecrets: []string{secretNew}})
	type seen struct {
		header http.Header
		body   []byte
	}
	var mu sync.Mutex
	var got []seen
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/answer" {
			io.WriteString(w, `<Response><Hangup/></Response>`)
			return
		}
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Header.Clone(), body})
		first := len(got) == 1
		mu.Unlock()
		if first {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer app.Close()
	createCall(t, srv, map[string]any{"from": "+15551112222", "to": "+15550000000", "applicationId": appID,
		"answerUrl": app.URL + "/answer", "disconnectUrl": app.URL + "/disconnect"})
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("the disconnect came %d times, want twice (a connection error, then the retry)", len(got))
	}
	if a, b := got[0].header.Get("webhook-id"), got[1].header.Get("webhook-id"); a == "" || a != b {
		t.Errorf("webhook-id %q, then %q on the retry; want one id", a, b)
	}
	for _, s := range got {
		verifySigned(t, "the disconnect", s.header, s.body, secretNew)
	}
}
