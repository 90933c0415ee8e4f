package server_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
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
	// The same node, restarted: it ends the calls it left (a node that
	// comes back under another id leaves them to a survivor, after its
	// lease: test/cluster).
	cfg := server.Config{Addr: "127.0.0.1:0", DB: dsn, RecordingsDir: t.TempDir(), Node: "the-node"}
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

// TestConsoleFollowsOtherNodes: the console of one node shows the calls of
// another as they change.
func TestConsoleFollowsOtherNodes(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	app := newApp(t, map[string]string{"/answer": `<Response><Pause duration="1"/></Response>`})
	start := func(addr string) *server.Server {
		return startServerWith(t, server.Config{Addr: addr, DB: dsn, RecordingsDir: t.TempDir()})
	}
	watcher, other := start("127.0.0.238:0"), start("127.0.0.239:0")
	stream, err := http.Get(watcher.URL() + "/console/api/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stream.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	id, _ := createCall(t, other, callFields(app, "+15550000000"))
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended")
			}
			if strings.Contains(l, id) && strings.Contains(l, "disconnected") {
				return
			}
		case <-deadline:
			t.Fatalf("node %s's console did not show call %s of node %s ending", watcher.Node(), id, other.Node())
		}
	}
}
