package server_test

import (
	stdjson "encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
)

// waitHooks polls until the app has seen n webhooks of type et.
func waitHooks(t *testing.T, app *testApp, et callback.EventType, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		got := 0
		for _, h := range app.got() {
			if h.event != nil && h.event.Type() == et {
				got++
			}
		}
		if got >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fewer than %d %s webhooks within 10s; got %s", n, et, app.types())
}

func TestThreeMemberConference(t *testing.T) {
	srv := startServer(t)
	app := newApp(t, map[string]string{
		"/answer": `<Response><Conference conferenceEventUrl="/conf" tag="standup">daily.standup</Conference>` +
			`<SpeakSentence>The meeting is over.</SpeakSentence></Response>`,
		"/conf":     "",
		"/redirect": `<Response><SpeakSentence>Two minutes left.</SpeakSentence></Response>`,
	})
	var calls []string
	for range 3 {
		id, _ := createCall(t, srv, callFields(app, "+15550000000"))
		calls = append(calls, id)
	}
	waitHooks(t, app, callback.EventConferenceMemberJoin, 3)

	const base = "/api/v2/accounts/9900000/conferences"
	status, _, body := rest(t, srv, "GET", base+"?name=daily.standup", "", "")
	if status != http.StatusOK {
		t.Fatalf("list conferences: %d %s", status, body)
	}
	var list []map[string]any
	if err := stdjson.Unmarshal(body, &list); err != nil || len(list) != 1 {
		t.Fatalf("list conferences: %s (%v), want one", body, err)
	}
	if _, ok := list[0]["activeMembers"]; ok {
		t.Errorf("the listing shows members: %s", body)
	}
	id, _ := list[0]["id"].(string)
	if err := callback.ValidateConferenceID(id); err != nil {
		t.Fatal(err)
	}

	status, _, body = rest(t, srv, "GET", base+"/"+id, "", "")
	if status != http.StatusOK {
		t.Fatalf("get conference: %d %s", status, body)
	}
	conforms(t, "conference", body)
	var conf struct {
		Name          string `json:"name"`
		Tag           string `json:"tag"`
		ActiveMembers []struct {
			CallID    string `json:"callId"`
			MemberURL string `json:"memberUrl"`
		} `json:"activeMembers"`
	}
	if err := stdjson.Unmarshal(body, &conf); err != nil {
		t.Fatal(err)
	}
	if len(conf.ActiveMembers) != 3 || conf.Tag != "standup" || conf.Name != "daily.standup" {
		t.Errorf("conference = %s, want daily.standup, tag standup, 3 members", body)
	}

	member := base + "/" + id + "/members/" + calls[1]
	if status, _, body := rest(t, srv, "PUT", member, "application/json", `{"mute":true,"hold":false}`); status != http.StatusNoContent {
		t.Errorf("update member: %d %s", status, body)
	}
	status, _, body = rest(t, srv, "GET", member, "", "")
	conforms(t, "conferenceMember", body)
	if status != http.StatusOK || !strings.Contains(string(body), `"mute":true`) || !strings.Contains(string(body), srv.URL()+member) {
		t.Errorf("member after mute: %d %s", status, body)
	}
	if status, _, body := rest(t, srv, "GET", base+"/"+id+"/members/c-00000000-00000000-0000-0000-0000-000000000000", "", ""); status != http.StatusNotFound {
		t.Errorf("unknown member: %d %s, want 404", status, body)
	}

	// Conference BXML: conference verbs only.
	if status, _, body := rest(t, srv, "PUT", base+"/"+id+"/bxml", "application/xml", `<Bxml><SpeakSentence>Welcome all.</SpeakSentence></Bxml>`); status != http.StatusNoContent {
		t.Errorf("PUT conference bxml: %d %s", status, body)
	}
	status, _, body = rest(t, srv, "PUT", base+"/"+id+"/bxml", "application/xml", `<Bxml><Hangup/></Bxml>`)
	if status != http.StatusBadRequest || !strings.Contains(string(body), "Hangup") {
		t.Errorf("PUT conference bxml with <Hangup>: %d %s, want 400 naming the verb", status, body)
	}
	redirect := fmt.Sprintf(`{"redirectUrl":%q}`, app.URL+"/redirect")
	if status, _, body := rest(t, srv, "POST", base+"/"+id, "application/json", redirect); status != http.StatusNoContent {
		t.Errorf("redirect conference: %d %s", status, body)
	}
	app.waitFor(t, callback.EventConferenceRedirect, 5*time.Second)

	// Ending it: every member leaves and goes on with its next verb.
	if status, _, body := rest(t, srv, "POST", base+"/"+id, "application/json", `{"status":"completed"}`); status != http.StatusNoContent {
		t.Fatalf("complete conference: %d %s", status, body)
	}
	waitHooks(t, app, callback.EventDisconnect, 3)
	waitHooks(t, app, callback.EventConferenceCompleted, 1)
	want := "conferenceCreated,conferenceMemberJoin,conferenceMemberJoin,conferenceMemberJoin,conferenceRedirect," +
		"conferenceMemberExit,conferenceMemberExit,conferenceMemberExit,conferenceCompleted"
	var confTypes []string
	for _, h := range app.got() {
		if h.path == "/conf" || h.path == "/redirect" {
			confTypes = append(confTypes, string(h.event.Type()))
		}
	}
	if got := strings.Join(confTypes, ","); got != want {
		t.Errorf("conference webhooks:\n%s\nwant:\n%s", got, want)
	}
	if n := strings.Count(app.types(), "disconnect"); n != 3 {
		t.Errorf("%d disconnects, want one per member: %s", n, app.types())
	}
	status, _, body = rest(t, srv, "GET", base+"/"+id, "", "")
	conforms(t, "conference", body)
	if status != http.StatusOK || !strings.Contains(string(body), `"completedTime":"`) {
		t.Errorf("completed conference: %d %s", status, body)
	}
	if status, _, body := rest(t, srv, "POST", base+"/"+id, "application/json", `{"status":"completed"}`); status != http.StatusConflict {
		t.Errorf("completing it again: %d %s, want 409", status, body)
	}
	if status, _, body := rest(t, srv, "GET", base+"/conf-00000000-00000000-0000-0000-0000-000000000000", "", ""); status != http.StatusNotFound {
		t.Errorf("unknown conference: %d %s, want 404", status, body)
	}
	checkHooks(t, app.got())
}

