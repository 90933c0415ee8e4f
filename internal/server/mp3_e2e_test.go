package server_test

import (
	"bytes"
	"context"
	stdjson "encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/audio"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/lame"
	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/server"
	"github.com/voicehook/voicehook/internal/store/sqlite"
)

// needLAME returns the path of this machine's lame program. CI installs
// it, so there a missing program fails the test instead of skipping it.
func needLAME(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("lame")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mp3 recordings need the lame program: %v", err)
		}
		t.Skipf("mp3 recordings need the lame program (apt-get install lame): %v", err)
	}
	return p
}

// mp3Slack is how much longer an MP3 recording plays than its duration:
// LAME's delay (1105 samples), the last frame's padding and the frame of
// the LAME tag, which go-mp3 plays as silence: at most 4 frames of 576
// samples at 16 kHz, 144 ms.
const mp3Slack = 4 * 576 * time.Second / 16000

// playsFor checks that the MP3 file b plays for d (+ mp3Slack) and
// returns whether its frames are two-channel.
func playsFor(t *testing.T, b []byte, d time.Duration) (stereo bool) {
	t.Helper()
	clip, err := pcm.DecodeMP3(bytes.NewReader(b), 0)
	if err != nil {
		t.Fatalf("the media does not decode as MP3: %v", err)
	}
	if got := clip.Duration(); got < d || got > d+mp3Slack {
		t.Errorf("the MP3 plays %v, want %v (+ at most %v)", got, d, mp3Slack)
	}
	// The channel mode is the top two bits of a frame header's fourth
	// byte; 3 is mono.
	for i := 0; i+4 <= len(b); i++ {
		if b[i] == 0xFF && b[i+1]&0xE6 == 0xE2 { // sync, layer III
			return b[i+3]>>6 != 3
		}
	}
	t.Fatal("no MPEG frame in the media")
	return false
}

// consoleRecordings are the recordings the console shows for a call.
func consoleRecordings(t *testing.T, srv *server.Server, callID string) []struct {
	RecordingID string
	Status      string
	MediaURL    *string
} {
	t.Helper()
	var d struct {
		Recordings []struct {
			RecordingID string
			Status      string
			MediaURL    *string
		}
	}
	if status := consoleGet(t, srv.URL()+"/console/api/calls/"+callID, &d); status != 200 {
		t.Fatalf("console detail: %d", status)
	}
	return d.Recordings
}

