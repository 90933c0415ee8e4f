package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/server"
)

// requireSDK makes sure node and the official SDK (test/sdk) are there.
func requireSDK(t *testing.T) string {
	return requireNodeSuite(t, "sdk", "bandwidth-sdk", "the SDK-driven suite", nil)
}

// runSDK runs a script of test/sdk against srv and app, and returns the
// steps it printed, by name.
func runSDK(t *testing.T, dir, script string, srv *server.Server, app *testApp) map[string]map[string]any {
	t.Helper()
	return runNode(t, dir, script, "VH_BASE="+srv.URL()+"/api/v2", "VH_APP="+app.URL, "VH_ACCOUNT=9900000")
}

// TestOfficialNodeSDK drives voicehook with Bandwidth's own Node SDK:
// createCall, getCallState, updateCall (redirect), updateCallBxml with BXML
// built by the SDK, listCalls, and its error handling.
func TestOfficialNodeSDK(t *testing.T) {
	dir := requireSDK(t)
	srv := startServer(t)
	app := newApp(t, map[string]string{
		"/answer":   `<Response><Pause duration="30"/></Response>`,
		"/redirect": `<Response><Pause duration="30"/></Response>`,
	})
	steps := runSDK(t, dir, "drive.mjs", srv, app)
	status := func(name string) float64 {
		s, ok := steps[name]
		if !ok {
			t.Fatalf("drive.mjs printed no %q step: %v", name, steps)
		}
		return s["status"].(float64)
	}
	if status("create") != 201 {
		t.Errorf("createCall: %v", steps["create"])
	}
	data := steps["create"]["data"].(map[string]any)
	callID := data["callId"].(string)
	if data["tag"] != "sdk-tag" || data["callTimeout"] != 10.0 || data["priority"] != 2.0 {
		t.Errorf("createCall response: %v", data)
	}
	if loc := steps["create"]["location"]; loc != srv.URL()+"/api/v2/accounts/9900000/calls/"+callID {
		t.Errorf("Location %v", loc)
	}
	if status("get") != 200 || steps["get"]["data"].(map[string]any)["state"] != "answered" {
		t.Errorf("getCallState: %v", steps["get"])
	}
	if status("redirect") != 200 || status("bxml") != 204 || status("list") != 200 {
		t.Errorf("updateCall %v, updateCallBxml %v, listCalls %v", steps["redirect"], steps["bxml"], steps["list"])
	}
	if !strings.Contains(steps["bxml"]["sent"].(string), `<break time="500ms"/>`) {
		t.Errorf("the SDK's BXML: %v", steps["bxml"]["sent"])
	}
	for name, want := range map[string]float64{"invalid": 400, "notfound": 404, "unauthorized": 401, "ended": 409} {
		if got := status(name); got != want {
			t.Errorf("%s: status %v, want %v (%v)", name, got, want, steps[name]["body"])
		}
	}
	d := app.waitFor(t, callback.EventDisconnect, 5*time.Second).event.(*callback.Disconnect)
	if d.CallID != callID || d.Cause != callback.CauseHangup {
		t.Errorf("disconnect %+v", d)
	}
	if got := app.types(); got != "answer,redirect,disconnect" {
		t.Errorf("webhooks %s", got)
	}
	r := app.waitFor(t, callback.EventRedirect, time.Second).event.(*callback.Redirect)
	if r.Tag == nil || *r.Tag != "moved" {
		t.Errorf("the redirect's tag %v", r.Tag)
	}
	checkHooks(t, app.got())
}

// TestOfficialNodeSDKConference drives a conference with the SDK's
// ConferencesApi: listConferences, getConference, updateConferenceMember,
// getConferenceMember, updateConferenceBxml and updateConference.
func TestOfficialNodeSDKConference(t *testing.T) {
	dir := requireSDK(t)
	srv := startServer(t)
	app := newApp(t, map[string]string{
		"/conf-answer": `<Response><Conference conferenceEventUrl="/conf" tag="sdk">sdk-room</Conference>` +
			`<SpeakSentence>Bye</SpeakSentence></Response>`,
		"/conf": "",
	})
	steps := runSDK(t, dir, "conference.mjs", srv, app)
	for name, want := range map[string]float64{"list": 200, "get": 200, "mute": 204, "member": 200, "bxml": 204, "complete": 204, "after": 200} {
		if s, ok := steps[name]; !ok || s["status"] != want {
			t.Errorf("%s: %v, want status %v", name, s, want)
		}
	}
	if t.Failed() {
		return
	}
	conf := steps["get"]["data"].(map[string]any)
	members, _ := conf["activeMembers"].([]any)
	if conf["name"] != "sdk-room" || conf["tag"] != "sdk" || len(members) != 2 {
		t.Errorf("getConference: %v", conf)
	}
	member := steps["member"]["data"].(map[string]any)
	first := steps["get"]["calls"].([]any)[0]
	if member["callId"] != first || member["mute"] != true || member["hold"] != false {
		t.Errorf("getConferenceMember: %v, want %v muted", member, first)
	}
	if after := steps["after"]["data"].(map[string]any); after["completedTime"] == nil {
		t.Errorf("getConference after completion: %v", after)
	}
	// The members went on with <SpeakSentence> and hung up.
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(app.types(), "disconnect") < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := strings.Count(app.types(), "disconnect"); n != 2 {
		t.Errorf("%d disconnects, want 2: %s", n, app.types())
	}
	checkHooks(t, app.got())
}
