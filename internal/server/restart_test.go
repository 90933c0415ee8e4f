package server_test

import (
	"context"
	"path/filepath"
	"strings"
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
