package server_test

import (
	stdjson "encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/server"
	"github.com/voicehook/voicehook/internal/store/postgres/pgtest"
)

// TestRetention runs a server that keeps calls 1 s after they end and
// recordings 5 s after they start: an ended call goes (GET 404, listings
// without it) while its recording stays, listed and served, until its own
// time; then the recording's record and file go too. A call live since
// before every cutoff is never touched and can still be hung up.
func TestRetention(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	srv := startServerWith(t, server.Config{RecordingsDir: dir, KeepCalls: time.Second, KeepRecordings: 5 * time.Second,
		AdminAddr: "127.0.0.1:0"})
	checkRetention(t, srv, dir)
	// The metrics count what went.
	fams := scrapeMetrics(t, srv.AdminURL()+"/metrics")
	for name, want := range map[string]float64{"voicehook_expired_calls_total": 2, "voicehook_expired_recordings_total": 1} {
		if got := sample(fams, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

// TestRetentionOnPostgreSQL is TestRetention on a node of a PostgreSQL
// database.
func TestRetentionOnPostgreSQL(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	dir := t.TempDir()
	srv := startServerWith(t, server.Config{DB: dsn, RecordingsDir: dir, KeepCalls: time.Second, KeepRecordings: 5 * time.Second})
	checkRetention(t, srv, dir)
}

// checkRetention runs the scenario of TestRetention on srv, a server that
// keeps calls 1 s and recordings 5 s, with its recordings in dir.
func checkRetention(t *testing.T, srv *server.Server, dir string) {
	app := newApp(t, map[string]string{
		"/live":   `<Response><Pause duration="120"/></Response>`,
		"/answer": `<Response><Record maxDuration="1" recordingAvailableUrl="/recording-available"/><Hangup/></Response>`,
	})
	const calls = "/api/v2/accounts/9900000/calls"

	liveFields := callFields(app, "+15550000000")
	liveFields["answerUrl"] = app.URL + "/live"
	live, _ := createCall(t, srv, liveFields)
	ended, _ := createCall(t, srv, callFields(app, "+15550000001"))
	ra := app.waitFor(t, callback.EventRecordingAvailable, 15*time.Second).event.(*callback.RecordingAvailable)
	waitDisconnect(t, app, ended, 10*time.Second)
	events := "/sim/v1/calls/" + ended + "/events"
	if status, _, body := rest(t, srv, "GET", events, "", ""); status != http.StatusOK {
		t.Fatalf("the ended call's history, before it expired: %d %s", status, body)
	}
	file := filepath.Join(dir, ra.RecordingID+".wav")
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("the recording's file: %v", err)
	}

	// The ended call goes within a sweep or two of its second.
	pollStatus(t, srv, calls+"/"+ended, http.StatusNotFound, 10*time.Second)
	if ids := listedCalls(t, srv, calls); len(ids) != 1 || ids[0] != live {
		t.Errorf("GET /calls after the ended call expired lists %v; want only the live call %s", ids, live)
	}
	if status, _, body := rest(t, srv, "GET", events, "", ""); status != http.StatusNotFound {
		t.Errorf("the expired call's history: %d %s; want 404", status, body)
	}
	// Its recording is still there, by every route, with its file.
	recURL := calls + "/" + ended + "/recordings/" + ra.RecordingID
	for _, path := range []string{recURL, "/api/v2/accounts/9900000/recordings", calls + "/" + ended + "/recordings"} {
		if status, _, body := rest(t, srv, "GET", path, "", ""); status != http.StatusOK || !containsID(body, ra.RecordingID) {
			t.Errorf("GET %s once the call expired: %d %s; want the recording", path, status, body)
		}
	}
	if status, _, _ := rest(t, srv, "GET", recURL+"/media", "", ""); status != http.StatusOK {
		t.Errorf("the recording's media once the call expired: %d", status)
	}

	// Then the recording goes: record, listings and file.
	pollStatus(t, srv, recURL, http.StatusNotFound, 10*time.Second)
	if status, _, body := rest(t, srv, "GET", "/api/v2/accounts/9900000/recordings", "", ""); status != http.StatusOK || string(body) != "[]" {
		t.Errorf("GET /recordings after the recording expired: %d %s; want []", status, body)
	}
	if status, _, _ := rest(t, srv, "GET", calls+"/"+ended+"/recordings", "", ""); status != http.StatusNotFound {
		t.Errorf("the expired call's recordings, all expired: %d; want 404", status)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("the expired recording's file: %v; want it removed", err)
	}

	// The live call, older than both cutoffs, is untouched and controllable.
	status, _, body := rest(t, srv, "GET", calls+"/"+live, "", "")
	var state struct {
		State string `json:"state"`
	}
	if err := stdjson.Unmarshal(body, &state); status != http.StatusOK || err != nil || state.State != "answered" {
		t.Fatalf("the live call after the sweeps: %d %s; want it answered", status, body)
	}
	if status, _, body := rest(t, srv, "POST", calls+"/"+live, "application/json", `{"state":"completed"}`); status != http.StatusOK {
		t.Fatalf("hang up the live call: %d %s", status, body)
	}
	waitDisconnect(t, app, live, 5*time.Second)
	// Ended, it goes too: the account has no call left.
	pollStatus(t, srv, calls+"/"+live, http.StatusNotFound, 10*time.Second)
	if status, _, body := rest(t, srv, "GET", calls, "", ""); status != http.StatusOK || string(body) != "[]" {
		t.Errorf("GET /calls once every call expired: %d %s; want []", status, body)
	}
}

// waitDisconnect waits for the disconnect of a call.
func waitDisconnect(t *testing.T, app *testApp, callID string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, h := range app.got() {
			if d, ok := h.event.(*callback.Disconnect); ok && d.CallID == callID {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no disconnect of %s within %v; got %s", callID, timeout, app.types())
}

// pollStatus GETs path until it answers want.
func pollStatus(t *testing.T, srv *server.Server, path string, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		status, _, body := rest(t, srv, "GET", path, "", "")
		if status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: still %d %s after %v; want %d", path, status, body, timeout, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// listedCalls returns the ids GET /calls lists.
func listedCalls(t *testing.T, srv *server.Server, path string) []string {
	t.Helper()
	status, _, body := rest(t, srv, "GET", path, "", "")
	var list []struct {
		CallID string `json:"callId"`
	}
	if err := stdjson.Unmarshal(body, &list); status != http.StatusOK || err != nil {
		t.Fatalf("GET %s: %d %s", path, status, body)
	}
	var ids []string
	for _, c := range list {
		ids = append(ids, c.CallID)
	}
	return ids
}

// containsID reports whether a JSON body names the recording.
func containsID(body []byte, id string) bool {
	var v any
	if stdjson.Unmarshal(body, &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case map[string]any:
			if x["recordingId"] == id {
				return true
			}
		case []any:
			for _, e := range x {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// TestRetentionWaitsForWebhooks: with --retry-webhooks and the
// application's disconnect URL down, an ended call outlives its retention
// while its disconnect is retried; a call that ended after it, its
// disconnect delivered, goes meanwhile. Once the application is back and
// takes the disconnect, the waiting call goes too.
func TestRetentionWaitsForWebhooks(t *testing.T) {
	srv := startServerWith(t, server.Config{KeepCalls: time.Second, KeepRecordings: server.KeepForever, RetryWebhooks: true})
	app := newApp(t, map[string]string{"/answer": `<Response><Hangup/></Response>`})
	const calls = "/api/v2/accounts/9900000/calls"
	app.mu.Lock()
	app.status["/disconnect-down"] = http.StatusServiceUnavailable
	app.mu.Unlock()

	fields := callFields(app, "+15550000002")
	fields["disconnectUrl"] = app.URL + "/disconnect-down"
	waiting, _ := createCall(t, srv, fields)
	waitDisconnect(t, app, waiting, 10*time.Second) // refused: it stays queued
	delivered, _ := createCall(t, srv, callFields(app, "+15550000003"))
	waitDisconnect(t, app, delivered, 10*time.Second)

	// A sweep whose cutoff is past both ends removes the delivered one only.
	pollStatus(t, srv, calls+"/"+delivered, http.StatusNotFound, 10*time.Second)
	if status, _, body := rest(t, srv, "GET", calls+"/"+waiting, "", ""); status != http.StatusOK {
		t.Fatalf("the call whose disconnect is being retried, once a later call expired: %d %s; want it kept", status, body)
	}

	app.mu.Lock()
	delete(app.status, "/disconnect-down")
	app.mu.Unlock()
	// The retries come 1, 2, 4, 8 s apart: the next one is delivered.
	pollStatus(t, srv, calls+"/"+waiting, http.StatusNotFound, 30*time.Second)
}
