package streamer

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

func tspec(dest string) engine.TranscriptionSocketSpec {
	return engine.TranscriptionSocketSpec{
		TranscriptionSpec: engine.TranscriptionSpec{ID: "t-1", Name: "notes", AccountID: "9900000", CallID: "c-1",
			Tracks: []string{engine.TrackInbound}, Language: "en-US"},
		Destination: dest, Stabilized: true,
	}
}

// A transcription socket sends start with the call, the transcription and
// its custom params in order, carries no credentials, sends each
// transcript as a transcription message (a failed one not at all) with
// its words and punctuation as items, and on Stop sends what is queued,
// then stop and a 1000 close; no event but StreamStarted.
func TestTranscriptionSocket(t *testing.T) {
	d := newDestination()
	s := New(Config{})
	defer s.Close()
	sp := tspec(serve(t, d))
	sp.Params = []engine.StreamParam{{Name: "z", Value: "1"}, {Name: "a", Value: "<2>"}}
	ev := newRecorder()
	ts := s.OpenTranscription(sp, ev.notify)
	ev.want(t, engine.StreamStarted)
	if r := <-d.reqs; r.Header.Get("Authorization") != "" {
		t.Errorf("the upgrade carried Authorization %q", r.Header.Get("Authorization"))
	}
	want := `{"eventType":"start","metadata":{"accountId":"9900000","callId":"c-1","realTimeTranscriptionId":"t-1",` +
		`"transcriptionName":"notes","tracks":[{"name":"inbound"}],"stabilized":true},"customParams":{"z":"1","a":"\u003c2\u003e"}}`
	if got := d.next(t); got.typ != websocket.MessageText || string(got.data) != want {
		t.Errorf("start:\n%s\nwant:\n%s", got.data, want)
	}

	ms := time.Millisecond
	ts.Send(engine.Transcript{Track: engine.TrackInbound, Start: 1230 * ms, End: 2500 * ms, Text: "I ordered pizza.",
		Confidence: 1, Words: []engine.TranscriptWord{
			{Text: "I", Start: 1230 * ms, End: 1400 * ms, Confidence: 1},
			{Text: "ordered", Start: 1400 * ms, End: 1900 * ms, Confidence: 0.9},
			{Text: "pizza.", Start: 1900 * ms, End: 2500 * ms, Confidence: 1},
		}})
	ts.Send(engine.Transcript{Track: engine.TrackInbound, Start: 3 * time.Second, End: 4 * time.Second, Err: "the recognizer failed"})
	ts.Send(engine.Transcript{Track: engine.TrackInbound, Start: 5 * time.Second, End: 5250 * ms, Text: "Yes",
		Confidence: 1, Words: []engine.TranscriptWord{{Text: "Yes", Start: 5 * time.Second, End: 5250 * ms, Confidence: 1}}})
	ts.Stop()
	want = `{"eventType":"transcription","track":"inbound","startTime":1.23,"endTime":2.5,"isPartial":false,"language":"en-US",` +
		`"transcript":"I ordered pizza.","items":[` +
		`{"content":"I","startTime":1.23,"endTime":1.4,"confidence":1,"stable":true,"type":"PRONUNCIATION"},` +
		`{"content":"ordered","startTime":1.4,"endTime":1.9,"confidence":0.9,"stable":true,"type":"PRONUNCIATION"},` +
		`{"content":"pizza","startTime":1.9,"endTime":2.5,"confidence":1,"stable":true,"type":"PRONUNCIATION"},` +
		`{"content":".","startTime":2.5,"endTime":2.5,"confidence":1,"stable":true,"type":"PUNCTUATION"}]}`
	if got := d.next(t); string(got.data) != want {
		t.Errorf("first transcript:\n%s\nwant:\n%s", got.data, want)
	}
	want = `{"eventType":"transcription","track":"inbound","startTime":5,"endTime":5.25,"isPartial":false,"language":"en-US",` +
		`"transcript":"Yes","items":[{"content":"Yes","startTime":5,"endTime":5.25,"confidence":1,"stable":true,"type":"PRONUNCIATION"}]}`
	if got := d.next(t); string(got.data) != want {
		t.Errorf("after the failed transcript:\n%s\nwant:\n%s", got.data, want)
	}
	if got := d.next(t); string(got.data) != `{"eventType":"stop"}` {
		t.Errorf("after Stop the destination read %s, want stop", got.data)
	}
	if r := d.next(t); websocket.CloseStatus(r.err) != websocket.StatusNormalClosure {
		t.Errorf("after stop: %v, want a close with status 1000", r.err)
	}
	ts.Send(engine.Transcript{Track: engine.TrackInbound, Text: "late"})
	ts.Stop()
	s.Close()
	if evs := ev.all(); len(evs) != 1 {
		t.Errorf("events %+v, want StreamStarted only", evs)
	}
}

