package streamer

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/egress"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
)

// A fed stream sends start with the call's metadata, its tracks and params
// in order, then what it is fed as PCMU that decodes back to the samples,
// in order with rising sequence numbers, and stop then a 1000 close on
// Stop, after which no event comes.
func TestFeedSendsStartMediaStop(t *testing.T) {
	d := newDestination()
	s := New(Config{})
	defer s.Close()
	sp := spec(serve(t, d), engine.TrackInbound, engine.TrackOutbound)
	sp.Params = []engine.StreamParam{{Name: "z", Value: "1"}, {Name: "a", Value: "2"}}
	ev := newRecorder()
	st := s.Open(sp, ev.notify)
	ev.want(t, engine.StreamStarted)

	start := d.next(t).message(t)
	if start.EventType != "start" {
		t.Fatalf("first frame %+v", start)
	}
	wantMeta := `{"accountId":"9900000","callId":"c-1","streamId":"s-1","streamName":"bot","tracks":[` +
		`{"name":"inbound","mediaFormat":{"encoding":"audio/PCMU","sampleRate":8000}},` +
		`{"name":"outbound","mediaFormat":{"encoding":"audio/PCMU","sampleRate":8000}}]}`
	if string(start.Metadata) != wantMeta || string(start.StreamParams) != `{"z":"1","a":"2"}` {
		t.Errorf("start metadata %s params %s", start.Metadata, start.StreamParams)
	}

	tone := pcm.Tone(440, 8000, 200*time.Millisecond, 0.6)
	for i := range 10 {
		st.Feed(engine.TrackInbound, tone[i*160:(i+1)*160])
		st.Feed(engine.TrackOutbound, make([]int16, 160))
	}
	var in []int16
	seqs := map[string]uint64{}
	for range 20 {
		m := d.next(t).message(t)
		if m.EventType != "media" {
			t.Fatalf("frame %+v, want media", m)
		}
		if m.SequenceNumber != seqs[m.Track]+1 {
			t.Errorf("%s sequenceNumber %d after %d", m.Track, m.SequenceNumber, seqs[m.Track])
		}
		seqs[m.Track] = m.SequenceNumber
		got := m.samples(t)
		if len(got) != 160 {
			t.Fatalf("a media frame of %d samples", len(got))
		}
		switch m.Track {
		case engine.TrackInbound:
			in = append(in, got...)
		case engine.TrackOutbound:
			if loud(got) {
				t.Error("outbound was fed silence and sent sound")
			}
		default:
			t.Errorf("track %q", m.Track)
		}
	}
	for i, v := range tone {
		if diff := abs(int(in[i]) - int(v)); diff > abs(int(v))/16+8 {
			t.Fatalf("sample %d sent as %d, fed %d: beyond µ-law's error", i, in[i], v)
		}
	}

	st.Stop()
	if m := d.next(t).message(t); m.EventType != "stop" {
		t.Errorf("after Stop the destination read %+v, want stop", m)
	}
	if r := d.next(t); websocket.CloseStatus(r.err) != websocket.StatusNormalClosure {
		t.Errorf("after stop: %v, want a close with status 1000", r.err)
	}
	s.Close()
	if evs := ev.all(); len(evs) != 1 {
		t.Errorf("events %+v, want StreamStarted only", evs)
	}
}

func abs(x int) int { return max(x, -x) }

