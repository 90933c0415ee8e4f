package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
)

// TestVoicemailExample is the README's worked example: an app calls a
// number with machine detection; an answering machine gets a message after
// its beep, a person is asked for one, recorded, and transcribed.
func TestVoicemailExample(t *testing.T) {
	srv := startServer(t)
	var mu sync.Mutex
	var got []callback.Event
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, err := callback.Decode(body)
		if err != nil {
			t.Errorf("%s: %v", r.URL.Path, err)
			return
		}
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		switch ev := ev.(type) {
		case *callback.Answer:
			if ev.MachineDetectionResult != nil && ev.MachineDetectionResult.Value == callback.AnsweringMachine {
				io.WriteString(w, `<Response><SpeakSentence>Hi, this is Dr Chen's office: your appointment is tomorrow at ten.</SpeakSentence><Hangup/></Response>`)
				return
			}
			io.WriteString(w, `<Response><SpeakSentence>When should we call you back?</SpeakSentence>`+
				`<Record maxDuration="30" silenceTimeout="2" recordCompleteUrl="/recorded" transcribe="true" transcriptionAvailableUrl="/transcription"/></Response>`)
		case *callback.RecordComplete:
			io.WriteString(w, `<Response><SpeakSentence>Thanks, goodbye.</SpeakSentence><Hangup/></Response>`)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer app.Close()

	for _, c := range []struct {
		to, result, want string
	}{
		{"+15550000800", "answering-machine", "answer,disconnect"},
		{"+15550000801", "human", "answer,recordComplete,transcriptionAvailable,disconnect"},
	} {
		t.Run(c.result, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			id, _ := createCall(t, srv, map[string]any{"from": "+15551112222", "to": c.to, "applicationId": appID,
				"answerUrl": app.URL + "/answer", "disconnectUrl": app.URL + "/disconnect",
				"machineDetection": map[string]any{"mode": "sync", "speechEndThreshold": 1}})
			var types []string
			deadline := time.Now().Add(20 * time.Second)
			for time.Now().Before(deadline) {
				mu.Lock()
				types = types[:0]
				for _, ev := range got {
					types = append(types, string(ev.Type()))
				}
				mu.Unlock()
				if len(types) >= strings.Count(c.want, ",")+1 {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			// recordComplete (a reply is awaited) and transcriptionAvailable
			// (queued) leave at the same moment: either may come first.
			if len(types) > 2 {
				slices.Sort(types[1 : len(types)-1])
			}
			if s := strings.Join(types, ","); s != c.want {
				t.Fatalf("webhooks %s, want %s", s, c.want)
			}
			mu.Lock()
			answer := got[0].(*callback.Answer)
			mu.Unlock()
			if r := answer.MachineDetectionResult; r == nil || string(r.Value) != c.result {
				t.Errorf("machineDetectionResult %+v, want %s", r, c.result)
			}
			if c.result != "human" {
				// The machine recorded the message, after its beep.
				status, _, body := rest(t, srv, "GET", "/sim/v1/calls/"+id+"/voicemail", "", "")
				var vm struct {
					Messages []struct {
						Text      string
						AtSeconds float64
						AfterBeep bool
					}
				}
				json.Unmarshal(body, &vm)
				if status != 200 || len(vm.Messages) != 1 || !vm.Messages[0].AfterBeep || vm.Messages[0].AtSeconds < 6.5 ||
					vm.Messages[0].Text != "Hi, this is Dr Chen's office: your appointment is tomorrow at ten." {
					t.Errorf("voicemail: %d %s", status, body)
				}
				return
			}
			var rc *callback.RecordComplete
			mu.Lock()
			for _, ev := range got {
				if r, ok := ev.(*callback.RecordComplete); ok {
					rc = r
				}
			}
			mu.Unlock()
			status, _, body := rest(t, srv, "GET", "/api/v2/accounts/9900000/calls/"+id+"/recordings/"+rc.RecordingID+"/transcription", "", "")
			var tr struct {
				Transcripts []struct{ Text string } `json:"transcripts"`
			}
			json.Unmarshal(body, &tr)
			if status != 200 || len(tr.Transcripts) != 1 || tr.Transcripts[0].Text != "Hi, this is Alex. Please call me back after five." {
				t.Errorf("transcription: %d %s", status, body)
			}
		})
	}
}