// A transcription's language defaults to en-US; both tracks are listed in
// start, stabilized false is said, and no custom params is an empty
// object.
func TestTranscriptionSocketDefaults(t *testing.T) {
	d := newDestination()
	s := New(Config{})
	defer s.Close()
	sp := tspec(serve(t, d))
	sp.Language, sp.Stabilized = "", false
	sp.Tracks = []string{engine.TrackInbound, engine.TrackOutbound}
	ev := newRecorder()
	ts := s.OpenTranscription(sp, ev.notify)
	defer ts.Stop()
	ev.want(t, engine.StreamStarted)
	want := `{"eventType":"start","metadata":{"accountId":"9900000","callId":"c-1","realTimeTranscriptionId":"t-1",` +
		`"transcriptionName":"notes","tracks":[{"name":"inbound"},{"name":"outbound"}],"stabilized":false},"customParams":{}}`
	if got := d.next(t); string(got.data) != want {
		t.Errorf("start:\n%s\nwant:\n%s", got.data, want)
	}
	ts.Send(engine.Transcript{Track: engine.TrackOutbound, End: time.Second, Text: "Hello"})
	if got := d.next(t); !strings.Contains(string(got.data), `"track":"outbound"`) || !strings.Contains(string(got.data), `"language":"en-US"`) {
		t.Errorf("transcript %s: want the outbound track in en-US", got.data)
	}
}

