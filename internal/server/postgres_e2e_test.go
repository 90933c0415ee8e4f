package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/server"
	"github.com/voicehook/voicehook/internal/store/postgres/pgtest"
)

// voicehook serve on PostgreSQL (--db postgres://…): calls run and are
// listed, and a call left live by a server that stopped is ended by the
// next one, with its disconnect, as on SQLite.
func TestServerOnPostgreSQL(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	app := newApp(t, map[string]string{"/answer": `<Response><Pause duration="600"/></Response>`})
	cfg := server.Config{Addr: "127.0.0.1:0", DB: dsn, RecordingsDir: t.TempDir()}
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := createCall(t, srv, callFields(app, "+15550000000"))
	app.waitFor(t, callback.EventAnswer, 10*time.Second)
	status, _, body := rest(t, srv, "GET", "/api/v2/accounts/9900000/calls/"+id, "", "")
	if status != 200 {
		t.Fatalf("GET the call: %d %s", status, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}

	again, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { again.Close(context.Background()) })
	ev := app.waitFor(t, callback.EventDisconnect, 10*time.Second).event.(*callback.Disconnect)
	if ev.CallID != id || ev.Cause != callback.CauseError {
		t.Errorf("disconnect of %s with %s, want %s with error", ev.CallID, ev.Cause, id)
	}
	checkHooks(t, app.got())
}