// A destination that refuses the upgrade, or nothing listening, rejects
// the stream with connection-error and says why; credentials go as Basic.
func TestRejected(t *testing.T) {
	d := newDestination()
	d.status = 403
	s := New(Config{})
	defer s.Close()
	sp := spec(serve(t, d), engine.TrackInbound)
	sp.Username, sp.Password = "user", "s3cret"
	ev := newRecorder()
	s.Open(sp, ev.notify)
	rej := ev.want(t, engine.StreamRejected)
	t.Logf("reason: %s", rej.Reason)
	if rej.Cause != callback.StreamConnectionError || !strings.Contains(rej.Reason, "403") || !strings.Contains(rej.Reason, "/stream") {
		t.Errorf("rejected %+v: want connection-error naming the destination and 403", rej)
	}
	r := <-d.reqs
	if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "s3cret" {
		t.Errorf("credentials %q %q %v", u, p, ok)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ev = newRecorder()
	s.Open(spec("ws://"+addr+"/x", engine.TrackInbound), ev.notify)
	rej = ev.want(t, engine.StreamRejected)
	t.Logf("reason: %s", rej.Reason)
	if rej.Cause != callback.StreamConnectionError || !strings.Contains(rej.Reason, "refused") || !strings.Contains(rej.Reason, addr) {
		t.Errorf("nothing listening: %+v", rej)
	}
	s.Close()
	if evs := ev.all(); len(evs) != 1 {
		t.Errorf("events %+v, want one rejection", evs)
	}
}

// A password in the destination is not in the rejection.
func TestRejectedRedactsPassword(t *testing.T) {
	d := newDestination()
	d.status = 404
	s := New(Config{})
	defer s.Close()
	url := strings.Replace(serve(t, d), "ws://", "ws://u:hunter2@", 1)
	ev := newRecorder()
	s.Open(spec(url, engine.TrackInbound), ev.notify)
	rej := ev.want(t, engine.StreamRejected)
	t.Logf("reason: %s", rej.Reason)
	if strings.Contains(rej.Reason, "hunter2") || !strings.Contains(rej.Reason, "404") {
		t.Errorf("rejection %q", rej.Reason)
	}
}

// A bidirectional destination's playAudio arrives as 8 kHz audio of the
// right length, clear as StreamClear; what is malformed is a warning and
// the stream goes on.
func TestBidirectional(t *testing.T) {
	d := newDestination()
	s := New(Config{})
	defer s.Close()
	sp := spec(serve(t, d), engine.TrackInbound)
	sp.Bidirectional = true
	ev := newRecorder()
	st := s.Open(sp, ev.notify)
	defer st.Stop()
	ev.want(t, engine.StreamStarted)
	c := d.conn(t)
	send := func(s string) {
		t.Helper()
		if err := c.Write(t.Context(), websocket.MessageText, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	b64 := base64.StdEncoding.EncodeToString

	send(`{"eventType":"playAudio","media":{"contentType":"audio/pcmu","payload":"` + b64(pcm.EncodeULaw(nil, pcm.Tone(500, 8000, 20*time.Millisecond, 0.5))) + `"}}`)
	if a := ev.want(t, engine.StreamAudio); len(a.Audio) != 160 || !loud(a.Audio) {
		t.Errorf("pcmu: %d samples, loud %v", len(a.Audio), loud(a.Audio))
	}
	wide := pcm.Tone(500, 16000, 40*time.Millisecond, 0.5)
	raw := make([]byte, 2*len(wide))
	for i, v := range wide {
		binary.LittleEndian.PutUint16(raw[2*i:], uint16(v))
	}
	send(`{"eventType":"playAudio","media":{"contentType":"audio/pcm;rate=16000","payload":"` + b64(raw) + `"}}`)
	if a := ev.want(t, engine.StreamAudio); len(a.Audio) != 320 || pcm.Frequency(a.Audio, 8000) < 450 || pcm.Frequency(a.Audio, 8000) > 550 {
		t.Errorf("16 kHz: %d samples at 8 kHz, want 320 of a 500 Hz tone", len(a.Audio))
	}
	send(`{"eventType":"clear"}`)
	ev.want(t, engine.StreamClear)
	send(`{"eventType":`)
	if w := ev.want(t, engine.StreamWarning); !strings.Contains(w.Reason, "not a JSON object") {
		t.Errorf("warning %q", w.Reason)
	}
	send(`{"eventType":"dance"}`) // within the second: counted, not reported
	send(`{"eventType":"clear"}`)
	ev.want(t, engine.StreamClear)
}

// A unidirectional stream warns about what its destination sends, and goes
// on.
func TestUnidirectionalWarns(t *testing.T) {
	d := newDestination()
	s := New(Config{})
	defer s.Close()
	ev := newRecorder()
	st := s.Open(spec(serve(t, d), engine.TrackInbound), ev.notify)
	defer st.Stop()
	ev.want(t, engine.StreamStarted)
	c := d.conn(t)
	if err := c.Write(t.Context(), websocket.MessageText, []byte(`{"eventType":"clear"}`)); err != nil {
		t.Fatal(err)
	}
	if w := ev.want(t, engine.StreamWarning); !strings.Contains(w.Reason, "not bidirectional") {
		t.Errorf("warning %q", w.Reason)
	}
}

// The destination closing the socket stops the stream with cause closed
// and its status; a connection dropped without a close is connection-error;
// a frame over the limit ends the stream.
func TestDestinationEnds(t *testing.T) {
	for _, c := range []struct {
		name   string
		end    func(*websocket.Conn)
		cause  callback.StreamCause
		reason string
	}{
		{"close", func(c *websocket.Conn) { c.Close(4001, "bye now") }, callback.StreamClosed, "4001 (bye now)"},
		{"drop", func(c *websocket.Conn) { c.CloseNow() }, callback.StreamConnectionError, "lost"},
		{"too large", func(c *websocket.Conn) {
			c.Write(t.Context(), websocket.MessageText, make([]byte, 1<<20+1))
		}, callback.StreamConnectionError, "over 1048576 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newDestination()
			s := New(Config{})
			defer s.Close()
			sp := spec(serve(t, d), engine.TrackInbound)
			sp.Bidirectional = true
			ev := newRecorder()
			st := s.Open(sp, ev.notify)
			ev.want(t, engine.StreamStarted)
			c.end(d.conn(t))
			stop := ev.want(t, engine.StreamStopped)
			t.Logf("reason: %s", stop.Reason)
			if stop.Cause != c.cause || !strings.Contains(stop.Reason, c.reason) {
				t.Errorf("stopped %+v, want %s with %q", stop, c.cause, c.reason)
			}
			st.Stop()
			st.Feed(engine.TrackInbound, make([]int16, 160))
			s.Close()
			if evs := ev.all(); len(evs) != 2 {
				t.Errorf("events %+v: want started and one stop", evs)
			}
		})
	}
}

// Stop while dialling: nothing is reported.
func TestStopWhileDialling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		block := make(chan struct{})
		n := newPipeNet(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select { // never answers the upgrade
			case <-block:
			case <-r.Context().Done():
			}
		}))
		defer n.shutdown()
		s := New(Config{Client: n.client()})
		ev := newRecorder()
		st := s.Open(spec("ws://stream.test/", engine.TrackInbound), ev.notify) // only described: dialled in memory
		synctest.Wait()                                                         // the server has the pipe, no answer yet
		st.Stop()
		close(block)
		s.Close()
		if evs := ev.all(); len(evs) != 0 {
			t.Errorf("events %+v after Stop", evs)
		}
	})
}