// A destination that refuses the upgrade, or nothing listening, rejects
// the socket with connection-error; after Close, a socket is rejected
// with error.
func TestTranscriptionRejected(t *testing.T) {
	d := newDestination()
	d.status = 403
	s := New(Config{})
	defer s.Close()
	ev := newRecorder()
	s.OpenTranscription(tspec(serve(t, d)), ev.notify)
	rej := ev.want(t, engine.StreamRejected)
	if rej.Cause != callback.StreamConnectionError || rej.StreamID != "t-1" || !strings.Contains(rej.Reason, "403") {
		t.Errorf("rejected %+v: want connection-error for t-1 naming 403", rej)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ev = newRecorder()
	ts := s.OpenTranscription(tspec("ws://"+addr+"/t"), ev.notify)
	rej = ev.want(t, engine.StreamRejected)
	if rej.Cause != callback.StreamConnectionError || !strings.Contains(rej.Reason, "refused") {
		t.Errorf("nothing listening: %+v", rej)
	}
	ts.Send(engine.Transcript{Text: "after the rejection"})
	ts.Stop()

	s.Close()
	ev = newRecorder()
	s.OpenTranscription(tspec("ws://"+addr+"/t"), ev.notify)
	if rej := ev.want(t, engine.StreamRejected); rej.Cause != callback.StreamError {
		t.Errorf("after Close: %+v, want cause error", rej)
	}
}

// What the destination sends — text, binary, a message larger than a
// media stream takes — is ignored without a warning; its close stops the
// socket with cause closed, and nothing follows.
func TestTranscriptionDestinationCloses(t *testing.T) {
	d := newDestination()
	s := New(Config{})
	defer s.Close()
	ev := newRecorder()
	ts := s.OpenTranscription(tspec(serve(t, d)), ev.notify)
	ev.want(t, engine.StreamStarted)
	c := d.conn(t)
	d.next(t) // start
	for _, m := range []struct {
		typ  websocket.MessageType
		data []byte
	}{
		{websocket.MessageText, []byte(`{"eventType":"clear"}`)},
		{websocket.MessageBinary, []byte{1, 2, 3}},
		{websocket.MessageText, make([]byte, 2<<20)},
	} {
		if err := c.Write(t.Context(), m.typ, m.data); err != nil {
			t.Fatal(err)
		}
	}
	ts.Send(engine.Transcript{Track: engine.TrackInbound, End: time.Second, Text: "still here"})
	if got := d.next(t); !strings.Contains(string(got.data), `"transcript":"still here"`) {
		t.Fatalf("after the destination's messages: %s, want the transcript", got.data)
	}
	if err := c.Close(4001, "bye now"); err != nil {
		t.Fatal(err)
	}
	stop := ev.want(t, engine.StreamStopped)
	if stop.Cause != callback.StreamClosed || !strings.Contains(stop.Reason, "4001 (bye now)") {
		t.Errorf("stopped %+v, want closed with the status", stop)
	}
	ts.Send(engine.Transcript{Text: "after the close"})
	ts.Stop()
	s.Close()
	if evs := ev.all(); len(evs) != 2 {
		t.Errorf("events %+v, want started and one stop", evs)
	}
}

// Transcripts sent while the socket connects wait for it; past 1000 the
// oldest is dropped and one warning, after StreamStarted, says so (the
// next would come a second later).
func TestTranscriptionQueueFull(t *testing.T) {
	d := newDestination()
	release := make(chan struct{})
	gate := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		d.ServeHTTP(w, r)
	})
	s := New(Config{})
	defer s.Close()
	ev := newRecorder()
	srv := httptest.NewServer(gate)
	defer srv.Close()
	defer close(release) // let the handler go should the test fail early
	ts := s.OpenTranscription(tspec("ws"+srv.URL[len("http"):]+"/t"), ev.notify)
	defer ts.Stop()
	const sent = maxTranscripts + 5
	for i := range sent {
		ts.Send(engine.Transcript{Track: engine.TrackInbound, Text: fmt.Sprint(i)})
	}
	select {
	case release <- struct{}{}:
	case <-time.After(5 * time.Second):
		t.Fatal("the socket did not reach the destination in 5 s")
	}
	ev.want(t, engine.StreamStarted)
	w := ev.want(t, engine.StreamWarning)
	if !strings.Contains(w.Reason, "oldest are dropped (1 so far)") {
		t.Errorf("warning %q: want the first drop reported", w.Reason)
	}
	d.next(t) // start
	for i := sent - maxTranscripts; i < sent; i++ {
		if got := d.next(t); !strings.Contains(string(got.data), fmt.Sprintf(`"transcript":"%d"`, i)) {
			t.Fatalf("transcript %d: read %s", i, got.data)
		}
	}
	if evs := ev.all(); len(evs) != 2 {
		t.Errorf("events %+v, want started and one warning", evs)
	}
}

// Close stops an open socket: the destination reads stop and a 1000 close.
func TestTranscriptionClose(t *testing.T) {
	d := newDestination()
	s := New(Config{})
	ev := newRecorder()
	s.OpenTranscription(tspec(serve(t, d)), ev.notify)
	ev.want(t, engine.StreamStarted)
	d.next(t) // start
	s.Close()
	if got := d.next(t); string(got.data) != `{"eventType":"stop"}` {
		t.Errorf("on Close the destination read %s, want stop", got.data)
	}
	if r := d.next(t); websocket.CloseStatus(r.err) != websocket.StatusNormalClosure {
		t.Errorf("after stop: %v, want a close with status 1000", r.err)
	}
}
