package server_test

import (
	stdjson "encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
)

func TestMachineDetectionOverHTTP(t *testing.T) {
	srv := startServer(t)
	t.Run("async: the answering machine", func(t *testing.T) {
		t.Parallel()
		app := newApp(t, map[string]string{"/answer": `<Response><Pause duration="10"/></Response>`})
		fields := callFields(app, "+15550000800")
		fields["machineDetection"] = map[string]any{"mode": "async", "callbackUrl": app.URL + "/amd", "speechThreshold": 5}
		createCall(t, srv, fields)
		got := app.waitFor(t, callback.EventMachineDetectionComplete, 15*time.Second)
		r := got.event.(*callback.MachineDetectionComplete).MachineDetectionResult
		if got.path != "/amd" || r == nil || r.Value != callback.AnsweringMachine || time.Duration(r.Duration) != 5500*time.Millisecond {
			t.Errorf("machineDetectionComplete at %s: %+v, want answering-machine after 5.5s", got.path, r)
		}
		if !strings.HasPrefix(app.types(), "answer,machineDetectionComplete") {
			t.Errorf("webhooks %s: want the answer first", app.types())
		}
		// The app did not wait for the result: its Pause played into the
		// greeting, and an answering machine records nothing of a Pause.
		status, _, body := rest(t, srv, "GET", "/sim/v1/calls/"+got.event.(*callback.MachineDetectionComplete).CallID+"/voicemail", "", "")
		if status != 200 || string(body) != `{"messages":[]}` {
			t.Errorf("voicemail: %d %s", status, body)
		}
		if status, _, _ := rest(t, srv, "GET", "/sim/v1/calls/c-00000000-00000000-0000-0000-0000-000000000000/voicemail", "", ""); status != 404 {
			t.Errorf("voicemail of no call: %d, want 404", status)
		}
		checkHooks(t, app.got())
	})
	t.Run("sync: a person", func(t *testing.T) {
		t.Parallel()
		app := newApp(t, map[string]string{"/answer": `<Response><Hangup/></Response>`})
		fields := callFields(app, "+15550000801")
		fields["machineDetection"] = map[string]any{"mode": "sync", "speechEndThreshold": 1}
		createCall(t, srv, fields)
		got := app.waitFor(t, callback.EventAnswer, 15*time.Second)
		r := got.event.(*callback.Answer).MachineDetectionResult
		if r == nil || r.Value != callback.Human || time.Duration(r.Duration) != 2500*time.Millisecond {
			t.Errorf("answer's machineDetectionResult %+v, want human after 2.5s", r)
		}
		app.waitFor(t, callback.EventDisconnect, 5*time.Second)
		if strings.Contains(app.types(), "machineDetectionComplete") {
			t.Errorf("sync mode sent machineDetectionComplete: %s", app.types())
		}
		checkHooks(t, app.got())
	})
	t.Run("bad settings", func(t *testing.T) {
		t.Parallel()
		app := newApp(t, nil)
		for md, want := range map[string]string{
			`{"mode":"fast"}`:                       `Invalid machineDetection.mode \"fast\"`,
			`{}`:                                    "machineDetection.callbackUrl is required when machineDetection.mode is async",
			`{"mode":"sync","speechThreshold":-1}`:  "machineDetection.speechThreshold must be within the range",
			`{"mode":"sync","speechTreshold":5}`:    `Unknown field \"machineDetection/speechTreshold\"`,
			`{"mode":"sync","delayResult":"yes"}`:   "must be a boolean",
			`{"callbackUrl":"ftp://x.example/amd"}`: "machineDetection.callbackUrl",
			`"human"`:                               "machineDetection",
		} {
			fields := callFields(app, "+15550000800")
			body, _ := stdjson.Marshal(fields)
			req := strings.Replace(string(body), "{", `{"machineDetection":`+md+",", 1)
			status, _, resp := rest(t, srv, "POST", "/api/v2/accounts/9900000/calls", "application/json", req)
			if status != http.StatusBadRequest || !strings.Contains(string(resp), want) {
				t.Errorf("machineDetection %s: %d %s, want 400 saying %q", md, status, resp, want)
			}
		}
	})
}
