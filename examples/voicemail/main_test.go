package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/readme"
)

// TestREADME runs the README's "Worked example: voicemail, or a message from
// a person" as written, then reads what the machine recorded and the
// person's transcription.
func TestREADME(t *testing.T) {
	srv, results := readme.Run(t, "Worked example: voicemail, or a message from a person",
		app(slog.New(slog.NewTextHandler(t.Output(), nil))),
		readme.Options{AnyOrder: [][]string{{"recordComplete", "transcriptionAvailable"}}})
	if len(results) != 2 {
		t.Fatalf("%d scenarios, want the machine and the person", len(results))
	}
	get := func(path string, v any) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL()+path, nil)
		req.SetBasicAuth("dev", "dev")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, v) != nil {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
	callID := func(r readme.Result) string {
		var created struct{ CallID string }
		if err := json.Unmarshal(r.Responses[0].Body, &created); err != nil || created.CallID == "" {
			t.Fatalf("createCall answered %s", r.Responses[0].Body)
		}
		return created.CallID
	}

	machine := callID(results[0])
	var vm struct {
		Messages []struct {
			Text      string
			AtSeconds float64
			AfterBeep bool
		}
	}
	get("/sim/v1/calls/"+machine+"/voicemail", &vm)
	if len(vm.Messages) != 1 || vm.Messages[0].Text != message || !vm.Messages[0].AfterBeep || vm.Messages[0].AtSeconds < 6.5 {
		t.Errorf("the machine recorded %+v, want the message once, after the beep", vm.Messages)
	}

	person := callID(results[1])
	var recordingID string
	for _, g := range results[1].Webhooks {
		switch ev := g.Event.(type) {
		case *callback.Answer:
			if r := ev.MachineDetectionResult; r == nil || r.Value != "human" {
				t.Errorf("machineDetectionResult %+v, want human", r)
			}
		case *callback.RecordComplete:
			recordingID = ev.RecordingID
		}
	}
	var tr struct {
		Transcripts []struct{ Text string } `json:"transcripts"`
	}
	get("/api/v2/accounts/9900000/calls/"+person+"/recordings/"+recordingID+"/transcription", &tr)
	if len(tr.Transcripts) != 1 || tr.Transcripts[0].Text != "Hi, this is Alex. Please call me back after five." {
		t.Errorf("transcription %+v", tr.Transcripts)
	}
}