func TestMP3Voicemail(t *testing.T) {
	dir := t.TempDir()
	srv := startServerWith(t, server.Config{RecordingsDir: filepath.Join(dir, "rec"), LAME: needLAME(t)})
	app := newApp(t, map[string]string{
		"/answer": `<Response><Record fileFormat="mp3" recordCompleteUrl="/record-complete" recordingAvailableUrl="/recording-available" ` +
			`silenceTimeout="2" maxDuration="30" transcribe="true" transcriptionAvailableUrl="/transcription-available"/></Response>`,
		"/record-complete": `<Response><Hangup/></Response>`,
	})
	// +15550000801 says a 3.27 s sentence half a second into the recording.
	callID, _ := createCall(t, srv, callFields(app, "+15550000801"))
	rc := app.waitFor(t, callback.EventRecordComplete, 15*time.Second).event.(*callback.RecordComplete)
	ra := app.waitFor(t, callback.EventRecordingAvailable, 10*time.Second).event.(*callback.RecordingAvailable)
	ta := app.waitFor(t, callback.EventTranscriptionAvailable, 5*time.Second).event.(*callback.TranscriptionAvailable)
	want := 500*time.Millisecond + audio.SpeechLength("Hi, this is Alex. Please call me back after five.") + 2*time.Second
	if got := time.Duration(rc.Duration); absDiff(got, want) > 50*time.Millisecond {
		t.Errorf("recordComplete duration %v, want %v", got, want)
	}
	if rc.FileFormat != callback.MP3 || ra.FileFormat != callback.MP3 || ta.FileFormat != callback.MP3 || ra.RecordingID != rc.RecordingID ||
		ra.Status != callback.RecordingStatusComplete || ra.Duration != rc.Duration || ra.Channels != 1 {
		t.Errorf("recordComplete %+v\nrecordingAvailable %+v\ntranscriptionAvailable %+v", rc, ra, ta)
	}
	if ta.Transcription == nil || ta.Transcription.Status != callback.TranscriptionStatusAvailable {
		t.Errorf("transcriptionAvailable %+v", ta.Transcription)
	}

	base := "/api/v2/accounts/9900000/calls/" + callID + "/recordings/" + rc.RecordingID
	status, _, body := rest(t, srv, "GET", base, "", "")
	conforms(t, "callRecordingMetadata", body)
	if status != 200 || !strings.Contains(string(body), `"fileFormat":"mp3"`) || !strings.Contains(string(body), `"status":"complete"`) {
		t.Errorf("metadata: %d %s", status, body)
	}
	status, hdr, mp3 := download(t, rc.MediaURL, "")
	if status != 200 || hdr.Get("Content-Type") != "audio/mpeg" {
		t.Fatalf("media: %d %s", status, hdr.Get("Content-Type"))
	}
	if playsFor(t, mp3, time.Duration(rc.Duration)) {
		t.Error("a one-channel recording is stereo")
	}
	if _, err := os.Stat(filepath.Join(dir, "rec", rc.RecordingID+".mp3")); err != nil {
		t.Errorf("the recording's file: %v", err)
	}
	if recs := consoleRecordings(t, srv, callID); len(recs) != 1 || recs[0].Status != "complete" || recs[0].MediaURL == nil {
		t.Errorf("console recordings %+v", recs)
	} else {
		resp, err := http.Get(srv.URL() + *recs[0].MediaURL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/mpeg" || !bytes.Equal(b, mp3) {
			t.Errorf("console media: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
		}
	}

	// Transcribed again on request.
	if status, _, body := rest(t, srv, "POST", base+"/transcription", "application/json", `{"callbackUrl":"`+app.URL+`/again"}`); status != 204 {
		t.Errorf("transcribe again: %d %s", status, body)
	}
	again := waitPath(t, app, "/again")
	if ev, ok := again.event.(*callback.TranscriptionAvailable); !ok || ev.FileFormat != callback.MP3 || ev.Transcription.Status != callback.TranscriptionStatusAvailable {
		t.Errorf("requested transcriptionAvailable %s", again.body)
	}
	status, _, body = rest(t, srv, "GET", base+"/transcription", "", "")
	if status != 200 || !strings.Contains(string(body), `"text":"Hi, this is Alex. Please call me back after five."`) {
		t.Errorf("transcription: %d %s", status, body)
	}
	checkHooks(t, app.got())
}

func TestStartRecordingMP3Stereo(t *testing.T) {
	srv := startServerWith(t, server.Config{LAME: needLAME(t)})
	app := newApp(t, map[string]string{"/answer": `<Response><StartRecording fileFormat="mp3" multiChannel="true" recordingAvailableUrl="/ra"/>` +
		`<SpeakSentence>Please hold the line.</SpeakSentence><Pause duration="3"/><StopRecording/><Hangup/></Response>`})
	callID, _ := createCall(t, srv, callFields(app, "+15550000801"))
	ra := app.waitFor(t, callback.EventRecordingAvailable, 15*time.Second).event.(*callback.RecordingAvailable)
	if ra.FileFormat != callback.MP3 || ra.Channels != 2 || ra.Status != callback.RecordingStatusComplete || ra.CallID != callID {
		t.Errorf("recordingAvailable %+v", ra)
	}
	status, hdr, mp3 := download(t, ra.MediaURL, "")
	if status != 200 || hdr.Get("Content-Type") != "audio/mpeg" {
		t.Fatalf("media: %d %s", status, hdr.Get("Content-Type"))
	}
	if !playsFor(t, mp3, time.Duration(ra.Duration)) {
		t.Error("a multi-channel recording is mono")
	}
	checkHooks(t, app.got())
}

func TestConferenceRecordingMP3(t *testing.T) {
	srv := startServerWith(t, server.Config{LAME: needLAME(t)})
	app := newApp(t, map[string]string{
		"/answer": `<Response><Conference conferenceEventUrl="/conf">mp3</Conference></Response>`,
		"/conf":   "",
	})
	a, _ := createCall(t, srv, callFields(app, "+15550000000"))
	waitHooks(t, app, callback.EventConferenceMemberJoin, 1)
	const base = "/api/v2/accounts/9900000/conferences"
	_, _, body := rest(t, srv, "GET", base+"?name=mp3", "", "")
	var list []struct{ ID string }
	stdjson.Unmarshal(body, &list)
	if len(list) != 1 {
		t.Fatalf("conferences: %s", body)
	}
	id := list[0].ID
	if s, _, b := rest(t, srv, "PUT", base+"/"+id+"/bxml", "application/xml",
		`<Bxml><StartRecording fileFormat="mp3" recordingAvailableUrl="`+app.URL+`/cra"/></Bxml>`); s != 204 {
		t.Fatalf("start recording: %d %s", s, b)
	}
	if s, _, b := rest(t, srv, "POST", "/sim/v1/calls/"+a+"/speech", "application/json", `{"text":"Motion carried.","durationSeconds":1}`); s != 204 {
		t.Fatalf("speech: %d %s", s, b)
	}
	// The member has spoken once its history says so; then stop.
	waitHistory(t, srv, a, "Motion carried.")
	if s, _, b := rest(t, srv, "PUT", base+"/"+id+"/bxml", "application/xml", `<Bxml><StopRecording/></Bxml>`); s != 204 {
		t.Fatalf("stop recording: %d %s", s, b)
	}
	got := app.waitFor(t, callback.EventConferenceRecordingAvailable, 10*time.Second).event.(*callback.ConferenceRecordingAvailable)
	if got.FileFormat != callback.MP3 || got.Status != callback.RecordingStatusComplete || got.ConferenceID != id {
		t.Errorf("conferenceRecordingAvailable %+v", got)
	}
	status, _, body := rest(t, srv, "GET", base+"/"+id+"/recordings/"+got.RecordingID, "", "")
	conforms(t, "conferenceRecordingMetadata", body)
	if status != 200 || !strings.Contains(string(body), `"fileFormat":"mp3"`) || !strings.Contains(string(body), `"status":"complete"`) {
		t.Errorf("metadata: %d %s", status, body)
	}
	status, hdr, mp3 := download(t, got.MediaURL, "")
	if status != 200 || hdr.Get("Content-Type") != "audio/mpeg" {
		t.Fatalf("media: %d %s", status, hdr.Get("Content-Type"))
	}
	playsFor(t, mp3, time.Duration(got.Duration))
	rest(t, srv, "POST", base+"/"+id, "application/json", `{"status":"completed"}`)
	checkHooks(t, app.got())
}

// waitHistory polls a call's history on the console until an entry
// mentions text.
func waitHistory(t *testing.T, srv *server.Server, callID, text string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var d struct{ Entries []struct{ Summary string } }
		consoleGet(t, srv.URL()+"/console/api/calls/"+callID, &d)
		for _, e := range d.Entries {
			if strings.Contains(e.Summary, text) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the history of %s never mentions %q", callID, text)
}

func TestMP3WithoutLAME(t *testing.T) {
	var logs lockedBuffer
	srv := startServerWith(t, server.Config{LAME: filepath.Join(t.TempDir(), "lame"), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if n := strings.Count(logs.String(), "mp3 recordings are unavailable"); n != 1 || !strings.Contains(logs.String(), "apt-get install lame") {
		t.Errorf("the start logged %d warnings about mp3, want one saying what to install:\n%s", n, logs.String())
	}
	for _, verb := range []string{`<Record fileFormat="mp3"/>`, `<StartRecording fileFormat="mp3"/><Pause duration="5"/>`} {
		app := newApp(t, map[string]string{"/answer": `<Response>` + verb + `</Response>`})
		createCall(t, srv, callFields(app, "+15550000000"))
		d := app.waitFor(t, callback.EventDisconnect, 5*time.Second).event.(*callback.Disconnect)
		if d.Cause != callback.CauseApplicationError || d.ErrorMessage == nil || !strings.Contains(*d.ErrorMessage, `fileFormat="mp3"`) ||
			!strings.Contains(*d.ErrorMessage, "apt-get install lame") {
			t.Errorf("%s: disconnect %s, want application-error naming lame and how to install it", verb, app.got()[len(app.got())-1].body)
		}
	}
}

// An encoder that fails: a script in the place of lame. It either writes
// nothing (status error) or lets the real lame encode the first second
// and then fails, as an encoder stopped part way (status partial).
func TestMP3RecordingFailures(t *testing.T) {
	real := needLAME(t)
	cases := []struct {
		name   string
		script string
		status callback.RecordingStatus
	}{
		{"error", "#!/bin/sh\ncat >/dev/null\necho 'lame: out of disk space' >&2\nexit 1\n", callback.RecordingStatusError},
		// 16000 bytes are one second of 8 kHz 16-bit mono.
		{"partial", "#!/bin/sh\nhead -c 16000 | '" + real + "' \"$@\"\nexit 1\n", callback.RecordingStatusPartial},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			script := filepath.Join(t.TempDir(), "lame")
			if err := os.WriteFile(script, []byte(c.script), 0o755); err != nil {
				t.Fatal(err)
			}
			srv := startServerWith(t, server.Config{LAME: script})
			app := newApp(t, map[string]string{
				"/answer": `<Response><Record fileFormat="mp3" maxDuration="3" recordCompleteUrl="/rc" recordingAvailableUrl="/ra"/></Response>`,
				"/rc":     `<Response><Hangup/></Response>`,
			})
			callID, _ := createCall(t, srv, callFields(app, "+15550000801"))
			rc := app.waitFor(t, callback.EventRecordComplete, 15*time.Second).event.(*callback.RecordComplete)
			ra := app.waitFor(t, callback.EventRecordingAvailable, 10*time.Second).event.(*callback.RecordingAvailable)
			if ra.Status != c.status || ra.FileFormat != callback.MP3 {
				t.Errorf("recordingAvailable status %q fileFormat %q, want %q mp3", ra.Status, ra.FileFormat, c.status)
			}
			status, _, body := rest(t, srv, "GET", "/api/v2/accounts/9900000/calls/"+callID+"/recordings/"+rc.RecordingID, "", "")
			conforms(t, "callRecordingMetadata", body)
			if status != 200 || !strings.Contains(string(body), `"status":"`+string(c.status)+`"`) {
				t.Errorf("metadata: %d %s, want status %s", status, body, c.status)
			}
			if recs := consoleRecordings(t, srv, callID); len(recs) != 1 || recs[0].Status != string(c.status) {
				t.Errorf("console recordings %+v, want status %s", recs, c.status)
			}
			mstatus, hdr, mp3 := download(t, ra.MediaURL, "")
			switch c.status {
			case callback.RecordingStatusError:
				if mstatus != 404 || !strings.Contains(string(mp3), "status error") {
					t.Errorf("media of a failed recording: %d %s, want 404 saying why", mstatus, mp3)
				}
			case callback.RecordingStatusPartial:
				// What was kept: the first second, as the webhook says.
				if d := time.Duration(ra.Duration); d < time.Second || d > time.Second+mp3Slack || d >= time.Duration(rc.Duration) {
					t.Errorf("partial recording lasts %v, want the 1 s kept of %v", d, time.Duration(rc.Duration))
				}
				if mstatus != 200 || hdr.Get("Content-Type") != "audio/mpeg" {
					t.Fatalf("media: %d %s", mstatus, hdr.Get("Content-Type"))
				}
				playsFor(t, mp3, time.Duration(ra.Duration))
			}
			checkHooks(t, app.got())
		})
	}
}

// A run killed while it encoded an mp3 recording leaves its record,
// processing, and the frames written so far; the next start keeps them as
// a partial recording.
func TestMP3RecordingCutByACrash(t *testing.T) {
	lamePath := needLAME(t)
	ctx := context.Background()
	dir := t.TempDir()
	db, recDir := filepath.Join(dir, "vh.db"), filepath.Join(dir, "recordings")
	store, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)
	r := &engine.Recording{RecordingID: callback.NewRecordingID(), AccountID: "9900000", CallID: callback.NewCallID(), To: "+15550000801",
		From: "+15551112222", Direction: callback.Outbound, StartTime: start, EndTime: start.Add(3 * time.Second), Duration: 3 * time.Second,
		Channels: 1, FileFormat: callback.MP3, Status: callback.RecordingStatusProcessing}
	if err := store.SaveRecording(ctx, r); err != nil {
		t.Fatal(err)
	}
	store.Close()
	if err := os.MkdirAll(recDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The file's name while it is encoded by a single node (its node tag
	// is the hash of ""): see recordings.Keeper.partName.
	part := filepath.Join(recDir, ".part."+r.RecordingID+".9900000.e3b0c442.mp3")
	enc := &lame.Encoder{Path: lamePath}
	if err := enc.Encode(ctx, part, 8000, [][]int16{pcm.Tone(440, 8000, time.Second, 0.5)}); err != nil {
		t.Fatal(err)
	}

	var logs lockedBuffer
	srv := startServerWith(t, server.Config{DB: db, LAME: lamePath, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if !strings.Contains(logs.String(), "kept as partial") {
		t.Errorf("the start did not say it kept a partial recording:\n%s", logs.String())
	}
	url := "/api/v2/accounts/9900000/calls/" + r.CallID + "/recordings/" + r.RecordingID
	status, _, body := rest(t, srv, "GET", url, "", "")
	conforms(t, "callRecordingMetadata", body)
	var meta struct {
		Status   string
		Duration string
	}
	stdjson.Unmarshal(body, &meta)
	if status != 200 || meta.Status != "partial" {
		t.Fatalf("metadata: %d %s, want status partial", status, body)
	}
	d, err := time.ParseDuration(strings.ToLower(strings.TrimPrefix(meta.Duration, "PT")))
	if err != nil || d < time.Second || d > time.Second+mp3Slack {
		t.Errorf("duration %q, want the 1 s encoded before the crash", meta.Duration)
	}
	mstatus, hdr, mp3 := download(t, srv.URL()+url+"/media", "")
	if mstatus != 200 || hdr.Get("Content-Type") != "audio/mpeg" {
		t.Fatalf("media: %d %s", mstatus, hdr.Get("Content-Type"))
	}
	playsFor(t, mp3, d)
}
