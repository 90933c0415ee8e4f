package server_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/webhook"
)

// TestWebhookPackage serves a menu with webhook.Handler and lets voicehook
// call it: the public package and the engine speak the same dialect.
func TestWebhookPackage(t *testing.T) {
	srv := startServer(t)
	h := webhook.New(webhook.WithBasicAuth("app", "s3cret"))
	var mu sync.Mutex
	var digits string
	var cause callback.Cause
	done := make(chan struct{})
	h.OnAnswer(func(context.Context, *callback.Answer) (*bxml.Response, error) {
		// Credentials are per URL: the gatherUrl needs its own.
		return bxml.NewResponse(&bxml.Gather{GatherURL: "/menu", MaxDigits: 1, Username: "app", Password: "s3cret",
			Prompts: []bxml.Verb{&bxml.SpeakSentence{Text: "Press a key."}}}), nil
	})
	h.OnGather(func(_ context.Context, ev *callback.Gather) (*bxml.Response, error) {
		mu.Lock()
		digits = ev.Digits
		mu.Unlock()
		return bxml.NewResponse(&bxml.SpeakSentence{Text: "Bye."}, &bxml.Hangup{}), nil
	})
	h.OnDisconnect(func(_ context.Context, ev *callback.Disconnect) error {
		mu.Lock()
		cause = ev.Cause
		mu.Unlock()
		close(done)
		return nil
	})
	app := httptest.NewServer(h)
	defer app.Close()
	id, _ := createCall(t, srv, map[string]any{"from": "+15551112222", "to": "+15550000000", "applicationId": appID,
		"answerUrl": app.URL + "/answer", "disconnectUrl": app.URL + "/disconnect", "username": "app", "password": "s3cret"})
	time.Sleep(1200 * time.Millisecond)
	if s, _, b := rest(t, srv, "POST", "/sim/v1/calls/"+id+"/dtmf", "application/json", `{"digits":"7"}`); s != 204 {
		t.Fatalf("dtmf: %d %s", s, b)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("no disconnect")
	}
	mu.Lock()
	defer mu.Unlock()
	if digits != "7" || cause != callback.CauseHangup {
		t.Errorf("digits %q, cause %s; want 7 and hangup", digits, cause)
	}
}
