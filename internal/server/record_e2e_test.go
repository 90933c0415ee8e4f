package server_test

import (
	"bufio"
	"bytes"
	stdjson "encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/audio"
	"github.com/voicehook/voicehook/internal/server"
)

// download GETs a URL of the server with the dev credentials.
func download(t *testing.T, url, rangeHeader string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.SetBasicAuth("dev", "dev")
	if rangeHeader != "" {
		req.Header.Set("Range", rangeHeader)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, resp.Header, b.Bytes()
}

func TestVoicemailRecording(t *testing.T) {
	dir := t.TempDir()
	srv := startServerWith(t, server.Config{RecordingsDir: filepath.Join(dir, "rec")})
	app := newApp(t, map[string]string{
		"/answer": `<Response><SpeakSentence>Leave a message.</SpeakSentence>` +
			`<Record recordCompleteUrl="/record-complete" recordingAvailableUrl="/recording-available" silenceTimeout="2" maxDuration="30" ` +
			`transcribe="true" transcriptionAvailableUrl="/transcription-available"/></Response>`,
		"/record-complete": `<Response><SpeakSentence>Thanks.</SpeakSentence><Hangup/></Response>`,
	})
	// +15550000801 says "Hi, this is Alex. Please call me back after five."
	// (49 characters: 3.27 s) half a second into the recording.
	callID, _ := createCall(t, srv, callFields(app, "+15550000801"))
	rc := app.waitFor(t, callback.EventRecordComplete, 15*time.Second).event.(*callback.RecordComplete)
	ra := app.waitFor(t, callback.EventRecordingAvailable, 5*time.Second).event.(*callback.RecordingAvailable)
	app.waitFor(t, callback.EventDisconnect, 5*time.Second)
	want := 500*time.Millisecond + audio.SpeechLength("Hi, this is Alex. Please call me back after five.") + 2*time.Second
	if got := time.Duration(rc.Duration); got < want-50*time.Millisecond || got > want+50*time.Millisecond {
		t.Errorf("recordComplete duration %v, want %v (speech, then 2 s of silence)", got, want)
	}
	if rc.CallID != callID || ra.RecordingID != rc.RecordingID || ra.Status != callback.RecordingStatusComplete || ra.Channels != 1 || ra.FileFormat != callback.WAV {
		t.Errorf("recordComplete %+v\nrecordingAvailable %+v", rc, ra)
	}
	checkHooks(t, app.got())

	base := "/api/v2/accounts/9900000/calls/" + callID + "/recordings"
	status, _, body := rest(t, srv, "GET", base, "", "")
	var list []map[string]any
	if err := stdjson.Unmarshal(body, &list); status != 200 || err != nil || len(list) != 1 {
		t.Fatalf("list recordings: %d %s", status, body)
	}
	item, _ := stdjson.Marshal(list[0])
	conforms(t, "callRecordingMetadata", item)
	if list[0]["recordingId"] != rc.RecordingID || list[0]["mediaUrl"] != rc.MediaURL {
		t.Errorf("listed %s, want recording %s at %s", item, rc.RecordingID, rc.MediaURL)
	}
	status, _, body = rest(t, srv, "GET", "/api/v2/accounts/9900000/recordings?to=%2B15550000801", "", "")
	if status != 200 || !strings.Contains(string(body), rc.RecordingID) {
		t.Errorf("account recordings: %d %s", status, body)
	}

	// The media is a WAV file as long as the recording.
	status, hdr, wav := download(t, rc.MediaURL, "")
	if status != 200 || hdr.Get("Content-Type") != "audio/vnd.wave" {
		t.Fatalf("media: %d %s", status, hdr.Get("Content-Type"))
	}
	h, err := audio.ReadHeader(bufio.NewReader(bytes.NewReader(wav)))
	if err != nil {
		t.Fatal(err)
	}
	if h.Channels != 1 || h.SampleRate != 8000 || h.BitsPerSample != 16 || absDiff(h.Length(), time.Duration(rc.Duration)) > time.Millisecond {
		t.Errorf("media header %+v, length %v; want mono 8 kHz 16-bit, %v", h, h.Length(), time.Duration(rc.Duration))
	}
	if status, _, part := download(t, rc.MediaURL, "bytes=0-43"); status != http.StatusPartialContent || !bytes.Equal(part, wav[:44]) {
		t.Errorf("range request: %d, %d bytes", status, len(part))
	}
	file := filepath.Join(dir, "rec", rc.RecordingID+".wav")
	if _, err := os.Stat(file); err != nil {
		t.Errorf("the recording's file: %v", err)
	}

	// The transcription is what the phone said.
	taHook := app.waitFor(t, callback.EventTranscriptionAvailable, 5*time.Second)
	ta := taHook.event.(*callback.TranscriptionAvailable)
	if ta.RecordingID != rc.RecordingID || ta.Transcription == nil || ta.Transcription.Status != callback.TranscriptionStatusAvailable {
		t.Fatalf("transcriptionAvailable %+v", ta)
	}
	// It carries the words (the OpenAPI document's shape) beside the
	// metadata (the webhook page's), and validates against the schema.
	if tr := ta.Transcription; tr.Text != "Hi, this is Alex. Please call me back after five." || tr.Confidence == nil || *tr.Confidence != 1 || tr.URL == "" {
		t.Errorf("the webhook's transcription: text %q, confidence %v, url %q", tr.Text, tr.Confidence, tr.URL)
	}
	conforms(t, "transcriptionAvailableCallback", taHook.body)
	tURL := base + "/" + rc.RecordingID + "/transcription"
	status, _, body = rest(t, srv, "GET", tURL, "", "")
	conforms(t, "recordingTranscriptions", body)
	if status != 200 || !strings.Contains(string(body), `"text":"Hi, this is Alex. Please call me back after five."`) {
		t.Errorf("transcription: %d %s", status, body)
	}
	if status, _, body := rest(t, srv, "POST", tURL, "application/json", `{"callbackUrl":"`+app.URL+`/again","tag":"second"}`); status != 204 {
		t.Errorf("transcribe again: %d %s", status, body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(app.types(), "transcriptionAvailable") < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var again *callback.TranscriptionAvailable
	for _, h := range app.got() {
		if h.path == "/again" {
			again, _ = h.event.(*callback.TranscriptionAvailable)
		}
	}
	if again == nil || again.Tag == nil || *again.Tag != "second" || again.CallID != callID {
		t.Errorf("the requested transcriptionAvailable: %+v (webhooks %s)", again, app.types())
	}
	checkHooks(t, app.got())
	if status, _, body := rest(t, srv, "DELETE", tURL, "", ""); status != 204 {
		t.Errorf("delete transcription: %d %s", status, body)
	}
	if status, _, _ := rest(t, srv, "GET", tURL, "", ""); status != 404 {
		t.Errorf("deleted transcription: %d, want 404", status)
	}

	// Deleting the media keeps the record; deleting the recording removes all.
	if status, _, body := rest(t, srv, "DELETE", base+"/"+rc.RecordingID+"/media", "", ""); status != 204 {
		t.Errorf("delete media: %d %s", status, body)
	}
	if status, _, _ := download(t, rc.MediaURL, ""); status != 404 {
		t.Errorf("media after its deletion: %d, want 404", status)
	}
	status, _, body = rest(t, srv, "GET", base+"/"+rc.RecordingID, "", "")
	if status != 200 || !strings.Contains(string(body), `"status":"deleted"`) || !strings.Contains(string(body), `"mediaUrl":null`) {
		t.Errorf("recording after deleting its media: %d %s", status, body)
	}
	if status, _, body := rest(t, srv, "DELETE", base+"/"+rc.RecordingID, "", ""); status != 204 {
		t.Errorf("delete recording: %d %s", status, body)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("the file is still there: %v", err)
	}
	if status, _, _ := rest(t, srv, "GET", base+"/"+rc.RecordingID, "", ""); status != 404 {
		t.Errorf("deleted recording: %d, want 404", status)
	}
}

func absDiff(a, b time.Duration) time.Duration {
	if a > b {
		return a - b
	}
	return b - a
}

func TestRecordEndings(t *testing.T) {
	srv := startServer(t)
	t.Run("a hangup sends no recordComplete", func(t *testing.T) {
		t.Parallel()
		app := newApp(t, map[string]string{
			"/answer": `<Response><Record recordCompleteUrl="/rc" recordingAvailableUrl="/ra"/></Response>`})
		id, _ := createCall(t, srv, callFields(app, "+15550000000"))
		time.Sleep(1500 * time.Millisecond)
		if s, _, b := rest(t, srv, "POST", "/sim/v1/calls/"+id+"/speech", "application/json", `{"text":"Call me","durationSeconds":1}`); s != 204 {
			t.Fatalf("speech: %d %s", s, b)
		}
		time.Sleep(1200 * time.Millisecond)
		rest(t, srv, "POST", "/sim/v1/calls/"+id+"/hangup", "", "")
		app.waitFor(t, callback.EventDisconnect, 5*time.Second)
		ra := app.waitFor(t, callback.EventRecordingAvailable, 5*time.Second).event.(*callback.RecordingAvailable)
		if strings.Contains(app.types(), "recordComplete") || ra.Status != callback.RecordingStatusComplete {
			t.Errorf("webhooks %s, recordingAvailable status %s", app.types(), ra.Status)
		}
		checkHooks(t, app.got())
	})
	t.Run("a terminating digit", func(t *testing.T) {
		t.Parallel()
		app := newApp(t, map[string]string{
			"/answer": `<Response><Record terminatingDigits="*" recordCompleteUrl="/rc"/></Response>`, "/rc": `<Response><Hangup/></Response>`})
		id, _ := createCall(t, srv, callFields(app, "+15550000000"))
		time.Sleep(1500 * time.Millisecond)
		rest(t, srv, "POST", "/sim/v1/calls/"+id+"/dtmf", "application/json", `{"digits":"1*"}`)
		rc := app.waitFor(t, callback.EventRecordComplete, 5*time.Second).event.(*callback.RecordComplete)
		if d := time.Duration(rc.Duration); d < 500*time.Millisecond || d > 2*time.Second {
			t.Errorf("recorded %v, want the time until * was pressed", d)
		}
	})
	t.Run("StartRecording, multi-channel, paused over REST", func(t *testing.T) {
		t.Parallel()
		app := newApp(t, map[string]string{"/answer": `<Response><StartRecording multiChannel="true" transcribe="true" recordingAvailableUrl="/ra"/>` +
			`<SpeakSentence>Please hold the line.</SpeakSentence><Pause duration="3"/><StopRecording/><Hangup/></Response>`})
		id, _ := createCall(t, srv, callFields(app, "+15550000801"))
		time.Sleep(2500 * time.Millisecond)
		state := "/api/v2/accounts/9900000/calls/" + id + "/recording"
		if s, _, b := rest(t, srv, "PUT", state, "application/json", `{"state":"paused"}`); s != 200 {
			t.Errorf("pause: %d %s", s, b)
		}
		if s, _, b := rest(t, srv, "PUT", state, "application/json", `{"state":"stopped"}`); s != 400 {
			t.Errorf("state stopped: %d %s, want 400", s, b)
		}
		ra := app.waitFor(t, callback.EventRecordingAvailable, 10*time.Second).event.(*callback.RecordingAvailable)
		app.waitFor(t, callback.EventDisconnect, 5*time.Second)
		if s, _, _ := rest(t, srv, "PUT", state, "application/json", `{"state":"recording"}`); s != 409 {
			t.Errorf("resume after the call ended: %d, want 409", s)
		}
		// Answered at 1 s, paused at 2.5 s until the stop: about 1.5 s.
		if d := time.Duration(ra.Duration); ra.Channels != 2 || d < 1200*time.Millisecond || d > 2*time.Second {
			t.Errorf("recordingAvailable: %d channels, %v", ra.Channels, d)
		}
		status, _, wav := download(t, ra.MediaURL, "")
		h, err := audio.ReadHeader(bufio.NewReader(bytes.NewReader(wav)))
		if status != 200 || err != nil || h.Channels != 2 || absDiff(h.Length(), time.Duration(ra.Duration)) > time.Millisecond {
			t.Errorf("media: %d %v %+v", status, err, h)
		}
		// One transcript per channel: the far end's, then the call's.
		_, _, body := rest(t, srv, "GET", "/api/v2/accounts/9900000/calls/"+id+"/recordings/"+ra.RecordingID+"/transcription", "", "")
		conforms(t, "recordingTranscriptions", body)
		var tr struct{ Transcripts []struct{ Text string } }
		stdjson.Unmarshal(body, &tr)
		if len(tr.Transcripts) != 2 || tr.Transcripts[0].Text != "Hi, this is Alex. Please call me back after five." ||
			tr.Transcripts[1].Text != "Please hold the line." {
			t.Errorf("transcripts %s", body)
		}
		checkHooks(t, app.got())
	})
}