// A paced stream sends a media frame per track every 20 ms of the clock:
// silence, or what Say rendered on that track, when it was said, cut by
// StopSaying.
func TestPaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newDestination()
		n := newPipeNet(d)
		defer n.shutdown()
		s := New(Config{Client: n.client(), TTS: fakeTTS{}})
		defer s.Close()
		sp := spec("ws://stream.test/", engine.TrackInbound, engine.TrackOutbound) // only described: dialled in memory
		sp.Paced = true
		ev := newRecorder()
		st := s.Open(sp, ev.notify)
		synctest.Wait()
		if evs := ev.all(); len(evs) != 1 || evs[0].Kind != engine.StreamStarted {
			t.Fatalf("events %+v", evs)
		}
		if m := d.next(t).message(t); m.EventType != "start" {
			t.Fatalf("first %+v", m)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		counts := map[string]int{}
		for len(d.msgs) > 0 {
			m := d.next(t).message(t)
			if m.EventType != "media" || loud(m.samples(t)) {
				t.Fatalf("a second of silence: %+v", m)
			}
			counts[m.Track]++
		}
		if counts[engine.TrackInbound] != 50 || counts[engine.TrackOutbound] != 50 {
			t.Errorf("in a second: %v, want 50 a track", counts)
		}

		said := time.Now()
		st.Say(engine.TrackInbound, engine.Playback{Prompts: []engine.Prompt{{Text: "300ms"}}, Length: 500 * time.Millisecond})
		st.Say(engine.TrackOutbound, engine.Playback{Prompts: []engine.Prompt{{Text: "1s"}}, Length: time.Second})
		time.Sleep(200 * time.Millisecond)
		st.StopSaying(engine.TrackOutbound)
		cut := time.Now()
		time.Sleep(800 * time.Millisecond)
		synctest.Wait()
		var firstIn, lastIn, lastOut time.Duration
		for len(d.msgs) > 0 {
			r := d.next(t)
			m := r.message(t)
			if !loud(m.samples(t)) {
				continue
			}
			at := r.at.Sub(said)
			switch m.Track {
			case engine.TrackInbound:
				if firstIn == 0 {
					firstIn = at
				}
				lastIn = at
			case engine.TrackOutbound:
				lastOut = at
			}
		}
		if firstIn <= 0 || firstIn > 20*time.Millisecond || lastIn-firstIn < 260*time.Millisecond || lastIn-firstIn > 300*time.Millisecond {
			t.Errorf("inbound sounded from %v to %v after Say: want 300 ms from the next tick", firstIn, lastIn)
		}
		if want := cut.Sub(said); lastOut < want-40*time.Millisecond || lastOut > want {
			t.Errorf("outbound sounded until %v after Say, StopSaying at %v", lastOut, want)
		}
		st.Stop()
		synctest.Wait()
		if m := d.next(t).message(t); m.EventType != "stop" {
			t.Errorf("after Stop: %+v", m)
		}
	})
}