func TestConferenceRecording(t *testing.T) {
	srv := startServer(t)
	app := newApp(t, map[string]string{
		"/answer": `<Response><Conference conferenceEventUrl="/conf" tag="board">board</Conference></Response>`,
		"/conf":   "",
	})
	a, _ := createCall(t, srv, callFields(app, "+15550000000"))
	createCall(t, srv, callFields(app, "+15550000000"))
	waitHooks(t, app, callback.EventConferenceMemberJoin, 2)
	const base = "/api/v2/accounts/9900000/conferences"
	_, _, body := rest(t, srv, "GET", base+"?name=board", "", "")
	var list []struct{ ID string }
	stdjson.Unmarshal(body, &list)
	if len(list) != 1 {
		t.Fatalf("conferences: %s", body)
	}
	id := list[0].ID
	if s, _, b := rest(t, srv, "PUT", base+"/"+id+"/bxml", "application/xml", `<Bxml><StartRecording recordingAvailableUrl="`+app.URL+`/cra"/></Bxml>`); s != 204 {
		t.Fatalf("start recording: %d %s", s, b)
	}
	if s, _, b := rest(t, srv, "POST", "/sim/v1/calls/"+a+"/speech", "application/json", `{"text":"Motion carried.","durationSeconds":1}`); s != 204 {
		t.Fatalf("speech: %d %s", s, b)
	}
	time.Sleep(1500 * time.Millisecond)
	if s, _, b := rest(t, srv, "PUT", base+"/"+id+"/bxml", "application/xml", `<Bxml><StopRecording/></Bxml>`); s != 204 {
		t.Fatalf("stop recording: %d %s", s, b)
	}
	got := app.waitFor(t, callback.EventConferenceRecordingAvailable, 5*time.Second).event.(*callback.ConferenceRecordingAvailable)
	if got.ConferenceID != id || got.Name != "board" || got.Tag == nil || *got.Tag != "board" || got.Channels != 1 ||
		time.Duration(got.Duration) < 1400*time.Millisecond || time.Duration(got.Duration) > 3*time.Second {
		t.Errorf("conferenceRecordingAvailable %+v", got)
	}
	status, _, body := rest(t, srv, "GET", base+"/"+id+"/recordings", "", "")
	var recs []map[string]any
	if err := stdjson.Unmarshal(body, &recs); status != 200 || err != nil || len(recs) != 1 {
		t.Fatalf("conference recordings: %d %s", status, body)
	}
	item, _ := stdjson.Marshal(recs[0])
	conforms(t, "conferenceRecordingMetadata", item)
	status, _, wav := download(t, got.MediaURL, "")
	if status != 200 || !strings.HasPrefix(string(wav), "RIFF") {
		t.Errorf("media: %d, %d bytes", status, len(wav))
	}
	// Conference recordings are not call recordings.
	if _, _, body := rest(t, srv, "GET", "/api/v2/accounts/9900000/recordings", "", ""); strings.Contains(string(body), got.RecordingID) {
		t.Errorf("the account's call recordings list the conference's: %s", body)
	}
	rest(t, srv, "POST", base+"/"+id, "application/json", `{"status":"completed"}`)
	checkHooks(t, app.got())
}
