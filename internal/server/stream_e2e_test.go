package server_test

import (
	"context"
	"encoding/base64"
	stdjson "encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/server"
)

// Media streams end to end: voicehook serve dials a WebSocket destination
// of the test's own on loopback, for a call to a simulated phone.

// destination is a stream's far end: it records every message and, when
// told, sends messages back.
type destination struct {
	*httptest.Server
	mu     sync.Mutex
	msgs   []streamMsg
	raw    [][]byte
	at     []time.Time
	send   chan []byte // messages to send back
	refuse int         // answer the upgrade with this status instead
	auth   string
	closed chan struct{}
}

type streamMsg struct {
	EventType string `json:"eventType"`
	Metadata  struct {
		AccountID  string `json:"accountId"`
		CallID     string `json:"callId"`
		StreamID   string `json:"streamId"`
		StreamName string `json:"streamName"`
		Tracks     []struct {
			Name        string `json:"name"`
			MediaFormat struct {
				Encoding   string `json:"encoding"`
				SampleRate int    `json:"sampleRate"`
			} `json:"mediaFormat"`
		} `json:"tracks"`
	} `json:"metadata"`
	StreamParams map[string]string `json:"streamParams"`
	Track        string            `json:"track"`
	Payload      string            `json:"payload"`
}

func newDestination(t *testing.T) *destination {
	d := &destination{send: make(chan []byte, 16), closed: make(chan struct{})}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.auth = r.Header.Get("Authorization")
		refuse := d.refuse
		d.mu.Unlock()
		if refuse != 0 {
			http.Error(w, "not today", refuse)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer close(d.closed)
		defer c.CloseNow()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			for {
				select {
				case m := <-d.send:
					if err := c.Write(ctx, websocket.MessageText, m); err != nil {
						return
					}
				case <-ctx.Done():
					return
				}
			}
		}()
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			var m streamMsg
			if err := stdjson.Unmarshal(data, &m); err != nil {
				t.Errorf("the destination got a message that is not JSON: %v\n%s", err, data)
				continue
			}
			d.mu.Lock()
			d.msgs = append(d.msgs, m)
			d.raw = append(d.raw, data)
			d.at = append(d.at, time.Now())
			d.mu.Unlock()
		}
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *destination) url() string { return "ws" + strings.TrimPrefix(d.URL, "http") + "/stream" }

// rawMessages are the messages as they came.
func (d *destination) rawMessages() [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([][]byte(nil), d.raw...)
}

func (d *destination) messages() ([]streamMsg, []time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]streamMsg(nil), d.msgs...), append([]time.Time(nil), d.at...)
}

// summaries are the call's history, one entry a line.
func summaries(t *testing.T, srv *server.Server, callID string) string {
	t.Helper()
	var b strings.Builder
	for _, e := range history(t, srv, callID) {
		b.WriteString(e.Summary + "\n")
	}
	return b.String()
}

func TestStreamOfASimulatedCall(t *testing.T) {
	srv := startServer(t)
	dest := newDestination(t)
	app := newApp(t, map[string]string{"/answer": `<Response>
		<StartStream name="bot" tracks="both" destination="` + dest.url() + `" destinationUsername="bot" destinationPassword="s3cret"
			streamEventUrl="/events"><StreamParam name="order" value="42"/><StreamParam name="lang" value="en"/></StartStream>
		<SpeakSentence>Hello there, this is the shop.</SpeakSentence>
		<Pause duration="2"/>
	</Response>`})
	callID, _ := createCall(t, srv, callFields(app, "+15550000000"))
	app.waitFor(t, callback.EventDisconnect, 30*time.Second)
	<-dest.closed

	if got, want := app.types(), "answer,mediaStreamStarted,mediaStreamStopped,disconnect"; got != want {
		t.Errorf("webhooks %s, want %s", got, want)
	}
	for _, h := range app.got() {
		if e, ok := h.event.(*callback.MediaStreamStarted); ok {
			m := e.MediaStream
			if h.path != "/events" || e.CallID != callID || !strings.HasPrefix(m.ID, "s-") || m.Name != "bot" || m.Destination != dest.url() ||
				fmt.Sprint(m.Tracks) != "[inbound outbound]" || m.Type != "WebSocket" {
				t.Errorf("mediaStreamStarted at %s: %+v", h.path, m)
			}
		}
	}
	if dest.auth != "Basic "+base64.StdEncoding.EncodeToString([]byte("bot:s3cret")) {
		t.Errorf("the destination got Authorization %q", dest.auth)
	}
	msgs, at := dest.messages()
	if len(msgs) < 3 || msgs[0].EventType != "start" || msgs[len(msgs)-1].EventType != "stop" {
		t.Fatalf("%d messages, first %+v", len(msgs), msgs[0])
	}
	start := msgs[0]
	if start.Metadata.CallID != callID || start.Metadata.AccountID != "9900000" || start.Metadata.StreamName != "bot" ||
		len(start.Metadata.Tracks) != 2 || start.Metadata.Tracks[0].Name != "inbound" || start.Metadata.Tracks[1].MediaFormat.Encoding != "audio/PCMU" ||
		start.Metadata.Tracks[1].MediaFormat.SampleRate != 8000 || start.StreamParams["order"] != "42" || start.StreamParams["lang"] != "en" {
		t.Errorf("start: %+v", start)
	}
	// Media comes at 50 messages a second per track, 160 bytes of μ-law
	// each; the outbound track carries the SpeakSentence as speech.
	span := at[len(at)-1].Sub(at[0]).Seconds()
	count := map[string]int{}
	var out []int16
	for _, m := range msgs[1 : len(msgs)-1] {
		b, err := base64.StdEncoding.DecodeString(m.Payload)
		if m.EventType != "media" || err != nil || len(b) != 160 {
			t.Fatalf("media message %+v: %d bytes, %v", m, len(b), err)
		}
		count[m.Track]++
		if m.Track == "outbound" {
			out = pcm.DecodeULaw(out, b)
		}
	}
	for _, track := range []string{"inbound", "outbound"} {
		if rate := float64(count[track]) / span; rate < 40 || rate > 60 {
			t.Errorf("%s: %d messages in %.2fs: %.1f a second, want 50", track, count[track], span, rate)
		}
	}
	if count["inbound"] != count["outbound"] {
		t.Errorf("tracks differ: %v", count)
	}
	loud := 0
	for i := 0; i+160 <= len(out); i += 160 {
		if pcm.RMS(out[i:i+160]) > 0.01 { // −40 dBFS
			loud++
		}
	}
	if loud < 25 { // half a second of speech at least, of the sentence's 2 s
		t.Errorf("the outbound track has %d loud frames of %d: the sentence is not in it; the call:\n%s", loud, len(out)/160, summaries(t, srv, callID))
	}
}