// The guarded egress client's refusal is the rejection's reason.
func TestRejectedByGuard(t *testing.T) {
	d := newDestination()
	s := New(Config{Client: egress.New(egress.Config{Guard: true})})
	defer s.Close()
	ev := newRecorder()
	s.Open(spec(serve(t, d), engine.TrackInbound), ev.notify)
	rej := ev.want(t, engine.StreamRejected)
	t.Logf("reason: %s", rej.Reason)
	if rej.Cause != callback.StreamConnectionError || !strings.Contains(rej.Reason, "refused to connect to 127.0.0.1") ||
		!strings.Contains(rej.Reason, "loopback") {
		t.Errorf("rejected %+v: want the guard's refusal", rej)
	}
	if len(d.reqs) != 0 {
		t.Error("the destination was reached")
	}
}

// A destination that does not read: the 1 s queue drops its oldest
// frames, with one warning a second that counts them, and Feed never
// blocks.
func TestFullQueueDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		n := newPipeNet(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			c.Read(r.Context()) // start, then nothing until released
			<-release
		}))
		defer n.shutdown()
		s := New(Config{Client: n.client()})
		defer s.Close()
		ev := newRecorder()
		st := s.Open(spec("ws://stream.test/", engine.TrackInbound), ev.notify) // only described: dialled in memory
		synctest.Wait()
		ev.want(t, engine.StreamStarted)
		frame := make([]int16, 160)
		for range 200 {
			st.Feed(engine.TrackInbound, frame)
		}
		synctest.Wait()
		w := ev.want(t, engine.StreamWarning)
		if !strings.Contains(w.Reason, "1 frame(s) dropped") || len(ev.ch) != 0 {
			t.Errorf("first warning %q, then %d more events: want one at once", w.Reason, len(ev.ch))
		}
		time.Sleep(time.Second)
		for range 10 { // the writer may have taken one frame from the full queue meanwhile
			st.Feed(engine.TrackInbound, frame)
		}
		synctest.Wait()
		w = ev.want(t, engine.StreamWarning)
		if !strings.Contains(w.Reason, "dropped") || strings.Contains(w.Reason, " 1 frame(s)") {
			t.Errorf("second warning %q: want the drops held back counted", w.Reason)
		}
		st.Stop()
	})
}

// On a paced bidirectional stream, the destination's audio is reported
// and also sent on the outbound track (it is what the call plays); clear
// drops what is left of it.
func TestPacedBidirectional(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newDestination()
		n := newPipeNet(d)
		defer n.shutdown()
		s := New(Config{Client: n.client()})
		defer s.Close()
		sp := spec("ws://stream.test/", engine.TrackInbound, engine.TrackOutbound) // only described: dialled in memory
		sp.Paced, sp.Bidirectional = true, true
		ev := newRecorder()
		st := s.Open(sp, ev.notify)
		defer st.Stop()
		synctest.Wait()
		ev.want(t, engine.StreamStarted)
		c := <-d.conns
		for len(d.msgs) > 0 {
			<-d.msgs
		}
		payload := base64.StdEncoding.EncodeToString(pcm.EncodeULaw(nil, pcm.Tone(500, 8000, time.Second, 0.5)))
		if err := c.Write(t.Context(), websocket.MessageText, []byte(`{"eventType":"playAudio","media":{"contentType":"audio/pcmu","payload":"`+payload+`"}}`)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if a := ev.want(t, engine.StreamAudio); len(a.Audio) != 8000 {
			t.Errorf("audio of %d samples", len(a.Audio))
		}
		time.Sleep(100 * time.Millisecond)
		if err := c.Write(t.Context(), websocket.MessageText, []byte(`{"eventType":"clear"}`)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		ev.want(t, engine.StreamClear)
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		loudOut, loudIn := 0, 0
		for len(d.msgs) > 0 {
			m := d.next(t).message(t)
			if m.EventType == "media" && loud(m.samples(t)) {
				if m.Track == engine.TrackOutbound {
					loudOut++
				} else {
					loudIn++
				}
			}
		}
		if loudOut < 4 || loudOut > 6 || loudIn != 0 {
			t.Errorf("%d loud outbound frames (want 5: 100 ms until clear), %d inbound", loudOut, loudIn)
		}
	})
}

