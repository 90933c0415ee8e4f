package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/server"
)

// A normal stop (Drain, then Close) waits for an mp3 recording still being
// encoded after its call ended: the file is made and its
// recordingAvailable goes out before Drain returns. The encoder is a
// script in lame's place that waits for the test before running lame.
func TestMP3DrainWaitsForEncoding(t *testing.T) {
	real := needLAME(t)
	dir := t.TempDir()
	gate := filepath.Join(dir, "gate")
	if err := syscall.Mkfifo(gate, 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "lame")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nread go < '"+gate+"'\nexec '"+real+"' \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	srv := startServerWith(t, server.Config{LAME: script})
	app := newApp(t, map[string]string{
		"/answer": `<Response><Record fileFormat="mp3" maxDuration="2" recordCompleteUrl="/rc" recordingAvailableUrl="/ra"/></Response>`,
		"/rc":     `<Response><Hangup/></Response>`,
	})
	callID, _ := createCall(t, srv, callFields(app, "+15550000801"))
	rc := app.waitFor(t, callback.EventRecordComplete, 15*time.Second).event.(*callback.RecordComplete)
	app.waitFor(t, callback.EventDisconnect, 5*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	drained := make(chan struct{})
	go func() { srv.Drain(ctx); close(drained) }()
	released := false
	release := func() {
		if released {
			return
		}
		released = true
		f, err := os.OpenFile(gate, os.O_WRONLY, 0) // blocks until the script reads
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("go\n")
		f.Close()
	}
	defer func() {
		release()
		<-drained
	}()
	select {
	case <-drained:
		t.Fatal("Drain returned while the recording was still being encoded")
	case <-time.After(time.Second):
	}
	release()
	select {
	case <-drained:
	case <-time.After(30 * time.Second):
		t.Fatal("Drain still waits 30 s after the encoder was let go")
	}
	var ra *callback.RecordingAvailable
	for _, h := range app.got() {
		if ev, ok := h.event.(*callback.RecordingAvailable); ok {
			ra = ev
		}
	}
	if ra == nil || ra.RecordingID != rc.RecordingID || ra.Status != callback.RecordingStatusComplete {
		t.Fatalf("recordingAvailable when Drain returned: %+v, want the recording's, complete", ra)
	}
	status, _, body := rest(t, srv, "GET", "/api/v2/accounts/9900000/calls/"+callID+"/recordings/"+rc.RecordingID, "", "")
	if status != 200 || !strings.Contains(string(body), `"status":"complete"`) {
		t.Errorf("metadata after Drain: %d %s, want status complete", status, body)
	}
	mstatus, _, mp3 := download(t, ra.MediaURL, "")
	if mstatus != 200 {
		t.Fatalf("media after Drain: %d %s", mstatus, mp3)
	}
	playsFor(t, mp3, time.Duration(ra.Duration))
	checkHooks(t, app.got())
}
