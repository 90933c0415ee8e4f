package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/server"
)

// TestRestartEndsLiveCalls stops the server in the middle of a call, with
// no cleanup of the call, and starts it again on the same database: the
// call gets its disconnect, exactly once, from the new server.
func TestRestartEndsLiveCalls(t *testing.T) {
	db := filepath.Join(t.TempDir(), "restart.db")
	first, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", DB: db})
	if err != nil {
		t.Fatal(err)
	}
	app := newApp(t, map[string]string{"/answer": `<Response><Pause duration="600"/></Response>`})
	id, _ := createCall(t, first, callFields(app, "+15550000000"))
	app.waitFor(t, callback.EventAnswer, 5*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := app.types(); got != "answer" {
		t.Fatalf("stopping the server sent %s", got)
	}

	second, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", DB: db})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close(context.Background())
	d := app.waitFor(t, callback.EventDisconnect, 5*time.Second).event.(*callback.Disconnect)
	if d.CallID != id || d.Cause != callback.CauseError || d.ErrorMessage == nil || !strings.Contains(*d.ErrorMessage, "voicehook stopped") {
		t.Errorf("disconnect after restart: %+v", d)
	}
	time.Sleep(200 * time.Millisecond)
	if got := app.types(); got != "answer,disconnect" {
		t.Errorf("webhooks %s, want exactly one disconnect", got)
	}
	status, _, state := rest(t, second, "GET", "/api/v2/accounts/9900000/calls/"+id, "", "")
	if status != 200 || !strings.Contains(string(state), `"state":"disconnected"`) {
		t.Errorf("call after restart: %d %s", status, state)
	}
	// A third start finds nothing left to end.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	second.Close(ctx2)
	third, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", DB: db})
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close(context.Background())
	time.Sleep(200 * time.Millisecond)
	if got := app.types(); got != "answer,disconnect" {
		t.Errorf("after a third start: %s", got)
	}
}

// TestQueuedWebhooksSurviveAStop: a disconnect still being delivered when
// the server stops stays queued in the store, and the next start delivers
// it: the same bytes, the same webhook-id (the app's key to drop the
// repeat), signed anew. (Delivery is at least once: the app saw the first
// request, but never answered it.)
func TestQueuedWebhooksSurviveAStop(t *testing.T) {
	db := filepath.Join(t.TempDir(), "outbox.db")
	var mu sync.Mutex
	var answered []string // disconnects the app answered
	type arrival struct {
		header http.Header
		body   []byte
	}
	var arrivals []arrival // every disconnect request
	stall := make(chan struct{})
	arrived := make(chan struct{}, 10)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, err := callback.Decode(body)
		if err != nil || ev.Type() != callback.EventDisconnect {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		mu.Lock()
		arrivals = append(arrivals, arrival{r.Header.Clone(), body})
		mu.Unlock()
		arrived <- struct{}{}
		select {
		case <-stall:
		case <-r.Context().Done():
			return // the server gave up on this request
		}
		mu.Lock()
		answered = append(answered, ev.(*callback.Disconnect).CallID)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer app.Close()
	answeredCalls := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), answered...)
	}

	signed := []string{secretNew}
	first, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", DB: db, WebhookSecrets: signed})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := createCall(t, first, map[string]any{"from": "+15551112222", "to": "+15550000486", "applicationId": appID,
		"answerUrl": app.URL + "/answer", "disconnectUrl": app.URL + "/disconnect"})
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("the disconnect never left")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	first.Close(ctx) // gives up on the stalled delivery
	close(stall)
	if got := answeredCalls(); len(got) != 0 {
		t.Fatalf("the app answered %v before the stop", got)
	}

	second, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", DB: db, WebhookSecrets: signed})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(answeredCalls()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := answeredCalls(); len(got) != 1 || got[0] != id {
		t.Fatalf("after the restart the app answered %v, want the disconnect of %s", got, id)
	}
	mu.Lock()
	got := slices.Clone(arrivals)
	mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("the disconnect arrived %d times, want twice (before the stop, after the start)", len(got))
	}
	if !bytes.Equal(got[1].body, got[0].body) {
		t.Errorf("redelivered body differs:\n%s\nfirst:\n%s", got[1].body, got[0].body)
	}
	if a, b := got[0].header.Get("webhook-id"), got[1].header.Get("webhook-id"); a == "" || a != b {
		t.Errorf("webhook-id %q before the stop, %q after; want one id", a, b)
	}
	for _, a := range got {
		verifySigned(t, "the disconnect", a.header, a.body, signed...)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	second.Close(ctx2)

	third, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", DB: db, WebhookSecrets: signed})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	ctx3, cancel3 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel3()
	third.Close(ctx3)
	if got := answeredCalls(); len(got) != 1 {
		t.Errorf("a delivered webhook was sent again: %v", got)
	}
}