func TestStreamRefusedByItsDestination(t *testing.T) {
	srv := startServer(t)
	dest := newDestination(t)
	dest.refuse = http.StatusForbidden
	app := newApp(t, map[string]string{"/answer": `<Response><StartStream name="bot" destination="` + dest.url() + `" streamEventUrl="/events"/><Pause duration="1"/></Response>`})
	createCall(t, srv, callFields(app, "+15550000000"))
	app.waitFor(t, callback.EventDisconnect, 30*time.Second)
	if got, want := app.types(), "answer,mediaStreamRejected,disconnect"; got != want {
		t.Errorf("webhooks %s, want %s", got, want)
	}
	for _, h := range app.got() {
		switch e := h.event.(type) {
		case *callback.MediaStreamRejected:
			if e.Cause != callback.StreamConnectionError || e.ErrorMessage == nil || !strings.Contains(*e.ErrorMessage, "403") {
				t.Errorf("rejected: cause %s, message %v", e.Cause, e.ErrorMessage)
			}
		case *callback.Disconnect:
			if e.Cause != callback.CauseHangup {
				t.Errorf("the call ended with %s: a refused stream must not end it", e.Cause)
			}
		}
	}
}

// A bidirectional destination's audio is heard by the phone until it
// clears it.
func TestBidirectionalStreamIsHeard(t *testing.T) {
	srv := startServer(t)
	dest := newDestination(t)
	app := newApp(t, map[string]string{"/answer": `<Response><StartStream name="bot" mode="bidirectional" destination="` + dest.url() + `" streamEventUrl="/events"/><Pause duration="3"/></Response>`})
	callID, _ := createCall(t, srv, callFields(app, "+15550000000"))
	app.waitFor(t, callback.EventMediaStreamStarted, 30*time.Second)
	tone := pcm.EncodeULaw(nil, pcm.Tone(440, 8000, 2*time.Second, 0.3))
	dest.send <- fmt.Appendf(nil, `{"eventType":"playAudio","media":{"contentType":"audio/pcmu","payload":%q}}`, base64.StdEncoding.EncodeToString(tone))
	time.Sleep(500 * time.Millisecond)
	dest.send <- []byte(`{"eventType":"clear"}`)
	dest.send <- []byte(`{"eventType":"playAudio","media":{"contentType":"audio/ogg","payload":""}}`)
	app.waitFor(t, callback.EventDisconnect, 30*time.Second)
	h := summaries(t, srv, callID)
	for _, want := range []string{"hears stream bot's audio", "stream bot cleared its audio: ", `stream bot: `} {
		if !strings.Contains(h, want) {
			t.Errorf("no %q in the history:\n%s", want, h)
		}
	}
	// 2 s of audio, cleared half a second in: about 1.5 s not heard.
	var cut float64
	if i := strings.Index(h, "cleared its audio: "); i >= 0 {
		fmt.Sscanf(h[i+len("cleared its audio: "):], "%gs", &cut)
	}
	if cut < 1 || cut > 1.8 {
		t.Errorf("clear cut %.2fs of the bot's 2 s, want about 1.5 s:\n%s", cut, h)
	}
	if !strings.Contains(h, "audio/ogg") {
		t.Errorf("the malformed playAudio is not named in the history:\n%s", h)
	}
}