// Five minutes of a paced stream in a bubble: exactly 50 frames a second
// per track, none dropped, sequence numbers without a gap. (A bubble's
// time moves only when its goroutines are all blocked on the bubble's own
// channels and timers; a goroutine reading a loopback socket never is, so
// paced tests dial in memory.)
func TestPacedFiveMinutes(t *testing.T) {
	if testing.Short() {
		t.Skip("five minutes of virtual time take about a second of CPU: not in -short")
	}
	wall := time.Now()
	synctest.Test(t, func(t *testing.T) {
		d := newDestination()
		n := newPipeNet(d)
		defer n.shutdown()
		s := New(Config{Client: n.client(), TTS: fakeTTS{}})
		defer s.Close()
		sp := spec("ws://stream.test/", engine.TrackInbound, engine.TrackOutbound) // only described: dialled in memory
		sp.Paced = true
		ev := newRecorder()
		st := s.Open(sp, ev.notify)
		synctest.Wait()
		<-d.msgs // start
		seqs := map[string]uint64{}
		for range 5 * 60 {
			st.Say(engine.TrackInbound, engine.Playback{Prompts: []engine.Prompt{{Text: "500ms"}}})
			time.Sleep(time.Second)
			synctest.Wait()
			for len(d.msgs) > 0 {
				m := d.next(t).message(t)
				if m.SequenceNumber != seqs[m.Track]+1 {
					t.Fatalf("%s: sequenceNumber %d after %d", m.Track, m.SequenceNumber, seqs[m.Track])
				}
				seqs[m.Track] = m.SequenceNumber
			}
		}
		if seqs[engine.TrackInbound] != 15000 || seqs[engine.TrackOutbound] != 15000 {
			t.Errorf("frames sent in 5 minutes: %v, want 15000 a track", seqs)
		}
		st.Stop()
		if evs := ev.all(); len(evs) != 1 {
			t.Errorf("events %+v", evs)
		}
	})
	t.Logf("5 minutes of a paced stream in %v", time.Since(wall))
}

// wss:// through a client whose transport speaks HTTP/2 with a server that
// speaks it: the upgrade goes over HTTP/1.1 and works. (net/http already
// dials HTTP/1.1 for a request with Connection: Upgrade; the streamer's
// clone of the transport, HTTP/1.1 only, makes sure of it.)
func TestSecureOverHTTP2Client(t *testing.T) {
	d := newDestination()
	srv := httptest.NewUnstartedServer(d)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	client := srv.Client()
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if r := <-d.reqs; r.ProtoMajor != 2 {
		t.Fatalf("the test client spoke %s, not HTTP/2: the test proves nothing", r.Proto)
	}
	s := New(Config{Client: client})
	defer s.Close()
	ev := newRecorder()
	st := s.Open(spec("wss"+srv.URL[len("https"):], engine.TrackInbound), ev.notify)
	defer st.Stop()
	ev.want(t, engine.StreamStarted)
	if r := <-d.reqs; r.ProtoMajor != 1 {
		t.Errorf("upgrade over %s", r.Proto)
	}
	if m := d.next(t).message(t); m.EventType != "start" {
		t.Errorf("first frame %+v", m)
	}
}

// Say plays a fetched file (any rate, resampled) and, without
// text-to-speech, sends silence with one warning however many sentences.
func TestSayFileAndNoTTS(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var wav bytes.Buffer
		if err := pcm.WriteWAV(&wav, 16000, pcm.Tone(700, 16000, 100*time.Millisecond, 0.5)); err != nil {
			t.Fatal(err)
		}
		var fetched []string
		fetch := func(_ context.Context, url, user, pass string) (io.ReadCloser, error) {
			fetched = append(fetched, url+" "+user+":"+pass)
			return io.NopCloser(bytes.NewReader(wav.Bytes())), nil
		}
		d := newDestination()
		n := newPipeNet(d)
		defer n.shutdown()
		s := New(Config{Client: n.client(), Fetch: fetch})
		defer s.Close()
		sp := spec("ws://stream.test/", engine.TrackOutbound) // only described: dialled in memory
		sp.Paced = true
		ev := newRecorder()
		st := s.Open(sp, ev.notify)
		defer st.Stop()
		synctest.Wait()
		ev.want(t, engine.StreamStarted)
		<-d.msgs                                                                                                                                                                                         // start
		st.Say(engine.TrackOutbound, engine.Playback{Prompts: []engine.Prompt{{Text: "hello"}, {URL: "http://files.test/a.wav", Username: "u", Password: "p"}}, Repeat: 2, Gap: 100 * time.Millisecond}) // only described: Fetch is a fake
		st.Say(engine.TrackOutbound, engine.Playback{Prompts: []engine.Prompt{{Text: "again"}}})
		time.Sleep(time.Second)
		synctest.Wait()
		if w := ev.want(t, engine.StreamWarning); !strings.Contains(w.Reason, "no text-to-speech") || len(ev.ch) != 0 {
			t.Errorf("warning %q and %d more events: want one", w.Reason, len(ev.ch))
		}
		if len(fetched) != 1 || fetched[0] != "http://files.test/a.wav u:p" { // only described
			t.Errorf("fetched %q", fetched)
		}
		var pattern []bool
		for len(d.msgs) > 0 {
			pattern = append(pattern, loud(d.next(t).message(t).samples(t)))
		}
		// 100 ms of tone, 100 ms gap, 100 ms of tone: 5, 5 and 5 frames.
		loudFrames, runs := 0, 0
		for i, l := range pattern {
			if l {
				loudFrames++
				if i == 0 || !pattern[i-1] {
					runs++
				}
			}
		}
		if runs != 2 || loudFrames < 9 || loudFrames > 12 {
			t.Errorf("%d loud frames in %d runs, want the file twice with a gap: %v", loudFrames, runs, pattern)
		}
	})
}

// A destination that stops reading does not keep a stopped stream's
// goroutines beyond 5 s.
func TestStopUnreadDestination(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		n := newPipeNet(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			c.Read(r.Context()) // start, then nothing
			<-release
		}))
		defer n.shutdown()
		s := New(Config{Client: n.client()})
		ev := newRecorder()
		st := s.Open(spec("ws://stream.test/", engine.TrackInbound), ev.notify) // only described: dialled in memory
		synctest.Wait()
		for range 10 {
			st.Feed(engine.TrackInbound, make([]int16, 160))
		}
		synctest.Wait()
		began := time.Now()
		st.Stop()
		done := make(chan struct{})
		go func() { s.wg.Wait(); close(done) }()
		<-done
		if took := time.Since(began); took > 5*time.Second {
			t.Errorf("the stream's goroutines ended %v after Stop", took)
		}
		s.Close()
	})
}

// A Say that fails while the stream is still connecting is reported after
// StreamStarted, which comes first.
func TestWarningWhileDiallingFollowsStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		d := newDestination()
		n := newPipeNet(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-gate
			d.ServeHTTP(w, r)
		}))
		defer n.shutdown()
		s := New(Config{Client: n.client()})
		defer s.Close()
		sp := spec("ws://stream.test/", engine.TrackInbound) // only described: dialled in memory
		sp.Paced = true
		ev := newRecorder()
		st := s.Open(sp, ev.notify)
		defer st.Stop()
		st.Say(engine.TrackInbound, engine.Playback{Prompts: []engine.Prompt{{Text: "hello"}}})
		synctest.Wait()
		if evs := ev.all(); len(evs) != 0 {
			t.Fatalf("events before the stream started: %+v", evs)
		}
		close(gate)
		synctest.Wait()
		ev.want(t, engine.StreamStarted)
		ev.want(t, engine.StreamWarning)
	})
}

// A notify that blocks stalls neither Feed nor the writer: frames still
// reach the destination, and the events wait their turn, in order.
func TestSlowNotify(t *testing.T) {
	d := newDestination()
	s := New(Config{})
	defer s.Close()
	sp := spec(serve(t, d), engine.TrackInbound)
	sp.Bidirectional = true
	hold := make(chan struct{})
	ev := newRecorder()
	st := s.Open(sp, func(e engine.StreamEvent) {
		if e.Kind != engine.StreamStarted {
			<-hold
		}
		ev.notify(e)
	})
	defer st.Stop()
	ev.want(t, engine.StreamStarted)
	c := d.conn(t)
	<-d.msgs // start
	for range 3 {
		if err := c.Write(t.Context(), websocket.MessageText, []byte(`{"eventType":"clear"}`)); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		st.Feed(engine.TrackInbound, make([]int16, 160))
	}
	for range 5 {
		if m := d.next(t).message(t); m.EventType != "media" {
			t.Fatalf("%+v", m)
		}
	}
	close(hold)
	for range 3 {
		ev.want(t, engine.StreamClear)
	}
}
